// The form that prepares a giveaway (the manager, before the show): the prize and its value, how many
// winners, the rules viewers read, how to enter (a button, or a keyword in the chat), who may win, and
// how long a winner has to claim. It builds the body of `POST /api/v1/episodes/{episode_id}/giveaways`
// (docs/api.md, "Giveaways").

import { ApiError, messageOf } from "../shared/api.js";
import { el } from "../shared/dom.js";
import { toMinor } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const TEXT = {
  prize: t("giveaway_form.prize"),
  picture: t("giveaway_form.picture"),
  value: t("giveaway_form.value"),
  currency: t("giveaway_form.currency"),
  winners: t("giveaway_form.winners"),
  rules: t("giveaway_form.rules"),
  entry: t("giveaway_form.entry"),
  button: t("giveaway_form.button"),
  keyword: t("giveaway_form.keyword"),
  keywordLabel: t("giveaway_form.keyword_label"),
  present: t("giveaway_form.present"),
  watch: t("giveaway_form.watch"),
  bought: t("giveaway_form.bought"),
  claim: t("giveaway_form.claim"),
  save: t("giveaway_form.save"),
  badValue: t("giveaway_form.bad_value"),
  needsKeyword: t("giveaway_form.needs_keyword"),
};

let forms = 0;

/** A giveaway form; `onSubmit(body)` resolves once it is saved (then the form is emptied). */
export function giveawayForm({ onSubmit, currency = "EUR" }) {
  const id = `giveaway-form-${++forms}`;
  const input = (name, props = {}) => el("input", { id: `${id}-${name}`, name, ...props });
  const field = (name, label, control) =>
    el("div", { class: "field" }, el("label", { for: `${id}-${name}`, text: label }), control);
  const fields = {
    title: input("title", { required: true, maxlength: 200, "data-testid": "giveaway-title-input" }),
    picture: input("picture", { type: "url", maxlength: 2000 }),
    value: input("value", { inputmode: "decimal", required: true, "data-testid": "giveaway-value-input" }),
    currency: input("currency", { value: currency, maxlength: 3, minlength: 3, required: true }),
    winners: input("winners", { type: "number", min: 1, max: 50, value: 1, required: true }),
    rules: el("textarea", { id: `${id}-rules`, name: "rules", maxlength: 4000, rows: 3 }),
    keyword: input("keyword", { maxlength: 30, "data-testid": "giveaway-keyword-input" }),
    present: el("input", { type: "checkbox", name: "present", checked: true }),
    minutes: input("minutes", { type: "number", min: 0, max: 600, value: 0 }),
    bought: el("input", { type: "checkbox", name: "bought" }),
    claimHours: input("claim", { type: "number", min: 1, max: 720, value: 72 }),
  };
  const entryChoice = (value, label, checked = false) =>
    el(
      "label",
      { class: "choice" },
      el("input", { type: "radio", name: "entry", value, checked, "data-testid": `giveaway-entry-${value}` }),
      ` ${label}`,
    );
  const keywordField = field("keyword", TEXT.keywordLabel, fields.keyword);
  const error = el("p", { class: "form-error", role: "alert", "data-testid": "giveaway-form-error" });
  const submit = el("button", { type: "submit", class: "button button-primary", text: TEXT.save });
  const form = el(
    "form",
    { class: "giveaway-form", "data-testid": "giveaway-form", novalidate: true },
    field("title", TEXT.prize, fields.title),
    field("picture", TEXT.picture, fields.picture),
    el(
      "div",
      { class: "field-row" },
      field("value", TEXT.value, fields.value),
      field("currency", TEXT.currency, fields.currency),
    ),
    field("winners", TEXT.winners, fields.winners),
    field("rules", TEXT.rules, fields.rules),
    el(
      "fieldset",
      { class: "field choices" },
      el("legend", { text: TEXT.entry }),
      entryChoice("button", TEXT.button, true),
      entryChoice("keyword", TEXT.keyword),
    ),
    keywordField,
    el("label", { class: "check" }, fields.present, ` ${TEXT.present}`),
    field("minutes", TEXT.watch, fields.minutes),
    el("label", { class: "check" }, fields.bought, ` ${TEXT.bought}`),
    field("claim", TEXT.claim, fields.claimHours),
    error,
    submit,
  );

  const entry = () => form.elements.entry.value;
  const renderEntry = () => {
    keywordField.hidden = entry() !== "keyword";
  };

  function body() {
    const code = fields.currency.value.trim().toUpperCase();
    const amount = toMinor(fields.value.value, code);
    if (amount === null) throw new Error(TEXT.badValue);
    if (entry() === "keyword" && !fields.keyword.value.trim()) throw new Error(TEXT.needsKeyword);
    return {
      prize: {
        title: fields.title.value.trim(),
        picture_url: fields.picture.value.trim() || null,
        value: { amount, currency: code },
      },
      winners: Number(fields.winners.value),
      rules: fields.rules.value.trim(),
      entry: entry(),
      keyword: entry() === "keyword" ? fields.keyword.value.trim() : null,
      eligibility: {
        present_at_draw: fields.present.checked,
        min_watch_minutes: Number(fields.minutes.value || 0),
        bought_during_show: fields.bought.checked,
      },
      claim_hours: Number(fields.claimHours.value),
    };
  }

  form.addEventListener("change", renderEntry);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    let data;
    try {
      data = body();
    } catch (problem) {
      error.textContent = problem.message;
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(data);
      form.reset();
      renderEntry();
    } catch (problem) {
      error.textContent = problem instanceof ApiError ? messageOf(problem) : problem.message;
    } finally {
      submit.disabled = false;
    }
  });
  renderEntry();
  return { form };
}
