// The studio's products: the episode's lineup with one-tap pin and unpin, each variant's stock as it
// sells, what this live has sold, and a flash deal on the pinned product; the lineup is put in order
// and filled from the brand's products here too (staff/lineup.js, as on the manager page). Pins, deals
// and the lineup are HTTP calls; what viewers see comes back through the room (pin:*, deal:*,
// stock:changed, sales:bought).

import { api } from "../shared/api.js";
import { byTestIds, el, noticeLine, show } from "../shared/dom.js";
import { clockText, fromMinor, money, toMinor } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { applyStock, dealOn, priceOf, priceTag } from "../shared/product.js";
import { lineupEditor } from "../staff/lineup.js";
import { followPin } from "../stage/pin.js";

/** Sets up the studio's product panel for `episodeId`. */
export function setUpStudioShop({ episodeId }) {
  const ui = byTestIds([
    "studio-shop",
    "shop-notice",
    "lineup-hint",
    "deal-form",
    "deal-product",
    "deal-status",
    "deal-fields",
    "deal-currency",
    "deal-price",
    "deal-quantity",
    "deal-seconds",
    "deal-error",
    "start-deal",
    "stop-deal",
  ]);

  let bought = {}; // product id -> units sold during this live
  let live = false;
  let timer = 0;

  // The pin on screen, as viewers see it: what the room says, and what the studio's own calls answer.
  const onScreen = followPin({
    onPin(pin, { changed }) {
      if (pin) {
        // The lineup's copy of the product follows what the pin says (stock may have moved); a product
        // pinned from elsewhere joins the lineup, as it does on the server.
        const fresh = structuredClone(pin.product);
        const { products } = lineup;
        const known = products.some((p) => p.id === fresh.id);
        lineup.products = known ? products.map((p) => (p.id === fresh.id ? fresh : p)) : [...products, fresh];
        bought[pin.product.id] = pin.bought;
      }
      if (changed) prefillDeal();
      lineup.render();
    },
    onStock(change) {
      if (applyStock(lineup.products.find((p) => p.id === change.product_id), change)) lineup.render();
    },
    onBought(sold) {
      bought = { ...bought, ...sold };
      lineup.render();
    },
  });

  const notice = noticeLine(ui.shopNotice);

  // The lineup, each product with its pin button, what it sold and, on screen, the deal's price.
  const lineup = lineupEditor({
    notice,
    decorate(product) {
      const { pin } = onScreen;
      const pinned = pin?.product.id === product.id;
      const sold = bought[product.id] ?? 0;
      const badge = { class: "badge badge-live", "data-testid": "on-screen", text: t("studio_shop.on_screen") };
      const units = t("studio_shop.sold", { count: sold });
      return {
        current: pinned,
        badge: pinned ? el("span", badge) : null,
        price: priceTag(priceOf(product, null, pinned ? pin.deal : null), product.currency, "lineup-price"),
        sold: sold ? el("span", { class: "lineup-bought", "data-testid": "lineup-bought", text: units }) : null,
        action: el("button", {
          type: "button",
          class: `button button-small ${pinned ? "" : "button-primary"}`,
          "data-testid": pinned ? "unpin-product" : "pin-product",
          "aria-label": t(pinned ? "studio_shop.unpin_label" : "studio_shop.pin_label", { title: product.title }),
          text: pinned ? t("studio_shop.unpin") : t("studio_shop.pin"),
          disabled: lineup.busy || (!pinned && !live),
          onclick: () => (pinned ? unpin() : pinProduct(product)),
        }),
        removable: !pinned, // what viewers see stays in the lineup
      };
    },
    onRender() {
      ui.lineupHint.textContent = live ? t("studio_shop.hint_live") : t("studio_shop.hint_off_air");
      renderDeal();
    },
  });

  /** The lineup, and the brand's products (by its slug) that can be added to it. */
  async function load(brandSlug) {
    show(ui.studioShop);
    await lineup.load(episodeId, brandSlug);
  }

  async function pinProduct(product) {
    const shown = await lineup.act(
      () => api.pin(episodeId, product.id),
      () => t("studio_shop.pinned", { title: product.title }),
    );
    if (shown) onScreen.show(shown);
  }

  async function unpin() {
    const title = onScreen.pin?.product.title;
    const hidden = await lineup.act(
      async () => (await api.unpin(episodeId)) ?? true, // 204: no body
      () => t("studio_shop.unpinned", { title }),
    );
    if (hidden) onScreen.show(null);
  }

  // --- the flash deal ----------------------------------------------------------------------

  function prefillDeal() {
    const { pin } = onScreen;
    ui.dealError.textContent = "";
    if (!pin) return;
    const { price, currency } = pin.product;
    ui.dealPrice.value = fromMinor(Math.round(price * 0.8), currency); // a suggestion: 20 % off
  }

  function renderDeal() {
    const { pin } = onScreen;
    show(ui.dealForm, Boolean(pin));
    if (!pin) {
      stopTimer();
      return;
    }
    ui.dealProduct.textContent = pin.product.title;
    ui.dealCurrency.textContent = pin.product.currency;
    const running = dealOn(pin.deal) && onScreen.secondsLeft() > 0;
    show(ui.dealFields, !running);
    show(ui.startDeal, !running);
    show(ui.stopDeal, running);
    ui.startDeal.disabled = lineup.busy || !live;
    ui.stopDeal.disabled = lineup.busy;
    tick();
  }

  function tick() {
    const { pin } = onScreen;
    const deal = pin?.deal;
    const left = onScreen.secondsLeft();
    let text = "";
    if (deal?.active && left > 0) {
      const price = money(deal.price, pin.product.currency);
      text = t("studio_shop.deal_status", {
        count: deal.remaining,
        price,
        remaining: deal.remaining,
        quantity: deal.quantity,
        clock: clockText(left),
      });
    } else if (deal?.ended_reason) {
      text = {
        time: t("studio_shop.deal_time_up"),
        sold_out: t("studio_shop.deal_sold_out"),
        stopped: t("studio_shop.deal_stopped_by_you"),
      }[deal.ended_reason];
    }
    ui.dealStatus.textContent = text;
    show(ui.dealStatus, Boolean(text));
    if (deal?.active && left > 0) {
      if (!timer) timer = setInterval(tick, 250);
    } else {
      stopTimer();
      if (deal?.active && ui.stopDeal.hidden === false) renderDeal(); // time is up: offer a new one
    }
  }

  function stopTimer() {
    clearInterval(timer);
    timer = 0;
  }

  ui.dealForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { pin } = onScreen;
    ui.dealError.textContent = "";
    const price = toMinor(ui.dealPrice.value, pin.product.currency);
    const quantity = Number(ui.dealQuantity.value);
    const seconds = Number(ui.dealSeconds.value);
    if (price === null) {
      const example = fromMinor(pin.product.price, pin.product.currency);
      ui.dealError.textContent = t("studio_shop.bad_price", { example });
      ui.dealPrice.focus();
      return;
    }
    if (!ui.dealForm.checkValidity()) {
      ui.dealError.textContent = t("studio_shop.bad_fields");
      ui.dealForm.querySelector(":invalid")?.focus();
      return;
    }
    const started = await lineup.act(
      () => api.startDeal(episodeId, { price, quantity, seconds }),
      () => t("studio_shop.deal_started"),
    );
    if (started) onScreen.show(started, { started: true });
  });

  ui.stopDeal.addEventListener("click", async () => {
    const stopped = await lineup.act(
      () => api.stopDeal(episodeId),
      () => t("studio_shop.deal_stopped"),
    );
    if (stopped) onScreen.show(stopped);
  });

  return {
    load,
    setLive(isLive) {
      if (live === isLive) return;
      live = isLive;
      lineup.render();
    },
    snapshot: onScreen.snapshot,
    event: onScreen.event,
  };
}
