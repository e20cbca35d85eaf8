// The cards over the show (the pinned product, the poll, the giveaway) share one place: one card in
// front, the others one tap away on a chip. A card that appears, or that has news (a poll opens, the
// winners are drawn), comes to the front; the viewer can bring any other back. From 640px wide the
// place is the lower left of the video, never more than half its width, so the centre stays clear;
// on a phone it is right under the video.

import { byTestId, el, show } from "./dom.js";
import { t } from "./i18n.js";

const CHIPS = { pin: t("watch.chip_pin"), poll: t("watch.chip_poll"), giveaway: t("watch.chip_giveaway") };
const KINDS = Object.keys(CHIPS);

/** Sets up [data-testid=overlay] and its slots (pin-slot, poll-slot, giveaway-slot). */
export function setUpOverlay() {
  const root = byTestId("overlay");
  const chips = byTestId("overlay-chips");
  const slots = Object.fromEntries(KINDS.map((kind) => [kind, byTestId(`${kind}-slot`)]));
  let front = null;
  let recent = []; // the kinds, most recently brought to the front first
  const news = new Set(); // kinds with something new the viewer has not seen yet

  const present = (kind) => slots[kind].childElementCount > 0;

  function render() {
    const kinds = KINDS.filter(present);
    if (!kinds.includes(front)) front = recent.find((kind) => kinds.includes(kind)) ?? kinds[0] ?? null;
    news.delete(front);
    for (const kind of KINDS) show(slots[kind], kind === front);
    chips.replaceChildren(
      ...kinds.map((kind) =>
        el("button", {
          type: "button",
          class: "overlay-chip",
          "data-testid": `chip-${kind}`,
          "aria-pressed": String(kind === front),
          "aria-controls": slots[kind].id,
          "data-news": news.has(kind),
          text: CHIPS[kind],
          onclick: () => bringToFront(kind),
        }),
      ),
    );
    show(chips, kinds.length > 1);
    root.dataset.front = front ?? "";
    show(root, kinds.length > 0);
  }

  function bringToFront(kind) {
    front = kind;
    recent = [kind, ...recent.filter((k) => k !== kind)];
    render();
  }

  // A slot that gets a new card (a new pin, poll or giveaway) brings it to the front; an emptied one
  // gives the place to the card seen before it.
  const observer = new MutationObserver((records) => {
    const added = records.find((record) => record.addedNodes.length > 0 && present(record.target.dataset.card));
    if (added) bringToFront(added.target.dataset.card);
    else render();
  });
  for (const slot of Object.values(slots)) observer.observe(slot, { childList: true });
  render();

  return {
    bringToFront,
    /** Something changed on a card: to the front if `urgent`, else a dot on its chip. */
    attention(kind, { urgent = false } = {}) {
      if (!present(kind)) return;
      if (urgent) bringToFront(kind);
      else if (kind !== front) {
        news.add(kind);
        render();
      }
    },
    get front() {
      return front;
    },
  };
}
