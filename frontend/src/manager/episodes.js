// The coming episodes of one show, with an inline "are you sure?" before cancelling one.

import { ApiError } from "../shared/api.js";
import { el } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const statusLabels = () => ({
  scheduled: t("episodes.status_scheduled"),
  live: t("episodes.status_live"),
  ended: t("episodes.status_ended"),
  cancelled: t("episodes.status_cancelled"),
});

/**
 * Fill `list` with one row per episode.
 * `cancel(episode)` resolves with the cancelled episode; rows are only offered it when `canCancel`.
 * `canPresent` adds a link to each coming episode's studio; `onGames(episode)`, when given, a button to
 * its polls and giveaways.
 */
export function renderEpisodes(list, episodes, { show, canCancel, canPresent, cancel, notify, onGames = null }) {
  const options = { show, canCancel, canPresent, cancel, notify, onGames };
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
    episodeLinks(episode, options),
    actions,
  );
  if (options.canCancel && episode.status === "scheduled") offerCancel(row, actions, episode, when, options);
  return row;
}

/** The host's studio (for those who can present) and the viewers' page, while there is something to see. */
function episodeLinks(episode, { canPresent, onGames }) {
  const links = [];
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
  if (canPresent && (episode.status === "scheduled" || episode.status === "live")) {
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

function offerCancel(row, actions, episode, when, options) {
  const ask = el("button", {
    type: "button",
    class: "button button-small button-danger-quiet",
    "data-testid": "cancel-episode",
    "aria-label": t("episodes.cancel_label", { when }),
    text: t("episodes.cancel"),
    onclick: () => confirm(),
  });
  actions.replaceChildren(ask);

  function confirm() {
    const error = el("p", { class: "form-error", role: "alert", "data-testid": "cancel-error" });
    const keep = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "keep-episode",
      text: t("episodes.keep"),
      onclick: () => {
        actions.replaceChildren(ask);
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
          options.notify(t("episodes.cancelled", { when }));
        } catch (problem) {
          error.textContent = problem instanceof ApiError ? problem.message : String(problem);
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
