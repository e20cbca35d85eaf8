// The form that writes a poll (the manager ahead of the show, the host on the spot): the question,
// 2 to 6 options (each words or a product of the lineup), one or several answers, changing one's
// vote, a countdown, and a quiz's right answers. It builds the body of
// `POST /api/v1/episodes/{episode_id}/polls` (docs/api.md, "Polls").

import { ApiError, messageOf } from "../shared/api.js";
import { el } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 6;
const DURATIONS = [
  ["", t("poll_form.no_countdown")],
  ["30", t("poll_form.seconds", { n: 30 })],
  ["60", t("poll_form.minutes", { n: 1 })],
  ["120", t("poll_form.minutes", { n: 2 })],
  ["300", t("poll_form.minutes", { n: 5 })],
  ["600", t("poll_form.minutes", { n: 10 })],
];
const TEXT = {
  question: t("poll_form.question"),
  option: (n) => t("poll_form.option", { n }),
  optionProduct: (n) => t("poll_form.option_product", { n }),
  noProduct: t("poll_form.no_product"),
  right: t("poll_form.right"),
  addOption: t("poll_form.add_option"),
  remove: t("poll_form.remove"),
  multiple: t("poll_form.multiple"),
  change: t("poll_form.change"),
  duration: t("poll_form.duration"),
  quiz: t("poll_form.quiz"),
  needsRight: t("poll_form.needs_right"),
  needsOption: (n) => t("poll_form.needs_option", { n }),
};

let forms = 0;

/**
 * A poll form. `submits`: `[[label, value], …]` buttons; `onSubmit(body, value)` runs with the body
 * and the value of the button pressed, and resolves once it is saved (then the form is emptied).
 */
export function pollForm({ submits, onSubmit, testId = "poll-form" }) {
  const id = `poll-form-${++forms}`;
  let products = [];
  const error = el("p", { class: "form-error", role: "alert", "data-testid": "poll-form-error" });
  const rows = el("ol", { class: "poll-form-options", "data-testid": "poll-form-options" });
  const question = el("input", {
    id: `${id}-question`,
    name: "question",
    required: true,
    maxlength: 200,
    "data-testid": "poll-question-input",
  });
  const multiple = el("input", { type: "checkbox", name: "multiple", "data-testid": "poll-multiple" });
  const allowChange = el("input", { type: "checkbox", name: "allow_change", checked: true });
  const quiz = el("input", { type: "checkbox", name: "quiz", "data-testid": "poll-quiz" });
  const duration = el(
    "select",
    { id: `${id}-duration`, name: "duration", "data-testid": "poll-duration" },
    ...DURATIONS.map(([value, label]) => el("option", { value, text: label })),
  );
  const addButton = el("button", {
    type: "button",
    class: "button button-small button-quiet",
    "data-testid": "poll-add-option",
    text: TEXT.addOption,
    onclick: () => addRow(),
  });
  const buttons = submits.map(([label, value], i) =>
    el("button", {
      type: "submit",
      class: `button ${i === 0 ? "button-primary" : ""}`,
      value,
      "data-testid": `poll-submit-${value}`,
      text: label,
    }),
  );
  const form = el(
    "form",
    { class: "poll-form", "data-testid": testId, novalidate: true },
    el("div", { class: "field" }, el("label", { for: `${id}-question`, text: TEXT.question }), question),
    rows,
    addButton,
    el("label", { class: "check" }, multiple, ` ${TEXT.multiple}`),
    el("label", { class: "check" }, allowChange, ` ${TEXT.change}`),
    el("label", { class: "check" }, quiz, ` ${TEXT.quiz}`),
    el("div", { class: "field" }, el("label", { for: `${id}-duration`, text: TEXT.duration }), duration),
    error,
    el("div", { class: "form-actions" }, ...buttons),
  );

  function productChoices(select) {
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "", text: TEXT.noProduct }),
      ...products.map((p) => el("option", { value: p.id, text: p.title })),
    );
    select.value = products.some((p) => p.id === chosen) ? chosen : "";
  }

  function addRow() {
    if (rows.children.length >= MAX_OPTIONS) return;
    const n = rows.children.length + 1;
    const label = el("input", {
      name: "label",
      maxlength: 80,
      "aria-label": TEXT.option(n),
      placeholder: TEXT.option(n),
      "data-testid": "poll-option-input",
    });
    const product = el("select", { name: "product", "aria-label": TEXT.optionProduct(n) });
    productChoices(product);
    const right = el("input", { type: "checkbox", name: "right", "data-testid": "poll-option-right" });
    const row = el(
      "li",
      { class: "poll-form-option" },
      label,
      product,
      el("label", { class: "check poll-form-right" }, right, ` ${TEXT.right}`),
      el("button", {
        type: "button",
        class: "button button-small button-quiet",
        text: TEXT.remove,
        onclick: () => {
          if (rows.children.length > MIN_OPTIONS) row.remove();
          renderRows();
        },
      }),
    );
    rows.append(row);
    renderRows();
  }

  function renderRows() {
    addButton.disabled = rows.children.length >= MAX_OPTIONS;
    for (const rightBox of form.querySelectorAll(".poll-form-right")) rightBox.hidden = !quiz.checked;
    for (const button of rows.querySelectorAll("li > button")) button.disabled = rows.children.length <= MIN_OPTIONS;
  }

  function body() {
    const options = [];
    const correct = [];
    [...rows.children].forEach((row, index) => {
      const label = row.querySelector("[name=label]").value.trim();
      const productId = row.querySelector("[name=product]").value;
      if (!label && !productId) throw new Error(TEXT.needsOption(index + 1));
      const option = {};
      if (label) option.label = label;
      if (productId) option.product_id = productId;
      if (row.querySelector("[name=right]").checked) correct.push(index);
      options.push(option);
    });
    if (quiz.checked && correct.length === 0) throw new Error(TEXT.needsRight);
    return {
      question: question.value.trim(),
      options,
      multiple: multiple.checked,
      allow_change: allowChange.checked,
      duration_seconds: duration.value ? Number(duration.value) : null,
      quiz: quiz.checked,
      correct_options: quiz.checked ? correct : [],
    };
  }

  function reset() {
    form.reset();
    rows.replaceChildren();
    for (let i = 0; i < MIN_OPTIONS; i += 1) addRow();
    error.textContent = "";
  }

  quiz.addEventListener("change", renderRows);
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
    for (const button of buttons) button.disabled = true;
    try {
      await onSubmit(data, event.submitter?.value ?? submits[0][1]);
      reset();
    } catch (problem) {
      error.textContent = problem instanceof ApiError ? messageOf(problem) : problem.message;
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
  reset();

  return {
    form,
    /** The lineup's products (ProductCard), for options that are a product. */
    setProducts(next) {
      products = next;
      for (const select of rows.querySelectorAll("[name=product]")) productChoices(select);
    },
  };
}
