// The studio's products: the episode's lineup with one-tap pin and unpin, each variant's stock as it
// sells, what this live has sold, and a flash deal on the pinned product; the lineup is put in order
// and filled from the brand's products here too. Pins, deals and the lineup are HTTP calls; what
// viewers see comes back through the room (pin:*, deal:*, stock:changed, sales:bought).

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, noticeLine, show } from "../shared/dom.js";
import { clockText, fromMinor, money, toMinor } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { applyStock, dealOn, priceOf, priceTag, productImage, stockList } from "../shared/product.js";
import { followPin } from "../stage/pin.js";

/** Sets up the studio's product panel for `episodeId`. */
export function setUpStudioShop({ episodeId }) {
  const ui = byTestIds([
    "studio-shop",
    "shop-notice",
    "lineup",
    "lineup-empty",
    "lineup-hint",
    "lineup-add",
    "lineup-add-select",
    "lineup-add-submit",
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

  let products = []; // ProductCard, in the lineup's order
  let catalog = []; // the brand's products on sale (ProductOut), to add to the lineup
  let bought = {}; // product id -> units sold during this live
  let live = false;
  let busy = false;
  let timer = 0;
  let loads = 0;

  // The pin on screen, as viewers see it: what the room says, and what the studio's own calls answer.
  const onScreen = followPin({
    onPin(pin, { changed }) {
      if (pin) {
        // The lineup's copy of the product follows what the pin says (stock may have moved); a product
        // pinned from elsewhere joins the lineup, as it does on the server.
        const fresh = structuredClone(pin.product);
        const known = products.some((p) => p.id === fresh.id);
        products = known ? products.map((p) => (p.id === fresh.id ? fresh : p)) : [...products, fresh];
        bought[pin.product.id] = pin.bought;
      }
      if (changed) prefillDeal();
      render();
    },
    onStock(change) {
      if (applyStock(products.find((p) => p.id === change.product_id), change)) render();
    },
    onBought(sold) {
      bought = { ...bought, ...sold };
      render();
    },
  });

  const notice = noticeLine(ui.shopNotice);

  /** The lineup, and the brand's products (by its slug) that can be added to it. */
  async function load(brandSlug) {
    const attempt = ++loads;
    show(ui.studioShop);
    try {
      const [lineup, brandProducts] = await Promise.all([api.lineup(episodeId), api.products(brandSlug)]);
      if (attempt !== loads) return;
      products = lineup;
      catalog = brandProducts;
      render();
    } catch (error) {
      if (attempt === loads) notice(t("studio_shop.load_failed", { error: messageOf(error) }), "error");
    }
  }

  function render() {
    const focus = focusKey();
    ui.lineup.replaceChildren(...products.map(row));
    show(ui.lineupEmpty, products.length === 0);
    ui.lineupHint.textContent = live ? t("studio_shop.hint_live") : t("studio_shop.hint_off_air");
    refocus(focus);
    renderAdd();
    renderDeal();
  }

  /** Where the keyboard is in the lineup: [product id, button], to put it back once drawn again. */
  function focusKey() {
    const focused = document.activeElement;
    const item = focused?.closest?.("[data-testid=lineup-item]");
    return item ? [item.dataset.productId, focused.dataset.testid] : null;
  }

  /** The same button of the same product (which may have moved), else another of its buttons. */
  function refocus(key) {
    if (!key) return;
    const item = ui.lineup.querySelector(`[data-product-id="${CSS.escape(key[0])}"]`);
    const same = item?.querySelector(`[data-testid="${key[1]}"]:not(:disabled)`);
    (same ?? item?.querySelector("button:not(:disabled)"))?.focus({ preventScroll: true });
  }

  /** The brand's products not in the lineup yet, to add at its end. */
  function renderAdd() {
    const inLineup = new Set(products.map((p) => p.id));
    const addable = catalog.filter((p) => !inLineup.has(p.id));
    const picked = ui.lineupAddSelect.value;
    ui.lineupAddSelect.replaceChildren(
      ...addable.map((p) => el("option", { value: p.id, text: `${p.title} · ${money(p.price, p.currency)}` })),
    );
    if (addable.some((p) => p.id === picked)) ui.lineupAddSelect.value = picked;
    show(ui.lineupAdd, addable.length > 0);
    ui.lineupAddSubmit.disabled = busy;
  }

  function row(product, index) {
    const { pin } = onScreen;
    const pinned = pin?.product.id === product.id;
    const sold = bought[product.id] ?? 0;
    const toggle = el("button", {
      type: "button",
      class: `button button-small ${pinned ? "" : "button-primary"}`,
      "data-testid": pinned ? "unpin-product" : "pin-product",
      "aria-label": t(pinned ? "studio_shop.unpin_label" : "studio_shop.pin_label", { title: product.title }),
      text: pinned ? t("studio_shop.unpin") : t("studio_shop.pin"),
      disabled: busy || (!pinned && !live),
      onclick: () => (pinned ? unpin() : pinProduct(product)),
    });
    return el(
      "li",
      {
        class: "lineup-item",
        "data-testid": "lineup-item",
        "data-product-id": product.id,
        "aria-current": pinned ? "true" : false,
      },
      productImage(product.image_urls[0], "lineup-image"),
      el(
        "div",
        { class: "lineup-body" },
        el(
          "p",
          { class: "lineup-title" },
          el("span", { "data-testid": "lineup-title", text: product.title }),
          pinned ? el("span", { class: "badge badge-live", "data-testid": "on-screen", text: t("studio_shop.on_screen") }) : null,
        ),
        el(
          "p",
          { class: "lineup-meta" },
          priceTag(priceOf(product, null, pinned ? pin.deal : null), product.currency, "lineup-price"),
          sold ? el("span", { class: "lineup-bought", "data-testid": "lineup-bought", text: t("studio_shop.sold", { count: sold }) }) : null,
        ),
        stockList(product.variants),
      ),
      el(
        "div",
        { class: "lineup-actions" },
        toggle,
        el(
          "div",
          { class: "lineup-tools", role: "group", "aria-label": t("studio_shop.place_of", { title: product.title }) },
          tool("↑", t("studio_shop.move_up", { title: product.title }), "lineup-up", index === 0, () => move(index, -1)),
          tool("↓", t("studio_shop.move_down", { title: product.title }), "lineup-down", index === products.length - 1, () => move(index, 1)),
          tool("✕", t("studio_shop.take_out", { title: product.title }), "lineup-remove", pinned, () => remove(product)),
        ),
      ),
    );
  }

  function tool(text, label, testId, disabled, onclick) {
    return el("button", {
      type: "button",
      class: "button button-small button-quiet lineup-tool",
      "data-testid": testId,
      "aria-label": label,
      title: label,
      text,
      disabled: busy || disabled,
      onclick,
    });
  }

  /** The lineup in this order, from the server (which keeps only the brand's products on sale). */
  async function saveLineup(ids, done) {
    const saved = await act(() => api.setLineup(episodeId, ids), done);
    if (saved) {
      products = saved;
      render();
    }
  }

  function move(index, by) {
    const ids = products.map((p) => p.id);
    [ids[index], ids[index + by]] = [ids[index + by], ids[index]];
    saveLineup(ids, () => "");
  }

  function remove(product) {
    saveLineup(
      products.filter((p) => p.id !== product.id).map((p) => p.id),
      () => t("studio_shop.taken_out", { title: product.title }),
    );
  }

  async function act(call, done) {
    const focus = focusKey(); // its button is disabled meanwhile, which takes the keyboard away
    busy = true;
    render();
    notice("");
    try {
      const result = await call();
      notice(done(result));
      return result;
    } catch (error) {
      notice(messageOf(error), "error");
      return null;
    } finally {
      busy = false;
      render();
      refocus(focus);
    }
  }

  async function pinProduct(product) {
    const shown = await act(
      () => api.pin(episodeId, product.id),
      () => t("studio_shop.pinned", { title: product.title }),
    );
    if (shown) onScreen.show(shown);
  }

  async function unpin() {
    const title = onScreen.pin?.product.title;
    const hidden = await act(
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
    ui.startDeal.disabled = busy || !live;
    ui.stopDeal.disabled = busy;
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
    const started = await act(
      () => api.startDeal(episodeId, { price, quantity, seconds }),
      () => t("studio_shop.deal_started"),
    );
    if (started) onScreen.show(started, { started: true });
  });

  ui.lineupAdd.addEventListener("submit", (event) => {
    event.preventDefault();
    const product = catalog.find((p) => p.id === ui.lineupAddSelect.value);
    if (!product) return;
    saveLineup([...products.map((p) => p.id), product.id], () => t("studio_shop.added", { title: product.title }));
  });

  ui.stopDeal.addEventListener("click", async () => {
    const stopped = await act(
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
      render();
    },
    snapshot: onScreen.snapshot,
    event: onScreen.event,
  };
}
