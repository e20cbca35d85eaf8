// The guest checkout inside the cart drawer: email, name, delivery or pickup, payment; the full total
// from the server's quote before paying; the order, created once however often the submit is retried
// (one Idempotency-Key per order attempt); then the confirmation with the order number.

import { ApiError, api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { money } from "../shared/format.js";
import { countries, countryName, homeCountry } from "../shared/countries.js";
import { webUrl } from "../shared/product.js";
import { locale, t } from "../shared/i18n.js";

const PAYMENTS = {
  pay_later: [t("checkout.pay_later"), t("checkout.pay_later_note")],
  brand_shop: [t("checkout.pay_on_shop"), t("checkout.new_tab")],
};
// API field paths → the inputs they are about, so a refusal points at the right one.
const INPUTS = {
  email: "email",
  name: "name",
  "shipping.store_id": "store_id",
  "shipping.address.line1": "line1",
  "shipping.address.line2": "line2",
  "shipping.address.postal_code": "postal_code",
  "shipping.address.city": "city",
  "shipping.address.country": "country",
};

/**
 * Wires the checkout form of the drawer. `brand()` and `cart()` give the brand's slug and the cart being
 * bought; `onOrdered(order)` runs once an order is placed, `onBack()` when the buyer goes back to the cart.
 */
export function setUpCheckout({ drawer, brand, cart, onOrdered, onBack }) {
  const ui = byTestIds(
    [
      "checkout-form",
      "back-to-cart",
      "checkout-items",
      "delivery-price",
      "pickup-choice",
      "store-field",
      "checkout-store",
      "store-address",
      "address-fields",
      "checkout-country",
      "payment-choices",
      "totals",
      "checkout-error",
      "place-order",
      "confirmation",
      "confirmation-title",
      "order-number",
      "order-summary",
      "order-instructions",
      "pay-link-row",
      "pay-link",
      "keep-watching",
    ],
    drawer,
  );
  const form = ui.checkoutForm;
  const fields = form.elements;
  let options = null; // ShippingOptions of the brand
  let optionsBrand = null;
  let quotes = 0;
  let quoted = null; // the Totals shown, or null while none is
  let attempt = null; // {key, body}: an order sent whose answer never came; the same order resends its key
  let placing = false;
  let rememberedEmail = null; // the email last kept on the cart

  const method = () => fields.method.value;

  function shipping({ forOrder }) {
    if (method() === "pickup") return { method: "pickup", store_id: fields.store_id.value };
    if (!forOrder) return { method: "delivery" };
    const address = {
      line1: fields.line1.value.trim(),
      postal_code: fields.postal_code.value.trim(),
      city: fields.city.value.trim(),
      country: fields.country.value,
    };
    if (fields.line2.value.trim()) address.line2 = fields.line2.value.trim();
    return { method: "delivery", address };
  }

  async function loadOptions() {
    if (options && optionsBrand === brand()) return true;
    if (!ui.checkoutCountry.options.length) {
      const choices = countries().map(([code, name]) => el("option", { value: code, text: name }));
      ui.checkoutCountry.replaceChildren(...choices);
      ui.checkoutCountry.value = homeCountry();
    }
    try {
      options = await api.shipping(brand());
      optionsBrand = brand();
    } catch (error) {
      ui.checkoutError.textContent = t("checkout.cannot_open", { error: messageOf(error) });
      return false;
    }
    const { currency, flat_rate: rate, free_above: freeAbove } = options;
    ui.deliveryPrice.textContent =
      rate === 0
        ? t("checkout.delivery_free")
        : freeAbove === null
          ? money(rate, currency)
          : t("checkout.delivery_rate", { rate: money(rate, currency), threshold: money(freeAbove, currency) });
    const stores = options.pickup_stores;
    show(ui.pickupChoice, stores.length > 0);
    ui.checkoutStore.replaceChildren(...stores.map((s) => el("option", { value: s.id, text: s.name })));
    if (stores.length === 0) fields.method.value = "delivery";
    const payments = options.payments.filter((name) => PAYMENTS[name]);
    ui.paymentChoices.replaceChildren(
      el("legend", { text: t("checkout.payment") }),
      ...payments.map((name, i) =>
        el(
          "label",
          { class: "choice" },
          el("input", {
            type: "radio",
            name: "payment",
            value: name,
            checked: i === 0,
            "data-testid": `payment-${name}`,
          }),
          el("span", {}, PAYMENTS[name][0], el("span", { class: "choice-note", text: PAYMENTS[name][1] })),
        ),
      ),
    );
    return true;
  }

  function renderMethod() {
    const pickup = method() === "pickup";
    show(ui.storeField, pickup);
    show(ui.addressFields, !pickup);
    for (const name of ["line1", "postal_code", "city", "country"]) fields[name].required = !pickup;
    const store = options?.pickup_stores.find((s) => s.id === fields.store_id.value);
    ui.storeAddress.textContent = pickup && store ? store.address : "";
  }

  /** The full total for this way of getting it, from the server: nothing is paid without it on screen. */
  async function quote() {
    const attemptNo = ++quotes;
    quoted = null;
    renderTotals();
    try {
      const totals = await api.quote(brand(), shipping({ forOrder: false }));
      if (attemptNo !== quotes) return;
      quoted = totals;
      ui.checkoutError.textContent = "";
    } catch (error) {
      if (attemptNo !== quotes) return;
      ui.checkoutError.textContent = t("checkout.no_total", { error: messageOf(error) });
    }
    renderTotals();
  }

  function renderTotals() {
    if (!quoted) {
      // A definition list holds only term and value pairs, this line too.
      ui.totals.replaceChildren(
        el("div", { class: "totals-row muted" }, el("dt", { text: t("checkout.total") }), el("dd", { text: t("checkout.working_out") })),
      );
      renderSubmit();
      return;
    }
    const { currency } = quoted;
    const row = (label, testId, value, extra = "") =>
      el(
        "div",
        { class: `totals-row ${extra}` },
        el("dt", { text: label }),
        el("dd", { "data-testid": testId, text: value }),
      );
    const rate = `${options.tax_rate_percent.toLocaleString(locale)} %`;
    const shippingText = quoted.shipping ? money(quoted.shipping, currency) : t("checkout.free");
    const tax = quoted.tax_included ? t("checkout.incl_tax", { rate }) : t("checkout.tax", { rate });
    ui.totals.replaceChildren(
      row(t("checkout.items"), "total-items", money(quoted.items, currency)),
      row(method() === "pickup" ? t("checkout.pickup_row") : t("checkout.delivery"), "total-shipping", shippingText),
      row(tax, "total-tax", money(quoted.tax, currency)),
      row(t("checkout.total"), "total", money(quoted.total, currency), "totals-total"),
    );
    renderSubmit();
  }

  /** What is being bought, one line each ("2 × Linen wrap dress · Sand / S"): the buyer sees it while paying. */
  function renderItems() {
    const items = cart()?.items ?? [];
    ui.checkoutItems.replaceChildren(
      ...items.map((item) =>
        el("li", {
          class: "checkout-item",
          "data-testid": "checkout-item",
          text: item.label
            ? t("checkout.item", { quantity: item.quantity, title: item.title, label: item.label })
            : t("checkout.item_plain", { quantity: item.quantity, title: item.title }),
        }),
      ),
    );
  }

  function renderSubmit() {
    ui.placeOrder.disabled = placing || !quoted || !cart()?.items.length;
    ui.placeOrder.textContent = placing
      ? t("checkout.placing")
      : quoted
        ? t("checkout.place_order_total", { total: money(quoted.total, quoted.currency) })
        : t("checkout.place_order");
  }

  function clearInvalid() {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  /** The same order sent again (its answer was lost) keeps its key, so the server creates it once. */
  function idempotencyKey(body) {
    const json = JSON.stringify(body);
    if (attempt?.json !== json) attempt = { key: newKey(), json };
    return attempt.key;
  }

  /** The email typed, before ordering: the cart's one follow-up goes there if it is left (nothing if it fails). */
  function rememberEmail() {
    const email = fields.email.value.trim();
    if (!email || !fields.email.checkValidity() || email === rememberedEmail || !cart()?.items.length) return;
    rememberedEmail = email;
    api.checkoutEmail(brand(), email).catch(() => {
      rememberedEmail = null;
    });
  }

  form.addEventListener("change", (event) => {
    event.target.removeAttribute?.("aria-invalid");
    if (event.target === fields.email) rememberEmail();
    if (event.target.name === "method" || event.target.name === "store_id") {
      renderMethod();
      quote();
    }
  });
  form.addEventListener("input", (event) => event.target.removeAttribute?.("aria-invalid"));
  ui.backToCart.addEventListener("click", () => onBack());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (placing || !quoted) return;
    ui.checkoutError.textContent = "";
    clearInvalid();
    if (!form.checkValidity()) {
      // The inputs, not the fieldsets around them (a fieldset with an invalid input is :invalid too).
      const invalid = [...form.querySelectorAll("input:invalid, select:invalid")];
      for (const input of invalid) input.setAttribute("aria-invalid", "true");
      ui.checkoutError.textContent = t("checkout.fill_in");
      invalid[0]?.focus();
      return;
    }
    const body = {
      email: fields.email.value.trim(),
      name: fields.name.value.trim(),
      shipping: shipping({ forOrder: true }),
      payment: form.querySelector("input[name=payment]:checked")?.value ?? "pay_later",
    };
    const key = idempotencyKey(body);
    placing = true;
    renderSubmit();
    try {
      const order = await api.placeOrder(brand(), body, key);
      attempt = null;
      confirm(order);
      onOrdered(order);
    } catch (error) {
      // No answer, or the server failed: the order may exist. A retry of it sends the same key.
      if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) {
        ui.checkoutError.textContent = t("checkout.not_confirmed", { error: messageOf(error) });
      } else {
        attempt = null;
        refused(error);
      }
    } finally {
      placing = false;
      renderSubmit();
    }
  });

  function refused(error) {
    const invalid = (error.problem?.errors || []).filter((e) => INPUTS[e.field]);
    for (const e of invalid) fields[INPUTS[e.field]]?.setAttribute("aria-invalid", "true");
    ui.checkoutError.textContent = messageOf(error);
    if (invalid.length) fields[INPUTS[invalid[0].field]]?.focus();
    if (error.status === 409) quote(); // stock moved: the cart says what is left
  }

  function confirm(order) {
    show(form, false);
    show(ui.confirmation);
    const currency = order.totals.currency;
    ui.confirmationTitle.textContent = t("checkout.thanks_name", { name: order.name });
    ui.orderNumber.textContent = order.number;
    const { method: how, store, address } = order.shipping;
    const where =
      how === "pickup" && store
        ? t("checkout.pick_up_at", { store: store.name, address: store.address })
        : address
          ? t("checkout.delivered_to", { address: addressText(address) })
          : "";
    const total = money(order.totals.total, currency);
    ui.orderSummary.textContent = t("checkout.summary", { total, where, email: order.email });
    ui.orderInstructions.textContent = order.payment.instructions || "";
    // The brand's shop takes the payment in a new tab, so the show keeps playing here. A link the buyer
    // taps rather than a window opened by the page: browsers block those once the answer has come.
    const payUrl = order.payment.redirect_url ? webUrl(order.payment.redirect_url) : null;
    show(ui.payLinkRow, Boolean(payUrl));
    if (payUrl) ui.payLink.href = payUrl;
    ui.confirmationTitle.focus();
  }

  ui.keepWatching.addEventListener("click", () => drawer.close());

  return {
    async open() {
      show(ui.confirmation, false);
      renderItems();
      show(form);
      ui.checkoutError.textContent = "";
      quoted = null;
      renderTotals();
      if (!(await loadOptions())) return;
      renderMethod();
      fields.email.focus();
      quote();
    },
    hide() {
      show(form, false);
      show(ui.confirmation, false);
    },
    /** After the drawer closes: a confirmation is not shown twice. */
    closed() {
      if (!ui.confirmation.hidden) onBack();
    },
    /** The cart changed: the total shown is stale, and an order of another cart is another order. */
    cartChanged() {
      attempt = null;
      if (!form.hidden) {
        renderItems();
        quote();
      }
    },
  };
}

const addressText = (address) =>
  [address.line1, address.line2, `${address.postal_code} ${address.city}`, address.country && countryName(address.country)]
    .filter(Boolean)
    .join(", ");

/** A random UUID (v4) for the Idempotency-Key, also where crypto.randomUUID is missing (plain http). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
