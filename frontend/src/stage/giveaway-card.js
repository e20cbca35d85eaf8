// The giveaway the host runs, as a card over the show: the prize, who may win, the rules, "Enter" (or
// the keyword to type in the chat), this viewer's entry ID, the commitment published when entries
// opened, and at the draw the winners revealed with a short animation; "You won!" links to the claim
// page. From the room: the join snapshot's `giveaway`, then giveaway:opened, giveaway:entries,
// giveaway:closed, giveaway:drawn and giveaway:redrawn (docs/api.md, "Giveaways"). The replay hands it
// the live's giveaways at their moments, marked `replay`: entries were taken during the live, and the
// draws reveal the winning entries (their ids, as the proof does).

import { api, sentence } from "../shared/api.js";
import { el, show } from "../shared/dom.js";
import { rememberEntry } from "./entries.js";
import { money } from "../shared/format.js";
import { productImage } from "../shared/product.js";
import { fill, locale, t } from "../shared/i18n.js";

const TEXT = {
  kicker: t("giveaway.kicker"),
  entries: (n) => t("giveaway.entries", { count: n, n: n.toLocaleString(locale) }),
  worth: (value) => t("giveaway.worth", { value }),
  winners: (n) => t("giveaway.winners", { count: n }),
  present: t("giveaway.present"),
  watch: (m) => t("giveaway.watch", { minutes: m }),
  bought: t("giveaway.bought"),
  rules: t("giveaway.rules"),
  enter: t("giveaway.enter"),
  entering: t("giveaway.entering"),
  keyword: (word) => fill(t("giveaway.keyword"), { keyword: word }),
  typeIt: t("giveaway.type_it"),
  entered: t("giveaway.entered"),
  notEntered: t("giveaway.not_entered"),
  closed: t("giveaway.closed"),
  replay: t("giveaway.replay"),
  commitment: t("giveaway.commitment"),
  commitmentHelp: t("giveaway.commitment_help"),
  drawing: t("giveaway.drawing"),
  drawn: t("giveaway.drawn"),
  redrawn: t("giveaway.redrawn"),
  drawnAmong: (n) => t("giveaway.drawn_among", { count: n, n: n.toLocaleString(locale) }),
  redrawnAmong: (n) => t("giveaway.redrawn_among", { count: n, n: n.toLocaleString(locale) }),
  aViewer: t("giveaway.a_viewer"),
  won: t("giveaway.won"),
  claim: t("giveaway.claim"),
  lost: t("giveaway.lost"),
  proof: t("giveaway.proof"),
};
const SPIN_MS = 1600;
const EACH_WINNER_MS = 450;
const quiet = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
const randomId = () => Array.from({ length: 8 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

/** The giveaway card, for the stage (stage.js). */
export const giveawayCard = {
  kind: "giveaway",
  chip: t("watch.chip_giveaway"),
  open: t("watch.open_giveaway"),
  setUp: setUpGiveawayCard,
};

/**
 * Sets up the giveaway card in `slot`. `ready()` resolves with the joined LiveRoom once the viewer has
 * a token (a nameless guest is made on the first entry); `attention({urgent, unfold})` says the card has
 * news (entries open: urgent; the winners: unfolded, to be seen at once); `proofUrl(giveaway)` is where
 * the page shows the draw's proof; `suggest(text)` puts a keyword entry's word in the chat's box.
 */
function setUpGiveawayCard({ slot, ready, attention, proofUrl, suggest }) {
  let giveaway = null; // PublicGiveaway on screen
  let myEntry = null; // this viewer's entry id
  let drawn = null; // {round, winners: [{entry_id, name}], redraw, eligible?}
  let wonEarlier = false; // this viewer won a round before a redraw (which tells only its own winners)
  let entering = false;
  let card = null;
  let reveal = 0; // bumps with each reveal, so an old animation stops

  function setGiveaway(next) {
    if (!next) {
      giveaway = null;
      card = null;
      slot.replaceChildren();
      return;
    }
    const same = giveaway?.id === next.id;
    giveaway = next;
    if (!same) build();
    render();
  }

  function build() {
    const { prize, eligibility } = giveaway;
    const rules = [
      eligibility?.present_at_draw ? TEXT.present : "",
      eligibility?.min_watch_minutes > 0 ? TEXT.watch(eligibility.min_watch_minutes) : "",
      eligibility?.bought_during_show ? TEXT.bought : "",
    ].filter(Boolean);
    card = {
      root: el("article", {
        class: "game-card giveaway-card",
        "data-testid": "giveaway-card",
        "data-giveaway-id": giveaway.id,
      }),
      entries: el("span", { class: "game-timer", "data-testid": "giveaway-entries" }),
      action: el("div", { class: "giveaway-action", "data-testid": "giveaway-action" }),
      reveal: el("div", { class: "giveaway-reveal", "data-testid": "giveaway-reveal", "aria-live": "polite" }),
      commitment: el("code", { class: "giveaway-hash", "data-testid": "giveaway-commitment" }),
      error: el("p", { class: "game-error", role: "alert", "data-testid": "giveaway-error" }),
    };
    const value = prize.value ? TEXT.worth(money(prize.value.amount, prize.value.currency)) : "";
    const facts = [value, TEXT.winners(giveaway.winners)].filter(Boolean).join(" · ");
    card.root.append(
      el("header", { class: "game-head" }, el("span", { class: "game-kicker", text: TEXT.kicker }), card.entries),
      el(
        "div",
        { class: "giveaway-prize" },
        productImage(prize.picture_url, "giveaway-picture"),
        el(
          "div",
          {},
          el("h2", { class: "game-title", "data-testid": "giveaway-prize", text: prize.title }),
          el("p", { class: "giveaway-facts", text: facts }),
        ),
      ),
      rules.length
        ? el("p", { class: "giveaway-eligibility", "data-testid": "giveaway-eligibility", text: rules.join(" · ") })
        : null,
      giveaway.rules
        ? el(
            "details",
            { class: "giveaway-rules" },
            el("summary", { text: TEXT.rules }),
            el("p", { "data-testid": "giveaway-rules", text: giveaway.rules }),
          )
        : null,
      card.action,
      card.reveal,
      card.error,
      el(
        "details",
        { class: "giveaway-commitment" },
        el("summary", {}, `${TEXT.commitment} `, card.commitment),
        el("p", { class: "hint", text: TEXT.commitmentHelp }),
      ),
    );
    slot.replaceChildren(card.root);
  }

  function render() {
    if (!card) return;
    card.root.dataset.status = giveaway.status;
    card.entries.textContent = TEXT.entries(giveaway.entries ?? 0);
    card.commitment.textContent = giveaway.commitment ?? "";
    show(card.commitment.closest("details"), Boolean(giveaway.commitment));
    card.action.replaceChildren(...actionParts());
  }

  function actionParts() {
    const parts = [];
    if (myEntry) {
      parts.push(
        el(
          "p",
          { class: "giveaway-entered" },
          el("span", { text: TEXT.entered }),
          " ",
          el("code", { class: "entry-id", "data-testid": "giveaway-entry-id", text: myEntry }),
        ),
      );
    } else if (giveaway.replay) {
      if (!drawn) parts.push(el("p", { class: "hint", "data-testid": "giveaway-replay", text: TEXT.replay }));
    } else if (giveaway.status === "open" && giveaway.entry === "keyword") {
      parts.push(
        el(
          "p",
          { class: "giveaway-keyword", "data-testid": "giveaway-keyword" },
          ...TEXT.keyword(el("strong", { text: giveaway.keyword ?? "" })),
        ),
        el("button", {
          type: "button",
          class: "button button-small",
          "data-testid": "giveaway-type-keyword",
          text: TEXT.typeIt,
          onclick: () => suggest(giveaway.keyword ?? ""),
        }),
      );
    } else if (giveaway.status === "open") {
      parts.push(
        el("button", {
          type: "button",
          class: "button button-primary button-wide",
          "data-testid": "giveaway-enter",
          disabled: entering,
          text: entering ? TEXT.entering : TEXT.enter,
          onclick: () => enter(),
        }),
      );
    } else if (giveaway.status !== "draft" && !drawn) {
      parts.push(el("p", { class: "hint", text: giveaway.status === "closed" ? TEXT.closed : TEXT.notEntered }));
    }
    if (giveaway.status === "closed" && myEntry) parts.push(el("p", { class: "hint", text: TEXT.closed }));
    return parts;
  }

  async function enter() {
    const giveawayId = giveaway.id;
    entering = true;
    card.error.textContent = "";
    render();
    let ack;
    try {
      const room = await ready();
      ack = await room.send("giveaway:enter", { giveaway_id: giveawayId });
      if (!ack.ok && ack.error?.status === 409) {
        // Entered already (another tab, or before a reload): the server knows with which entry.
        const mine = await api.myGiveaway(giveawayId).catch(() => null);
        if (mine?.entry_id) ack = { ok: true, entry: { id: mine.entry_id, giveaway_id: giveawayId } };
      }
    } catch (error) {
      ack = { ok: false, error: { detail: error.message } };
    }
    entering = false;
    if (giveaway?.id !== giveawayId) return;
    if (ack.ok) entered(ack.entry);
    else card.error.textContent = sentence(ack.error?.detail || ack.error?.title || t("giveaway.could_not_enter"));
    render();
  }

  function entered(entry) {
    if (!entry || entry.giveaway_id !== giveaway?.id) return;
    myEntry = String(entry.id);
    rememberEntry(giveaway.episode_id, giveaway.id, myEntry);
    render();
  }

  /** The winners, after a short spin of entry ids (none for those who prefer less motion). */
  async function showDrawn({ animate }) {
    const attempt = ++reveal;
    const list = el("ol", { class: "giveaway-winners", "data-testid": "giveaway-winners" });
    const title = el("p", { class: "giveaway-reveal-title", text: TEXT.drawing });
    card.reveal.replaceChildren(title, list);
    card.reveal.removeAttribute("data-revealed");
    if (animate && !quiet()) {
      const spinner = el("code", { class: "giveaway-spin", "aria-hidden": "true" });
      list.replaceChildren(el("li", {}, spinner));
      const started = Date.now();
      while (Date.now() - started < SPIN_MS) {
        spinner.textContent = `${randomId()}-${randomId().slice(0, 4)}…`;
        await new Promise((resolve) => setTimeout(resolve, 70));
        if (attempt !== reveal) return;
      }
      list.replaceChildren();
    }
    if (drawn.eligible) title.textContent = drawn.redraw ? TEXT.redrawnAmong(drawn.eligible) : TEXT.drawnAmong(drawn.eligible);
    else title.textContent = drawn.redraw ? TEXT.redrawn : TEXT.drawn;
    for (const winner of drawn.winners) {
      const mine = winner.entry_id === myEntry;
      list.append(
        el(
          "li",
          { class: "giveaway-winner", "data-testid": "giveaway-winner", "data-mine": mine },
          el("span", { class: "winner-name", text: winner.name || TEXT.aViewer }),
          el("code", { class: "entry-id", text: winner.entry_id }),
        ),
      );
      if (animate && !quiet()) {
        await new Promise((resolve) => setTimeout(resolve, EACH_WINNER_MS));
        if (attempt !== reveal) return;
      }
    }
    const won = wonEarlier || drawn.winners.some((w) => w.entry_id === myEntry);
    wonEarlier = won;
    const after = [];
    if (won) {
      after.push(
        el("p", { class: "giveaway-won", "data-testid": "giveaway-won", text: TEXT.won }),
        el("a", {
          class: "button button-primary button-wide",
          href: `/claim/${encodeURIComponent(giveaway.id)}`,
          target: "_blank",
          rel: "noopener",
          "data-testid": "giveaway-claim-link",
          text: TEXT.claim,
        }),
      );
    } else if (myEntry) {
      after.push(el("p", { class: "hint", "data-testid": "giveaway-lost", text: TEXT.lost }));
    }
    after.push(
      el("a", { class: "link", href: proofUrl(giveaway), "data-testid": "giveaway-proof-link", text: TEXT.proof }),
    );
    card.reveal.append(...after);
    card.reveal.setAttribute("data-revealed", "");
    if (won && animate) after[1].scrollIntoView({ block: "nearest" }); // the claim button, in sight
  }

  function drawEvent(data, redraw) {
    if (!giveaway || giveaway.id !== data.giveaway_id) return;
    giveaway = { ...giveaway, status: "drawn" };
    const winners = (data.winners ?? []).map((w) => ({ entry_id: String(w.entry_id), name: w.name }));
    drawn = { round: data.round, winners, redraw, eligible: data.eligible };
    render();
    attention({ urgent: true, unfold: true });
    showDrawn({ animate: true });
  }

  return {
    /** The join snapshot: the episode's giveaway (open, closed or drawn), with this viewer's entry. */
    snapshot(snapshot) {
      const next = snapshot.giveaway ?? null;
      if (!next) {
        setGiveaway(null);
        return;
      }
      const same = giveaway?.id === next.id;
      if (!same) wonEarlier = false;
      myEntry = next.my_entry_id ? String(next.my_entry_id) : same ? myEntry : null;
      if (myEntry) rememberEntry(next.episode_id, next.id, myEntry);
      const before = drawn;
      drawn = next.drawn
        ? {
            round: next.drawn.round,
            winners: next.drawn.winners.map((w) => ({ ...w, entry_id: String(w.entry_id) })),
            redraw: next.drawn.round > 0,
          }
        : null;
      setGiveaway(next);
      if (drawn && (!same || before?.round !== drawn.round)) showDrawn({ animate: false });
    },
    event(event, data) {
      switch (event) {
        case "giveaway:opened":
          myEntry = null;
          drawn = null;
          wonEarlier = false;
          setGiveaway(data.giveaway);
          attention({ urgent: true });
          break;
        case "giveaway:entries":
          if (giveaway?.id === data.giveaway_id) {
            giveaway = { ...giveaway, entries: data.entries };
            render();
          }
          break;
        case "giveaway:closed":
          if (giveaway?.id === data.giveaway_id) {
            giveaway = { ...giveaway, status: "closed", entries: data.entries ?? giveaway.entries };
            render();
            attention();
          }
          break;
        case "giveaway:drawn":
          drawEvent(data, false);
          break;
        case "giveaway:redrawn":
          drawEvent(data, true);
          break;
        default:
          break;
      }
    },
    /** A chat message's ack: a keyword typed in the chat entered this viewer. */
    chatAck(ack) {
      if (ack?.entry) entered(ack.entry);
    },
    close() {
      setGiveaway(null);
    },
  };
}
