// The report's tables: each one a heading, a table that scrolls sideways on a phone, and its CSV file.
// A cell keeps the API's raw value in `data-value`, so what is shown can be checked against the API.

import { messageOf } from "../shared/api.js";
import { el, saveFile } from "../shared/dom.js";
import { money, waitText } from "../shared/format.js";
import { locale, t } from "../shared/i18n.js";

const number = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString(locale));

/** How a column's values read: a count, money, a duration, a share, a moment. */
export function formats(currency, timeZone) {
  const when = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone });
  const clock = new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone });
  return {
    count: number,
    decimal: (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString(locale, { maximumFractionDigits: 1 })),
    money: (n) => (n === null || n === undefined ? "—" : money(n, currency)),
    duration: (s) => (s === null || s === undefined ? "—" : waitText(s)),
    share: (f) => (f === null || f === undefined ? "—" : f.toLocaleString(locale, { style: "percent", maximumFractionDigits: 1 })),
    when: (iso) => (iso ? when.format(new Date(iso)) : "—"),
    clock: (iso) => (iso ? clock.format(new Date(iso)) : "—"),
    text: (s) => s ?? "—",
  };
}

/**
 * A table section: `name` (its test id and CSV table), `title`, `columns` ([{key, label, format}]),
 * `rows` (objects; a column with `words` is text, aligned as text), `file()` fetching its CSV file
 * (`{blob, name}`); `notify(text, kind)` says what went wrong.
 * With `folded`, the table is in a <details> opened on demand (a long one: the minutes).
 */
export function tableSection({ name, title, columns, rows, file, notify, folded = false, rowTestId }) {
  const headingId = `${name}-title`;
  const table = el(
    "table",
    { class: "report-table", "data-testid": `${name}-table` },
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c.label })))),
    el(
      "tbody",
      {},
      ...rows.map((row) =>
        el(
          "tr",
          { "data-testid": rowTestId ? rowTestId(row) : `${name}-row` },
          ...columns.map((c, index) =>
            el(index === 0 ? "th" : "td", {
              scope: index === 0 ? "row" : undefined,
              class: c.words ? "words" : undefined,
              "data-field": c.key,
              "data-value": row[c.key] === null || row[c.key] === undefined ? "" : String(row[c.key]),
              text: c.format(row[c.key], row),
            }),
          ),
        ),
      ),
    ),
  );
  const scroller = el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": headingId }, table);
  const download = el("button", {
    type: "button",
    class: "button button-small",
    "data-testid": `csv-${name}`,
    "aria-label": t("report.csv_label", { table: title }),
    text: t("report.csv"),
    onclick: async () => {
      download.disabled = true;
      try {
        saveFile(await file());
      } catch (problem) {
        notify(t("report.csv_failed", { reason: messageOf(problem) }), "error");
      } finally {
        download.disabled = false;
      }
    },
  });
  const head = el("div", { class: "pane-head" }, el("h2", { id: headingId, text: title }), download);
  const body = rows.length ? scroller : el("p", { class: "empty", text: t("report.no_rows") });
  if (folded) {
    return el(
      "section",
      { class: "card report-section", "data-testid": `table-${name}` },
      head,
      el("details", {}, el("summary", { text: t("report.show_table") }), body),
    );
  }
  return el("section", { class: "card report-section", "data-testid": `table-${name}` }, head, body);
}

/** The key figures as tiles: [{name, label, value (shown), raw}]. */
export function figureTiles(list, figures) {
  list.replaceChildren(
    ...figures.map((f) =>
      el(
        "li",
        { class: "report-figure", "data-testid": `figure-${f.name}`, "data-value": String(f.raw ?? "") },
        el("span", { class: "figure-value", text: f.value }),
        el("span", { class: "figure-label", text: f.label }),
      ),
    ),
  );
}
