// The coming episodes of one show, with an inline "are you sure?" before cancelling one.

import { ApiError } from "./api.js";
import { el } from "./dom.js";
import { episodeTime } from "./format.js";

const STATUS_LABELS = { scheduled: "Scheduled", live: "Live now", ended: "Ended", cancelled: "Cancelled" };

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
  details.push(episode.host_name ? `Host: ${episode.host_name}` : "No host yet");
  details.push(`${episode.duration_minutes} min`);
  if (episode.is_one_off) details.push("One-off");
  if (episode.is_moved) details.push("Moved");

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
        text: STATUS_LABELS[episode.status] || episode.status,
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
        text: "Polls & giveaways",
        onclick: () => onGames(episode),
      }),
    );
  }
  if (canPresent && (episode.status === "scheduled" || episode.status === "live")) {
    links.push(el("a", { class: "link", href: `/studio/${episode.id}`, "data-testid": "studio-link", text: "Studio" }));
  }
  if (episode.status !== "cancelled") {
    links.push(
      el("a", {
        class: "link",
        href: `/watch/${episode.id}`,
        target: "_blank",
        rel: "noopener",
        "data-testid": "watch-link",
        text: "Watch page",
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
    "aria-label": `Cancel the episode on ${when}`,
    text: "Cancel",
    onclick: () => confirm(),
  });
  actions.replaceChildren(ask);

  function confirm() {
    const error = el("p", { class: "form-error", role: "alert", "data-testid": "cancel-error" });
    const keep = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "keep-episode",
      text: "Keep it",
      onclick: () => {
        actions.replaceChildren(ask);
        ask.focus();
      },
    });
    const yes = el("button", {
      type: "button",
      class: "button button-small button-danger",
      "data-testid": "confirm-cancel",
      text: "Yes, cancel it",
      onclick: async () => {
        yes.disabled = true;
        keep.disabled = true;
        try {
          const cancelled = await options.cancel(episode);
          const next = episodeRow(cancelled, options);
          row.replaceWith(next);
          options.notify(`The episode on ${when} is cancelled.`);
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
        { class: "confirm", role: "group", "aria-label": `Cancel the episode on ${when}?` },
        el("span", { class: "confirm-question", text: "Cancel this episode?" }),
        yes,
        keep,
      ),
      error,
    );
    keep.focus();
  }
}
