// A drawn giveaway's proof on the episode's page (live or replay): the commitment and the seed, each
// round's eligible entry ids and winners, this browser's own entry pointed out, the checks this
// browser ran itself (draw.js), and how to check it yourself with `shopcast giveaway verify` or by
// reimplementing shopcast-draw-v1 from docs/api.md. No personal data is in a proof.

import { api, messageOf } from "./api.js";
import { el, show } from "./dom.js";
import { canCheck, checkProof } from "./draw.js";
import { entryIn } from "./entries.js";
import { locale } from "./i18n.js";

const TEXT = {
  heading: "The giveaways' draws",
  title: "Check the draw",
  titleOf: (prize) => `Check the draw: ${prize}`,
  commitment: "Commitment (published when entries opened)",
  seed: "Seed (revealed at the draw)",
  round: (r) => (r === 0 ? "The draw" : `Redraw ${r}`),
  eligible: (n) => `${n.toLocaleString(locale)} eligible ${n === 1 ? "entry" : "entries"}`,
  winners: "Winning entry IDs",
  yours: (id) => `Your entry ID ${id} is in this list.`,
  notYours: (id) => `Your entry ID ${id} is not among the eligible entries of this round.`,
  checked: "Checked by this browser just now:",
  cannotCheck: "This browser cannot run the check here (it needs an https page): use the command below.",
  notDrawn: "The seed is revealed at the draw: come back after it.",
  yourself: "Check it yourself",
  how: [
    "Download the proof, then run ",
    " on any computer with Shopcast installed: it recomputes everything and says whether it matches.",
  ],
  function:
    "Or write the check in any language: the winners of round r are drawn with HMAC-SHA256 keyed by the seed over " +
    "the text \"r:c\" (c = 0, 1, 2…), reading each digest as a big-endian number x, skipping x when " +
    "x ≥ ⌊2²⁵⁶ / n⌋ · n, else taking entry x mod n out of the n remaining sorted entry IDs. " +
    "docs/api.md, “Giveaways”, gives every detail.",
  download: "Download the proof (JSON)",
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
        TEXT.how[0],
        el("code", { text: "shopcast giveaway verify --proof proof.json" }),
        TEXT.how[1],
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
        `${TEXT.winners}: `,
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
