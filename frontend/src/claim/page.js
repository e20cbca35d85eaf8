// The claim page (/claim/{giveaway_id}): a winner sends where the prize goes (email, and a delivery
// address or a pickup store) before the deadline. It asks with the token this browser entered with
// (the guest's, or the tab's staff sign-in): only the winning identity may claim (docs/api.md,
// "Giveaways").

import "./page.css";
import { ApiError, api, messageOf, useToken } from "../shared/api.js";
import { countries, homeCountry } from "../shared/countries.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { savedGuest, savedSession } from "../shared/session.js";
import { locale, t } from "../shared/i18n.js";

const giveawayId = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop());
const ui = byTestIds([
  "claim-title",
  "claim-status",
  "claim-entry",
  "claim-form",
  "claim-email",
  "claim-pickup-choice",
  "claim-store-field",
  "claim-store",
  "claim-store-address",
  "claim-address",
  "claim-name",
  "claim-line",
  "claim-postal-code",
  "claim-city",
  "claim-country",
  "claim-error",
  "claim-submit",
]);

const when = (iso) => new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
let stores = [];

function status(text) {
  ui.claimStatus.textContent = text;
}

function pickup() {
  return ui.claimForm.elements.method.value === "pickup";
}

function renderMethod() {
  show(ui.claimStoreField, pickup());
  show(ui.claimAddress, !pickup());
  for (const input of ui.claimAddress.querySelectorAll("input, select")) input.required = !pickup();
  const store = stores.find((s) => s.id === ui.claimStore.value);
  ui.claimStoreAddress.textContent = store?.address ?? "";
}

function showForm(claim) {
  stores = claim.pickup_stores ?? [];
  ui.claimCountry.replaceChildren(...countries().map(([code, name]) => el("option", { value: code, text: name })));
  ui.claimCountry.value = homeCountry();
  ui.claimStore.replaceChildren(...stores.map((s) => el("option", { value: s.id, text: s.name })));
  show(ui.claimPickupChoice, stores.length > 0);
  renderMethod();
  show(ui.claimForm);
  ui.claimEmail.focus();
}

function body() {
  const claim = { email: ui.claimEmail.value.trim() };
  if (pickup()) {
    claim.pickup_store_id = ui.claimStore.value;
  } else {
    claim.delivery = {
      name: ui.claimName.value.trim(),
      address_line: ui.claimLine.value.trim(),
      postal_code: ui.claimPostalCode.value.trim(),
      city: ui.claimCity.value.trim(),
      country: ui.claimCountry.value,
    };
  }
  return claim;
}

ui.claimForm.addEventListener("change", renderMethod);
ui.claimForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  ui.claimError.textContent = "";
  if (!ui.claimForm.reportValidity()) return;
  ui.claimSubmit.disabled = true;
  ui.claimSubmit.textContent = t("claim.sending");
  try {
    await api.claimPrize(giveawayId, body());
    show(ui.claimForm, false);
    status(t("claim.sent"));
    ui.claimTitle.focus();
  } catch (error) {
    ui.claimError.textContent = messageOf(error);
  } finally {
    ui.claimSubmit.disabled = false;
    ui.claimSubmit.textContent = t("claim.send");
  }
});

async function start() {
  const token = savedSession()?.token ?? savedGuest()?.token;
  if (!token) {
    status(t("claim.no_token"));
    return;
  }
  useToken(token);
  let mine;
  try {
    mine = await api.myGiveaway(giveawayId);
  } catch (error) {
    status(error instanceof ApiError && error.status === 401 ? t("claim.no_token") : messageOf(error));
    return;
  }
  if (mine.entry_id) {
    ui.claimEntry.textContent = t("claim.entry", { id: mine.entry_id });
    show(ui.claimEntry);
  }
  if (!mine.entry_id) status(t("claim.not_entered"));
  else if (!mine.won || !mine.claim) status(t("claim.lost"));
  else if (mine.claim.status === "claimed") status(t("claim.claimed", { at: when(mine.claim.claimed_at) }));
  else if (mine.claim.status === "expired") status(t("claim.expired"));
  else {
    status(t("claim.won", { deadline: when(mine.claim.deadline) }));
    showForm(mine.claim);
  }
}

start();
