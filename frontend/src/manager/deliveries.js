// One webhook endpoint's deliveries on the manager page: each with where it stands and every attempt
// (when, how long, the HTTP status, the start of the answer), and replayed on request with the same
// webhook-id, so the shop can tell it already has it.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { browserTimeZone, episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const STATES = {
  pending: () => t("webhooks.state_pending"),
  sending: () => t("webhooks.state_sending"),
  sent: () => t("webhooks.state_sent"),
  failed: () => t("webhooks.state_failed"),
  dead: () => t("webhooks.state_dead"),
};

/** The deliveries panel; `notify(text, kind)` says what happened at the top of the page. */
export function setUpDeliveries({ notify }) {
  const ui = byTestIds(["deliveries", "deliveries-title", "deliveries-refresh", "delivery-list", "no-deliveries"]);
  let endpoint = null;
  let loads = 0;
  const when = (iso) => episodeTime(iso, browserTimeZone());

  async function load() {
    const attempt = ++loads;
    const shown = endpoint;
    try {
      const found = await api.webhookDeliveries(shown.id);
      if (attempt !== loads) return;
      ui.deliveryList.replaceChildren(...found.map((delivery) => row(shown, delivery)));
      show(ui.noDeliveries, found.length === 0);
    } catch (error) {
      if (attempt === loads) notify(t("webhooks.deliveries_failed", { error: messageOf(error) }), "error");
    }
  }

  function status(delivery) {
    if (delivery.state === "failed" && delivery.next_try_at) {
      return t("webhooks.retry_at", { when: when(delivery.next_try_at) });
    }
    return delivery.last_error && delivery.state === "dead" ? t("webhooks.last_error", { error: delivery.last_error }) : "";
  }

  function row(shown, delivery) {
    const replay = el("button", {
      type: "button",
      class: "button button-small",
      "data-testid": "replay-delivery",
      "aria-label": t("webhooks.replay_label", { event: delivery.event, when: when(delivery.created_at) }),
      text: t("webhooks.replay"),
      disabled: delivery.state === "sending" || !shown.enabled,
      onclick: async () => {
        replay.disabled = true;
        try {
          await api.replayWebhookDelivery(shown.id, delivery.id);
          notify(t("webhooks.replayed", { event: delivery.event }));
          await load();
        } catch (error) {
          replay.disabled = false;
          notify(t("webhooks.not_replayed", { error: messageOf(error) }), "error");
        }
      },
    });
    return el(
      "li",
      { class: "delivery", "data-testid": "delivery", "data-delivery-id": delivery.id },
      el(
        "div",
        { class: "delivery-head" },
        el("code", { class: "delivery-event", "data-testid": "delivery-event", text: delivery.event }),
        el("span", { class: "muted", text: when(delivery.created_at) }),
        el("span", {
          class: "email-state",
          "data-state": delivery.state,
          "data-testid": "delivery-state",
          text: STATES[delivery.state]?.() ?? delivery.state,
        }),
        replay,
      ),
      el("p", { class: "delivery-status", "data-testid": "delivery-status", text: status(delivery) }),
      delivery.tries.length ? attempts(delivery) : el("p", { class: "muted", text: t("webhooks.not_tried") }),
    );
  }

  function attempts(delivery) {
    return el(
      "table",
      { class: "attempts", "data-testid": "attempts" },
      el("caption", { class: "visually-hidden", text: t("webhooks.attempts_of", { event: delivery.event }) }),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", text: "#" }),
          el("th", { scope: "col", text: t("webhooks.attempt_when") }),
          el("th", { scope: "col", text: t("webhooks.attempt_status") }),
          el("th", { scope: "col", text: t("webhooks.attempt_duration") }),
          el("th", { scope: "col", text: t("webhooks.attempt_answer") }),
        ),
      ),
      el(
        "tbody",
        {},
        delivery.tries.map((attempt) =>
          el(
            "tr",
            { "data-testid": "attempt", "data-ok": String(attempt.ok) },
            el("td", { text: String(attempt.number) }),
            el("td", { text: when(attempt.at) }),
            el("td", {
              "data-testid": "attempt-status",
              text: attempt.status_code === null ? t("webhooks.no_status") : String(attempt.status_code),
            }),
            el("td", { text: t("webhooks.milliseconds", { ms: attempt.duration_ms }) }),
            el("td", { class: "attempt-answer", "data-testid": "attempt-answer", text: attempt.detail }),
          ),
        ),
      ),
    );
  }

  ui.deliveriesRefresh.addEventListener("click", () => endpoint && load());

  return {
    /** Show this endpoint's deliveries. */
    async open(next) {
      endpoint = next;
      ui.deliveriesTitle.textContent = t("webhooks.deliveries_of", { url: next.url });
      ui.deliveryList.replaceChildren();
      show(ui.noDeliveries, false);
      show(ui.deliveries);
      ui.deliveriesTitle.focus();
      await load();
    },
    /** The endpoint changed (turned on or off): its deliveries are shown again if they are open. */
    async update(changed) {
      if (endpoint?.id !== changed.id) return;
      endpoint = changed;
      ui.deliveriesTitle.textContent = t("webhooks.deliveries_of", { url: changed.url });
      await load();
    },
    /** The endpoint was deleted: its deliveries go too. */
    forget(endpointId) {
      if (endpoint?.id === endpointId) this.close();
    },
    close() {
      endpoint = null;
      loads += 1;
      show(ui.deliveries, false);
      ui.deliveryList.replaceChildren();
    },
  };
}
