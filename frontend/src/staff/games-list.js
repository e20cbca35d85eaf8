// An episode's polls and giveaways as the brand's staff see them (studio and manager page): each
// with its status, its live count or result, the buttons that move it on, and for a giveaway the
// commitment, the winners, their claims and the link to the proof.

import { el } from "../shared/dom.js";
import { money } from "../shared/format.js";
import { locale, t } from "../shared/i18n.js";

const TEXT = {
  status: {
    draft: t("games.status_draft"),
    open: t("games.status_open"),
    closed: t("games.status_closed"),
    drawn: t("games.status_drawn"),
  },
  votes: (n) => t("games.votes", { count: n, n: n.toLocaleString(locale) }),
  entries: (n) => t("games.entries", { count: n, n: n.toLocaleString(locale) }),
  quiz: t("games.quiz"),
  several: t("games.several"),
  countdown: (s) => t("games.countdown", { seconds: s }),
  right: t("games.right"),
  percent: (p) => t("games.percent", { percent: p }),
  share: (p) => t("games.share", { percent: p }),
  winners: (n) => t("games.winners", { count: n }),
  keyword: (k) => t("games.keyword", { keyword: k }),
  button: t("games.button"),
  commitment: t("games.commitment"),
  claim: {
    pending: t("games.claim_pending"),
    claimed: t("games.claim_claimed"),
    expired: t("games.claim_expired"),
  },
  until: (at) =>
    t("games.until", { at: new Date(at).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" }) }),
  round: (r) => (r === 0 ? "" : ` ${t("games.redraw_round", { round: r })}`),
  aViewer: t("games.a_viewer"),
  proof: t("games.proof"),
  delivery: (d) =>
    t("games.delivery", {
      name: d.name,
      line: d.address_line,
      postal_code: d.postal_code,
      city: d.city,
      country: d.country,
    }),
  pickup: (id) => t("games.pickup", { store: id }),
};

const percent = (part, whole) => (whole > 0 ? Math.round((100 * part) / whole) : 0);
const priceOf = (product) => money(product.price.amount, product.price.currency);

function actionButtons(item, actions, onAction) {
  return el(
    "div",
    { class: "game-actions" },
    ...actions.map(([label, action, kind = ""]) =>
      el("button", {
        type: "button",
        class: `button button-small ${kind}`,
        "data-action": action,
        "data-testid": `game-${action}`,
        text: label,
        onclick: (event) => onAction(item, action, event.currentTarget),
      }),
    ),
  );
}

/** A poll's row: `actions` `[[label, action, class?]]`; `onAction(poll, action, button)`. */
export function pollRow(poll, { actions, onAction }) {
  const facts = [TEXT.status[poll.status] ?? poll.status];
  if (poll.quiz) facts.push(TEXT.quiz);
  if (poll.multiple) facts.push(TEXT.several);
  if (poll.duration_seconds) facts.push(TEXT.countdown(poll.duration_seconds));
  const row = el(
    "li",
    { class: "game-row", "data-testid": "staff-poll", "data-poll-id": poll.id, "data-status": poll.status },
    el("p", { class: "game-row-title", "data-testid": "staff-poll-question", text: poll.question }),
    el("p", { class: "hint", "data-testid": "staff-poll-facts", text: facts.join(" · ") }),
    el(
      "ol",
      { class: "game-row-options" },
      ...poll.options.map((option) =>
        el(
          "li",
          { "data-option-id": option.id },
          el("span", { text: option.label }),
          option.product ? el("span", { class: "hint", text: ` ${priceOf(option.product)}` }) : null,
          el("span", { class: "game-row-count", "data-testid": "staff-poll-count" }),
        ),
      ),
    ),
    el("p", { class: "game-row-total", "data-testid": "staff-poll-total" }),
    actionButtons(poll, actions, onAction),
  );
  updatePollRow(row, poll, poll.result ?? poll.tally);
  return row;
}

/** New counts for a poll's row (a `poll:tally`, or the result at close). */
export function updatePollRow(row, poll, tally) {
  if (!tally) return;
  const right = new Set((poll.result?.correct_option_ids ?? poll.correct_option_ids ?? []).map(String));
  for (const item of row.querySelectorAll("[data-option-id]")) {
    const id = item.dataset.optionId;
    const n = tally.votes?.[id] ?? 0;
    const mark = right.has(id) ? ` ✓ ${TEXT.right}` : "";
    item.querySelector(".game-row-count").textContent = ` — ${TEXT.votes(n)} (${TEXT.percent(percent(n, tally.voters))})${mark}`;
  }
  let total = TEXT.votes(tally.voters ?? 0);
  const share = poll.result?.correct_share;
  if (share !== null && share !== undefined) total += ` · ${TEXT.share(Math.round(share * 100))}`;
  row.querySelector(".game-row-total").textContent = total;
}

/** A giveaway's row: `actions` as for a poll; `proofHref` the link to its proof; `claims`: show what winners sent. */
export function giveawayRow(giveaway, { actions, onAction, proofHref, claims = false }) {
  const { prize } = giveaway;
  const facts = [
    TEXT.status[giveaway.status] ?? giveaway.status,
    TEXT.winners(giveaway.winners),
    giveaway.entry === "keyword" ? TEXT.keyword(giveaway.keyword) : TEXT.button,
  ];
  const winners = (giveaway.drawn_winners ?? []).map((w) =>
    el(
      "li",
      { class: "game-winner", "data-testid": "staff-winner", "data-status": w.status },
      el("strong", { text: w.name || TEXT.aViewer }),
      ` ${TEXT.round(w.round)} `,
      el("code", { class: "entry-id", text: w.entry_id }),
      el("span", {
        class: `claim-status claim-${w.status}`,
        "data-testid": "staff-claim-status",
        text: ` · ${TEXT.claim[w.status] ?? w.status}${w.status === "pending" ? ` ${TEXT.until(w.claim_deadline)}` : ""}`,
      }),
      claims && w.claim ? el("p", { class: "hint", text: claimText(w.claim) }) : null,
    ),
  );
  return el(
    "li",
    {
      class: "game-row",
      "data-testid": "staff-giveaway",
      "data-giveaway-id": giveaway.id,
      "data-status": giveaway.status,
    },
    el(
      "p",
      { class: "game-row-title", "data-testid": "staff-giveaway-prize" },
      prize.title,
      el("span", { class: "hint", text: ` · ${money(prize.value.amount, prize.value.currency)}` }),
    ),
    el("p", { class: "hint", text: facts.join(" · ") }),
    el("p", {
      class: "game-row-total",
      "data-testid": "staff-giveaway-entries",
      text: TEXT.entries(giveaway.entries ?? 0),
    }),
    giveaway.commitment
      ? el("p", { class: "hint" }, `${TEXT.commitment} `, el("code", { class: "entry-id", text: giveaway.commitment }))
      : null,
    winners.length ? el("ol", { class: "game-winners", "data-testid": "staff-winners" }, ...winners) : null,
    giveaway.seed
      ? el("a", {
          class: "link",
          href: proofHref,
          target: "_blank",
          rel: "noopener",
          "data-testid": "staff-proof-link",
          text: TEXT.proof,
        })
      : null,
    actionButtons(giveaway, actions, onAction),
  );
}

function claimText(claim) {
  const parts = [claim.email];
  if (claim.delivery) parts.push(TEXT.delivery(claim.delivery));
  if (claim.pickup_store_id) parts.push(TEXT.pickup(claim.pickup_store_id));
  return parts.filter(Boolean).join(" · ");
}

/** A live entry count for a giveaway's row. */
export function updateEntries(row, entries) {
  row.querySelector("[data-testid=staff-giveaway-entries]").textContent = TEXT.entries(entries);
}
