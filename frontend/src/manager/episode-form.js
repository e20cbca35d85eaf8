// When an episode starts, as the manager writes it: to move one episode (in its row) or to add a one-off
// (above the list). The date and time are the show's wall-clock time, whatever this device's time zone.

import { ApiError, messageOf, sentence } from "../shared/api.js";
import { el } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

let forms = 0; // for the ids that tie a field to its hint

/**
 * A form for an episode's start in `zone`, filled with `date` ("2026-10-13") and `time` ("19:00").
 * `submit({starts_at, title?})` saves it (`title` only `withTitle`, when written); a refusal is shown
 * in the form as `failed(reason)` says it. Its second button calls `close()`.
 */
export function episodeForm({ testId, label, zone, date, time, withTitle = false, submitText, failed, submit, close }) {
  const hint = `episode-form-zone-${++forms}`;
  const dateInput = el("input", { type: "date", name: "date", value: date, required: true, "data-testid": "episode-date" });
  const timeInput = el("input", {
    type: "time",
    name: "time",
    value: time,
    required: true,
    "aria-describedby": hint,
    "data-testid": "episode-time-input",
  });
  const titleInput = withTitle ? el("input", { name: "title", maxlength: 120, "data-testid": "episode-title-input" }) : null;
  const error = el("p", { class: "form-error", role: "alert", "data-testid": "episode-form-error" });
  const save = el("button", {
    type: "submit",
    class: "button button-primary button-small",
    "data-testid": "episode-form-submit",
    text: submitText,
  });
  const form = el(
    "form",
    { class: "episode-form", "data-testid": testId, "aria-label": label },
    el("div", { class: "field-row" }, field(t("episode_form.date"), dateInput), field(t("episode_form.time"), timeInput)),
    el("p", { class: "hint", id: hint, text: t("episode_form.zone", { zone: zone.replaceAll("_", " ") }) }),
    titleInput ? field(t("episode_form.title"), titleInput, t("manager.optional")) : null,
    error,
    el(
      "div",
      { class: "actions" },
      save,
      el("button", {
        type: "button",
        class: "button button-small button-quiet",
        "data-testid": "episode-form-close",
        text: t("episode_form.close"),
        onclick: close,
      }),
    ),
  );

  form.addEventListener("input", (event) => event.target.removeAttribute("aria-invalid"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    save.disabled = true;
    const body = { starts_at: `${dateInput.value}T${timeInput.value.slice(0, 5)}` };
    const title = titleInput?.value.trim();
    if (title) body.title = title;
    try {
      await submit(body);
    } catch (problem) {
      const invalid = problem instanceof ApiError ? problem.problem?.errors || [] : [];
      const inputs = { starts_at: [dateInput, timeInput], title: [titleInput] };
      const names = { starts_at: t("episode_form.starts"), title: t("episode_form.title") };
      const known = invalid.filter((e) => inputs[e.field]);
      const reason = known.length
        ? known.map((e) => t("show_form.reason", { field: names[e.field], reason: e.reason })).join(". ")
        : reasonOf(problem);
      error.textContent = failed(reason);
      const marked = known.flatMap((e) => inputs[e.field]).filter(Boolean);
      for (const node of marked) node.setAttribute("aria-invalid", "true");
      marked[0]?.focus();
    } finally {
      save.disabled = false;
    }
  });

  return { form, focus: () => dateInput.focus() };
}

/** Why a call failed, as a sentence without its full stop (the page's message adds it). */
export function reasonOf(problem) {
  return sentence(problem instanceof ApiError ? problem.message : messageOf(problem)).replace(/\.$/, "");
}

function field(text, control, optional = null) {
  return el(
    "label",
    { class: "field" },
    el("span", {}, text, optional ? el("span", { class: "optional", text: ` ${optional}` }) : null),
    control,
  );
}
