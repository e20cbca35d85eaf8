// The viewers' page (/watch/{episode_id}): a countdown, then the show over WHEP (HLS where WebRTC
// cannot work), then the shoppable replay (replay.js). `?transport=hls` skips WebRTC, for networks
// that block it; `?t=754` starts the replay at that second (at its start when outside it).

import "./page.css";
import { ApiError, api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { entriesOf } from "../stage/entries.js";
import { setUpProofs } from "./proof.js";
import { setUpCart } from "./cart.js";
import { setUpChat } from "./chat.js";
import { readRecording } from "./recording.js";
import { setUpReminder } from "./remind.js";
import { setUpReplay } from "./replay.js";
import { countReplayViewer } from "./replay-viewer.js";
import { priceOf, priceTag, productImage } from "../shared/product.js";
import { setUpStage } from "../stage/stage.js";
import { keepStageInView } from "./stage-in-view.js";
import { deleteSession, exchangeSdp, peerConfiguration } from "../shared/webrtc.js";
import { t } from "../shared/i18n.js";

const episodeId = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop());
const hlsUrl = `/live/${encodeURIComponent(episodeId)}/hls/index.m3u8`;
const asked = new URLSearchParams(window.location.search);
const forceHls = asked.get("transport") === "hls";
// `?cart=open`: the link of a cart's follow-up email opens the cart once the brand is known.
let openCart = asked.get("cart") === "open";
const POLL_EVERY_MS = 5000;
const STALL_AFTER_MS = 3000;
const RESTART_AFTER_MS = 2000;

const ui = byTestIds([
  "player",
  "video",
  "live-badge",
  "replay-badge",
  "countdown",
  "countdown-value",
  "countdown-at",
  "ended",
  "ended-title",
  "ended-text",
  "play-replay",
  "coming",
  "add-to-calendar",
  "coming-title",
  "coming-products",
  "next-episode",
  "player-message",
  "stall-message",
  "unmute",
  "show-title",
  "episode-title",
  "episode-status",
  "episode-time",
  "episode-host",
  "transport-note",
  "proofs",
  "stage",
  "chat",
]);

const STATUS_LABELS = {
  scheduled: t("watch.status_scheduled"),
  live: t("watch.status_live"),
  ended: t("watch.status_ended"),
  cancelled: t("watch.status_cancelled"),
};
const TRANSPORT_NOTES = {
  webrtc: t("watch.transport_webrtc"),
  hls: t("watch.transport_hls"),
  replay: t("watch.transport_replay"),
};

const state = {
  episode: null,
  view: "loading", // loading | countdown | live | replay | ended | cancelled | missing
  player: null, // { transport, pc?, hls?, close(hangUp) }
  starts: 0, // bumps with each attempt to play, so a late answer to an old attempt is dropped
  starting: false,
  nextStart: 0, // after a refusal, wait a little before asking again
  refreshing: false,
  pollTimer: 0,
  tickTimer: 0,
  stallTimer: 0,
  restartTimer: 0,
  lastProgress: -1,
  lastAdvance: 0,
  playing: false,
  stalled: false,
  brandSlug: null,
  replayViewer: null, // counts this viewer of the replay (replay-viewer.js)
  findingBrand: false,
  drawsListed: false, // after the show: every drawn giveaway's proof is on the page
  drawsTries: 0,
};

function message(text) {
  ui.playerMessage.textContent = text || "";
  show(ui.playerMessage, Boolean(text));
}

function setView(view) {
  state.view = view;
  ui.player.dataset.state = view;
  show(ui.countdown, view === "countdown");
  show(ui.coming, view === "countdown");
  show(ui.ended, view === "ended" || view === "cancelled" || view === "missing" || view === "replay");
  show(ui.playReplay, view === "replay");
  show(ui.liveBadge, view === "live");
  show(ui.replayBadge, view === "replay");
  if (view !== "countdown") {
    clearInterval(state.tickTimer);
    state.tickTimer = 0;
  }
  if (view !== "live") {
    clearInterval(state.stallTimer);
    setStalled(false);
  }
  if (view !== "live" && view !== "loading") message("");
  ui.video.controls = view === "replay";
  ui.video.autoplay = view === "live";
  renderUnmute();
}

function renderEpisode(episode) {
  state.episode = episode;
  document.title = `${episode.title} · Shopcast`;
  ui.showTitle.textContent = episode.show_title;
  // A show whose episodes are all called by its name would say it twice.
  show(ui.showTitle, episode.show_title.trim().toLowerCase() !== episode.title.trim().toLowerCase());
  ui.episodeTitle.textContent = episode.title;
  ui.episodeTime.textContent = t("watch.episode_time", {
    time: episodeTime(episode.starts_at, episode.time_zone),
    minutes: episode.duration_minutes,
  });
  ui.episodeTime.setAttribute("datetime", episode.starts_at);
  ui.episodeHost.textContent = episode.host_name ? t("watch.with_host", { host: episode.host_name }) : "";
  ui.episodeStatus.textContent = STATUS_LABELS[episode.status] || episode.status;
  ui.episodeStatus.className = `badge badge-${episode.status}`;
  ui.episodeStatus.dataset.status = episode.status;
  // During the live the player's own badge says it.
  show(ui.episodeStatus, episode.status !== "live");
  chat.setEpisodeStatus(episode.status);
  findBrand(episode);
}

/** The brand selling in this show (its cart, shipping and orders are the brand's): its show says. */
async function findBrand(episode) {
  if (state.brandSlug || state.findingBrand) return;
  state.findingBrand = true;
  try {
    state.brandSlug = (await api.publicShow(episode.show_id)).brand_slug;
    cart.setBrand(state.brandSlug);
    if (openCart) {
      openCart = false;
      cart.open();
    }
  } catch {
    // The next status poll asks again.
  } finally {
    state.findingBrand = false;
  }
}

/** Follow the episode's status: the one place that decides what the page shows. */
function apply(episode) {
  renderEpisode(episode);
  switch (episode.status) {
    case "scheduled":
      showCountdown();
      break;
    case "live":
      if (state.view !== "live" || (!state.player && !state.starting && Date.now() >= state.nextStart)) startLive();
      break;
    case "ended":
      if (state.view !== "ended" && state.view !== "replay") showEnd();
      showDrawnProofs();
      break;
    case "cancelled":
      showClosed("cancelled", t("watch.cancelled"), t("watch.cancelled_text"));
      break;
    default:
      break;
  }
}

async function refresh() {
  if (state.refreshing) return;
  state.refreshing = true;
  try {
    apply(await api.publicEpisode(episodeId));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      showClosed("missing", t("watch.missing"), t("watch.missing_text"));
    } else if (state.view === "loading") {
      message(t("watch.trying_again", { error: messageOf(error) }));
    }
  } finally {
    state.refreshing = false;
  }
}

function keepPolling(on) {
  clearInterval(state.pollTimer);
  state.pollTimer = on ? setInterval(refresh, POLL_EVERY_MS) : 0;
}

// --- before the show -----------------------------------------------------------------------

function showCountdown() {
  if (state.view !== "countdown") {
    stopPlayer({ hangUp: true });
    setView("countdown");
    ui.countdownAt.textContent = episodeTime(state.episode.starts_at, state.episode.time_zone);
    state.tickTimer = setInterval(tick, 1000);
    previewShow();
  }
  tick();
}

/** Before the show: a calendar file for this episode, and the products the host will show. */
async function previewShow() {
  ui.addToCalendar.href = `/api/v1/public/episodes/${encodeURIComponent(episodeId)}/calendar.ics`;
  show(ui.coming);
  if (ui.comingProducts.childElementCount) return;
  let lineup;
  try {
    lineup = await api.lineup(episodeId);
  } catch {
    return; // the page works without the preview
  }
  ui.comingProducts.replaceChildren(
    ...lineup.map((product) =>
      el(
        "li",
        { class: "coming-product", "data-testid": "coming-product" },
        productImage(product.image_urls?.[0], "coming-image"),
        el("span", { class: "coming-name", "data-testid": "coming-name", text: product.title }),
        priceTag(priceOf(product), product.currency, "coming-price"),
      ),
    ),
  );
  show(ui.comingTitle, lineup.length > 0);
}

function tick() {
  const left = new Date(state.episode.starts_at).getTime() - Date.now();
  ui.countdownValue.textContent = left > 0 ? countdownText(left) : t("watch.any_moment");
}

function countdownText(ms) {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor((seconds % 86400) / 3600);
  const clock = `${pad(hours)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  if (days === 0) return clock;
  return t("watch.countdown_days", { count: days, clock });
}

// --- during the show -----------------------------------------------------------------------

async function startLive() {
  clearTimeout(state.restartTimer);
  stopPlayer({ hangUp: true });
  setView("live");
  message(t("watch.connecting"));
  const attempt = ++state.starts;
  state.starting = true;
  let player = null;
  try {
    player = forceHls || !window.RTCPeerConnection ? await playHls({ live: true }) : await playLive();
  } catch (error) {
    if (attempt !== state.starts) return;
    state.nextStart = Date.now() + RESTART_AFTER_MS;
    if (error instanceof ApiError && error.status === 409) {
      // Not on air (yet, or any more): the episode's status says which.
      message(t("watch.about_to_start"));
      refresh();
    } else {
      message(t("watch.cannot_play", { error: messageOf(error) }));
    }
    return;
  } finally {
    if (attempt === state.starts) state.starting = false;
  }
  if (attempt !== state.starts || state.view !== "live") {
    player.close(true);
    return;
  }
  state.player = player;
  ui.player.dataset.transport = player.transport;
  ui.transportNote.textContent = TRANSPORT_NOTES[player.transport];
  watchForStalls();
}

/** WHEP first; HLS when WebRTC is refused for any reason but the show's state. */
async function playLive() {
  try {
    return await playWebRtc();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) throw error;
    return playHls({ live: true });
  }
}

async function playWebRtc() {
  const pc = new RTCPeerConnection(await peerConfiguration());
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (event) => {
    stream.addTrack(event.track);
    if (ui.video.srcObject !== stream) ui.video.srcObject = stream;
  });
  let session = null;
  const player = {
    transport: "webrtc",
    pc,
    close(hangUp) {
      pc.close();
      if (ui.video.srcObject === stream) ui.video.srcObject = null;
      if (hangUp) deleteSession(session);
    },
  };
  pc.addEventListener("connectionstatechange", () => {
    if (state.player !== player) return;
    if (pc.connectionState === "failed" || pc.connectionState === "closed") connectionLost();
  });
  try {
    session = await exchangeSdp(pc, `/live/${encodeURIComponent(episodeId)}/whep`);
  } catch (error) {
    pc.close();
    throw error;
  }
  return player;
}

/** The show ended (the server hung up) or the network failed: the episode's status tells which. */
async function connectionLost() {
  stopPlayer({ hangUp: false });
  message(t("watch.reconnecting"));
  await refresh();
  if (state.view === "live" && !state.player) {
    state.restartTimer = setTimeout(() => state.view === "live" && !state.player && startLive(), RESTART_AFTER_MS);
  }
}

// Live: hls.js plays this many target durations (segments, see SHOPCAST_HLS_SEGMENT_SECONDS) behind
// the newest segment listed, instead of its default 3. A viewer who falls further behind (a stall, a
// slow network) catches up by playing slightly faster, and one more than liveMaxLatency behind jumps
// back. The replay keeps hls.js's defaults.
const LIVE_HLS = {
  backBufferLength: 30,
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 6,
  maxLiveSyncPlaybackRate: 1.25,
};

/** HLS: the live, or the replay from its second `start`. */
async function playHls({ live, start = 0 }) {
  const video = ui.video;
  video.srcObject = null;
  const transport = live ? "hls" : "replay";
  // hls.js wherever Media Source Extensions exist: it retries, keeps near the live edge and behaves
  // the same everywhere. The browser's own HLS where they do not (older iPhones).
  if (!window.MediaSource && !window.ManagedMediaSource && video.canPlayType("application/vnd.apple.mpegurl")) {
    return playNativeHls(transport, start);
  }
  // Loaded only by those who need it; no worker, as the page's CSP allows no blob: scripts.
  const { default: Hls } = await import("hls.js/light");
  if (!Hls.isSupported()) throw new Error(t("watch.no_hls"));
  const replay = { backBufferLength: Infinity, startPosition: start };
  const hls = new Hls({ enableWorker: false, ...(live ? LIVE_HLS : replay) });
  const player = {
    transport,
    hls,
    close() {
      hls.destroy();
    },
  };
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal || state.player !== player) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    hlsFailed(live);
  });
  hls.loadSource(hlsUrl);
  hls.attachMedia(video);
  return player;
}

function playNativeHls(transport, start) {
  const video = ui.video;
  const player = {
    transport,
    close() {
      video.removeEventListener("error", failed);
      video.removeAttribute("src");
      video.load();
    },
  };
  function failed() {
    if (state.player === player) hlsFailed(transport === "hls");
  }
  video.addEventListener("error", failed);
  if (start > 0) video.addEventListener("loadedmetadata", () => (video.currentTime = start), { once: true });
  video.src = hlsUrl;
  return player;
}

/** The playlist is not there yet (the first segment takes a moment) or the network failed: try again. */
function hlsFailed(live) {
  stopPlayer({ hangUp: false });
  if (!live) {
    message(t("watch.replay_unavailable"));
    return;
  }
  message(t("watch.connecting"));
  clearTimeout(state.restartTimer);
  state.restartTimer = setTimeout(() => state.view === "live" && !state.player && startLive(), RESTART_AFTER_MS);
}

function stopPlayer({ hangUp }) {
  clearInterval(state.stallTimer);
  if (state.player) {
    const player = state.player;
    state.player = null;
    player.close(hangUp);
  }
  state.playing = false;
  delete ui.player.dataset.transport;
  renderUnmute();
}

// A WebRTC stream's currentTime keeps running while no picture comes (the clock goes on, and so may
// the sound), so progress is counted in painted frames where the browser tells, else in media time.
const countsFrames = "requestVideoFrameCallback" in HTMLVideoElement.prototype;
let framesShown = 0;
if (countsFrames) {
  const onFrame = () => {
    framesShown += 1;
    ui.video.requestVideoFrameCallback(onFrame);
  };
  ui.video.requestVideoFrameCallback(onFrame);
}

function progress() {
  return countsFrames ? framesShown : ui.video.currentTime;
}

/** Frames that stop coming while the show is live mean the host's connection dropped. */
function watchForStalls() {
  clearInterval(state.stallTimer);
  state.lastProgress = progress();
  state.lastAdvance = performance.now();
  state.playing = false;
  state.stallTimer = setInterval(() => {
    const now = performance.now();
    const time = progress();
    if (time !== state.lastProgress) {
      state.lastProgress = time;
      state.lastAdvance = now;
      if (ui.video.currentTime > 0 && !state.playing) {
        state.playing = true;
        message("");
        renderUnmute();
      }
      setStalled(false);
    } else if (state.playing && !state.stalled && now - state.lastAdvance >= STALL_AFTER_MS) {
      setStalled(true);
      refresh(); // or has it ended?
    }
  }, 500);
}

function setStalled(stalled) {
  state.stalled = stalled;
  show(ui.stallMessage, stalled);
}

function renderUnmute() {
  const offered = state.view === "live" && state.playing;
  show(ui.unmute, offered);
  const muted = ui.video.muted;
  ui.unmute.textContent = muted ? t("watch.unmute") : t("watch.mute");
  ui.unmute.setAttribute("aria-pressed", String(!muted));
  ui.unmute.classList.toggle("unmute-quiet", !muted);
}

ui.unmute.addEventListener("click", () => {
  ui.video.muted = !ui.video.muted;
  ui.video.play().catch(() => {});
  renderUnmute();
});

ui.video.addEventListener("resize", () => {
  const { videoWidth, videoHeight } = ui.video;
  if (videoWidth && videoHeight) ui.player.style.setProperty("--video-ratio", `${videoWidth} / ${videoHeight}`);
});

// --- after the show ------------------------------------------------------------------------

/** After this episode (over or cancelled): the show's next one, so the viewer knows when to come back. */
async function pointToNextEpisode() {
  try {
    const coming = await api.showEpisodes(state.episode.show_id);
    const next = coming.find((e) => e.id !== episodeId && (e.status === "scheduled" || e.status === "live"));
    if (!next) return;
    ui.nextEpisode.href = `/watch/${encodeURIComponent(next.id)}`;
    ui.nextEpisode.textContent =
      next.status === "live"
        ? t("watch.next_episode_live")
        : t("watch.next_episode", { time: episodeTime(next.starts_at, next.time_zone) });
    show(ui.nextEpisode);
  } catch {
    // Without it the page still says the show is over.
  }
}

async function showEnd() {
  stopPlayer({ hangUp: false }); // the server has closed it already
  stage.ended();
  keepPolling(false);
  setView("ended");
  ui.endedTitle.textContent = t("watch.ended");
  ui.endedText.textContent = t("watch.thanks");
  ui.transportNote.textContent = "";
  pointToNextEpisode();
  const playlist = await replayPlaylist();
  if (!playlist) {
    chat.showHistory();
    return;
  }
  setView("replay");
  ui.endedText.textContent = t("watch.thanks_missed");
  const recording = readRecording(playlist, { wentLiveAt: state.episode.went_live_at });
  try {
    state.player = await playHls({ live: false, start: recording.startAt(asked.get("t")) });
    ui.player.dataset.transport = "replay";
    ui.transportNote.textContent = TRANSPORT_NOTES.replay;
  } catch (error) {
    setView("ended");
    ui.endedText.textContent = t("watch.replay_failed", { error: messageOf(error) });
    chat.showHistory();
    return;
  }
  state.replayViewer = countReplayViewer({ episodeId, video: ui.video, signedIn: () => chat.signedIn() });
  setUpReplay({ episode: state.episode, recording, video: ui.video, stage, chat, onJump: startReplay });
}

/**
 * The replay's playlist (its segments and when each was live), or null when there is none. Right
 * after the end the server may still be finishing it: a few moments for it to say it is complete.
 */
async function replayPlaylist() {
  let playlist = null;
  for (let tries = 0; tries < 5; tries += 1) {
    try {
      const response = await fetch(hlsUrl, { credentials: "omit", cache: "no-store" });
      playlist = response.ok ? await response.text() : null;
    } catch {
      playlist = null;
    }
    if (!playlist || playlist.includes("#EXT-X-ENDLIST")) return playlist;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return playlist;
}

/** Out of the way of the replay: the panel that offered it goes. */
function startReplay() {
  show(ui.ended, false);
}

ui.playReplay.addEventListener("click", () => {
  startReplay();
  ui.video.play().catch(() => {});
  ui.video.focus();
});

function showClosed(view, title, text) {
  stopPlayer({ hangUp: true });
  keepPolling(false);
  setView(view);
  ui.endedTitle.textContent = title;
  ui.endedText.textContent = text;
  ui.transportNote.textContent = "";
  if (view === "missing") {
    ui.episodeTitle.textContent = title;
    chat.close();
  } else {
    pointToNextEpisode();
  }
  stage.close();
}

// --- over the video: the cards of the stage (stage/stage.js); the cart in a drawer -------------

keepStageInView({ stage: ui.stage, writing: ui.chat });
const cart = setUpCart({ onOrdered: () => stage.ordered() });
// What the page lends every card (stage/stage.js).
const stage = setUpStage({
  ready: () => chat.ready(),
  cart,
  addToCart,
  suggest: (text) => chat.suggest(text),
  proofUrl: (giveaway) => `#proof-${giveaway.id}`,
  // Live, as the viewer is, with or without a token (a nameless watcher is not made a guest for it).
  // Over the replay there is no room: its cards seen are counted as the replay's (replay-viewer.js).
  tell: async (event, data) => {
    if (state.view === "replay") {
      if (event === "card:viewed") state.replayViewer?.cardViewed(data.pin_id);
      return;
    }
    const room = chat.room;
    if (room && (await room.whenJoined())) await room.send(event, data);
  },
});

/**
 * One unit of a variant into the cart, as the room's `cart:add` acks it (`{ok, cart}` or `{ok: false,
 * error}`): during the live through the room (held for the viewer, at the flash deal's price); from
 * the replay over HTTP, at today's price and held for nobody, counted as this episode's sale.
 */
async function addToCart(variantId) {
  if (state.view !== "replay") {
    const room = await chat.ready();
    return room.send("cart:add", { variant_id: variantId, quantity: 1 });
  }
  try {
    await chat.signedIn();
    if (!state.brandSlug) await findBrand(state.episode);
    const line = { variant_id: variantId, quantity: 1, episode_id: episodeId };
    return { ok: true, cart: await api.addToCart(state.brandSlug, line) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const { status, message: detail, problem } = error;
    return { ok: false, error: { status, detail, retry_after: problem?.retry_after } };
  }
}
const proofs = setUpProofs(ui.proofs);
setUpReminder({ episodeId, episode: () => state.episode });

/** The proofs this page can show: the one a link asks for, and the draws this browser entered. */
function showProofs() {
  for (const entry of entriesOf(episodeId)) proofs.show(entry.giveaway_id);
  const asked = /^#proof-([0-9a-f-]{36})$/i.exec(window.location.hash);
  if (asked) proofs.show(asked[1].toLowerCase(), { focus: true });
}
window.addEventListener("hashchange", showProofs);

/** After the show, every draw's proof, for any visitor (entered or not): the episode's drawn giveaways. */
async function showDrawnProofs() {
  if (state.drawsListed) return;
  state.drawsListed = true;
  try {
    for (const giveaway of await api.episodeGiveaways(episodeId)) {
      if (giveaway.status === "drawn") proofs.show(giveaway.id, { prize: giveaway.prize.title });
    }
  } catch {
    // The status poll has stopped with the show: ask again a little later, a few times.
    state.drawsListed = false;
    if (++state.drawsTries < 4) setTimeout(showDrawnProofs, POLL_EVERY_MS);
  }
}

// The room also says at once when the show starts or ends: no need to wait for the next poll.
const chat = setUpChat({
  episodeId,
  onEpisodeEvent: refresh,
  // The replay tells the stage what happened at each moment: the room of the ended show has no say.
  onRoomSnapshot: (snapshot) => {
    if (state.view === "replay") return;
    stage.snapshot(snapshot);
    if (snapshot.giveaway?.drawn) proofs.show(snapshot.giveaway.id);
  },
  onRoomEvent: (event, data) => {
    if (state.view === "replay") return;
    stage.event(event, data);
    if (event === "giveaway:drawn" || event === "giveaway:redrawn") proofs.show(data.giveaway_id);
  },
  onSentAck: (ack) => stage.chatAck(ack),
});

window.addEventListener("pagehide", () => stopPlayer({ hangUp: true }));

// --- start ---------------------------------------------------------------------------------

// For tests and the curious: what is playing and how.
window.shopcastWatch = {
  get pc() {
    return state.player?.pc ?? null;
  },
  get hls() {
    return state.player?.hls ?? null;
  },
  get transport() {
    return state.player?.transport ?? null;
  },
  get view() {
    return state.view;
  },
  get framesShown() {
    return framesShown;
  },
  get room() {
    return chat.room;
  },
  get overlay() {
    return stage.front;
  },
};

message(t("page.loading"));
keepPolling(true);
refresh();
showProofs();
