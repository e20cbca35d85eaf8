// The host's studio (/studio/{episode_id}): camera preview and pickers, go live over WHIP, end the show;
// under it the products to pin (shop.js), the polls and giveaways (games.js) and the chat
// to moderate (chat.js).

import "./page.css";
import { ApiError, api, currentToken, messageOf, onUnauthorized } from "../shared/api.js";
import { byTestIds, el, noticeLine, show } from "../shared/dom.js";
import { episodeTime, money, waitText } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { SIGN_IN_PARTS, resumeSession, setUpSignIn, showSignInForm } from "../shared/session.js";
import { setUpStudioChat } from "./chat.js";
import { setUpStudioGames } from "./games.js";
import { setUpStudioShop } from "./shop.js";
import { exchangeSdp, peerConfiguration } from "../shared/webrtc.js";

const episodeId = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop());
const BROADCAST_EVERY_MS = 2500;
const RECOVERY_WAIT_MS = 4000; // a "disconnected" connection often comes back by itself
const MAX_RETRIES = 12;

const ui = byTestIds([
  ...SIGN_IN_PARTS,
  "studio",
  "show-title",
  "episode-title",
  "episode-status",
  "episode-time",
  "episode-host",
  "preview",
  "connection-state",
  "viewers",
  "viewer-count",
  "viewer-label",
  "elapsed",
  "elapsed-time",
  "sales",
  "slot-confirm",
  "slot-question",
  "confirm-go-live",
  "not-now",
  "camera-message",
  "screen",
  "devices",
  "camera-select",
  "microphone-select",
  "state-detail",
  "studio-error",
  "go-live",
  "end-show",
  "end-confirm",
  "confirm-end",
  "keep-going",
  "watch-link",
]);

const PHASES = {
  idle: [t("studio.phase_idle"), t("studio.phase_idle_detail")],
  connecting: [t("studio.phase_connecting"), t("studio.phase_connecting_detail")],
  live: [t("studio.phase_live"), t("studio.phase_live_detail")],
  reconnecting: [t("studio.phase_reconnecting"), t("studio.phase_reconnecting_detail")],
  ended: [t("studio.phase_ended"), t("studio.phase_ended_detail")],
};
const ON_AIR_WITHOUT_YOU = t("studio.on_air_without_you");
const STATUS_LABELS = {
  scheduled: t("studio.status_scheduled"),
  live: t("studio.status_live"),
  ended: t("studio.status_ended"),
  cancelled: t("studio.status_cancelled"),
};

const state = {
  me: null,
  episode: null,
  stream: null,
  pc: null,
  phase: "idle",
  retries: 0,
  retryTimer: 0,
  recoveryTimer: 0,
  broadcastTimer: 0,
  clockTimer: 0,
};

const publishing = () => ["connecting", "live", "reconnecting"].includes(state.phase);

const notify = noticeLine(ui.notice);

function showError(message) {
  ui.studioError.textContent = message;
}

// --- what the host sees --------------------------------------------------------------------

function setPhase(phase, detail = null) {
  state.phase = phase;
  const [label, text] = PHASES[phase];
  ui.connectionState.dataset.state = phase;
  ui.connectionState.textContent = label;
  const onAirElsewhere = phase === "idle" && state.episode?.status === "live";
  ui.stateDetail.textContent = detail ?? (onAirElsewhere ? ON_AIR_WITHOUT_YOU : text);
  renderControls();
}

function renderControls() {
  const status = state.episode?.status;
  const open = status === "scheduled" || status === "live";
  const hasCamera = Boolean(state.stream?.getVideoTracks().length);
  if (!open || state.phase !== "idle") show(ui.slotConfirm, false);
  // While the host is asked whether to go live off the slot, the question stands in for the button.
  show(ui.goLive, open && (state.phase === "idle" || state.phase === "connecting") && ui.slotConfirm.hidden);
  ui.goLive.disabled = !hasCamera || state.phase !== "idle";
  ui.goLive.textContent =
    state.phase === "connecting"
      ? t("studio.going_live")
      : status === "live"
        ? t("studio.go_live_again")
        : t("studio.go_live");
  const onAir = state.phase === "live" || state.phase === "reconnecting";
  const canEnd = onAir || (state.phase === "idle" && status === "live");
  show(ui.endShow, canEnd && ui.endConfirm.hidden);
  if (!canEnd) show(ui.endConfirm, false);
  show(ui.viewers, onAir || status === "live"); // the audience, whoever's camera is on air
  renderClock();
  show(ui.signOut, !publishing());
  show(ui.devices, state.phase !== "ended");
  ui.cameraSelect.disabled = !hasCamera;
  ui.microphoneSelect.disabled = !state.stream?.getAudioTracks().length;
}

function renderEpisode(episode) {
  state.episode = episode;
  document.title = t("studio.title_episode", { title: episode.title });
  ui.showTitle.textContent =
    episode.title === episode.show_title ? t("studio.studio") : t("studio.studio_show", { show: episode.show_title });
  ui.episodeTitle.textContent = episode.title;
  ui.episodeTime.textContent = t("studio.episode_time", {
    time: episodeTime(episode.starts_at, episode.time_zone),
    minutes: episode.duration_minutes,
  });
  ui.episodeTime.setAttribute("datetime", episode.starts_at);
  ui.episodeHost.textContent = episode.host_name ? t("studio.host", { name: episode.host_name }) : "";
  ui.episodeStatus.textContent = STATUS_LABELS[episode.status] || episode.status;
  ui.episodeStatus.className = `badge badge-${episode.status}`;
  ui.episodeStatus.dataset.status = episode.status;
  show(ui.episodeStatus);
  chat.setEpisodeStatus(episode.status);
  shop.setLive(episode.status === "live");
  renderControls();
}

/** "0:07", "12:34", "1:02:03": a running clock, so it reads the same from one second to the next. */
function elapsedText(seconds) {
  const pad = (n) => String(n).padStart(2, "0");
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** How long the show has been on air, from when it went live (the server's time). */
function renderClock() {
  const since = state.episode?.status === "live" ? state.episode.went_live_at : null;
  show(ui.elapsed, Boolean(since));
  clearInterval(state.clockTimer);
  if (!since) return;
  const tick = () => {
    const seconds = Math.floor(Math.max(0, (Date.now() - Date.parse(since)) / 1000));
    ui.elapsedTime.textContent = elapsedText(seconds);
    ui.elapsedTime.setAttribute("datetime", `PT${seconds}S`);
  };
  tick();
  state.clockTimer = setInterval(tick, 1000);
}

/** The live sales so far: units and revenue (the host's own figure, not the viewers'). */
async function refreshSales() {
  try {
    const sales = await api.episodeSales(episodeId);
    const revenue = money(sales.revenue, sales.currency);
    ui.sales.textContent = t("studio.sales", { count: sales.units, units: sales.units, revenue });
    ui.sales.setAttribute(
      "aria-label",
      t("studio.sales_label", {
        count: sales.units,
        units: t("studio.sales_units", { count: sales.units }),
        orders: t("studio.sales_orders", { count: sales.orders }),
        revenue,
      }),
    );
    show(ui.sales, state.episode?.status === "live");
  } catch {
    // The next poll will tell.
  }
}

function renderViewers(count) {
  ui.viewerCount.textContent = String(count);
  ui.viewerLabel.textContent = t("studio.watching", { count });
  ui.viewers.setAttribute("aria-label", t("studio.viewers_label", { count }));
}

// --- camera and microphone -----------------------------------------------------------------

const CONSTRAINTS = {
  video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};

function constraintsFor(kind, deviceId) {
  return deviceId ? { ...CONSTRAINTS[kind], deviceId: { exact: deviceId } } : CONSTRAINTS[kind];
}

function cameraProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
      return t("studio.camera_not_allowed");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("studio.camera_not_found");
    case "NotReadableError":
      return t("studio.camera_busy");
    default:
      return t("studio.camera_failed", { error: error?.message || error });
  }
}

async function startCamera() {
  ui.cameraMessage.textContent = t("studio.starting_camera");
  show(ui.cameraMessage);
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: CONSTRAINTS.video, audio: CONSTRAINTS.audio });
  } catch (error) {
    try {
      // No microphone is better than no show: try the camera alone.
      state.stream = await navigator.mediaDevices.getUserMedia({ video: CONSTRAINTS.video });
      showError(t("studio.no_microphone_warning"));
    } catch {
      ui.cameraMessage.textContent = cameraProblem(error);
      renderControls();
      return;
    }
  }
  ui.preview.srcObject = state.stream;
  show(ui.cameraMessage, false);
  await listDevices();
  renderControls();
}

function currentDeviceId(kind) {
  const track = kind === "video" ? state.stream?.getVideoTracks()[0] : state.stream?.getAudioTracks()[0];
  return track?.getSettings().deviceId || "";
}

async function listDevices() {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  const cameras = { numbered: (n) => t("studio.camera_n", { n }), none: t("studio.no_camera") };
  const microphones = { numbered: (n) => t("studio.microphone_n", { n }), none: t("studio.no_microphone") };
  fillPicker(ui.cameraSelect, devices, "videoinput", cameras, currentDeviceId("video"));
  fillPicker(ui.microphoneSelect, devices, "audioinput", microphones, currentDeviceId("audio"));
}

function fillPicker(select, devices, kind, names, selected) {
  const mine = devices.filter((d) => d.kind === kind && d.deviceId);
  select.replaceChildren(
    ...mine.map((d, i) => el("option", { value: d.deviceId, text: d.label || names.numbered(i + 1) })),
  );
  if (mine.length === 0) select.replaceChildren(el("option", { value: "", text: names.none }));
  if (selected) select.value = selected;
}

/** Use another camera or microphone: in the preview and, while live, in what viewers get. */
async function switchDevice(kind, deviceId) {
  if (!state.stream || !deviceId || deviceId === currentDeviceId(kind)) return;
  const old = kind === "video" ? state.stream.getVideoTracks()[0] : state.stream.getAudioTracks()[0];
  let fresh;
  try {
    fresh = await acquire(kind, deviceId);
  } catch {
    // Some phones open one camera at a time: let the old one go first.
    old?.stop();
    try {
      fresh = await acquire(kind, deviceId);
    } catch (error) {
      showError(cameraProblem(error));
      return;
    }
  }
  const transceiver = state.pc?.getTransceivers().find((t) => t.receiver.track?.kind === kind);
  if (transceiver) await transceiver.sender.replaceTrack(fresh);
  if (old) {
    state.stream.removeTrack(old);
    old.stop();
  }
  state.stream.addTrack(fresh);
  showError("");
  await listDevices();
}

async function acquire(kind, deviceId) {
  const media = await navigator.mediaDevices.getUserMedia({ [kind]: constraintsFor(kind, deviceId) });
  return media.getTracks()[0];
}

function stopCamera() {
  for (const track of state.stream?.getTracks() || []) track.stop();
  ui.preview.srcObject = null;
}

ui.preview.addEventListener("resize", () => {
  const { videoWidth, videoHeight } = ui.preview;
  if (videoWidth && videoHeight) ui.screen.style.setProperty("--video-ratio", `${videoWidth} / ${videoHeight}`);
});

ui.cameraSelect.addEventListener("change", () => switchDevice("video", ui.cameraSelect.value));
ui.microphoneSelect.addEventListener("change", () => switchDevice("audio", ui.microphoneSelect.value));
navigator.mediaDevices?.addEventListener?.("devicechange", () => {
  if (state.stream) listDevices();
});

// --- going live (WHIP) ---------------------------------------------------------------------

async function publish() {
  closeConnection();
  const pc = new RTCPeerConnection(await peerConfiguration());
  state.pc = pc;
  for (const track of state.stream.getTracks()) {
    pc.addTransceiver(track, { direction: "sendonly", streams: [state.stream] });
  }
  pc.addEventListener("connectionstatechange", () => onConnectionState(pc));
  try {
    await exchangeSdp(pc, `/live/${encodeURIComponent(episodeId)}/whip`, { token: currentToken() });
  } catch (error) {
    if (state.pc === pc) closeConnection();
    throw error;
  }
}

/** The server puts the episode live once this connection is up, not at the answer: so does the studio. */
function onAir() {
  if (state.episode.status !== "live") renderEpisode({ ...state.episode, status: "live" });
  if (!state.episode.went_live_at) refreshEpisode(); // the server's start time, for the clock
  watchBroadcast();
}

function onConnectionState(pc) {
  if (pc !== state.pc || state.phase === "ended") return;
  clearTimeout(state.recoveryTimer);
  switch (pc.connectionState) {
    case "connected":
      state.retries = 0;
      setPhase("live");
      onAir();
      break;
    case "disconnected":
      setPhase("reconnecting");
      state.recoveryTimer = setTimeout(() => {
        if (pc === state.pc && pc.connectionState !== "connected") reconnect();
      }, RECOVERY_WAIT_MS);
      break;
    case "failed":
      reconnect();
      break;
    default:
      break;
  }
}

function reconnect() {
  setPhase("reconnecting");
  closeConnection();
  clearTimeout(state.retryTimer);
  const delay = Math.min(500 * 2 ** state.retries, 8000);
  state.retries += 1;
  state.retryTimer = setTimeout(async () => {
    if (state.phase !== "reconnecting") return;
    try {
      await publish();
    } catch (error) {
      await publishFailed(error, { retrying: true });
    }
  }, delay);
}

async function publishFailed(error, { retrying }) {
  if (error instanceof ApiError && error.status === 401) return; // the sign-in form is already up
  if (error instanceof ApiError && error.status === 409 && (await refreshEpisode()) !== "open") return;
  const transient = !(error instanceof ApiError) || error.status === 0 || error.status === 409 || error.status >= 500;
  if (retrying && transient && state.retries < MAX_RETRIES) {
    reconnect();
    return;
  }
  setPhase("idle");
  showError(messageOf(error));
}

// Going live far from the announced slot is most often a mistake (the wrong episode, a test):
// the host says so once more.
const SLOT_MARGIN_MS = 30 * 60 * 1000;

/** The question to ask before going live, or null when now is within the slot (give or take 30 min). */
function offSlot(episode, now = Date.now()) {
  const starts = Date.parse(episode.starts_at);
  const ends = Date.parse(episode.ends_at);
  const planned = episodeTime(episode.starts_at, episode.time_zone);
  if (now < starts - SLOT_MARGIN_MS) {
    return t("studio.slot_early", { planned, wait: waitText((starts - now) / 1000) });
  }
  if (now > ends + SLOT_MARGIN_MS) {
    return t("studio.slot_late", { planned, wait: waitText((now - ends) / 1000) });
  }
  return null;
}

ui.goLive.addEventListener("click", () => {
  const question = state.episode?.status === "scheduled" ? offSlot(state.episode) : null;
  if (!question) {
    goLive();
    return;
  }
  ui.slotQuestion.textContent = question;
  show(ui.goLive, false);
  show(ui.slotConfirm);
  ui.notNow.focus();
});

ui.notNow.addEventListener("click", () => {
  show(ui.slotConfirm, false);
  renderControls();
  ui.goLive.focus();
});

ui.confirmGoLive.addEventListener("click", () => {
  show(ui.slotConfirm, false);
  goLive();
});

async function goLive() {
  showError("");
  notify("");
  state.retries = 0;
  setPhase("connecting");
  try {
    await publish();
    if (state.phase === "connecting" && state.pc?.connectionState === "connected") setPhase("live");
  } catch (error) {
    await publishFailed(error, { retrying: false });
  }
}

function closeConnection() {
  clearTimeout(state.recoveryTimer);
  if (state.pc) {
    const pc = state.pc;
    state.pc = null;
    pc.close();
  }
}

// --- the audience and the end --------------------------------------------------------------

function watchBroadcast() {
  clearInterval(state.broadcastTimer);
  const poll = async () => {
    try {
      const status = await api.broadcast(episodeId);
      refreshSales();
      // Not on air (ended elsewhere?), or just gone live (the server may answer a moment after the
      // studio connects): the episode's status says which.
      if (!status.on_air || state.episode?.status !== "live") await refreshEpisode();
    } catch {
      // A missed poll changes nothing; the next one will tell.
    }
  };
  poll();
  state.broadcastTimer = setInterval(poll, BROADCAST_EVERY_MS);
}

/** Reads the episode again; ends the studio if the show is over. Returns "open" or "over". */
async function refreshEpisode() {
  let episode;
  try {
    episode = await api.publicEpisode(episodeId);
  } catch {
    return "open";
  }
  renderEpisode(episode);
  if (episode.status === "ended" || episode.status === "cancelled") {
    showEnded(episode.status === "cancelled" ? t("studio.cancelled") : t("studio.ended_elsewhere"));
    return "over";
  }
  return "open";
}

function showEnded(detail) {
  clearInterval(state.broadcastTimer);
  clearTimeout(state.retryTimer);
  closeConnection();
  stopCamera();
  show(ui.cameraMessage);
  ui.cameraMessage.textContent = t("studio.over_thanks");
  setPhase("ended", detail);
}

ui.endShow.addEventListener("click", () => {
  show(ui.endShow, false);
  show(ui.endConfirm);
  ui.keepGoing.focus();
});

ui.keepGoing.addEventListener("click", () => {
  show(ui.endConfirm, false);
  renderControls();
  ui.endShow.focus();
});

ui.confirmEnd.addEventListener("click", async () => {
  ui.confirmEnd.disabled = true;
  ui.keepGoing.disabled = true;
  showError("");
  try {
    const ended = await api.endEpisode(episodeId);
    show(ui.endConfirm, false);
    renderEpisode(ended);
    showEnded(t("studio.you_ended"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409 && (await refreshEpisode()) === "over")) {
      showError(messageOf(error));
    }
  } finally {
    ui.confirmEnd.disabled = false;
    ui.keepGoing.disabled = false;
  }
});

// --- signing in and starting ---------------------------------------------------------------

function showSignIn(message = "") {
  // A show on air goes on: the host signs in again to keep control of it.
  if (!publishing()) show(ui.studio, false);
  showSignInForm(ui, message);
}

const EXPIRED = t("sign_in.expired");
onUnauthorized(() => showSignIn(EXPIRED));

const shop = setUpStudioShop({ episodeId });
const games = setUpStudioGames({ episodeId });
const chat = setUpStudioChat({
  episodeId,
  onSignInRefused: () => showSignIn(EXPIRED),
  onViewers: renderViewers,
  onRoomSnapshot: (snapshot) => {
    shop.snapshot(snapshot);
    games.snapshot(snapshot);
  },
  onRoomEvent: (event, data) => {
    shop.event(event, data);
    games.event(event, data);
  },
});

setUpSignIn({
  form: ui.signInForm,
  error: ui.signInError,
  submit: ui.signInSubmit,
  onSignedIn: (me) => enterStudio(me),
});

ui.signOut.addEventListener("click", () => {
  clearInterval(state.broadcastTimer);
  chat.close();
  stopCamera();
  state.stream = null;
  state.episode = null;
  showSignIn();
  notify(t("sign_in.signed_out"));
});

async function enterStudio(me) {
  state.me = me;
  ui.accountName.textContent = me.name;
  show(ui.account);
  show(ui.signIn, false);
  show(ui.studio);
  if (state.episode) {
    chat.open(currentToken()); // signed in again during the show: the rest is already running
    return;
  }
  ui.watchLink.href = `/watch/${encodeURIComponent(episodeId)}`;
  let episode;
  try {
    episode = await api.publicEpisode(episodeId);
  } catch (error) {
    ui.episodeTitle.textContent =
      error instanceof ApiError && error.status === 404 ? t("studio.no_episode") : t("studio.studio");
    ui.cameraMessage.textContent = "";
    showError(messageOf(error));
    return;
  }
  renderEpisode(episode);
  ui.episodeTitle.focus();
  try {
    await api.broadcast(episodeId); // brand staff only: say so now rather than at "Go live"
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    ui.cameraMessage.textContent = t("studio.staff_only");
    showError(messageOf(error));
    return;
  }
  chat.open(currentToken());
  loadShop(episode);
  if (episode.status === "ended" || episode.status === "cancelled") {
    const cancelled = episode.status === "cancelled";
    setPhase("ended", cancelled ? t("studio.cancelled") : t("studio.ended_replay"));
    ui.cameraMessage.textContent = cancelled ? t("studio.cancelled_short") : t("studio.over");
    return;
  }
  setPhase("idle");
  if (episode.status === "live") watchBroadcast();
  await startCamera();
}

/** The products panel, with the brand's catalog to fill the lineup from (the show says whose brand). */
async function loadShop(episode) {
  try {
    const { brand_slug: brandSlug } = await api.publicShow(episode.show_id);
    await shop.load(brandSlug);
  } catch (error) {
    notify(t("studio.products_failed", { error: messageOf(error) }), "error");
  }
}

async function start() {
  if (!window.RTCPeerConnection || !navigator.mediaDevices?.getUserMedia) {
    show(ui.studio);
    ui.episodeTitle.textContent = t("studio.unsupported");
    ui.cameraMessage.textContent = t("studio.unsupported_hint");
    return;
  }
  await resumeSession({ onSignedIn: enterStudio, showSignIn });
}

// Closing the page hangs up at once, so the server starts its grace period now, not after a timeout;
// the show ends only if the host does not come back in time.
window.addEventListener("pagehide", () => closeConnection());

// For tests and the curious: the live connection and the phase.
window.shopcastStudio = {
  get pc() {
    return state.pc;
  },
  get phase() {
    return state.phase;
  },
  get stream() {
    return state.stream;
  },
  get room() {
    return chat.room;
  },
};

start();
