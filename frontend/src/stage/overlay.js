// The cards over the show (stage.js: the pinned product, the poll, the giveaway) share one place: one
// card in front, the others one tap away on a chip. A card that appears, or that has news (a poll
// opens, the winners are drawn), comes to the front; the viewer can bring any other back. From 640px
// wide the place is the lower left of the video, never more than half its width, so the centre stays
// clear. On a phone the picture is too small for a whole card: the front card is folded into a strip
// low over the video (its picture, title and price or question), and a tap on it opens the card as a
// sheet over the lower part of the screen, the video still in sight above it.

import { byTestId, el, show } from "../shared/dom.js";

const PHONE = window.matchMedia("(max-width: 639px)");

/**
 * Sets up [data-testid=overlay] for `cards` (stage.js: each card's kind, chip and open labels): a slot
 * for each, [data-testid=<kind>-slot], in their order, the order of the chips too.
 */
export function setUpOverlay(cards) {
  const root = byTestId("overlay");
  const chips = byTestId("overlay-chips");
  const openButton = byTestId("overlay-open");
  const foldButton = byTestId("overlay-fold");
  const more = byTestId("overlay-more");
  const allKinds = cards.map((card) => card.kind);
  const chipLabel = Object.fromEntries(cards.map((card) => [card.kind, card.chip]));
  const openLabel = Object.fromEntries(cards.map((card) => [card.kind, card.open]));
  const slots = Object.fromEntries(
    allKinds.map((kind) => [
      kind,
      el("div", {
        class: "overlay-slot",
        id: `${kind}-slot`,
        "data-testid": `${kind}-slot`,
        "data-card": kind,
        "aria-live": "polite",
      }),
    ]),
  );
  openButton.before(...Object.values(slots));
  let front = null;
  let recent = []; // the kinds, most recently brought to the front first
  const news = new Set(); // kinds with something new the viewer has not seen yet
  let opened = false; // on a phone: the front card is open as a sheet

  const present = (kind) => slots[kind].childElementCount > 0;

  function render() {
    const kinds = allKinds.filter(present);
    if (!kinds.includes(front)) front = recent.find((kind) => kinds.includes(kind)) ?? kinds[0] ?? null;
    news.delete(front);
    if (!front) opened = false;
    const folded = PHONE.matches && !opened;
    for (const kind of allKinds) show(slots[kind], kind === front);
    chips.replaceChildren(
      ...kinds.map((kind) =>
        el("button", {
          type: "button",
          class: "overlay-chip",
          "data-testid": `chip-${kind}`,
          "aria-pressed": String(kind === front),
          "aria-controls": slots[kind].id,
          "data-news": news.has(kind),
          text: chipLabel[kind],
          onclick: () => bringToFront(kind),
        }),
      ),
    );
    show(chips, kinds.length > 1 && !folded);
    root.toggleAttribute("data-folded", folded);
    root.toggleAttribute("data-sheet", PHONE.matches && opened);
    show(foldButton, PHONE.matches && opened);
    show(openButton, folded && Boolean(front));
    openButton.setAttribute("aria-expanded", "false");
    // The strip shows one card; how many more are one tap away, with a dot when one has news.
    more.textContent = kinds.length > 1 ? `+${kinds.length - 1}` : "";
    openButton.setAttribute("aria-label", front ? `${openLabel[front]} ${more.textContent}`.trim() : "");
    openButton.toggleAttribute("data-news", news.size > 0);
    root.dataset.front = front ?? "";
    show(root, kinds.length > 0);
  }

  function bringToFront(kind) {
    front = kind;
    recent = [kind, ...recent.filter((k) => k !== kind)];
    render();
  }

  function open({ focus = true } = {}) {
    if (opened || !PHONE.matches) return;
    opened = true;
    render();
    if (focus) foldButton.focus({ preventScroll: true });
  }

  function fold() {
    if (!opened) return;
    const hadFocus = root.contains(document.activeElement);
    opened = false;
    render();
    if (hadFocus && !openButton.hidden) openButton.focus({ preventScroll: true });
  }

  // A slot that gets a new card (a new pin, poll or giveaway) brings it to the front; an emptied one
  // gives the place to the card seen before it.
  const observer = new MutationObserver((records) => {
    const added = records.find((record) => record.addedNodes.length > 0 && present(record.target.dataset.card));
    if (added) bringToFront(added.target.dataset.card);
    else render();
  });
  for (const slot of Object.values(slots)) observer.observe(slot, { childList: true });

  openButton.addEventListener("click", () => open());
  foldButton.addEventListener("click", fold);
  // The whole strip opens the card (a thumb finds it more easily than the small button); a link
  // on it (the "View cart" after adding) still does its own job.
  root.addEventListener(
    "click",
    (event) => {
      if (!root.hasAttribute("data-folded") || event.target.closest(".overlay-open, a, .link")) return;
      event.preventDefault();
      event.stopPropagation();
      open();
    },
    true,
  );
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && opened) fold();
  });
  // A tap outside the sheet (on the video, the chat) folds it; the cart drawer opened from it does not.
  document.addEventListener("pointerdown", (event) => {
    if (opened && !root.contains(event.target) && !event.target.closest("dialog")) fold();
  });
  PHONE.addEventListener("change", render);
  render();

  return {
    /** Each card's slot, by its kind. */
    slots,
    bringToFront,
    /** On a phone, back to the strip (after "Add to cart", which the strip then confirms). */
    fold,
    /**
     * Something changed on a card: to the front if `urgent`, else a dot on its chip. `unfold` opens
     * it on a phone too (the giveaway's reveal is not to be missed), leaving the focus where it is.
     */
    attention(kind, { urgent = false, unfold = false } = {}) {
      if (!present(kind)) return;
      if (unfold) {
        bringToFront(kind);
        open({ focus: false });
      } else if (urgent) bringToFront(kind);
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
