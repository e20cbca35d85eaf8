// Products as the pages show them (docs/commerce-contract.md, ProductCard): prices, stock, variants,
// flash deals. Shared by the viewers' pin card and cart, the studio's lineup and the manager's catalog;
// the pin on screen that the first two follow is ../stage/pin.js.

import { el } from "./dom.js";
import { money } from "./format.js";
import { locale, t } from "./i18n.js";

const LOW_STOCK = 5; // from here down, viewers are told how many are left

/** A web address the page may point at (an image, a shop's payment page), or null. */
export function webUrl(value) {
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// A picture uploaded to Shopcast (docs/api.md, "Shop"): the same name in each size, fitting that square.
const UPLOADED = /^\/pictures\/([0-9a-f]{32})-(?:160|480|1080)\.webp$/;
const UPLOADED_SIZES = [160, 480, 1080];

/** An uploaded picture's `{sizes, srcset, src}` for an <img>, or null for an address elsewhere. */
function uploadedSizes(src) {
  const url = new URL(src);
  const name = url.origin === window.location.origin ? UPLOADED.exec(url.pathname) : null;
  if (!name) return null;
  const sized = (size) => `/pictures/${name[1]}-${size}.webp`;
  return {
    // Every page's box is 7.5rem at most: "auto" lets the browser take the size the box has on screen
    // (a strip's thumbnail gets the 160 px file); one without "auto" takes the size for the largest box.
    sizes: "auto, 7.5rem",
    srcset: UPLOADED_SIZES.map((size) => `${sized(size)} ${size}w`).join(", "),
    src: sized(480),
  };
}

/** The product's first picture as an <img> (decorative: the title says what it is), or an empty box. */
export function productImage(url, className) {
  const src = url ? webUrl(url) : null;
  if (!src) return el("span", { class: `${className} no-image`, "aria-hidden": "true" });
  // `loading` first: the browser picks the file once it knows how to load it and among which.
  const image = uploadedSizes(src) ?? { src };
  return el("img", { class: className, alt: "", loading: "lazy", decoding: "async", ...image });
}

/** "Only 3 left", "Sold out", or "" when there are plenty: what a viewer is told about stock. */
export function stockNote(stock) {
  if (stock <= 0) return t("product.sold_out");
  if (stock <= LOW_STOCK) return t("product.only_left", { count: stock });
  return "";
}

/** "size", "size / colour": what the variants differ by, for the picker's label. */
export function optionNames(product) {
  const names = [];
  for (const variant of product.variants) {
    for (const name of Object.keys(variant.options || {})) if (!names.includes(name)) names.push(name);
  }
  return names.join(" / ");
}

/** A variant's name for people: its label ("M / Red"), else its options, else its SKU. */
export function variantName(variant) {
  return variant.label || Object.values(variant.options || {}).join(" / ") || variant.sku;
}

/** True when there is nothing to pick: one variant that differs by nothing. */
export function hasNoChoice(product) {
  return product.variants.length === 1 && Object.keys(product.variants[0].options || {}).length === 0;
}

/** A deal that still sells: running, with units left. */
export function dealOn(deal) {
  return Boolean(deal?.active && deal.remaining > 0);
}

/**
 * `{now, was}` in minor units: the price to pay and the struck-through one (or null). A running flash
 * deal beats the regular price; otherwise a compare-at price above the price is shown struck through.
 */
export function priceOf(product, variant = null, deal = null) {
  const regular = variant?.price ?? product.price;
  if (dealOn(deal) && deal.price < regular) return { now: deal.price, was: regular };
  const was = product.compare_at_price;
  return { now: regular, was: was && was > regular ? was : null };
}

/** The price as a <span>: what to pay, then the former price struck through. */
export function priceTag({ now, was }, currency, testId = "price") {
  return el(
    "span",
    { class: "price-tag" },
    el("span", { class: "price-now", "data-testid": testId, text: money(now, currency) }),
    was === null ? null : el("s", { class: "price-was", "data-testid": `${testId}-was`, text: money(was, currency) }),
  );
}

/** Each variant's stock as a list of chips ("M: 3", "L: sold out"), for the staff's pages. */
export function stockList(variants) {
  return el(
    "ul",
    { class: "variant-stock-list", "aria-label": t("product.stock") },
    ...variants.map((variant) =>
      el("li", {
        class: "variant-stock",
        "data-testid": "variant-stock",
        "data-variant-id": variant.id,
        "data-sold-out": variant.stock <= 0,
        text: t("product.stock_chip", {
          variant: variantName(variant),
          stock: variant.stock <= 0 ? t("product.stock_sold_out") : variant.stock.toLocaleString(locale),
        }),
      }),
    ),
  );
}

/** Apply a `stock:changed` event to a product held by a page; true when it was this product. */
export function applyStock(product, change) {
  if (!product || product.id !== change.product_id) return false;
  const variant = product.variants.find((v) => v.id === change.variant_id);
  if (variant) {
    variant.stock = change.stock;
    variant.sold_out = change.stock <= 0;
  }
  product.sold_out = change.sold_out;
  return true;
}
