// The poll the host opens, as a card over the show: the question, the options (a product's picture
// and price where an option is one), one tap to vote (a pick then "Vote" for several answers), the
// live bars once this viewer has voted, the countdown, and at close the result (a quiz's right
// answer and the share who found it). From the room: the join snapshot's `poll`, then poll:opened,
// poll:tally and poll:closed (docs/api.md, "Polls"). The replay hands it the live's polls at their
// moments, marked `replay`: nothing to vote on any more, the result at close.

import { sentence } from "../shared/api.js";
import { el, show } from "../shared/dom.js";
import { clockText, money } from "../shared/format.js";
import { productImage } from "../shared/product.js";
import { locale, t } from "../shared/i18n.js";

const TEXT = {
  poll: t("poll.kicker"),
  quiz: t("poll.quiz"),
  tap: t("poll.tap"),
  pick: t("poll.pick"),
  vote: t("poll.vote"),
  voting: t("poll.voting"),
  voted: t("poll.voted"),
  change: t("poll.change"),
  closed: t("poll.closed"),
  replay: t("poll.replay"),
  closing: t("poll.closing"),
  left: (seconds) => t("poll.left", { time: clockText(seconds) }),
  votes: (n) => t("poll.votes", { count: n, n: n.toLocaleString(locale) }),
  percent: (percent) => t("poll.percent", { percent: percent.toLocaleString(locale) }),
  right: t("poll.right"),
  youRight: t("poll.you_right"),
  youWrong: t("poll.you_wrong"),
  share: (percent) => t("poll.share", { percent: percent.toLocaleString(locale) }),
  pickOne: t("poll.pick_one"),
  dismiss: t("poll.dismiss"),
};

const percent = (part, whole) => (whole > 0 ? Math.round((100 * part) / whole) : 0);

/** The poll card, for the stage (stage.js). */
export const pollCard = {
  kind: "poll",
  chip: t("watch.chip_poll"),
  open: t("watch.open_poll"),
  setUp: setUpPollCard,
};

/**
 * Sets up the poll card in `slot`. `ready()` resolves with the joined LiveRoom once the viewer has a
 * token (a nameless guest is made on the first vote); `attention({urgent})` says the card has news (a
 * poll opened: urgent; a quiz's answer too).
 */
function setUpPollCard({ slot, ready, attention }) {
  let poll = null; // PublicPoll on screen
  let tally = { votes: {}, voters: 0 };
  let myVote = null; // option ids this viewer voted for, or null
  let result = null; // at close
  let picked = new Set(); // several answers: picked before "Vote"
  let voting = false;
  let card = null;
  let timer = 0;

  function setPoll(next, { fresh = false } = {}) {
    if (!next) {
      poll = null;
      card = null;
      slot.replaceChildren();
      stopTimer();
      return;
    }
    const same = poll?.id === next.id;
    poll = next;
    if (fresh || !same) picked = new Set();
    if (!same) {
      card = null;
      build();
    }
    render();
  }

  function build() {
    const options = poll.options.map((option) => {
      const button = el(
        "button",
        {
          type: "button",
          class: "poll-option",
          "data-testid": "poll-option",
          "data-option-id": option.id,
          onclick: () => tap(option.id),
        },
        option.product ? productImage(option.product.picture_url, "poll-thumb") : null,
        el(
          "span",
          { class: "poll-option-text" },
          el("span", { class: "poll-label", "data-testid": "poll-label", text: option.label }),
          option.product
            ? el("span", { class: "poll-price", text: money(option.product.price.amount, option.product.price.currency) })
            : null,
        ),
        el("span", { class: "poll-share", "data-testid": "poll-share" }),
        el("span", { class: "poll-bar", "aria-hidden": "true" }),
      );
      return el("li", {}, button);
    });
    card = {
      root: el("article", { class: "game-card poll-card", "data-testid": "poll-card", "data-poll-id": poll.id }),
      countdown: el("span", { class: "game-timer", role: "timer", "aria-live": "off", "data-testid": "poll-countdown" }),
      options: el("ol", { class: "poll-options", "aria-label": poll.question }, ...options),
      status: el("p", { class: "poll-status", role: "status", "data-testid": "poll-status" }),
      vote: el("button", {
        type: "button",
        class: "button button-primary button-small",
        "data-testid": "poll-vote",
        onclick: () => vote([...picked]),
      }),
      verdict: el("p", { class: "poll-verdict", role: "status", "data-testid": "poll-verdict" }),
      error: el("p", { class: "game-error", role: "alert", "data-testid": "poll-error" }),
      dismiss: el("button", {
        type: "button",
        class: "game-dismiss",
        "aria-label": TEXT.dismiss,
        "data-testid": "poll-dismiss",
        text: "×",
        onclick: () => setPoll(null),
      }),
    };
    card.root.append(
      el(
        "header",
        { class: "game-head" },
        el("span", { class: "game-kicker", text: poll.quiz ? TEXT.quiz : TEXT.poll }),
        card.countdown,
        card.dismiss,
      ),
      el("h2", { class: "game-title", "data-testid": "poll-question", text: poll.question }),
      card.options,
      el("div", { class: "poll-foot" }, card.status, card.vote),
      card.verdict,
      card.error,
    );
    slot.replaceChildren(card.root);
  }

  function render() {
    if (!card) return;
    const open = poll.status === "open";
    const voted = Array.isArray(myVote) && myVote.length > 0;
    const canVote = open && !poll.replay && !voting && (!voted || poll.allow_change);
    const showBars = voted || !open;
    const counts = result?.votes ?? tally.votes ?? {};
    const voters = result?.voters ?? tally.voters ?? 0;
    const correct = new Set(result?.correct_option_ids ?? []);
    card.root.dataset.status = poll.status;
    card.root.toggleAttribute("data-voted", voted);
    for (const button of card.options.querySelectorAll("button")) {
      const id = button.dataset.optionId;
      const mine = voted && myVote.includes(id);
      const chosen = picked.size > 0 ? picked.has(id) : mine; // while changing several answers: the new pick
      button.disabled = !canVote;
      button.setAttribute("aria-pressed", String(chosen));
      button.toggleAttribute("data-mine", mine);
      button.toggleAttribute("data-correct", correct.has(id));
      const share = percent(counts[id] ?? 0, voters);
      button.style.setProperty("--share", showBars ? `${share}%` : "0%");
      const shareText = button.querySelector(".poll-share");
      shareText.textContent = showBars ? TEXT.percent(share) : "";
      button.title = showBars ? TEXT.votes(counts[id] ?? 0) : "";
      if (correct.has(id)) shareText.textContent = `✓ ${shareText.textContent}`;
      button.setAttribute(
        "aria-label",
        [button.querySelector(".poll-label").textContent, showBars ? TEXT.percent(share) : "", correct.has(id) ? TEXT.right : ""]
          .filter(Boolean)
          .join(", "),
      );
    }
    const how = poll.multiple ? TEXT.pick : TEXT.tap;
    let status = open ? (voted ? (poll.allow_change ? TEXT.change : TEXT.voted) : how) : TEXT.closed;
    if (open && poll.replay) status = TEXT.replay;
    if (voters > 0 && (showBars || !open)) status = `${status} · ${TEXT.votes(voters)}`;
    card.status.textContent = voting ? TEXT.voting : status;
    show(card.vote, open && !poll.replay && poll.multiple && (!voted || poll.allow_change));
    card.vote.disabled = voting || picked.size === 0;
    card.vote.textContent = voting ? TEXT.voting : TEXT.vote;
    show(card.dismiss, !open);
    renderVerdict();
    tick();
  }

  function renderVerdict() {
    let text = "";
    if (poll.status === "closed" && poll.quiz && result?.correct_option_ids) {
      const shareText = result.correct_share === null ? "" : TEXT.share(Math.round(result.correct_share * 100));
      let mine = "";
      if (myVote?.length) {
        const right = new Set(result.correct_option_ids);
        const exact = myVote.length === right.size && myVote.every((id) => right.has(id));
        mine = exact ? TEXT.youRight : TEXT.youWrong;
      }
      text = [mine, shareText].filter(Boolean).join(" ");
    }
    card.verdict.textContent = text;
    show(card.verdict, Boolean(text));
  }

  function tick() {
    if (!card) return;
    const closesAt = poll.status === "open" && poll.closes_at ? Date.parse(poll.closes_at) : NaN;
    if (Number.isNaN(closesAt)) {
      card.countdown.textContent = "";
      stopTimer();
      return;
    }
    const left = (closesAt - Date.now()) / 1000;
    card.countdown.textContent = left > 0 ? TEXT.left(left) : TEXT.closing;
    if (!timer) timer = setInterval(tick, 250);
  }

  function stopTimer() {
    clearInterval(timer);
    timer = 0;
  }

  function tap(optionId) {
    card.error.textContent = "";
    const voted = Array.isArray(myVote) && myVote.length > 0;
    if (poll.multiple) {
      const from = voted && picked.size === 0 ? myVote : [...picked];
      picked = new Set(from);
      if (picked.has(optionId)) picked.delete(optionId);
      else picked.add(optionId);
      render();
      return;
    }
    if (voted && myVote[0] === optionId) return;
    vote([optionId]);
  }

  async function vote(optionIds) {
    if (optionIds.length === 0) {
      card.error.textContent = TEXT.pickOne;
      return;
    }
    const pollId = poll.id;
    voting = true;
    card.error.textContent = "";
    render();
    let ack;
    try {
      const room = await ready();
      ack = await room.send("poll:vote", { poll_id: pollId, option_ids: optionIds });
    } catch (error) {
      ack = { ok: false, error: { detail: error.message } };
    }
    voting = false;
    if (poll?.id !== pollId) return; // another poll meanwhile
    if (ack.ok) {
      myVote = ack.vote.option_ids.map(String);
      picked = new Set();
    } else {
      card.error.textContent = sentence(ack.error?.detail || ack.error?.title || t("poll.not_counted"));
    }
    render();
  }

  return {
    /**
     * The join snapshot: the open poll (or one just closed), with this viewer's vote. A closed poll
     * stays until dismissed, except in the replay, whose snapshot is the whole stage at a moment.
     */
    snapshot(snapshot) {
      const next = snapshot.poll ?? null;
      if (!next) {
        if (poll?.status === "open" || snapshot.replay) setPoll(null);
        return;
      }
      tally = next.tally ?? { votes: {}, voters: 0 };
      myVote = next.my_vote ? next.my_vote.map(String) : null;
      result = next.result ?? null;
      setPoll(next);
    },
    event(event, data) {
      switch (event) {
        case "poll:opened":
          tally = { votes: {}, voters: 0 };
          myVote = null;
          result = null;
          setPoll(data.poll, { fresh: true });
          attention({ urgent: true });
          break;
        case "poll:tally":
          if (poll?.id === data.poll_id && poll.status === "open") {
            tally = { votes: data.votes ?? {}, voters: data.voters ?? 0 };
            render();
          }
          break;
        case "poll:closed":
          if (poll && poll.id !== data.poll.id && poll.status === "open") break;
          result = data.result ?? null;
          if (result) tally = { votes: result.votes, voters: result.voters };
          setPoll(data.poll);
          attention({ urgent: poll.quiz });
          break;
        default:
          break;
      }
    },
    close() {
      setPoll(null);
    },
  };
}
