// "New weekly show": the form, its defaults and its submission.

import { api, ApiError } from "../shared/api.js";
import { byTestId, el } from "../shared/dom.js";
import { browserTimeZone, dateInDays, scheduleSummary, timeZones } from "../shared/format.js";
import { t } from "../shared/i18n.js";

// API field names → the labels the manager sees, so a refusal points at the right input.
const FIELDS = {
  title: t("show_form.title"),
  description: t("show_form.description"),
  time_zone: t("show_form.time_zone"),
  first_episode_at: t("show_form.first_episode"),
  rrule: t("show_form.repeats"),
  duration_minutes: t("show_form.duration_field"),
  default_host_id: t("show_form.default_host"),
};
const INPUTS = { first_episode_at: "date", rrule: "repeat" };

/** "America/New York": a time zone as the form shows it. */
const zoneName = (zone) => zone.replaceAll("_", " ");

/** Wire the form; `brandSlug()` says where to create, `onCreated(show)` gets the new show. */
export function setUpShowForm(form, { brandSlug, onCreated, onClosed }) {
  const fields = form.elements;
  const zoneSelect = byTestId("show-form-time-zone", form);
  const hostSelect = byTestId("show-form-host", form);
  const summary = byTestId("show-form-summary", form);
  const error = byTestId("show-form-error", form);
  const submit = byTestId("show-form-submit", form);

  const here = browserTimeZone();
  zoneSelect.replaceChildren(
    ...timeZones().map((zone) =>
      el("option", {
        value: zone,
        text: zone === here ? t("show_form.this_device", { zone: zoneName(zone) }) : zoneName(zone),
      }),
    ),
  );

  function updateSummary() {
    const date = fields.date.value;
    const time = fields.time.value.slice(0, 5);
    if (!date || !time) {
      summary.textContent = t("show_form.pick_date");
      return;
    }
    const text = scheduleSummary(fields.repeat.value, `${date}T${time}`);
    summary.textContent = t("show_form.summary", { schedule: text, zone: zoneName(fields.time_zone.value) });
  }

  function reset() {
    form.reset();
    error.textContent = "";
    clearInvalid();
    fields.date.value = dateInDays(7);
    fields.time.value = "19:00";
    fields.duration_minutes.value = "60";
    zoneSelect.value = here;
    updateSummary();
  }

  form.addEventListener("input", (event) => {
    event.target.removeAttribute("aria-invalid");
    updateSummary();
  });
  form.addEventListener("change", updateSummary);
  byTestId("show-form-cancel", form).addEventListener("click", () => {
    close();
    onClosed();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    clearInvalid();
    submit.disabled = true;
    const body = {
      title: fields.title.value,
      description: fields.description.value,
      time_zone: fields.time_zone.value,
      first_episode_at: `${fields.date.value}T${fields.time.value.slice(0, 5)}`,
      rrule: fields.repeat.value,
      duration_minutes: Number(fields.duration_minutes.value),
      default_host_id: fields.default_host_id.value || null,
    };
    try {
      const created = await api.createShow(brandSlug(), body);
      close();
      onCreated(created);
    } catch (problem) {
      showProblem(problem);
    } finally {
      submit.disabled = false;
    }
  });

  function clearInvalid() {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function showProblem(problem) {
    const invalid = problem instanceof ApiError ? problem.problem?.errors || [] : [];
    const known = invalid.filter((e) => FIELDS[e.field]);
    if (known.length === 0) {
      error.textContent = t("show_form.not_created", { error: problem instanceof ApiError ? problem.message : problem });
      return;
    }
    const reasons = known.map((e) =>
      t("show_form.reason", { field: FIELDS[e.field], reason: e.reason.replace(/^Value error, /, "") }),
    );
    error.textContent = t("show_form.refused", { reasons: reasons.join(". ") });
    const inputs = known.map((e) => fields[INPUTS[e.field] || e.field]).filter((input) => input?.setAttribute);
    for (const input of inputs) input.setAttribute("aria-invalid", "true");
    inputs[0]?.focus();
  }

  function open() {
    reset();
    form.hidden = false;
    fields.title.focus();
  }

  function close() {
    form.hidden = true;
  }

  /** Hosts and managers can present; moderators cannot. */
  function setHosts(members) {
    const presenters = members.filter((m) => m.role === "host" || m.role === "manager");
    hostSelect.replaceChildren(
      el("option", { value: "", text: t("show_form.no_default_host") }),
      ...presenters.map((m) => el("option", { value: m.user_id, text: m.display_name || m.email })),
    );
  }

  return { open, close, setHosts };
}
