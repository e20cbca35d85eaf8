// A drawn giveaway's proof on the episode's page (live or replay): the commitment and the seed, each
// round's eligible entry ids and winners, this browser's own entry pointed out, the checks this
// browser ran itself (draw.js), and how to check it yourself with `shopcast giveaway verify` or by
// reimplementing shopcast-draw-v1 from docs/api.md. No personal data is in a proof.

import { api, messageOf } from "../shared/api.js";
import { el, show } from "../shared/dom.js";
import { canCheck, checkProof } from "./draw.js";
import { entryIn } from "../stage/entries.js";
import { fill, locale, t } from "../shared/i18n.js";

const TEXT = {
  heading: t("proof.heading"),
  title: t("proof.title"),
  titleOf: (prize) => t("proof.title_of", { prize }),
  commitment: t("proof.commitment"),
  seed: t("proof.seed"),
  round: (r) => (r === 0 ? t("proof.draw") : t("proof.redraw", { round: r })),
  eligible: (n) => t("proof.eligible", { count: n, n: n.toLocaleString(locale) }),
  winners: t("proof.winners"),
  yours: (id) => t("proof.yours", { id }),
  notYours: (id) => t("proof.not_yours", { id }),
  checked: t("proof.checked"),
  cannotCheck: t("proof.cannot_check"),
  notDrawn: t("proof.not_drawn"),
  yourself: t("proof.yourself"),
  how: (command) => fill(t("proof.how"), { command }),
  function: t("proof.function"),
  download: t("proof.download"),
};

const mark = (ok) => (ok === null ? "•" : ok ? "✓" : "✗");

/** Shows the proofs of the giveaways asked for in `root` (a section of the page). */
export function setUpProofs(root) {
  const shown = new Map(); // giveaway id -> its <article>
  const prizes = new Map(); // giveaway id -> its prize's title, once known

  async function render(giveawayId, article) {
    let proof;
    try {
      proof = await api.proof(giveawayId);
    } catch (error) {
      article.replaceChildren(el("p", { class: "form-error", text: messageOf(error) }));
      return;
    }
    const mine = entryIn(giveawayId);
    const url = `/api/v1/public/giveaways/${encodeURIComponent(giveawayId)}/proof`;
    const checks = el("ul", { class: "proof-checks", "data-testid": "proof-checks" });
    article.replaceChildren(
      el("h3", {
        "data-testid": "proof-title",
        text: prizes.has(giveawayId) ? TEXT.titleOf(prizes.get(giveawayId)) : TEXT.title,
      }),
      el(
        "dl",
        { class: "proof-facts" },
        el("dt", { text: TEXT.commitment }),
        el("dd", {}, el("code", { "data-testid": "proof-commitment", text: proof.commitment ?? "" })),
        el("dt", { text: TEXT.seed }),
        el("dd", {}, el("code", { "data-testid": "proof-seed", text: proof.seed ?? "—" })),
      ),
      ...proof.rounds.map((round) => roundView(round, mine)),
      el("p", {
        class: proof.seed ? "proof-checked" : "hint",
        text: proof.seed ? (canCheck() ? TEXT.checked : TEXT.cannotCheck) : TEXT.notDrawn,
      }),
      checks,
      el("h4", { text: TEXT.yourself }),
      el(
        "p",
        {},
        ...TEXT.how(el("code", { text: "shopcast giveaway verify --proof proof.json" })),
      ),
      el("p", { class: "hint", text: TEXT.function }),
      el("a", { class: "link", href: url, download: "proof.json", "data-testid": "proof-download", text: TEXT.download }),
    );
    if (proof.seed && canCheck()) {
      try {
        for (const check of await checkProof(proof)) {
          checks.append(el("li", { "data-ok": String(check.ok) }, `${mark(check.ok)} ${check.what}`));
        }
      } catch (error) {
        checks.append(el("li", { "data-ok": "false", text: `✗ ${error.message}` }));
      }
      article.dataset.checked = checks.querySelector('[data-ok="false"]') ? "failed" : "ok";
    }
  }

  function roundView(round, mine) {
    const eligible = round.eligible_entry_ids;
    const note = mine ? (eligible.includes(mine) ? TEXT.yours(mine) : TEXT.notYours(mine)) : "";
    return el(
      "section",
      { class: "proof-round", "data-testid": "proof-round" },
      el("h4", { text: TEXT.round(round.round) }),
      el(
        "p",
        { class: "proof-winners" },
        `${TEXT.winners} `,
        ...round.winners.flatMap((id, i) => [i ? ", " : "", el("code", { text: id })]),
      ),
      note ? el("p", { class: "proof-yours", "data-testid": "proof-yours", text: note }) : null,
      el(
        "details",
        {},
        el("summary", { text: TEXT.eligible(eligible.length) }),
        el("pre", { class: "proof-eligible", "data-testid": "proof-eligible", text: eligible.join("\n") }),
      ),
    );
  }

  return {
    /** Show (or refresh) the proof of `giveawayId`; `focus` scrolls to it; `prize` names it. */
    show(giveawayId, { focus = false, prize = null } = {}) {
      if (prize) prizes.set(giveawayId, prize);
      if (!shown.size) root.prepend(el("h2", { class: "proofs-heading", text: TEXT.heading }));
      let article = shown.get(giveawayId);
      if (!article) {
        article = el("article", {
          class: "proof",
          id: `proof-${giveawayId}`,
          "data-testid": "proof",
          "data-giveaway-id": giveawayId,
        });
        shown.set(giveawayId, article);
        root.append(article);
      }
      show(root);
      render(giveawayId, article).then(() => focus && article.scrollIntoView({ block: "start" }));
    },
  };
}
