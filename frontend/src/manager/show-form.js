// The show form: a new weekly show, or an existing one changed (only what the manager changed is sent).

import { api, ApiError } from "../shared/api.js";
import { byTestId, el, show } from "../shared/dom.js";
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
const WEEKLY = "FREQ=WEEKLY";
const BIWEEKLY = "FREQ=WEEKLY;INTERVAL=2";

/** "America/New York": a time zone as the form shows it. */
const zoneName = (zone) => zone.replaceAll("_", " ");

/**
 * Which of the form's choices a show's rule is: every week or every 2 weeks on its first episode's day
 * (the server names the day in BYDAY), else null (several days, an end, …: kept as it is).
 */
function simpleRule(rrule, firstLocal) {
  const parts = Object.fromEntries(rrule.split(";").map((chunk) => chunk.split("=")));
  const { FREQ, INTERVAL = "1", BYDAY, ...rest } = parts;
  const day = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"][new Date(`${firstLocal.slice(0, 10)}T12:00Z`).getUTCDay()];
  if (FREQ !== "WEEKLY" || Object.keys(rest).length > 0 || (BYDAY && BYDAY !== day)) return null;
  return { 1: WEEKLY, 2: BIWEEKLY }[INTERVAL] ?? null;
}

/**
 * Wire the form. `open()` plans a new show in the brand `brandSlug()`, then `onCreated(show)`;
 * `open(show)` changes that one, then `onSaved(show)`. `onClosed(show)` after "Cancel".
 */
export function setUpShowForm(form, { brandSlug, onCreated, onSaved, onClosed }) {
  const fields = form.elements;
  const heading = byTestId("show-form-heading", form);
  const zoneSelect = byTestId("show-form-time-zone", form);
  const hostSelect = byTestId("show-form-host", form);
  const ownRule = byTestId("show-form-own-rule", form);
  const ownRuleInput = byTestId("show-form-own-rule-input", form);
  const ownRuleLabel = byTestId("show-form-own-rule-label", form);
  const editHint = byTestId("show-form-edit-hint", form);
  const summary = byTestId("show-form-summary", form);
  const error = byTestId("show-form-error", form);
  const submit = byTestId("show-form-submit", form);
  let editing = null; // the show being changed, and its values as the form first showed them
  let before = {};

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

  /** What the form holds, by the API's names (the first episode and the rule as typed and picked). */
  function values() {
    return {
      title: fields.title.value,
      description: fields.description.value,
      time_zone: fields.time_zone.value,
      first_episode_at: `${fields.date.value}T${fields.time.value.slice(0, 5)}`,
      rrule: fields.repeat.value,
      duration_minutes: Number(fields.duration_minutes.value),
      default_host_id: fields.default_host_id.value || null,
    };
  }

  function fill(existing) {
    form.reset();
    error.textContent = "";
    clearInvalid();
    const local = existing?.first_episode_at ?? "";
    const rule = existing ? simpleRule(existing.rrule, local) : WEEKLY;
    ownRuleInput.value = existing && !rule ? existing.rrule : "";
    ownRuleLabel.textContent = ownRuleInput.value ? scheduleSummary(existing.rrule, local) : "";
    show(ownRule, Boolean(ownRuleInput.value));
    fields.title.value = existing?.title ?? "";
    fields.description.value = existing?.description ?? "";
    fields.date.value = existing ? local.slice(0, 10) : dateInDays(7);
    fields.time.value = existing ? local.slice(11, 16) : "19:00";
    fields.duration_minutes.value = String(existing?.duration_minutes ?? 60);
    fields.default_host_id.value = existing?.default_host_id ?? "";
    zoneSelect.value = existing?.time_zone ?? here;
    fields.repeat.value = rule ?? existing.rrule;
    heading.textContent = existing ? t("show_form.edit_heading") : t("manager.new_show");
    submit.textContent = existing ? t("show_form.save") : t("show_form.submit");
    show(editHint, Boolean(existing));
    updateSummary();
  }

  /** The fields the manager changed; a new day, time or rule goes with both (the rule names the day). */
  function changes() {
    const now = values();
    const changed = Object.fromEntries(Object.entries(now).filter(([name, value]) => value !== before[name]));
    if ("first_episode_at" in changed || "rrule" in changed) {
      changed.first_episode_at = now.first_episode_at;
      changed.rrule = now.rrule;
    }
    return changed;
  }

  form.addEventListener("input", (event) => {
    event.target.removeAttribute("aria-invalid");
    updateSummary();
  });
  form.addEventListener("change", updateSummary);
  byTestId("show-form-cancel", form).addEventListener("click", () => {
    const closed = editing;
    close();
    onClosed(closed);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    clearInvalid();
    submit.disabled = true;
    const shown = editing;
    try {
      if (shown) {
        const body = changes();
        const saved = Object.keys(body).length ? await api.updateShow(shown.id, body) : shown;
        close();
        onSaved(saved, Object.keys(body).length > 0);
      } else {
        const created = await api.createShow(brandSlug(), values());
        close();
        onCreated(created);
      }
    } catch (problem) {
      showProblem(problem, Boolean(shown));
    } finally {
      submit.disabled = false;
    }
  });

  function clearInvalid() {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function showProblem(problem, edit) {
    const invalid = problem instanceof ApiError ? problem.problem?.errors || [] : [];
    const known = invalid.filter((e) => FIELDS[e.field]);
    if (known.length === 0) {
      const words = problem instanceof ApiError ? problem.message : problem;
      error.textContent = edit
        ? t("show_form.not_saved", { error: words })
        : t("show_form.not_created", { error: words });
      return;
    }
    const reasons = known.map((e) => t("show_form.reason", { field: FIELDS[e.field], reason: e.reason }));
    const all = reasons.join(". ");
    error.textContent = edit ? t("show_form.refused_edit", { reasons: all }) : t("show_form.refused", { reasons: all });
    const inputs = known.map((e) => fields[INPUTS[e.field] || e.field]).filter((input) => input?.setAttribute);
    for (const input of inputs) input.setAttribute("aria-invalid", "true");
    inputs[0]?.focus();
  }

  /** A new show, or with `existing` that show to change. */
  function open(existing = null) {
    editing = existing;
    fill(existing);
    before = existing ? values() : {};
    form.hidden = false;
    fields.title.focus();
  }

  function close() {
    editing = null;
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
