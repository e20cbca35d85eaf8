// The coming episodes of one show: each one's products, polls and giveaways, studio and watch page; for
// managers, moving one (a form in its row) and cancelling one (after an inline "are you sure?").

import { el } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { episodeForm, reasonOf } from "./episode-form.js";

const statusLabels = () => ({
  scheduled: t("episodes.status_scheduled"),
  live: t("episodes.status_live"),
  ended: t("episodes.status_ended"),
  cancelled: t("episodes.status_cancelled"),
});

/**
 * Fill `list` with one row per episode of `show`.
 * With `canEdit`, a scheduled episode can be moved (`move(episode, {starts_at})` resolves once it is) and
 * cancelled (`cancel(episode)` resolves with the cancelled episode, then `onCancelled(it)` runs).
 * `canPresent` adds a link to each coming episode's studio; `onLineup(episode)` and `onGames(episode)`,
 * when given, buttons to its products and to its polls and giveaways; `canReport`, a link to the report
 * of each episode that has been live.
 */
export function renderEpisodes(list, episodes, options) {
  list.replaceChildren(...episodes.map((episode) => episodeRow(episode, options)));
}

function episodeRow(episode, options) {
  const { show } = options;
  const when = episodeTime(episode.starts_at, show.time_zone);
  const details = [];
  if (episode.title && episode.title !== show.title) details.push(episode.title);
  details.push(episode.host_name ? t("episodes.host", { name: episode.host_name }) : t("episodes.no_host"));
  details.push(t("manager.minutes", { n: episode.duration_minutes }));
  if (episode.is_one_off) details.push(t("episodes.one_off"));
  if (episode.is_moved) details.push(t("episodes.moved"));

  const actions = el("div", { class: "episode-actions" });
  const row = el(
    "li",
    {
      class: `episode episode-${episode.status}`,
      tabindex: "-1",
      "data-testid": "episode",
      "data-episode-id": episode.id,
      "data-status": episode.status,
    },
    el(
      "div",
      { class: "episode-when" },
      el("time", { class: "episode-time", datetime: episode.starts_at, "data-testid": "episode-time", text: when }),
      el("span", {
        class: `badge badge-${episode.status}`,
        "data-testid": "episode-status",
        text: statusLabels()[episode.status] || episode.status,
      }),
    ),
    el("p", { class: "episode-details", "data-testid": "episode-details", text: details.join(" · ") }),
    episodeLinks(episode, when, options),
    actions,
  );
  if (options.canEdit && episode.status === "scheduled") offerChanges(row, actions, episode, when, options);
  return row;
}

/** Its products, polls and giveaways, the host's studio (for those who can present) and the viewers' page. */
function episodeLinks(episode, when, { canPresent, onLineup, onGames, canReport }) {
  const links = [];
  const coming = episode.status === "scheduled" || episode.status === "live";
  if (onLineup && coming) {
    links.push(
      el("button", {
        type: "button",
        class: "link",
        "data-testid": "lineup-button",
        "aria-label": t("episodes.lineup_label", { when }),
        text: t("episodes.lineup"),
        onclick: () => onLineup(episode),
      }),
    );
  }
  if (onGames && episode.status !== "cancelled") {
    links.push(
      el("button", {
        type: "button",
        class: "link",
        "data-testid": "games-button",
        text: t("manager_games.heading"),
        onclick: () => onGames(episode),
      }),
    );
  }
  if (canReport && episode.went_live_at) {
    links.push(
      el("a", {
        class: "link",
        href: `/manage/episodes/${episode.id}/report`,
        "data-testid": "report-link",
        "aria-label": t("episodes.report_label", { when }),
        text: t("episodes.report"),
      }),
    );
  }
  if (canPresent && coming) {
    links.push(el("a", { class: "link", href: `/studio/${episode.id}`, "data-testid": "studio-link", text: t("episodes.studio") }));
  }
  if (episode.status !== "cancelled") {
    links.push(
      el("a", {
        class: "link",
        href: `/watch/${episode.id}`,
        target: "_blank",
        rel: "noopener",
        "data-testid": "watch-link",
        text: t("episodes.watch_page"),
      }),
    );
  }
  return links.length ? el("p", { class: "episode-links" }, ...links) : null;
}

/** "Move" (a form in the row) and "Cancel" (asked once more), for a scheduled episode. */
function offerChanges(row, actions, episode, when, options) {
  let moving = null;
  const move = el("button", {
    type: "button",
    class: "button button-small",
    "data-testid": "move-episode",
    "aria-label": t("episodes.move_label", { when }),
    "aria-expanded": "false",
    text: t("episodes.move"),
    onclick: () => (moving ? closeMove() : openMove()),
  });
  const ask = el("button", {
    type: "button",
    class: "button button-small button-danger-quiet",
    "data-testid": "cancel-episode",
    "aria-label": t("episodes.cancel_label", { when }),
    text: t("episodes.cancel"),
    onclick: () => confirm(),
  });
  actions.replaceChildren(move, ask);

  function openMove() {
    const local = episode.starts_at_local;
    moving = episodeForm({
      testId: "move-form",
      label: t("episodes.move_label", { when }),
      zone: options.show.time_zone,
      date: local.slice(0, 10),
      time: local.slice(11, 16),
      submitText: t("episodes.move_submit"),
      failed: (reason) => t("episodes.not_moved", { reason }),
      submit: (body) => options.move(episode, body),
      close: () => {
        closeMove();
        move.focus();
      },
    });
    row.append(moving.form);
    move.setAttribute("aria-expanded", "true");
    moving.focus();
  }

  function closeMove() {
    moving?.form.remove();
    moving = null;
    move.setAttribute("aria-expanded", "false");
  }

  function confirm() {
    closeMove();
    const error = el("p", { class: "form-error", role: "alert", "data-testid": "cancel-error" });
    const keep = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "keep-episode",
      text: t("episodes.keep"),
      onclick: () => {
        actions.replaceChildren(move, ask);
        ask.focus();
      },
    });
    const yes = el("button", {
      type: "button",
      class: "button button-small button-danger",
      "data-testid": "confirm-cancel",
      text: t("episodes.confirm_cancel"),
      onclick: async () => {
        yes.disabled = true;
        keep.disabled = true;
        try {
          const cancelled = await options.cancel(episode);
          const next = episodeRow(cancelled, options);
          row.replaceWith(next);
          next.focus();
          options.notify(t("episodes.cancelled", { when }));
          options.onCancelled(cancelled);
        } catch (problem) {
          error.textContent = t("episodes.not_cancelled", { reason: reasonOf(problem) });
          yes.disabled = false;
          keep.disabled = false;
        }
      },
    });
    actions.replaceChildren(
      el(
        "div",
        { class: "confirm", role: "group", "aria-label": t("episodes.cancel_group", { when }) },
        el("span", { class: "confirm-question", text: t("episodes.cancel_question") }),
        yes,
        keep,
      ),
      error,
    );
    keep.focus();
  }
}
