// The shoppable replay (/watch/{episode} after the show): the recording, with what happened over it
// at the moment it happened. The products the host pinned are a timeline under the video (a tap
// plays the moment one was shown) and come back over the video as the stage's product card, sold
// at today's price; the chat, the polls (their results at close) and the giveaway draws play in
// step with the video. All of it was stamped in wall-clock time: the recording's clock
// (recording.js) says which second of the video each moment is.
//
// The stage's cards get what the live room would have told a viewer there: while the video plays
// on, the room's own events (a pin shown, a poll closed, the winners drawn, with their animations);
// after a jump, the snapshot of that moment, as a viewer joining then would have had it.

import { api } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { mediaClock } from "../shared/format.js";
import { productImage } from "../shared/product.js";
import { entryIn } from "../stage/entries.js";
import { t } from "../shared/i18n.js";

const CHAT_PAGE = 1000;
const CHAT_PAGES = 100; // a show of 100,000 messages is more than any phone will scroll through
const SHOWN_MESSAGES = 300; // the chat panel keeps as many (shared/chat.js)
const PLAYING_ON = 2; // seconds: a move forward this short is the video playing, not a jump
const EARLY = 0.05; // seconds: a seek that lands a hair before a pin's moment still shows it

/** The last index of `spans` (sorted by `from`) that started at `time`, or -1. */
function lastStarted(spans, time) {
  let low = 0;
  let high = spans.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (spans[middle].from <= time + EARLY) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/**
 * Sets up the replay of `episode` playing in `video` from `recording`: its timeline
 * ([data-testid=replay-timeline]), the `stage` (stage/stage.js) and the `chat` (chat.js: replayTo,
 * replayAdd). `onJump()` runs when the viewer picks a moment (the page hides what covers the video).
 */
export function setUpReplay({ episode, recording, video, stage, chat, onJump = () => {} }) {
  const ui = byTestIds(["replay-timeline", "timeline-list", "timeline-share", "timeline-status"]);
  const at = (moment) => recording.timeOf(moment);
  let pins = []; // {pin, from, to}
  let polls = []; // {poll, from, closed}
  let giveaways = []; // {giveaway, from, closed, draws: [{...round, from}]}
  const messages = []; // {message, from}, in order
  const seen = new Set();
  let told = null; // the moment the stage was last given
  let last = -1;
  let shownMessages = -1;

  // --- what was on the stage at a moment ----------------------------------------------------

  function pinAt(time) {
    const span = pins[lastStarted(pins, time)];
    if (!span || time >= span.to) return null;
    // Today's price: the live's flash deals were for the live; and its sales count is the live's.
    return { ...span.pin, deal: null, bought: 0, replay: true, replay_deal: Boolean(span.pin.deal) };
  }

  function pollAt(time) {
    const span = polls[lastStarted(polls, time)];
    if (!span) return null;
    const over = time >= span.closed;
    return {
      ...span.poll,
      status: over ? "closed" : "open",
      closes_at: null,
      replay: true,
      tally: { votes: {}, voters: 0 },
      my_vote: null,
      result: over ? span.poll.result : null,
    };
  }

  function giveawayAt(time) {
    const span = giveaways[lastStarted(giveaways, time)];
    if (!span) return null;
    const round = span.draws[lastStarted(span.draws, time)] ?? null;
    const status = round ? "drawn" : time >= span.closed ? "closed" : "open";
    return {
      ...span.giveaway,
      status,
      replay: true,
      my_entry_id: entryIn(span.giveaway.id), // entered from this browser during the live
      drawn: round && {
        round: round.round,
        seed: span.giveaway.seed,
        winners: round.winners.map((id) => ({ entry_id: id, name: "" })), // entry ids only, as in the proof
        eligible: round.eligible,
      },
    };
  }

  function momentAt(time) {
    const moment = { pin: pinAt(time), poll: pollAt(time), giveaway: giveawayAt(time), replay: true };
    const { pin, poll, giveaway } = moment;
    moment.key = [pin?.id, poll?.id, poll?.status, giveaway?.id, giveaway?.status, giveaway?.drawn?.round].join("|");
    return moment;
  }

  // --- telling the stage --------------------------------------------------------------------

  /** The video played on from `before` to `now`: the room's events between them, or false when
   * they cannot say it (then the snapshot of `now` does). */
  function tellEvents(before, now) {
    const events = [];
    if (before.pin?.id !== now.pin?.id) {
      events.push(now.pin ? ["pin:shown", now.pin] : ["pin:hidden", { pin_id: before.pin.id }]);
    }
    const [oldPoll, poll] = [before.poll, now.poll];
    if (oldPoll?.id !== poll?.id || oldPoll?.status !== poll?.status) {
      if (poll?.status === "open") events.push(["poll:opened", { poll }]);
      else if (poll && oldPoll?.id === poll.id) events.push(["poll:closed", { poll, result: poll.result }]);
      else return false;
    }
    const [old, giveaway] = [before.giveaway, now.giveaway];
    const same = old?.id === giveaway?.id;
    if (!same || old?.status !== giveaway?.status || old?.drawn?.round !== giveaway?.drawn?.round) {
      const drawn = giveaway?.drawn;
      // (Entered from this browser: the snapshot says with which entry, the event would not.)
      if (giveaway?.status === "open" && !same && !giveaway.my_entry_id) events.push(["giveaway:opened", { giveaway }]);
      else if (giveaway?.status === "closed" && same) {
        events.push(["giveaway:closed", { giveaway_id: giveaway.id, entries: giveaway.entries }]);
      } else if (drawn && same) {
        const data = { giveaway_id: giveaway.id, round: drawn.round, winners: drawn.winners, eligible: drawn.eligible };
        events.push([drawn.round === 0 ? "giveaway:drawn" : "giveaway:redrawn", data]);
      } else return false;
    }
    for (const [event, data] of events) stage.event(event, data);
    return true;
  }

  function follow() {
    const time = video.currentTime;
    const playingOn = last >= 0 && time >= last && time - last <= PLAYING_ON && !video.seeking;
    const moment = momentAt(time);
    if (moment.key !== told?.key && !(playingOn && told && tellEvents(told, moment))) stage.snapshot(moment);
    told = moment;
    followChat(time, playingOn);
    markCurrent(moment.pin);
    last = time;
  }

  // --- the chat -----------------------------------------------------------------------------

  function followChat(time, playingOn) {
    let count = 0;
    let high = messages.length - 1;
    while (count <= high) {
      const middle = (count + high) >> 1;
      if (messages[middle].from <= time) count = middle + 1;
      else high = middle - 1;
    }
    if (count === shownMessages) return;
    if (playingOn && count > shownMessages && shownMessages >= 0 && count - shownMessages <= 50) {
      for (const { message } of messages.slice(shownMessages, count)) chat.replayAdd(message);
    } else {
      chat.replayTo(messages.slice(Math.max(0, count - SHOWN_MESSAGES), count).map((m) => m.message));
    }
    shownMessages = count;
  }

  /** The chat as the replay keeps it (not deleted, not shadow-banned), a page at a time, in order. */
  async function loadChat() {
    let after = null;
    for (let page = 0; page < CHAT_PAGES; page += 1) {
      let batch;
      try {
        batch = await api.replayChat(episode.id, CHAT_PAGE, after);
      } catch {
        return; // the replay plays on with what it has
      }
      for (const message of batch) {
        if (seen.has(message.id)) continue;
        seen.add(message.id);
        // In the order written: a message never plays before the one written before it.
        messages.push({ message, from: Math.max(at(message.at), messages.at(-1)?.from ?? 0) });
      }
      shownMessages = -1; // drawn again with what came
      followChat(video.currentTime, false);
      if (batch.length < CHAT_PAGE) return;
      after = batch.at(-1).at;
    }
  }

  // --- the timeline -------------------------------------------------------------------------

  function renderTimeline() {
    ui.timelineList.replaceChildren(
      ...pins.map(({ pin, from }) =>
        el(
          "li",
          { class: "timeline-item" },
          el(
            "button",
            {
              type: "button",
              class: "timeline-button",
              "data-testid": "timeline-item",
              "data-pin-id": pin.id,
              "data-product-id": pin.product.id,
              "data-time": from.toFixed(3),
              onclick: () => jump(from),
            },
            productImage(pin.product.image_urls?.[0], "timeline-image"),
            el("span", { class: "timeline-name", "data-testid": "timeline-title", text: pin.product.title }),
            el(
              "span",
              { class: "timeline-time" },
              el("span", { class: "visually-hidden", text: t("replay.shown_at") }),
              el("time", { "data-testid": "timeline-time", text: mediaClock(from) }),
            ),
          ),
        ),
      ),
    );
    show(ui.replayTimeline, pins.length > 0);
  }

  function markCurrent(pin) {
    for (const button of ui.timelineList.querySelectorAll("button")) {
      const current = pin?.id === button.dataset.pinId;
      if (current) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  function jump(time) {
    onJump();
    video.currentTime = time;
    video.play().catch(() => {});
    follow();
  }

  /** "Share this moment": the page's address starting at the second now playing. */
  async function shareMoment() {
    const url = new URL(window.location.href);
    url.search = "";
    url.hash = "";
    url.searchParams.set("t", String(Math.floor(video.currentTime)));
    try {
      await navigator.clipboard.writeText(url.href);
      ui.timelineStatus.textContent = t("replay.link_copied");
    } catch {
      ui.timelineStatus.textContent = t("replay.link", { url: url.href });
    }
  }

  // --- start --------------------------------------------------------------------------------

  async function load() {
    const [pinList, pollList, giveawayList] = await Promise.all([
      api.pinHistory(episode.id).catch(() => []),
      api.episodePolls(episode.id).catch(() => []),
      api.episodeGiveaways(episode.id).catch(() => []),
    ]);
    pins = pinList.map((pin) => {
      const from = at(pin.shown_at);
      // A pin shown and taken down while the host's connection was down still shows, for a second.
      return { pin, from, to: pin.hidden_at ? Math.max(at(pin.hidden_at), from + 1) : Infinity };
    });
    polls = pollList
      .filter((poll) => poll.opened_at)
      .map((poll) => ({ poll, from: at(poll.opened_at), closed: poll.closed_at ? at(poll.closed_at) : Infinity }));
    giveaways = giveawayList
      .filter((giveaway) => giveaway.opened_at)
      .map((giveaway) => ({
        giveaway,
        from: at(giveaway.opened_at),
        closed: giveaway.closed_at ? at(giveaway.closed_at) : Infinity,
        draws: (giveaway.draws ?? []).map((round) => ({ ...round, from: at(round.at) })),
      }));
    for (const list of [pins, polls, giveaways]) list.sort((a, b) => a.from - b.from);
    renderTimeline();
    told = null;
    follow();
  }

  for (const name of ["timeupdate", "seeked", "loadedmetadata"]) video.addEventListener(name, follow);
  ui.timelineShare.addEventListener("click", shareMoment);
  load();
  loadChat();
}
