// "Remind me" under the countdown: the viewer's email and their consent, in the words shown (the server
// keeps them with the time and the page's language); then when the reminder comes, in the show's time.

import { ApiError, api, messageOf } from "../shared/api.js";
import { byTestIds } from "../shared/dom.js";
import { episodeTime } from "../shared/format.js";
import { t } from "../shared/i18n.js";

/** Wires the form; `episode()` is the episode shown (for its time zone). */
export function setUpReminder({ episodeId, episode }) {
  const ui = byTestIds(["remind-form", "remind-email", "remind-consent", "remind-consent-text", "remind-me", "remind-status"]);
  const form = ui.remindForm;
  let sending = false;

  function say(text, kind = "") {
    ui.remindStatus.textContent = text;
    if (kind) ui.remindStatus.dataset.kind = kind;
    else delete ui.remindStatus.dataset.kind;
  }

  form.addEventListener("input", (event) => event.target.removeAttribute?.("aria-invalid"));
  form.addEventListener("change", (event) => event.target.removeAttribute?.("aria-invalid"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    const invalid = [ui.remindEmail, ui.remindConsent].filter((input) => !input.checkValidity());
    for (const input of invalid) input.setAttribute("aria-invalid", "true");
    if (invalid.length) {
      say(t("reminders.fill_in"), "error");
      invalid[0].focus();
      return;
    }
    sending = true;
    ui.remindMe.disabled = true;
    say(t("reminders.sending"));
    try {
      const reminder = await api.remindMe(episodeId, {
        email: ui.remindEmail.value.trim(),
        consent: true,
        consent_text: ui.remindConsentText.textContent.trim(),
      });
      const zone = episode()?.time_zone;
      say(t("reminders.done", { email: reminder.email, time: episodeTime(reminder.remind_at, zone) }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) ui.remindEmail.setAttribute("aria-invalid", "true");
      say(t("reminders.failed", { error: messageOf(error) }), "error");
    } finally {
      sending = false;
      ui.remindMe.disabled = false;
    }
  });
}
