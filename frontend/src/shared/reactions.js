// Reactions: buttons that send `chat:react`, totals on them, and emojis floating up over the video
// as the room's `chat:reactions` come in (a few times a second, summed since the last one).

import { el } from "./dom.js";
import { locale, t } from "./i18n.js";

export const REACTIONS = ["❤️", "🔥", "👏", "😂", "😮", "🛍️"];
const NAMES = {
  "❤️": t("reactions.love"),
  "🔥": t("reactions.fire"),
  "👏": t("reactions.applause"),
  "😂": t("reactions.laugh"),
  "😮": t("reactions.wow"),
  "🛍️": t("reactions.want"),
};
const MAX_FLOATING = 36; // a flood of reactions must not flood the page
const MAX_PER_BATCH = 6;

const compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });

/** One emoji rising over `layer`, a little to the side at random; it removes itself at the end. */
export function floatReaction(layer, emoji) {
  if (!layer || layer.childElementCount >= MAX_FLOATING) return;
  const node = el("span", { class: "floating-reaction", text: emoji });
  node.style.setProperty("--drift", `${Math.round(Math.random() * 56 - 28)}px`);
  node.style.setProperty("--delay", `${Math.round(Math.random() * 250)}ms`);
  node.addEventListener("animationend", () => node.remove());
  layer.append(node);
}

/** Float what a `chat:reactions` event counted (a few of each, not hundreds). */
export function floatCounts(layer, counts) {
  for (const [emoji, n] of Object.entries(counts || {})) {
    for (let i = 0; i < Math.min(n, MAX_PER_BATCH); i += 1) floatReaction(layer, emoji);
  }
}

/**
 * The viewer's reaction buttons with the episode's totals. `room` is a function that gives the
 * LiveRoom in use; `onError(text)` tells about a refusal other than "too fast".
 */
export class ReactionBar {
  constructor({ bar, layer, room, onError }) {
    this.layer = layer;
    this.room = room;
    this.onError = onError;
    this.totals = Object.fromEntries(REACTIONS.map((emoji) => [emoji, 0]));
    this.pending = Object.fromEntries(REACTIONS.map((emoji) => [emoji, 0])); // own, not yet counted back
    this.counts = new Map();
    this.buttons = REACTIONS.map((emoji) => {
      const count = el("span", { class: "reaction-count", "data-testid": "reaction-count" });
      this.counts.set(emoji, count);
      return el(
        "button",
        {
          type: "button",
          class: "reaction",
          "data-testid": "reaction",
          "data-emoji": emoji,
          "aria-label": NAMES[emoji],
          title: NAMES[emoji],
          onclick: () => this.react(emoji),
        },
        el("span", { class: "reaction-emoji", "aria-hidden": "true", text: emoji }),
        count,
      );
    });
    bar.replaceChildren(...this.buttons);
    this.render();
  }

  setEnabled(enabled) {
    for (const button of this.buttons) button.disabled = !enabled;
  }

  /** The snapshot's totals. */
  load(totals) {
    for (const emoji of REACTIONS) {
      this.totals[emoji] = totals?.[emoji] ?? 0;
      this.pending[emoji] = 0;
    }
    this.render();
  }

  /** A `chat:reactions` event: add to the totals, float those that are not one's own taps (shown already). */
  received(counts) {
    const others = {};
    for (const [emoji, n] of Object.entries(counts || {})) {
      if (!(emoji in this.totals)) continue;
      this.totals[emoji] += n;
      const own = Math.min(n, this.pending[emoji]);
      this.pending[emoji] -= own;
      others[emoji] = n - own;
    }
    floatCounts(this.layer, others);
    this.render();
  }

  async react(emoji) {
    floatReaction(this.layer, emoji);
    this.pending[emoji] += 1;
    const ack = await this.room().send("chat:react", { emoji });
    if (ack.ok) return;
    this.pending[emoji] = Math.max(0, this.pending[emoji] - 1);
    if (ack.error?.status !== 429) this.onError(ack.error?.detail || t("reactions.not_sent"));
  }

  render() {
    for (const emoji of REACTIONS) {
      const total = this.totals[emoji];
      this.counts.get(emoji).textContent = total > 0 ? compact.format(total) : "";
    }
  }
}
