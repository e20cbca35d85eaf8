// The studio's polls and giveaways: those the manager prepared for this episode and a poll written on
// the spot, with open, close and draw in one tap, the live vote and entry counts, and the winners with
// their claims. The buttons are HTTP calls; what viewers see comes back through the room (poll:*,
// giveaway:*), which also keeps the counts here live.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, noticeLine, show } from "../shared/dom.js";
import { giveawayRow, pollRow, updateEntries, updatePollRow } from "../staff/games-list.js";
import { t } from "../shared/i18n.js";
import { pollForm } from "../staff/poll-form.js";

const TEXT = {
  open: t("studio_games.open"),
  close: t("studio_games.close"),
  delete: t("studio_games.delete"),
  openEntries: t("studio_games.open_entries"),
  closeEntries: t("studio_games.close_entries"),
  draw: t("studio_games.draw"),
  redraw: t("studio_games.redraw"),
  openNow: t("studio_games.open_now"),
  saveForLater: t("studio_games.save_for_later"),
  done: {
    open: t("studio_games.opened"),
    close: t("studio_games.closed"),
    delete: t("studio_games.deleted"),
    draw: t("studio_games.drawn"),
    redraw: t("studio_games.redrawn"),
  },
  failed: (what) => t("studio_games.load_failed", { error: what }),
};
const REFRESH_ON = new Set([
  "poll:opened",
  "poll:closed",
  "giveaway:opened",
  "giveaway:closed",
  "giveaway:drawn",
  "giveaway:redrawn",
]);

const CLAIMS_EVERY_MS = 20_000; // claims come in over HTTP, not through the room: look again now and then

const POLL_ACTIONS = {
  draft: [
    [TEXT.open, "open", "button-primary"],
    [TEXT.delete, "delete", "button-danger-quiet"],
  ],
  open: [[TEXT.close, "close", "button-primary"]],
  closed: [],
};
const GIVEAWAY_ACTIONS = {
  draft: [[TEXT.openEntries, "open", "button-primary"]],
  open: [[TEXT.closeEntries, "close", "button-primary"]],
  closed: [[TEXT.draw, "draw", "button-primary"]],
  drawn: [[TEXT.redraw, "redraw"]],
};

/** Sets up the studio's panel of polls and giveaways for `episodeId`. */
export function setUpStudioGames({ episodeId }) {
  const ui = byTestIds([
    "studio-games",
    "games-notice",
    "studio-polls",
    "studio-polls-empty",
    "studio-poll-form",
    "studio-giveaways",
    "studio-giveaways-empty",
  ]);
  let polls = [];
  let giveaways = [];
  let loads = 0;
  let claimsTimer = 0;

  const form = pollForm({
    testId: "new-poll-form",
    submits: [
      [TEXT.openNow, "open"],
      [TEXT.saveForLater, "draft"],
    ],
    onSubmit: async (body, how) => {
      const poll = await api.createPoll(episodeId, body);
      if (how === "open") await api.pollAction(poll.id, "open");
      notice(how === "open" ? TEXT.done.open : "");
      await load();
    },
  });
  ui.studioPollForm.append(form.form);

  const notice = noticeLine(ui.gamesNotice);

  async function load() {
    const attempt = ++loads;
    show(ui.studioGames);
    try {
      const [nextPolls, nextGiveaways, lineup] = await Promise.all([
        api.polls(episodeId),
        api.giveaways(episodeId),
        api.lineup(episodeId).catch(() => []),
      ]);
      if (attempt !== loads) return;
      polls = nextPolls;
      giveaways = nextGiveaways;
      form.setProducts(lineup);
      render();
    } catch (error) {
      if (attempt === loads) notice(TEXT.failed(messageOf(error)), "error");
    }
  }

  function render() {
    ui.studioPolls.replaceChildren(
      ...polls.map((poll) => pollRow(poll, { actions: POLL_ACTIONS[poll.status] ?? [], onAction: pollAction })),
    );
    show(ui.studioPollsEmpty, polls.length === 0);
    ui.studioGiveaways.replaceChildren(
      ...giveaways.map((giveaway) =>
        giveawayRow(giveaway, {
          actions: GIVEAWAY_ACTIONS[giveaway.status] ?? [],
          onAction: giveawayAction,
          proofHref: `/watch/${encodeURIComponent(episodeId)}#proof-${giveaway.id}`,
        }),
      ),
    );
    show(ui.studioGiveawaysEmpty, giveaways.length === 0);
    clearTimeout(claimsTimer);
    const waiting = giveaways.some((g) => (g.drawn_winners ?? []).some((w) => w.status === "pending"));
    if (waiting) claimsTimer = setTimeout(load, CLAIMS_EVERY_MS);
  }

  async function act(button, call, action) {
    button.disabled = true;
    notice("");
    try {
      await call();
      notice(TEXT.done[action] ?? "");
    } catch (error) {
      notice(messageOf(error), "error");
    } finally {
      button.disabled = false;
    }
    await load();
  }

  function pollAction(poll, action, button) {
    const call = action === "delete" ? () => api.deletePoll(poll.id) : () => api.pollAction(poll.id, action);
    return act(button, call, action);
  }

  function giveawayAction(giveaway, action, button) {
    return act(button, () => api.giveawayAction(giveaway.id, action), action);
  }

  const rowOf = (list, attribute, id) => list.querySelector(`[${attribute}="${CSS.escape(String(id))}"]`);

  return {
    load,
    snapshot() {
      load();
    },
    event(event, data) {
      if (REFRESH_ON.has(event)) {
        load();
      } else if (event === "poll:tally") {
        const poll = polls.find((p) => p.id === data.poll_id);
        const row = rowOf(ui.studioPolls, "data-poll-id", data.poll_id);
        if (poll && row) updatePollRow(row, poll, data);
      } else if (event === "giveaway:entries") {
        const row = rowOf(ui.studioGiveaways, "data-giveaway-id", data.giveaway_id);
        if (row) updateEntries(row, data.entries);
      }
    },
  };
}
