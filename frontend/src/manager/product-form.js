// "New product" and "Edit product" on the manager page: the product's fields and its variants (SKU,
// options, stock, own price). Prices are typed in major units and sent in minor units; an edit sends
// only the variants that changed, so stock sold meanwhile is not overwritten with what the form showed.
// A saved product's pictures are uploaded from the device at once, each added after the others.

import { ApiError, api, messageOf } from "../shared/api.js";
import { byTestIds, el, noticeLine } from "../shared/dom.js";
import { fromMinor, toMinor } from "../shared/format.js";
import { locale, t } from "../shared/i18n.js";

const FIELD_LABELS = {
  title: t("product_form.title"),
  summary: t("product_form.summary"),
  description: t("product_form.description"),
  image_urls: t("product_form.images"),
  price: t("product_form.price"),
  compare_at_price: t("product_form.compare_at"),
  currency: t("product_form.currency"),
  variants: t("product_form.variants"),
  sku: t("product_form.sku"),
  options: t("product_form.options"),
  stock: t("product_form.stock"),
};

/** "size=M; colour=Red" → {size: "M", colour: "Red"}, or null when it is not written that way. */
export function parseOptions(text) {
  const options = {};
  for (const part of text.split(";").map((p) => p.trim()).filter(Boolean)) {
    const [name, ...rest] = part.split("=");
    const value = rest.join("=").trim();
    if (!name.trim() || !value) return null;
    options[name.trim().toLowerCase()] = value;
  }
  return options;
}

/** Why the server refused a picture, in the page's language (its `reason`), else its own words. */
function pictureRefusal(error) {
  const problem = error instanceof ApiError ? error.problem : null;
  const number = (n) => Math.floor(n).toLocaleString(locale);
  switch (problem?.reason) {
    case "not_a_picture":
      return t("product_form.picture_not_a_picture");
    case "too_large":
      return t("product_form.picture_too_large", { size: number(problem.max_bytes / 2 ** 20) });
    case "too_many_pixels":
      return t("product_form.picture_too_many_pixels", { megapixels: number(problem.max_pixels / 1e6) });
    case "damaged":
      return t("product_form.picture_damaged");
    case "too_many_pictures":
      return t("product_form.picture_too_many");
    default:
      return messageOf(error);
  }
}

export const optionsText = (options) =>
  Object.entries(options || {})
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");

/**
 * Wire the product form. `brandSlug()` says where to create, `currency()` the brand's currency;
 * `onSaved(product, created)` gets the saved product, `onPictured(product)` the product with a picture
 * just added (the form stays open), `onClosed()` runs on cancel.
 */
export function setUpProductForm(form, { brandSlug, currency, onSaved, onPictured, onClosed }) {
  const fields = form.elements;
  const ui = byTestIds(
    [
      "product-form-title",
      "product-currency",
      "variant-rows",
      "add-variant",
      "product-form-error",
      "product-form-submit",
      "product-form-cancel",
      "picture-file",
      "picture-hint",
      "picture-status",
    ],
    form,
  );
  const pictureNotice = noticeLine(ui.pictureStatus);
  let editing = null; // the ProductOut being edited, or null for a new one
  const currencyNow = () => editing?.currency ?? currency();
  let sentRows = []; // the variant rows in the order their changes were sent (to place a refusal)

  function variantRow(variant = null) {
    const ownPrice = variant && variant.price !== editing?.price ? fromMinor(variant.price, currencyNow()) : "";
    // Named apart from the product's own inputs (form.elements.price is the product's price).
    const input = (name, label, props) =>
      el("input", { name: `variant_${name}`, "aria-label": label, "data-testid": `variant-${name}`, ...props });
    const row = el(
      "li",
      { class: "variant-row", "data-testid": "variant-row", "data-sku": variant?.sku },
      el(
        "label",
        { class: "field" },
        el("span", { text: FIELD_LABELS.sku }),
        input("sku", FIELD_LABELS.sku, { value: variant?.sku ?? "", required: true, maxlength: 64, readonly: Boolean(variant) }),
      ),
      el(
        "label",
        { class: "field" },
        el("span", { text: FIELD_LABELS.options }),
        input("options", FIELD_LABELS.options, {
          value: optionsText(variant?.options),
          placeholder: t("product_form.option_placeholder"),
          maxlength: 300,
        }),
      ),
      el(
        "label",
        { class: "field" },
        el("span", { text: FIELD_LABELS.stock }),
        input("stock", FIELD_LABELS.stock, {
          type: "number",
          min: 0,
          max: 10000000,
          inputmode: "numeric",
          required: true,
          value: String(variant?.stock ?? 0),
        }),
      ),
      el(
        "label",
        { class: "field" },
        el("span", { text: t("product_form.own_price") }),
        input("price", t("product_form.own_price"), { inputmode: "decimal", value: ownPrice, placeholder: "—" }),
      ),
      variant
        ? null
        : el("button", {
            type: "button",
            class: "button button-small button-quiet variant-remove",
            "data-testid": "remove-variant",
            "aria-label": t("product_form.remove_variant"),
            text: "✕",
            onclick: () => {
              row.remove();
              renderRemovable();
            },
          }),
    );
    row.variant = variant;
    return row;
  }

  /** A product keeps at least one variant: the last new row cannot go. */
  function renderRemovable() {
    const rows = [...ui.variantRows.children];
    for (const button of ui.variantRows.querySelectorAll("[data-testid=remove-variant]")) {
      button.disabled = rows.length <= 1;
    }
  }

  function addVariant(variant = null) {
    const row = variantRow(variant);
    ui.variantRows.append(row);
    renderRemovable();
    return row;
  }

  ui.addVariant.addEventListener("click", () => addVariant().querySelector("input").focus());

  function clearInvalid() {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function invalid(input, message) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    ui.productFormError.textContent = message;
    return null;
  }

  /** What the form says, checked here first; null (with the reason shown) when something is off. */
  function read() {
    const money = (input, optional) => {
      const text = input.value.trim();
      if (!text && optional) return { ok: true, value: null };
      const value = toMinor(text, currencyNow());
      return value === null ? { ok: false } : { ok: true, value };
    };
    if (!fields.title.value.trim()) return invalid(fields.title, t("product_form.needs_title"));
    const price = money(fields.price, false);
    const example = fromMinor(4990, currencyNow());
    if (!price.ok) return invalid(fields.price, t("product_form.bad_price", { example }));
    const compare = money(fields.compare_at_price, true);
    if (!compare.ok) return invalid(fields.compare_at_price, t("product_form.bad_compare_at", { example }));
    const variants = [];
    for (const row of ui.variantRows.children) {
      const get = (name) => row.querySelector(`[name=variant_${name}]`);
      const sku = get("sku").value.trim();
      if (!sku) return invalid(get("sku"), t("product_form.needs_sku"));
      const options = parseOptions(get("options").value);
      if (!options) return invalid(get("options"), t("product_form.bad_options", { example: t("product_form.options_example") }));
      const stock = Number(get("stock").value);
      if (!Number.isInteger(stock) || stock < 0) return invalid(get("stock"), t("product_form.bad_stock"));
      const own = money(get("price"), true);
      if (!own.ok) return invalid(get("price"), t("product_form.bad_own_price", { example }));
      variants.push({ row, data: { sku, options, stock, price: own.value } });
    }
    if (variants.length === 0) return invalid(ui.addVariant, t("product_form.needs_variant"));
    const imageUrls = fields.image_urls.value
      .split(/\s+/)
      .map((url) => url.trim())
      .filter(Boolean);
    const product = {
      title: fields.title.value.trim(),
      summary: fields.summary.value.trim(),
      description: fields.description.value,
      image_urls: imageUrls,
      price: price.value,
      compare_at_price: compare.value,
    };
    return { product, variants };
  }

  /** A saved variant is sent again only when the form changes it. */
  function changed({ row, data }) {
    const before = row.variant;
    if (!before) return true;
    const ownBefore = before.price === editing.price ? null : before.price;
    return (
      data.stock !== before.stock ||
      (data.price ?? null) !== ownBefore ||
      optionsText(data.options) !== optionsText(before.options)
    );
  }

  ui.pictureFile.addEventListener("change", async () => {
    const file = ui.pictureFile.files[0];
    const product = editing;
    if (!file || !product) return;
    ui.pictureFile.disabled = true;
    pictureNotice(t("product_form.picture_adding", { name: file.name }), "info");
    try {
      const { picture, product: saved } = await api.addPicture(product.id, file);
      onPictured(saved);
      if (editing !== product) return;
      // Listed with the others, where they are put in order or taken out (saved with the form).
      const urls = fields.image_urls.value.split(/\s+/).filter(Boolean);
      if (!urls.includes(picture.url)) fields.image_urls.value = [...urls, picture.url].join("\n");
      pictureNotice(t("product_form.picture_added", { name: file.name }));
    } catch (error) {
      if (editing === product) {
        pictureNotice(t("product_form.picture_refused", { name: file.name, reason: pictureRefusal(error) }), "error");
      }
    } finally {
      ui.pictureFile.value = "";
      ui.pictureFile.disabled = !editing;
    }
  });

  form.addEventListener("input", (event) => event.target.removeAttribute("aria-invalid"));
  ui.productFormCancel.addEventListener("click", () => {
    close();
    onClosed();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ui.productFormError.textContent = "";
    clearInvalid();
    const filled = read();
    if (!filled) return;
    const { product, variants } = filled;
    const sent = editing ? variants.filter(changed) : variants;
    sentRows = sent.map((v) => v.row);
    const body = { ...product };
    if (sent.length || !editing) body.variants = sent.map((v) => v.data);
    if (!editing && body.compare_at_price === null) delete body.compare_at_price;
    ui.productFormSubmit.disabled = true;
    try {
      const saved = editing
        ? await api.updateProduct(editing.id, body)
        : await api.createProduct(brandSlug(), body);
      const created = !editing;
      close();
      onSaved(saved, created);
    } catch (problem) {
      refused(problem);
    } finally {
      ui.productFormSubmit.disabled = false;
    }
  });

  /** The server's reasons, each on the input it is about when the API names it. */
  function refused(problem) {
    if (!(problem instanceof ApiError)) {
      ui.productFormError.textContent = editing
        ? t("product_form.not_saved", { error: problem })
        : t("product_form.not_created", { error: problem });
      return;
    }
    const reasons = [];
    const inputs = [];
    for (const { field = "", reason } of problem.problem?.errors || []) {
      const [name, index, part] = field.split(".");
      const row = name === "variants" && index !== undefined ? sentRows[Number(index)] : null;
      const input = row ? row.querySelector(`[name=variant_${part}]`) : fields[name];
      if (input?.setAttribute) inputs.push(input);
      const sku = row?.querySelector("[name=variant_sku]").value || t("product_form.a_variant");
      const label = row
        ? t("product_form.variant_field", { sku, field: FIELD_LABELS[part] ?? part })
        : (FIELD_LABELS[name] ?? field);
      reasons.push(t("product_form.reason", { field: label, reason }));
    }
    const why = reasons.length ? `${reasons.join(". ")}.` : problem.message;
    ui.productFormError.textContent = editing
      ? t("product_form.refused_saved", { reasons: why })
      : t("product_form.refused_created", { reasons: why });
    for (const input of inputs) input.setAttribute("aria-invalid", "true");
    inputs[0]?.focus();
  }

  function open(product = null) {
    editing = product;
    form.reset();
    clearInvalid();
    ui.productFormError.textContent = "";
    ui.productCurrency.textContent = currencyNow();
    ui.productFormTitle.textContent = product
      ? t("product_form.edit_title", { title: product.title })
      : t("product_form.new_title");
    ui.productFormSubmit.textContent = product ? t("product_form.save") : t("product_form.create");
    ui.pictureFile.disabled = !product;
    ui.pictureHint.textContent = product ? t("product_form.picture_hint") : t("product_form.picture_hint_new");
    pictureNotice("");
    ui.variantRows.replaceChildren();
    if (product) {
      fields.title.value = product.title;
      fields.summary.value = product.summary;
      fields.description.value = product.description;
      fields.image_urls.value = product.image_urls.join("\n");
      fields.price.value = fromMinor(product.price, currencyNow());
      const was = product.compare_at_price;
      fields.compare_at_price.value = was ? fromMinor(was, currencyNow()) : "";
      for (const variant of product.variants) addVariant(variant);
    } else {
      addVariant();
    }
    form.hidden = false;
    fields.title.focus();
  }

  function close() {
    form.hidden = true;
    editing = null;
  }

  return { open, close };
}
