// The manager page's orders (managers): the brand's orders filtered by episode, status and dates, a page
// at a time, with the totals of what the filters keep and the same orders as a CSV file; one opened on
// the side (order-detail.js) to be marked paid, shipped or ready for pickup, or cancelled.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, saveFile, show } from "../shared/dom.js";
import { browserTimeZone, episodeTime, money } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { setUpOrderDetail, statusLabel } from "./order-detail.js";

const PAGE = 50;

/**
 * Sets up the orders view; `notify(text, kind)` says what happened at the top of the page, and
 * `openEmail(emailId)` shows one email in the Emails tab.
 */
export function setUpOrders({ notify, openEmail }) {
  const ui = byTestIds([
    "orders-view",
    "orders-filters",
    "orders-episode",
    "orders-status",
    "orders-from",
    "orders-to",
    "orders-filter-error",
    "orders-csv",
    "orders-totals",
    "orders-loading",
    "order-list",
    "no-orders",
    "orders-more",
  ]);

  let membership = null;
  let loads = 0;
  let loaded = false;
  let filters = {};
  let orders = [];
  let episodes = new Map(); // id → "Title · Tue 22 Sept, 19:00 CEST", for the filter and an order's lines

  const when = (iso) => episodeTime(iso, browserTimeZone());

  const detail = setUpOrderDetail({
    notify,
    openEmail,
    episodeName: (id) => episodes.get(id) ?? null,
    onMoved: (order) => {
      orders = orders.map((o) => (o.id === order.id ? order : o));
      ui.orderList.querySelector(`[data-order-id="${CSS.escape(order.id)}"]`)?.parentElement.replaceWith(row(order));
      loadTotals(loads);
    },
    onClosed: (orderId) => ui.orderList.querySelector(`[data-order-id="${CSS.escape(orderId)}"]`)?.focus(),
  });

  // --- the filters ------------------------------------------------------------------------------

  /** The episodes that can have sold something (live or over, or due to have started), newest first. */
  async function loadEpisodes(attempt) {
    let lists;
    try {
      const shows = await api.shows(membership.brand.slug);
      lists = await Promise.all(shows.map((s) => api.episodes(s.id, true)));
    } catch (error) {
      // The orders are still worth listing: the filter offers no episode until the next try.
      if (attempt === loads) notify(t("orders.episodes_failed", { error: messageOf(error) }), "error");
      return;
    }
    if (attempt !== loads) return;
    const now = Date.now();
    const aired = lists
      .flat()
      .filter((e) => e.status === "live" || e.status === "ended" || (e.status === "scheduled" && Date.parse(e.starts_at) <= now))
      .sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at));
    episodes = new Map(aired.map((e) => [e.id, `${e.title} · ${episodeTime(e.starts_at, e.time_zone)}`]));
    const chosen = ui.ordersEpisode.value;
    ui.ordersEpisode.replaceChildren(
      el("option", { value: "", text: t("orders.any_episode") }),
      ...aired.map((e) => el("option", { value: e.id, "data-testid": "episode-option", text: episodes.get(e.id) })),
    );
    ui.ordersEpisode.value = episodes.has(chosen) ? chosen : "";
  }

  /** A date input's day as the instant it starts on this device ("2026-09-20" → its local midnight). */
  function dayStart(value, days = 0) {
    const [year, month, day] = value.split("-").map(Number);
    return new Date(year, month - 1, day + days).toISOString();
  }

  /** What the form asks for, as the API's filters; null (and the reason said) when it makes no sense. */
  function readFilters() {
    const from = ui.ordersFrom.value;
    const to = ui.ordersTo.value;
    ui.ordersFrom.removeAttribute("aria-invalid");
    if (from && to && from > to) {
      ui.ordersFilterError.textContent = t("orders.dates_backwards");
      ui.ordersFrom.setAttribute("aria-invalid", "true");
      ui.ordersFrom.focus();
      return null;
    }
    ui.ordersFilterError.textContent = "";
    return {
      episode_id: ui.ordersEpisode.value || null,
      status: ui.ordersStatus.value || null,
      since: from ? dayStart(from) : null,
      until: to ? dayStart(to, 1) : null, // the whole last day
    };
  }

  ui.ordersFilters.addEventListener("submit", (event) => {
    event.preventDefault();
    const asked = readFilters();
    if (asked) load(asked);
  });

  ui.ordersFilters.addEventListener("reset", () => {
    // After the form has put its fields back.
    setTimeout(() => {
      ui.ordersFilterError.textContent = "";
      ui.ordersFrom.removeAttribute("aria-invalid");
      load({});
    });
  });

  // --- the list and its totals ----------------------------------------------------------------------

  async function load(asked = filters) {
    const attempt = ++loads;
    loaded = true;
    filters = asked;
    orders = [];
    detail.close();
    ui.orderList.replaceChildren();
    ui.orderList.setAttribute("aria-busy", "true");
    show(ui.ordersLoading);
    show(ui.noOrders, false);
    show(ui.ordersMore, false);
    ui.ordersTotals.textContent = "";
    try {
      const [page] = await Promise.all([
        api.orders(membership.brand.slug, filters, null, PAGE),
        loadTotals(attempt),
        episodes.size ? null : loadEpisodes(attempt),
      ]);
      if (attempt !== loads) return;
      add(page);
      show(ui.noOrders, page.length === 0);
    } catch (error) {
      if (attempt === loads) notify(t("orders.failed", { error: messageOf(error) }), "error");
    } finally {
      if (attempt === loads) {
        show(ui.ordersLoading, false);
        ui.orderList.setAttribute("aria-busy", "false");
      }
    }
  }

  function add(page) {
    orders = [...orders, ...page];
    ui.orderList.append(...page.map(row));
    show(ui.ordersMore, page.length === PAGE);
  }

  ui.ordersMore.addEventListener("click", async () => {
    const attempt = loads;
    const last = orders[orders.length - 1];
    ui.ordersMore.disabled = true;
    try {
      const page = await api.orders(membership.brand.slug, filters, last.id, PAGE);
      if (attempt !== loads) return;
      const first = ui.orderList.children.length;
      add(page);
      // The keyboard goes on from the first order the button brought.
      ui.orderList.children[first]?.querySelector("button")?.focus();
    } catch (error) {
      if (attempt === loads) notify(t("orders.failed", { error: messageOf(error) }), "error");
    } finally {
      ui.ordersMore.disabled = false;
    }
  });

  async function loadTotals(attempt) {
    try {
      const totals = await api.orderTotals(membership.brand.slug, filters);
      if (attempt === loads) ui.ordersTotals.replaceChildren(...totalsLine(totals));
    } catch (error) {
      if (attempt === loads) ui.ordersTotals.textContent = t("orders.totals_failed", { error: messageOf(error) });
    }
  }

  function totalsLine(totals) {
    if (totals.orders === 0) return [t("orders.none_match")];
    const revenue = totals.revenue.map((r) => money(r.amount, r.currency)).join(" + ");
    const parts = [
      el("span", { "data-testid": "orders-total-count", text: t("orders.count", { count: totals.orders }) }),
      el("span", { "data-testid": "orders-total-units", text: t("orders.units", { count: totals.units }) }),
      el("span", { "data-testid": "orders-total-revenue", text: revenue }),
    ];
    const line = parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
    if (totals.cancelled) line.push(" ", t("orders.cancelled_left_out", { count: totals.cancelled }));
    return line;
  }

  function row(order) {
    const items = order.items.reduce((sum, line) => sum + line.quantity, 0);
    return el(
      "li",
      {},
      el(
        "button",
        {
          type: "button",
          class: "order-row",
          "data-testid": "order-row",
          "data-order-id": order.id,
          "aria-current": order.id === detail.openId() ? "true" : false,
          onclick: () => open(order),
        },
        el(
          "span",
          { class: "order-row-head" },
          el("span", { class: "order-row-number", "data-testid": "order-row-number", text: order.number }),
          el("span", {
            class: `badge order-status order-status-${order.status}`,
            "data-testid": "order-row-status",
            text: statusLabel(order),
          }),
        ),
        el("span", { class: "order-row-buyer", "data-testid": "order-row-buyer", text: order.name }),
        el("span", {
          class: "order-row-meta",
          text: [when(order.created_at), t("orders.items_count", { count: items }), money(order.totals.total, order.totals.currency)].join(" · "),
        }),
      ),
    );
  }

  function open(order) {
    for (const button of ui.orderList.querySelectorAll("[data-order-id]")) {
      button.setAttribute("aria-current", String(button.dataset.orderId === order.id));
    }
    detail.open(order);
  }

  // --- the file ---------------------------------------------------------------------------------------

  // The orders listed: the filters last applied, whatever the form says since.
  ui.ordersCsv.addEventListener("click", async () => {
    ui.ordersCsv.disabled = true;
    try {
      saveFile(await api.ordersFile(membership.brand.slug, filters));
      notify(t("orders.csv_ready"));
    } catch (error) {
      notify(t("orders.csv_failed", { error: messageOf(error) }), "error");
    } finally {
      ui.ordersCsv.disabled = false;
    }
  });

  return {
    setBrand(next) {
      membership = next;
      loaded = false;
      loads += 1;
      filters = {};
      orders = [];
      episodes = new Map();
      for (const field of [ui.ordersEpisode, ui.ordersStatus, ui.ordersFrom, ui.ordersTo]) field.value = "";
      ui.ordersFilterError.textContent = "";
      ui.orderList.replaceChildren();
      ui.ordersTotals.textContent = "";
      detail.close();
    },
    showView(visible) {
      show(ui.ordersView, visible);
      if (visible && !loaded && membership) load({});
    },
  };
}
