// The manager page's polls and giveaways of one episode: prepare them before the show (the host opens
// them from the studio), and after it read the results, the winners, their claims and the proofs.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, noticeLine, show } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { giveawayForm } from "../staff/giveaway-form.js";
import { giveawayRow, pollRow } from "../staff/games-list.js";
import { t } from "../shared/i18n.js";
import { pollForm } from "../staff/poll-form.js";

const TEXT = {
  title: (when) => t("manager_games.title", { when }),
  savePoll: t("manager_games.save_poll"),
  pollSaved: t("manager_games.poll_saved"),
  giveawaySaved: t("manager_games.giveaway_saved"),
  delete: t("manager_games.delete"),
  deleted: t("manager_games.deleted"),
  failed: (error) => t("manager_games.failed", { error }),
};

/** Sets up the panel; `open(episode, show)` fills it for one episode. */
export function setUpManagerGames() {
  const ui = byTestIds([
    "games-panel",
    "games-title",
    "games-close",
    "games-notice",
    "manager-polls",
    "manager-polls-empty",
    "manager-poll-form",
    "manager-giveaways",
    "manager-giveaways-empty",
    "manager-giveaway-form",
  ]);
  let episode = null;
  let loads = 0;

  const polls = pollForm({
    testId: "prepare-poll-form",
    submits: [[TEXT.savePoll, "draft"]],
    onSubmit: async (body) => {
      await api.createPoll(episode.id, body);
      notice(TEXT.pollSaved);
      await load();
    },
  });
  ui.managerPollForm.append(polls.form);
  const giveaways = giveawayForm({
    onSubmit: async (body) => {
      await api.createGiveaway(episode.id, body);
      notice(TEXT.giveawaySaved);
      await load();
    },
  });
  ui.managerGiveawayForm.append(giveaways.form);

  const notice = noticeLine(ui.gamesNotice);

  async function load() {
    const attempt = ++loads;
    try {
      const [pollList, giveawayList, lineup] = await Promise.all([
        api.polls(episode.id),
        api.giveaways(episode.id),
        api.lineup(episode.id).catch(() => []),
      ]);
      if (attempt !== loads) return;
      polls.setProducts(lineup);
      render(pollList, giveawayList);
    } catch (error) {
      if (attempt === loads) notice(TEXT.failed(messageOf(error)), "error");
    }
  }

  function render(pollList, giveawayList) {
    const remove = (call) => async (_item, _action, button) => {
      button.disabled = true;
      try {
        await call(_item.id);
        notice(TEXT.deleted);
      } catch (error) {
        notice(messageOf(error), "error");
      }
      await load();
    };
    ui.managerPolls.replaceChildren(
      ...pollList.map((poll) =>
        pollRow(poll, {
          actions: poll.status === "draft" ? [[TEXT.delete, "delete", "button-danger-quiet"]] : [],
          onAction: remove(api.deletePoll),
        }),
      ),
    );
    show(ui.managerPollsEmpty, pollList.length === 0);
    ui.managerGiveaways.replaceChildren(
      ...giveawayList.map((giveaway) =>
        giveawayRow(giveaway, {
          actions: giveaway.status === "draft" ? [[TEXT.delete, "delete", "button-danger-quiet"]] : [],
          onAction: remove(api.deleteGiveaway),
          proofHref: `/watch/${encodeURIComponent(episode.id)}#proof-${giveaway.id}`,
          claims: true,
        }),
      ),
    );
    show(ui.managerGiveawaysEmpty, giveawayList.length === 0);
  }

  ui.gamesClose.addEventListener("click", () => close());

  function close() {
    episode = null;
    loads += 1;
    show(ui.gamesPanel, false);
  }

  return {
    /** Show the polls and giveaways of `next` (an episode of the show `owner`). */
    async open(next, owner) {
      episode = next;
      ui.gamesTitle.textContent = TEXT.title(episodeTime(next.starts_at, owner.time_zone));
      notice("");
      ui.managerPolls.replaceChildren();
      ui.managerGiveaways.replaceChildren();
      show(ui.gamesPanel);
      ui.gamesTitle.focus();
      await load();
    },
    close,
  };
}
