// The stage over the video on the watch page: the cards the host puts on it (the pinned product, the
// poll, the giveaway) in the one place they share (overlay.js). A card is written once, in its own
// module of this folder, and listed in CARDS; the overlay makes its slot, its chip and its "open"
// label, and the page hands the room's news to every card through setUpStage.
//
// A card module exports {kind, chip, open, setUp}:
// - `kind` names it: its slot is [data-testid=<kind>-slot] (made by the overlay, in CARDS' order), its
//   chip [data-testid=chip-<kind>]; the overlay's `data-front` says the kind in front.
// - `chip` and `open`: its chip's label ("Poll") and, on a phone, the folded strip's ("Open the poll"),
//   as t("…") calls in the card's module.
// - `setUp(stage)` sets it up and returns what the page calls. `stage` holds its `slot` (it shows by
//   filling it and goes by emptying it: the overlay brings a filled slot to the front), `attention({urgent,
//   unfold})` (news on the card: to the front if urgent, else a dot on its chip; `unfold` opens it on a
//   phone too), `fold()` (on a phone, back to the strip), and what the watch page lends every card:
//   `ready()` (resolves with the joined LiveRoom once the viewer has a token), `tell(event, data)` (an
//   event to the room as the viewer is, token or not: what the report counts, such as `card:viewed`),
//   `cart` (update(cart), open(), stockChanged(change)), `addToCart(variantId)` (one unit, resolving
//   with an ack like the room's `cart:add`: through the room live, over HTTP from the replay),
//   `suggest(text)` (into the chat's box) and `proofUrl(giveaway)`.
// - What it returns: `snapshot(snapshot)` (the room's join snapshot, also after a reconnection; in the
//   replay, the whole stage at the moment jumped to, with `replay: true` there and on each card's item),
//   `event(event, data)` (every room event: it picks its own) and `close()` (no card at all: the episode
//   is cancelled or missing); and, where it cares, `ended()` (the show is over), `ordered()` (the viewer
//   placed an order) and `chatAck(ack)` (the ack of a chat message the viewer sent).
// Its look is a stylesheet of this folder, imported in stage.css.

import { giveawayCard } from "./giveaway-card.js";
import { setUpOverlay } from "./overlay.js";
import { pinCard } from "./pin-card.js";
import { pollCard } from "./poll-card.js";

/** The cards, in the order of their chips. */
export const CARDS = [pinCard, pollCard, giveawayCard];

/** Sets up [data-testid=overlay] with every card of CARDS; `page` is what the page lends them (above). */
export function setUpStage(page) {
  const overlay = setUpOverlay(CARDS);
  const cards = CARDS.map((card) =>
    card.setUp({
      ...page,
      slot: overlay.slots[card.kind],
      attention: (how) => overlay.attention(card.kind, how),
      fold: () => overlay.fold(),
    }),
  );

  return {
    snapshot(snapshot) {
      for (const card of cards) card.snapshot(snapshot);
    },
    event(event, data) {
      for (const card of cards) card.event(event, data);
    },
    ended() {
      for (const card of cards) card.ended?.();
    },
    close() {
      for (const card of cards) card.close();
    },
    ordered() {
      for (const card of cards) card.ordered?.();
    },
    chatAck(ack) {
      for (const card of cards) card.chatAck?.(ack);
    },
    /** The kind of the card in front, or null. */
    get front() {
      return overlay.front;
    },
  };
}
