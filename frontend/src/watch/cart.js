// The viewer's cart, in a drawer over the watch page (the show keeps playing behind it): lines with
// quantity and remove, how long each line's units stay held, what can no longer be bought, the
// subtotal, then the checkout (checkout.js). The cart lives on the server, one per brand and viewer.

import { api, currentToken, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { clockText, money } from "../shared/format.js";
import { productImage } from "../shared/product.js";
import { setUpCheckout } from "./checkout.js";
import { t } from "../shared/i18n.js";

const MAX_LINE_QUANTITY = 20; // the API's own limit per line
const mostOf = (item) => Math.min(item.available, MAX_LINE_QUANTITY);

/** Sets up the cart button, the drawer and its checkout; `onOrdered()` runs once an order is placed. */
export function setUpCart({ onOrdered = () => {} } = {}) {
  const ui = byTestIds([
    "cart-button",
    "cart-count",
    "cart-drawer",
    "cart-title",
    "cart-close",
    "cart-view",
    "cart-loading",
    "cart-empty",
    "cart-lines",
    "cart-error",
    "cart-foot",
    "cart-subtotal",
    "checkout",
  ]);

  let brand = null; // the brand's slug: whose cart this is
  let cart = null; // CartOut
  let loads = 0;
  let timer = 0;
  let reloadOnExpiry = true;

  const checkout = setUpCheckout({
    drawer: ui.cartDrawer,
    brand: () => brand,
    cart: () => cart,
    onOrdered: () => {
      ui.cartTitle.textContent = t("cart.ordered");
      load();
      onOrdered();
    },
    onBack: () => showCart(),
  });

  function setError(text) {
    ui.cartError.textContent = text;
  }

  /** A new cart from the server (an ack, an answer): the count and, when open, the lines. */
  function update(next) {
    cart = next;
    checkout.cartChanged();
    const count = cart?.item_count ?? 0;
    ui.cartCount.textContent = String(count);
    ui.cartButton.setAttribute("aria-label", t("cart.button_label", { count }));
    show(ui.cartButton, Boolean(brand) || count > 0);
    renderLines();
  }

  async function load() {
    if (!brand || !currentToken()) {
      update(null);
      return;
    }
    const attempt = ++loads;
    show(ui.cartLoading, !cart);
    let fresh;
    try {
      fresh = await api.cart(brand);
    } catch (error) {
      if (attempt !== loads) return;
      show(ui.cartLoading, false);
      setError(messageOf(error));
      return;
    }
    if (attempt !== loads) return;
    show(ui.cartLoading, false);
    update(fresh);
  }

  function renderLines() {
    const items = cart?.items ?? [];
    // Keep the keyboard where it was: the lines are drawn again after each change.
    const focused = document.activeElement?.closest?.("[data-item-id]") ? document.activeElement : null;
    const focusKey = focused && [focused.closest("[data-item-id]").dataset.itemId, focused.dataset.testid];
    ui.cartLines.replaceChildren(...items.map(line));
    show(ui.cartEmpty, items.length === 0 && ui.cartLoading.hidden);
    show(ui.cartFoot, items.length > 0);
    if (cart) ui.cartSubtotal.textContent = money(cart.subtotal, cart.currency);
    ui.checkout.disabled = items.length === 0 || items.some((item) => item.problem);
    if (focusKey) {
      const row = ui.cartLines.querySelector(`[data-item-id="${CSS.escape(focusKey[0])}"]`);
      row?.querySelector(`[data-testid="${focusKey[1]}"]:not(:disabled)`)?.focus();
    }
    reloadOnExpiry = true;
    tick();
  }

  function line(item) {
    const currency = cart.currency;
    const name = `${item.title}${item.label ? `, ${item.label}` : ""}`;
    const quantityButton = (label, sign, testId, quantity, disabled) =>
      el("button", {
        type: "button",
        class: "button button-small qty-button",
        "data-testid": testId,
        "aria-label": label,
        text: sign,
        disabled,
        onclick: () => change(() => api.changeCartItem(brand, item.id, quantity)),
      });
    const dealNote =
      item.deal_quantity > 0
        ? t("cart.deal_price", { count: item.deal_quantity, price: money(item.unit_price, currency) })
        : "";
    return el(
      "li",
      { class: "cart-line", "data-testid": "cart-line", "data-item-id": item.id, "data-problem": item.problem },
      productImage(item.image_url, "cart-image"),
      el(
        "div",
        { class: "cart-line-body" },
        el("p", { class: "cart-line-title", "data-testid": "cart-line-title", text: item.title }),
        el("p", { class: "muted", "data-testid": "cart-line-label", text: item.label }),
        el("p", { class: "hint", text: dealNote }),
        el("p", {
          class: "cart-hold",
          "data-testid": "cart-hold",
          "data-held-until": item.held_quantity > 0 && item.held_until ? item.held_until : null,
        }),
        el("p", { class: "cart-problem", role: "alert", "data-testid": "cart-problem", text: problemText(item) }),
        el(
          "div",
          { class: "cart-line-actions" },
          el(
            "div",
            { class: "qty", role: "group", "aria-label": t("cart.quantity_of", { name }) },
            quantityButton(t("cart.one_less", { name }), "−", "qty-minus", item.quantity - 1, item.quantity <= 1),
            el("span", { class: "qty-value", "data-testid": "qty", text: String(item.quantity) }),
            quantityButton(t("cart.one_more", { name }), "+", "qty-plus", item.quantity + 1, item.quantity >= mostOf(item)),
          ),
          el("button", {
            type: "button",
            class: "button button-small button-quiet",
            "data-testid": "remove-item",
            "aria-label": t("cart.remove_name", { name }),
            text: t("cart.remove"),
            onclick: () => change(() => api.removeCartItem(brand, item.id)),
          }),
        ),
      ),
      el("p", { class: "cart-line-total", "data-testid": "line-total", text: money(item.line_total, currency) }),
    );
  }

  function problemText(item) {
    if (item.problem === "sold_out") return t("cart.sold_out");
    if (item.problem === "short") return t("cart.short", { count: item.available });
    return "";
  }

  async function change(call) {
    setError("");
    try {
      update(await call());
    } catch (error) {
      setError(messageOf(error));
      load(); // what the server has now, whatever went wrong
    }
  }

  /** The holds' countdowns: "Held for you for 9:41", until the units go back on sale. */
  function tick() {
    let running = false;
    let expired = false;
    for (const node of ui.cartLines.querySelectorAll("[data-held-until]")) {
      const left = (Date.parse(node.dataset.heldUntil) - Date.now()) / 1000;
      if (left > 0) {
        running = true;
        node.textContent = t("cart.held", { time: clockText(left) });
      } else {
        expired = true;
        node.textContent = t("cart.not_held");
      }
    }
    if (running && !timer && ui.cartDrawer.open) timer = setInterval(tick, 1000);
    if ((!running || !ui.cartDrawer.open) && timer) {
      clearInterval(timer);
      timer = 0;
    }
    if (expired && reloadOnExpiry && ui.cartDrawer.open) {
      reloadOnExpiry = false; // once per answer: the server says what the line is now
      load();
    }
  }

  function showCart() {
    show(ui.cartView);
    checkout.hide();
    ui.cartTitle.textContent = t("cart.title");
  }

  function open() {
    showCart();
    setError("");
    if (!ui.cartDrawer.open) ui.cartDrawer.showModal();
    ui.cartTitle.focus();
    load();
  }

  ui.cartButton.addEventListener("click", open);
  ui.cartClose.addEventListener("click", () => ui.cartDrawer.close());
  ui.cartDrawer.addEventListener("close", () => {
    tick();
    checkout.closed();
    ui.cartButton.focus();
  });
  // A tap on the dimmed page around the drawer closes it.
  ui.cartDrawer.addEventListener("click", (event) => {
    if (event.target === ui.cartDrawer) ui.cartDrawer.close();
  });
  ui.checkout.addEventListener("click", () => {
    show(ui.cartView, false);
    ui.cartTitle.textContent = t("cart.checkout_title");
    checkout.open();
  });

  return {
    update,
    open,
    /** The brand whose products are shown; the first time, the viewer's cart there (after a reload). */
    setBrand(slug) {
      if (!slug || slug === brand) return;
      brand = slug;
      load();
    },
    /** Stock moved: a line may have become unbuyable (or buyable again). */
    stockChanged(change) {
      if (ui.cartDrawer.open && cart?.items.some((item) => item.variant_id === change.variant_id)) load();
    },
  };
}
