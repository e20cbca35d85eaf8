// One order on the manager page: its lines and sums, its buyer, where it goes (an address or a pickup
// store), how it is paid, its history (each move with when and who, each email to the buyer with where
// it stands, opened in the Emails tab), and the moves that make sense for it now, each asked once more
// before it is made. A move the server refuses (someone else moved the order meanwhile) says why.

import { api, messageOf } from "../shared/api.js";
import { countryName } from "../shared/countries.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { browserTimeZone, episodeTime, money } from "../shared/format.js";
import { fill, t } from "../shared/i18n.js";
import { reasonOf } from "./episode-form.js";

const isPickup = (order) => order.shipping.method === "pickup";

/** "Awaiting payment", "Paid", "Shipped" or "Ready for pickup", "Cancelled". */
export function statusLabel(order) {
  if (order.status === "fulfilled") return isPickup(order) ? t("orders.status_ready") : t("orders.status_shipped");
  return t(`orders.status_${order.status}`);
}

/** What a move to `status` is called on its button, and in the history once made. */
function moveWords(order, status) {
  if (status === "paid") return { button: t("orders.mark_paid"), done: t("orders.did_paid") };
  if (status === "cancelled") return { button: t("orders.cancel_order"), done: t("orders.did_cancelled") };
  return isPickup(order)
    ? { button: t("orders.mark_ready"), done: t("orders.did_ready") }
    : { button: t("orders.mark_shipped"), done: t("orders.did_shipped") };
}

const NEXT = { pending_payment: ["paid", "cancelled"], paid: ["fulfilled", "cancelled"], fulfilled: [], cancelled: [] };

/** The question asked before a move: what it does, and what the buyer is told. */
function question(order, status) {
  const about = { number: order.number, name: order.name };
  if (status === "paid") return t("orders.ask_paid", about);
  if (status === "cancelled") return order.paid_at ? t("orders.ask_cancel_paid", about) : t("orders.ask_cancel", about);
  return isPickup(order)
    ? t("orders.ask_ready", { ...about, store: order.shipping.store.name })
    : t("orders.ask_shipped", about);
}

/** What can happen next, said under the moves. */
function nextStep(order) {
  if (order.status === "pending_payment") return t("orders.next_pending");
  if (order.status === "paid") return isPickup(order) ? t("orders.next_paid_pickup") : t("orders.next_paid_delivery");
  return t(`orders.next_${order.status}`);
}

/**
 * `notify(text, kind)`, `openEmail(emailId)`, `episodeName(id)` (null when unknown), `onMoved(order)` once
 * an order moved on, `onClosed(orderId)` once the detail is closed.
 */
export function setUpOrderDetail({ notify, openEmail, episodeName, onMoved, onClosed }) {
  const ui = byTestIds([
    "order-detail",
    "order-title",
    "order-close",
    "order-refresh",
    "order-status",
    "order-placed",
    "order-actions",
    "order-next",
    "order-error",
    "order-lines",
    "order-sums",
    "order-buyer-name",
    "order-buyer-email",
    "order-shipping-title",
    "order-shipping",
    "order-payment-method",
    "order-payment-state",
    "order-history",
  ]);

  let shown = null;
  let opens = 0;
  const when = (iso) => episodeTime(iso, browserTimeZone());
  const price = (minor) => money(minor, shown.totals.currency);

  /** Show `order` at once, then as the server has it now, with its history. */
  async function open(order, { focus = true } = {}) {
    const attempt = ++opens;
    render(order);
    show(ui.orderDetail);
    if (focus) ui.orderTitle.focus();
    ui.orderHistory.setAttribute("aria-busy", "true");
    try {
      const [fresh, history] = await Promise.all([api.order(order.id), api.orderHistory(order.id)]);
      if (attempt !== opens) return;
      render(fresh);
      ui.orderHistory.replaceChildren(...timeline(fresh, history));
    } catch (error) {
      if (attempt === opens) notify(t("orders.open_failed", { error: messageOf(error) }), "error");
    } finally {
      if (attempt === opens) ui.orderHistory.setAttribute("aria-busy", "false");
    }
  }

  function render(order) {
    const changed = shown?.id !== order.id;
    // The same order in the same status (its fresh copy, fetched after it was shown): a question the
    // manager has meanwhile opened ("Mark it paid?") stays open.
    const sameMoves = !changed && shown.status === order.status;
    shown = order;
    ui.orderTitle.textContent = t("orders.order_number", { number: order.number });
    ui.orderStatus.textContent = statusLabel(order);
    ui.orderStatus.className = `badge order-status order-status-${order.status}`;
    ui.orderPlaced.textContent = t("orders.placed_at", { when: when(order.created_at) });
    if (changed) {
      ui.orderError.textContent = "";
      ui.orderHistory.replaceChildren();
    }
    if (!sameMoves) offerMoves();
    ui.orderLines.replaceChildren(...order.items.map(lineItem));
    const sums = [
      [t("orders.items_total"), price(order.totals.items)],
      [t("orders.shipping_total"), price(order.totals.shipping)],
      [order.totals.tax_included ? t("orders.tax_included") : t("orders.tax_added"), price(order.totals.tax)],
      [t("orders.total"), price(order.totals.total)],
    ];
    ui.orderSums.replaceChildren(
      ...sums.flatMap(([name, value], i) => [
        el("dt", { text: name }),
        el("dd", { "data-testid": i === sums.length - 1 ? "order-total" : null, text: value }),
      ]),
    );
    ui.orderBuyerName.textContent = order.name;
    ui.orderBuyerEmail.textContent = order.email;
    ui.orderBuyerEmail.href = `mailto:${order.email}`;
    renderShipping(order);
    ui.orderPaymentMethod.textContent =
      order.payment.provider === "brand_shop"
        ? t("orders.pay_on_shop")
        : isPickup(order)
          ? t("orders.pay_at_pickup")
          : t("orders.pay_on_invoice");
    ui.orderPaymentState.textContent = order.paid_at
      ? t("orders.paid_on", { when: when(order.paid_at) })
      : order.status === "cancelled"
        ? t("orders.not_paid_cancelled")
        : t("orders.not_paid_yet");
  }

  function lineItem(line) {
    const regular = line.quantity - line.deal_quantity;
    const units = [
      line.deal_quantity ? t("orders.line_deal", { count: line.deal_quantity, price: price(line.deal_price) }) : null,
      regular ? t("orders.line_units", { count: regular, price: price(line.unit_price) }) : null,
    ].filter(Boolean);
    const episode = line.episode_id ? episodeName(line.episode_id) : null;
    return el(
      "li",
      { class: "order-line", "data-testid": "order-line" },
      el(
        "div",
        { class: "order-line-what" },
        el("span", { class: "order-line-title", "data-testid": "order-line-title", text: line.title }),
        line.label ? el("span", { class: "order-line-label", "data-testid": "order-line-label", text: line.label }) : null,
        el("span", { class: "order-line-units", "data-testid": "order-line-units", text: units.join(" + ") }),
        episode
          ? el(
              "span",
              { class: "order-line-episode" },
              ...fill(t("orders.bought_during"), {
                episode: el("span", { "data-testid": "order-line-episode", text: episode }),
              }),
            )
          : null,
      ),
      el("span", { class: "order-line-total", text: price(line.line_total) }),
    );
  }

  function renderShipping(order) {
    if (isPickup(order)) {
      const store = order.shipping.store;
      ui.orderShippingTitle.textContent = t("orders.pickup");
      ui.orderShipping.replaceChildren(store.name, el("br"), store.address);
      return;
    }
    const address = order.shipping.address;
    ui.orderShippingTitle.textContent = t("orders.delivery");
    const lines = [address.line1, address.line2, `${address.postal_code} ${address.city}`, countryName(address.country)];
    ui.orderShipping.replaceChildren(...lines.filter(Boolean).flatMap((line, i) => (i ? [el("br"), line] : [line])));
  }

  // --- moving it on ---------------------------------------------------------------------------------

  function offerMoves() {
    const order = shown;
    ui.orderNext.textContent = nextStep(order);
    ui.orderActions.replaceChildren(
      ...NEXT[order.status].map((status) =>
        el("button", {
          type: "button",
          class: status === "cancelled" ? "button button-small button-danger-quiet" : "button button-small button-primary",
          "data-testid": `order-move-${status}`,
          text: moveWords(order, status).button,
          onclick: () => confirm(status),
        }),
      ),
    );
  }

  function confirm(status) {
    const order = shown;
    ui.orderError.textContent = "";
    const keep = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "order-keep",
      text: t("orders.keep"),
      onclick: () => {
        offerMoves();
        ui.orderActions.querySelector(`[data-testid="order-move-${status}"]`)?.focus();
      },
    });
    const yes = el("button", {
      type: "button",
      class: status === "cancelled" ? "button button-small button-danger" : "button button-small button-primary",
      "data-testid": "order-confirm",
      text: moveWords(order, status).button,
      onclick: () => move(order, status, [yes, keep]),
    });
    const asked = question(order, status);
    ui.orderActions.replaceChildren(
      el("div", { class: "confirm", role: "group", "aria-label": asked }, el("span", { class: "confirm-question", text: asked }), yes, keep),
    );
    keep.focus();
  }

  async function move(order, status, buttons) {
    for (const button of buttons) button.disabled = true;
    try {
      const moved = await api.moveOrder(order.id, status);
      const done = { paid: "orders.moved_paid", cancelled: "orders.moved_cancelled" }[status];
      const said = done ?? (isPickup(moved) ? "orders.moved_ready" : "orders.moved_shipped");
      notify(t(said, { number: moved.number, name: moved.name }));
      onMoved(moved);
      await open(moved, { focus: false });
      ui.orderStatus.focus();
    } catch (problem) {
      // Moved by someone else meanwhile, perhaps: the order as it is now, and why this move was refused.
      const reason = t("orders.not_moved", { reason: reasonOf(problem) });
      await open(order, { focus: false });
      offerMoves(); // the question asked is answered: the order's moves as they now are
      ui.orderError.textContent = reason;
      ui.orderActions.querySelector("button")?.focus();
      if (shown?.status !== order.status) onMoved(shown);
    }
  }

  // --- its history ----------------------------------------------------------------------------------

  function timeline(order, history) {
    const entries = [
      ...history.changes.map((change) => ({ at: change.at, rank: 0, node: changeItem(order, change) })),
      ...history.emails.map((email) => ({ at: email.created_at, rank: 1, node: emailItem(email) })),
    ];
    entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.rank - b.rank);
    return entries.map((entry) => entry.node);
  }

  function changeItem(order, change) {
    let text;
    if (change.status === "pending_payment") text = t("orders.placed_by", { name: change.by_name });
    else {
      const what = moveWords(order, change.status).done;
      if (change.by === "brand_shop") text = t("orders.done_by_shop", { what });
      else if (change.by === null) text = t("orders.done_unknown", { what });
      else text = t("orders.done_by", { what, name: change.by_name });
    }
    return el(
      "li",
      { class: "history-change", "data-testid": "history-change", "data-status": change.status },
      el("time", { datetime: change.at, text: when(change.at) }),
      el("span", { text }),
    );
  }

  function emailItem(email) {
    return el(
      "li",
      { class: "history-email", "data-testid": "history-email", "data-template": email.template },
      el("time", { datetime: email.created_at, text: when(email.created_at) }),
      el(
        "span",
        {},
        t("orders.email_to", { to: email.to }),
        " ",
        el("button", {
          type: "button",
          class: "link",
          "data-testid": "history-email-subject",
          "aria-label": t("orders.open_email", { subject: email.subject }),
          text: email.subject,
          onclick: () => openEmail(email.id),
        }),
      ),
      el("span", {
        class: "email-state",
        "data-state": email.state,
        "data-testid": "history-email-state",
        text: t(`emails.state_${email.state}`),
      }),
    );
  }

  ui.orderRefresh.addEventListener("click", () => shown && open(shown, { focus: false }));

  function close() {
    opens += 1;
    shown = null;
    show(ui.orderDetail, false);
  }

  ui.orderClose.addEventListener("click", () => {
    const id = shown?.id;
    close();
    if (id) onClosed(id);
  });

  return { open, close, openId: () => shown?.id ?? null };
}
