// The product the host pins, as a card over the video: picture, title, price, sizes, live stock, what
// this live has sold, the flash deal's countdown, and "Add to cart" in one tap (the page's `addToCart`:
// the room's `cart:add` during the live). Everything comes from the room: the join snapshot's `pin`,
// then pin:*, stock:*, deal:* and sales:bought, followed by pin.js as the studio follows them. The
// replay hands it the pins of the live at their moments, marked `replay`: sold at today's price, and
// the card says so.

import { sentence } from "../shared/api.js";
import { el, show } from "../shared/dom.js";
import { clockText } from "../shared/format.js";
import {
  dealOn,
  hasNoChoice,
  optionNames,
  priceOf,
  priceTag,
  productImage,
  stockNote,
  variantName,
} from "../shared/product.js";
import { locale, t } from "../shared/i18n.js";
import { followPin } from "./pin.js";

const ADDED_FOR_MS = 4000;

/** The product card, for the stage (stage.js). */
export const pinCard = {
  kind: "pin",
  chip: t("watch.chip_pin"),
  open: t("watch.open_pin"),
  setUp: setUpPinCard,
};

/**
 * Sets up the product card in `slot`. `addToCart(variantId)` puts one unit in the viewer's cart and
 * resolves with the ack (`{ok, cart}` or `{ok: false, error}`); `tell(event, data)` sends to the room as
 * the viewer is; the page's `cart` takes the cart from the ack (`update(cart)`), opens (`open()`) and
 * hears of each stock move (`stockChanged(change)`); `fold()` folds the overlay.
 */
function setUpPinCard({ slot, addToCart, tell, cart, fold }) {
  let card = null; // the pin's nodes, built once per pin
  let selected = null; // the picked variant's id
  let waitUntil = 0; // after a 429: no adding before then
  let adding = false;
  let timer = 0;
  let addedTimer = 0;

  const onScreen = followPin({
    onPin(pin, { changed }) {
      if (changed) {
        selected = null;
        slot.replaceChildren();
        card = null;
      }
      if (!pin) return;
      // Only one thing to buy: it is picked already. A picked variant that sold out stays picked (and says so).
      if (!selected && hasNoChoice(pin.product)) selected = pin.product.variants[0].id;
      if (!card) {
        build();
        tell("card:viewed", { pin_id: pin.id }); // once per pin shown: the episode's report counts cards seen
      }
      update();
    },
    onStock(change, { pinned }) {
      if (pinned) update();
      cart.stockChanged(change);
    },
    onBought(_products, { pinned }) {
      if (pinned) update();
    },
  });

  const variantOf = () => onScreen.pin?.product.variants.find((v) => v.id === selected) ?? null;

  function build() {
    const product = onScreen.pin.product;
    const variants = el("div", {
      class: "pin-variants",
      role: "group",
      "aria-label": sentence(optionNames(product) || t("pin.options")),
      "data-testid": "pin-variants",
      hidden: hasNoChoice(product),
    });
    for (const variant of product.variants) {
      variants.append(
        el("button", {
          type: "button",
          class: "variant",
          "data-testid": "variant",
          "data-variant-id": variant.id,
          text: variantName(variant),
          onclick: () => pick(variant.id),
        }),
      );
    }
    card = {
      root: el("article", {
        class: "pin-card",
        "data-testid": "pin-card",
        "data-product-id": product.id,
        "aria-label": t("pin.on_screen", { title: product.title }),
      }),
      deal: el("p", { class: "pin-deal", role: "timer", "aria-live": "off", "data-testid": "pin-deal" }),
      replayNote: el("p", { class: "pin-replay-note", "data-testid": "pin-replay-note" }),
      price: el("p", { class: "pin-price" }),
      stock: el("span", { class: "pin-stock", "data-testid": "pin-stock" }),
      bought: el("span", { class: "pin-bought", "data-testid": "pin-bought" }),
      variants,
      add: el("button", {
        type: "button",
        class: "button button-primary pin-add",
        "data-testid": "add-to-cart",
        onclick: () => add(),
      }),
      error: el("p", { class: "pin-error", role: "alert", "data-testid": "pin-error" }),
      added: el(
        "p",
        { class: "pin-added", role: "status", "data-testid": "pin-added", hidden: true },
        el("span", { text: t("pin.added") }),
        el("button", {
          type: "button",
          class: "link",
          "data-testid": "pin-view-cart",
          text: t("pin.view_cart"),
          onclick: () => cart.open(),
        }),
      ),
    };
    card.root.append(
      productImage(product.image_urls[0], "pin-image"),
      el(
        "div",
        { class: "pin-body" },
        card.deal,
        el("h2", { class: "pin-title", "data-testid": "pin-title", text: product.title }),
        card.price,
        card.replayNote,
        el("p", { class: "pin-facts" }, card.stock, card.bought),
        card.variants,
        card.add,
        card.error,
        card.added,
      ),
    );
    slot.replaceChildren(card.root);
  }

  function update() {
    if (!card) return;
    const { pin } = onScreen;
    const product = pin.product;
    const variant = variantOf();
    card.price.replaceChildren(priceTag(priceOf(product, variant, pin.deal), product.currency, "pin-price"));
    // The replay sells at today's price: the live's flash deal ended with it.
    const replayNote = pin.replay_deal ? t("pin.replay_deal_over") : t("pin.replay_price");
    card.replayNote.textContent = pin.replay ? replayNote : "";
    show(card.replayNote, Boolean(pin.replay));
    const left = variant ? variant.stock : product.variants.reduce((sum, v) => sum + v.stock, 0);
    // One "left" figure at a time: while a flash deal runs, its own count (units at the deal price)
    // is the one that matters, and a second, different number beside it read as a contradiction.
    const stock = product.sold_out ? t("product.sold_out") : dealOn(pin.deal) ? "" : stockNote(left);
    card.stock.textContent = stock;
    show(card.stock, Boolean(stock));
    card.bought.textContent =
      pin.bought > 0 ? t("pin.bought", { count: pin.bought, n: pin.bought.toLocaleString(locale) }) : "";
    show(card.bought, pin.bought > 0);
    for (const button of card.variants.children) {
      const v = product.variants.find((x) => x.id === button.dataset.variantId);
      button.disabled = v.sold_out;
      button.setAttribute("aria-pressed", String(v.id === selected));
      button.title = v.sold_out ? t("product.sold_out") : stockNote(v.stock);
    }
    card.root.toggleAttribute("data-sold-out", product.sold_out);
    card.root.toggleAttribute("data-deal", dealOn(pin.deal));
    tick();
  }

  /** The deal's countdown and the add button's wait: the parts that change with time alone. */
  function tick() {
    if (!card) return;
    const { pin } = onScreen;
    const deal = pin.deal?.active ? pin.deal : null; // the server says when it is over
    const left = onScreen.secondsLeft();
    let dealText = "";
    if (deal && deal.remaining <= 0) dealText = t("pin.deal_sold_out");
    else if (deal && left > 0) {
      const n = deal.remaining.toLocaleString(locale);
      dealText = t("pin.deal", { count: deal.remaining, n, time: clockText(left) });
    } else if (deal) dealText = t("pin.deal_over");
    card.deal.textContent = dealText;
    show(card.deal, Boolean(dealText));
    const wait = (waitUntil - Date.now()) / 1000;
    const soldOut = pin.product.sold_out || Boolean(variantOf()?.sold_out);
    card.add.disabled = adding || wait > 0 || soldOut;
    card.add.textContent = adding
      ? t("pin.adding")
      : wait > 0
        ? t("pin.try_again_in", { time: clockText(wait) })
        : soldOut
          ? t("product.sold_out")
          : t("pin.add");
    const needsTime = (deal && left > -1) || wait > 0;
    if (needsTime && !timer) timer = setInterval(tick, 250);
    if (!needsTime && timer) {
      clearInterval(timer);
      timer = 0;
    }
  }

  function pick(variantId) {
    selected = variantId;
    card.error.textContent = "";
    update();
  }

  async function add() {
    const variant = variantOf();
    const product = onScreen.pin.product;
    if (!variant) {
      card.error.textContent = t("pin.pick_first", { option: optionNames(product) || t("pin.variant") });
      card.variants.querySelector("button:not(:disabled)")?.focus();
      return;
    }
    card.error.textContent = "";
    show(card.added, false);
    adding = true;
    tick();
    let ack;
    try {
      ack = await addToCart(variant.id);
    } catch (error) {
      ack = { ok: false, error: { detail: error.message } };
    }
    adding = false;
    if (onScreen.pin?.product.id !== product.id) return; // the host moved on meanwhile
    if (ack.ok) {
      cart.update(ack.cart);
      fold(); // on a phone the sheet folds back into the strip, which says it was added
      show(card.added);
      clearTimeout(addedTimer);
      addedTimer = setTimeout(() => show(card.added, false), ADDED_FOR_MS);
    } else {
      refused(ack.error);
    }
    tick();
  }

  function refused(error) {
    const retryAfter = Number(error?.retry_after);
    if (error?.status === 429 && retryAfter > 0) {
      waitUntil = Date.now() + retryAfter * 1000;
      card.error.textContent = t("pin.too_many");
    } else {
      card.error.textContent = sentence(error?.detail || error?.title || t("pin.not_added"));
    }
  }

  return {
    /** The join snapshot: what is pinned right now (also after a reconnection). */
    snapshot: onScreen.snapshot,
    event: onScreen.event,
    /** After an order: the card as it was before (no size picked, no "added" line), ready for the next. */
    ordered() {
      const { pin } = onScreen;
      if (!pin || !card) return;
      selected = hasNoChoice(pin.product) ? pin.product.variants[0].id : null;
      clearTimeout(addedTimer);
      show(card.added, false);
      card.error.textContent = "";
      update();
    },
    /** Nothing is sold after the show. */
    ended() {
      onScreen.show(null);
    },
    close() {
      onScreen.show(null);
    },
  };
}
