// The product pinned on the stage, as the room tells it: the join snapshot's `pin`, then pin:shown,
// pin:hidden, deal:started, deal:changed, deal:ended, stock:changed and sales:bought (docs/api.md,
// "Realtime events"). Followed here once for the viewers' product card (pin-card.js) and the studio's
// lineup (../studio/shop.js): the same pin, the same flash deal clock, the same stock and sales.

import { applyStock } from "../shared/product.js";

/**
 * Follows the pin on screen. `onPin(pin, {changed})` runs after each new state of the pin or its deal
 * (`pin` null once hidden; `changed`: another pin, or none, than before); `onStock(change, {pinned})`
 * after each stock:changed (`pinned`: it was the pinned product's, which says so already);
 * `onBought(products, {pinned})` after sales:bought (units sold by product id; `pinned`: the pin's own
 * count, `pin.bought`, moved).
 */
export function followPin({ onPin, onStock = () => {}, onBought = () => {} }) {
  let pin = null; // PinOut on screen, this follower's own copy
  const dealClock = new DealClock();

  function show(next, { started = false } = {}) {
    const changed = pin?.id !== next?.id;
    pin = next ? structuredClone(next) : null;
    dealClock.follow(pin?.deal ?? null, started);
    onPin(pin, { changed });
  }

  return {
    get pin() {
      return pin;
    },
    /** Seconds until the flash deal on screen ends, on this device's clock (negative after it). */
    secondsLeft() {
      return dealClock.secondsLeft();
    },
    /** A pin the page was told otherwise: the studio's own pin, unpin and deal calls answer with it. */
    show,
    /** The join snapshot: what is pinned right now (also after a reconnection). */
    snapshot(snapshot) {
      show(snapshot.pin ?? null);
    },
    event(event, data) {
      const next = nextPin(pin, event, data);
      if (next) {
        show(next.pin, { started: next.started });
        return;
      }
      switch (event) {
        case "stock:changed":
          onStock(data, { pinned: applyStock(pin?.product, data) });
          break;
        case "sales:bought": {
          const bought = data.products ?? {};
          const pinned = Boolean(pin) && bought[pin.product.id] !== undefined;
          if (pinned) pin.bought = bought[pin.product.id];
          onBought(bought, { pinned });
          break;
        }
        default:
          break;
      }
    },
  };
}

/**
 * The pin after a room event about it: `{pin, started}` (`pin` null once it is hidden; `started` when a
 * flash deal has just begun), or null when the event is not about the pin on screen.
 */
function nextPin(pin, event, data) {
  const ours = pin?.deal && pin.id === data.pin_id;
  switch (event) {
    case "pin:shown":
      return { pin: data, started: false };
    case "deal:started":
      return { pin: data, started: true };
    case "pin:hidden":
      return pin?.id === data.pin_id ? { pin: null, started: false } : null;
    case "deal:changed":
      return ours ? { pin: { ...pin, deal: { ...pin.deal, remaining: data.remaining } }, started: false } : null;
    case "deal:ended": {
      const deal = { ...pin?.deal, active: false, ended_reason: data.reason };
      return ours ? { pin: { ...pin, deal }, started: false } : null;
    }
    default:
      return null;
  }
}

/**
 * When a flash deal ends, on this device's clock. A deal seen as it starts counts its length from now,
 * so a phone whose clock is a minute off still shows the right countdown; later news of the same deal
 * (units left, its end) keeps that clock.
 */
class DealClock {
  constructor() {
    this.deal = null; // the deal's starts_at
    this.end = 0;
  }

  follow(deal, justStarted) {
    if (!deal) {
      this.deal = null;
      this.end = 0;
      return;
    }
    if (deal.starts_at === this.deal) return;
    this.deal = deal.starts_at;
    const ends = Date.parse(deal.ends_at);
    this.end = justStarted ? Date.now() + (ends - Date.parse(deal.starts_at)) : ends;
  }

  /** Seconds until the end (negative after it). */
  secondsLeft() {
    return (this.end - Date.now()) / 1000;
  }
}
