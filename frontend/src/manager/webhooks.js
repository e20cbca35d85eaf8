// The manager page's webhooks (managers): the brand's endpoints, where Shopcast tells its shop what
// happens (docs/api.md, "Webhooks"). Add, change and delete one; its secret is shown once, when it is
// made or rotated; send it a test event; open its deliveries (deliveries.js).

import { api, messageOf } from "../shared/api.js";
import { byTestIds, copyToClipboard, el, show } from "../shared/dom.js";
import { browserTimeZone, episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { setUpDeliveries } from "./deliveries.js";

/** The events an endpoint can listen to, with their names in the page's language. */
const EVENTS = [
  ["order.created", () => t("webhooks.event_order_created")],
  ["order.paid", () => t("webhooks.event_order_paid")],
  ["order.fulfilled", () => t("webhooks.event_order_fulfilled")],
  ["order.cancelled", () => t("webhooks.event_order_cancelled")],
  ["episode.live", () => t("webhooks.event_episode_live")],
  ["episode.ended", () => t("webhooks.event_episode_ended")],
  ["giveaway.drawn", () => t("webhooks.event_giveaway_drawn")],
  ["cart.abandoned", () => t("webhooks.event_cart_abandoned")],
];
const eventName = new Map(EVENTS);

/** Sets up the webhooks view; `notify(text, kind)` says what happened at the top of the page. */
export function setUpWebhooks({ notify }) {
  const ui = byTestIds([
    "webhooks-view",
    "webhooks-title",
    "new-endpoint",
    "endpoint-form",
    "endpoint-form-title",
    "endpoint-url",
    "endpoint-description",
    "endpoint-events",
    "endpoint-enabled",
    "endpoint-form-error",
    "endpoint-form-submit",
    "endpoint-form-cancel",
    "secret-box",
    "secret-hint",
    "endpoint-secret",
    "copy-secret",
    "secret-feedback",
    "secret-done",
    "endpoints-loading",
    "endpoint-list",
    "no-endpoints",
  ]);
  const deliveries = setUpDeliveries({ notify });

  let membership = null;
  let loads = 0;
  let loaded = false;
  let endpoints = [];
  let editing = null; // the endpoint the form changes; null for a new one
  const when = (iso) => episodeTime(iso, browserTimeZone());

  ui.endpointEvents.append(
    ...EVENTS.map(([event, name]) =>
      el(
        "label",
        { class: "choice" },
        el("input", { type: "checkbox", name: "events", value: event, "data-testid": `endpoint-event-${event}` }),
        ` ${name()} `,
        el("code", { "data-testid": "event-type", text: event }),
      ),
    ),
  );

  async function load() {
    const attempt = ++loads;
    loaded = true;
    show(ui.endpointsLoading);
    try {
      const found = await api.webhooks(membership.brand.slug);
      if (attempt !== loads) return;
      endpoints = found;
      render();
    } catch (error) {
      if (attempt === loads) notify(t("webhooks.failed", { error: messageOf(error) }), "error");
    } finally {
      if (attempt === loads) show(ui.endpointsLoading, false);
    }
  }

  function render() {
    ui.endpointList.replaceChildren(...endpoints.map(row));
    show(ui.noEndpoints, endpoints.length === 0);
  }

  function row(endpoint) {
    const actions = el("div", { class: "actions endpoint-actions" });
    const button = (testId, text, onclick, extra = {}) =>
      el("button", { type: "button", class: "button button-small", "data-testid": testId, text, onclick, ...extra });
    const remove = button("delete-endpoint", t("webhooks.delete"), () => confirmDelete(), {
      class: "button button-small button-danger-quiet",
    });
    actions.append(
      button("open-deliveries", t("webhooks.deliveries"), () => deliveries.open(endpoint)),
      button("test-endpoint", t("webhooks.send_test"), () => sendTest(endpoint), { disabled: !endpoint.enabled }),
      button("edit-endpoint", t("webhooks.edit"), () => openForm(endpoint), { "aria-controls": "endpoint-form" }),
      button("rotate-secret", t("webhooks.rotate"), () => rotate(endpoint)),
      remove,
    );
    const item = el(
      "li",
      { class: "card endpoint", "data-testid": "endpoint", "data-endpoint-id": endpoint.id },
      el(
        "div",
        { class: "endpoint-head" },
        el("span", { class: "endpoint-url", "data-testid": "endpoint-row-url", text: endpoint.url }),
        el("span", {
          class: "email-state",
          "data-state": endpoint.enabled ? "sent" : "dead",
          "data-testid": "endpoint-row-state",
          text: endpoint.enabled ? t("webhooks.on") : t("webhooks.off"),
        }),
      ),
      endpoint.description ? el("p", { class: "endpoint-description", text: endpoint.description }) : null,
      el("p", {
        class: "muted endpoint-events-list",
        "data-testid": "endpoint-row-events",
        text: t("webhooks.listens_to", { events: endpoint.events.map((e) => eventName.get(e)?.() ?? e).join(", ") }),
      }),
      endpoint.disabled_reason
        ? el("p", {
            class: "form-error",
            "data-testid": "endpoint-row-reason",
            text: t("webhooks.turned_off", { reason: endpoint.disabled_reason }),
          })
        : null,
      endpoint.previous_secret_until
        ? el("p", { class: "hint", text: t("webhooks.previous_until", { when: when(endpoint.previous_secret_until) }) })
        : null,
      actions,
    );

    function confirmDelete() {
      const keep = button("keep-endpoint", t("webhooks.keep"), () => {
        actions.replaceChildren(...buttons);
        remove.focus();
      });
      const yes = button("confirm-delete", t("webhooks.confirm_delete"), async () => {
        yes.disabled = true;
        try {
          await api.deleteWebhook(endpoint.id);
          endpoints = endpoints.filter((e) => e.id !== endpoint.id);
          deliveries.forget(endpoint.id);
          render();
          notify(t("webhooks.deleted", { url: endpoint.url }));
          ui.webhooksTitle.focus();
        } catch (error) {
          yes.disabled = false;
          notify(t("webhooks.not_deleted", { error: messageOf(error) }), "error");
        }
      }, { class: "button button-small button-danger" });
      actions.replaceChildren(
        el(
          "div",
          { class: "confirm", role: "group", "aria-label": t("webhooks.delete_group", { url: endpoint.url }) },
          el("span", { class: "confirm-question", text: t("webhooks.delete_question") }),
          yes,
          keep,
        ),
      );
      keep.focus();
    }
    const buttons = [...actions.children];
    return item;
  }

  // --- the form: a new endpoint, or one changed --------------------------------------------

  function openForm(endpoint = null) {
    editing = endpoint;
    ui.endpointFormTitle.textContent = endpoint ? t("webhooks.edit_title") : t("webhooks.new_title");
    ui.endpointFormSubmit.textContent = endpoint ? t("webhooks.save") : t("webhooks.create");
    ui.endpointUrl.value = endpoint?.url ?? "";
    ui.endpointDescription.value = endpoint?.description ?? "";
    const chosen = new Set(endpoint?.events ?? EVENTS.map(([event]) => event).filter((e) => e.startsWith("order.")));
    for (const box of ui.endpointEvents.querySelectorAll("input[name=events]")) box.checked = chosen.has(box.value);
    ui.endpointEnabled.checked = endpoint?.enabled ?? true;
    ui.endpointFormError.textContent = "";
    show(ui.endpointForm);
    ui.endpointUrl.focus();
  }

  function closeForm() {
    show(ui.endpointForm, false);
    editing = null;
  }

  ui.newEndpoint.addEventListener("click", () => openForm());
  ui.endpointFormCancel.addEventListener("click", () => {
    closeForm();
    ui.newEndpoint.focus();
  });

  ui.endpointForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const events = [...ui.endpointEvents.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    if (events.length === 0) {
      ui.endpointFormError.textContent = t("webhooks.pick_an_event");
      return;
    }
    const body = {
      url: ui.endpointUrl.value.trim(),
      description: ui.endpointDescription.value.trim(),
      events,
      enabled: ui.endpointEnabled.checked,
    };
    ui.endpointFormSubmit.disabled = true;
    ui.endpointFormError.textContent = "";
    try {
      if (editing) {
        const changed = await api.changeWebhook(editing.id, body);
        endpoints = endpoints.map((e) => (e.id === changed.id ? changed : e));
        notify(t("webhooks.saved", { url: changed.url }));
        deliveries.update(changed);
      } else {
        const made = await api.addWebhook(membership.brand.slug, body);
        endpoints = [...endpoints, made];
        showSecret(made, t("webhooks.secret_new"));
      }
      closeForm();
      render();
    } catch (error) {
      ui.endpointFormError.textContent = messageOf(error);
    } finally {
      ui.endpointFormSubmit.disabled = false;
    }
  });

  // --- the secret, shown once -----------------------------------------------------------------

  function showSecret(endpoint, hint) {
    ui.secretHint.textContent = hint;
    ui.endpointSecret.value = endpoint.secret;
    ui.secretFeedback.textContent = "";
    show(ui.secretBox);
    ui.endpointSecret.focus();
  }

  ui.copySecret.addEventListener("click", async () => {
    const copied = await copyToClipboard(ui.endpointSecret);
    ui.secretFeedback.textContent = copied ? t("manager.copied") : t("manager.copy_by_hand");
  });
  ui.endpointSecret.addEventListener("focus", () => ui.endpointSecret.select());
  ui.secretDone.addEventListener("click", () => {
    ui.endpointSecret.value = "";
    show(ui.secretBox, false);
    ui.webhooksTitle.focus();
  });

  async function rotate(endpoint) {
    try {
      const rotated = await api.rotateWebhookSecret(endpoint.id);
      endpoints = endpoints.map((e) => (e.id === rotated.id ? rotated : e));
      render();
      showSecret(rotated, t("webhooks.secret_rotated", { when: when(rotated.previous_secret_until) }));
    } catch (error) {
      notify(t("webhooks.not_rotated", { error: messageOf(error) }), "error");
    }
  }

  async function sendTest(endpoint) {
    try {
      await api.testWebhook(endpoint.id);
      notify(t("webhooks.test_sent", { url: endpoint.url }));
      await deliveries.open(endpoint);
    } catch (error) {
      notify(t("webhooks.test_failed", { error: messageOf(error) }), "error");
    }
  }

  return {
    setBrand(next) {
      membership = next;
      loaded = false;
      loads += 1;
      endpoints = [];
      closeForm();
      show(ui.secretBox, false);
      ui.endpointSecret.value = "";
      ui.endpointList.replaceChildren();
      deliveries.close();
    },
    showView(visible) {
      show(ui.webhooksView, visible);
      if (visible && !loaded && membership) load();
    },
  };
}
