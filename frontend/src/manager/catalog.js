// The manager page's products: the brand's catalog with each variant's stock, "New product" and
// "Edit" (product-form.js), "Archive" (off sale, kept for its orders) and, among the archived ones shown
// on demand, "Restore"; and the import of a product feed (CSV or JSON, pasted or from a file) with
// its report: how many products were created and updated, and each bad row with its line and reason.

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { priceOf, priceTag, productImage, stockList } from "../shared/product.js";
import { setUpProductForm } from "./product-form.js";
import { locale, t } from "../shared/i18n.js";

const FEED_FORMATS = { csv: "csv", json: "json" };

/** Sets up the products view; `notify(text, kind)` says what happened at the top of the page. */
export function setUpCatalog({ notify }) {
  const ui = byTestIds([
    "products-view",
    "products-title",
    "catalog-actions",
    "catalog-read-only",
    "show-archived",
    "new-product",
    "open-import",
    "product-form",
    "import-form",
    "import-file",
    "import-content",
    "import-error",
    "import-submit",
    "import-cancel",
    "import-report",
    "import-summary",
    "import-errors",
    "products-loading",
    "product-list",
    "no-products",
  ]);

  let membership = null; // {brand, role} of the brand shown
  let products = [];
  let currency = "EUR";
  let loads = 0;
  let loaded = false;

  const canEdit = () => membership?.role === "manager";

  /** The list with `changed` in place of the product it was (or added, when it is new). */
  function replace(changed) {
    const known = products.some((p) => p.id === changed.id);
    products = known ? products.map((p) => (p.id === changed.id ? changed : p)) : [...products, changed];
    products.sort((a, b) => a.title.localeCompare(b.title, locale));
    render();
  }

  const rowButton = (product) =>
    ui.productList.querySelector(`[data-product-id="${CSS.escape(product.id)}"] button`);

  const form = setUpProductForm(ui.productForm, {
    brandSlug: () => membership.brand.slug,
    currency: () => currency,
    onSaved(saved, created) {
      replace(saved);
      notify(created ? t("catalog.created", { title: saved.title }) : t("catalog.saved", { title: saved.title }));
      rowButton(saved)?.focus();
    },
    onPictured: replace,
    onClosed: () => ui.newProduct.focus(),
  });

  async function archive(product) {
    try {
      await api.archiveProduct(product.id);
      if (ui.showArchived.checked) replace({ ...product, archived: true });
      else {
        products = products.filter((p) => p.id !== product.id);
        render();
      }
      notify(t("catalog.archived", { title: product.title }));
      (rowButton(product) ?? ui.showArchived).focus();
    } catch (error) {
      notify(t("catalog.not_archived", { title: product.title, error: messageOf(error) }), "error");
    }
  }

  async function restore(product) {
    try {
      replace(await api.restoreProduct(product.id));
      notify(t("catalog.restored", { title: product.title }));
      rowButton(product)?.focus();
    } catch (error) {
      notify(t("catalog.not_restored", { title: product.title, error: messageOf(error) }), "error");
    }
  }

  async function load() {
    const attempt = ++loads;
    loaded = true;
    show(ui.productsLoading);
    ui.productList.replaceChildren();
    show(ui.noProducts, false);
    try {
      const slug = membership.brand.slug;
      const [list, commerce] = await Promise.all([
        api.products(slug, ui.showArchived.checked),
        canEdit() ? api.commerce(slug) : Promise.resolve(null),
      ]);
      if (attempt !== loads) return;
      products = list;
      currency = commerce?.currency ?? list[0]?.currency ?? currency;
      render();
    } catch (error) {
      if (attempt === loads) notify(t("catalog.failed", { error: messageOf(error) }), "error");
    } finally {
      if (attempt === loads) show(ui.productsLoading, false);
    }
  }

  function render() {
    ui.productList.replaceChildren(...products.map(row));
    show(ui.noProducts, products.length === 0);
    ui.noProducts.textContent = canEdit() ? t("catalog.none_manager") : t("catalog.none");
  }

  function row(product) {
    const title = product.title;
    const button = (testId, label, text, onclick) =>
      el("button", {
        type: "button",
        class: "button button-small",
        "data-testid": testId,
        "aria-label": label,
        text,
        onclick,
      });
    const edit = button("edit-product", t("catalog.edit_label", { title }), t("catalog.edit"), () => {
      show(ui.importForm, false);
      form.open(product);
    });
    // Archiving is undone in one click, so it asks nothing first.
    const offOrOn = product.archived
      ? button("restore-product", t("catalog.restore_label", { title }), t("catalog.restore"), () => restore(product))
      : button("archive-product", t("catalog.archive_label", { title }), t("catalog.archive"), () => archive(product));
    return el(
      "li",
      {
        class: "product-row",
        "data-testid": "product-row",
        "data-product-id": product.id,
        "data-archived": product.archived,
      },
      productImage(product.image_urls[0], "thumb"),
      el(
        "div",
        { class: "product-row-body" },
        el("p", { class: "product-row-title", "data-testid": "product-row-title", text: title }),
        el(
          "p",
          { class: "product-row-meta" },
          priceTag(priceOf(product), product.currency, "product-row-price"),
          el("span", { class: "muted", text: product.handle }),
          product.archived ? el("span", { class: "archived-tag", text: t("catalog.archived_tag") }) : null,
        ),
        stockList(product.variants),
      ),
      canEdit() ? el("div", { class: "product-row-actions" }, edit, offOrOn) : null,
    );
  }

  // --- the feed import -------------------------------------------------------------------------

  const fields = ui.importForm.elements;

  ui.importFile.addEventListener("change", async () => {
    const file = ui.importFile.files[0];
    if (!file) return;
    ui.importError.textContent = "";
    const extension = file.name.split(".").pop().toLowerCase();
    if (FEED_FORMATS[extension]) fields.format.value = FEED_FORMATS[extension];
    try {
      ui.importContent.value = await file.text();
    } catch (error) {
      ui.importError.textContent = t("catalog.read_failed", { error: error.message || error });
    }
  });

  ui.importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    ui.importError.textContent = "";
    const content = ui.importContent.value;
    if (!content.trim()) {
      ui.importError.textContent = t("catalog.nothing");
      ui.importContent.focus();
      return;
    }
    ui.importSubmit.disabled = true;
    ui.importSubmit.textContent = t("catalog.importing");
    show(ui.importReport, false);
    try {
      report(await api.importCatalog(membership.brand.slug, fields.format.value, content));
      await load();
    } catch (error) {
      ui.importError.textContent = t("catalog.import_failed", { error: messageOf(error) });
    } finally {
      ui.importSubmit.disabled = false;
      ui.importSubmit.textContent = t("catalog.import");
    }
  });

  function report({ rows, created, updated, variants, errors }) {
    const count = (key, n) => t(key, { count: n, n: n.toLocaleString(locale) });
    const summary = t("catalog.report", {
      rows: count("catalog.rows_read", rows),
      created: count("catalog.products_created", created),
      updated: count("catalog.products_updated", updated),
      variants: count("catalog.variants_saved", variants),
    });
    const rejected = errors.length ? ` ${count("catalog.rejected", errors.length)}` : "";
    ui.importSummary.textContent = `${summary}${rejected}`;
    ui.importErrors.replaceChildren(
      ...errors.map((e) =>
        el("li", { "data-testid": "import-error-row", text: t("catalog.error_row", { line: e.line, reason: e.reason }) }),
      ),
    );
    show(ui.importReport);
    // Some rows refused while others went in is a warning (fix those lines and import again), not a failure.
    ui.importReport.dataset.kind = !errors.length ? "ok" : created + updated > 0 ? "partial" : "failed";
  }

  ui.openImport.addEventListener("click", () => {
    form.close();
    ui.importForm.reset();
    ui.importError.textContent = "";
    show(ui.importReport, false);
    show(ui.importForm);
    ui.importFile.focus();
  });
  ui.importCancel.addEventListener("click", () => {
    show(ui.importForm, false);
    ui.openImport.focus();
  });
  ui.showArchived.addEventListener("change", () => {
    if (membership) load();
  });
  ui.newProduct.addEventListener("click", () => {
    show(ui.importForm, false);
    form.open();
  });

  return {
    /** Another brand: its products are loaded the next time the view is shown. */
    setBrand(next) {
      membership = next;
      loaded = false;
      loads += 1;
      products = [];
      form.close();
      show(ui.importForm, false);
      show(ui.catalogActions, canEdit());
      show(ui.catalogReadOnly, !canEdit());
    },
    showView(visible) {
      show(ui.productsView, visible);
      if (visible && !loaded && membership) load();
    },
  };
}
