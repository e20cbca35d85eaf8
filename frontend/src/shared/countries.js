// The countries a delivery address can be in, named in the reader's language (checkout, prize claims).

import { locale } from "./i18n.js";

// Codes that name a region but not a country one delivers to.
const NOT_COUNTRIES = new Set(["EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"]);

/** [code, name] of every country the browser can name, sorted by name in the reader's language. */
export function countries() {
  let names;
  try {
    names = new Intl.DisplayNames(locale, { type: "region", fallback: "none" });
  } catch {
    return [["FR", "France"]];
  }
  const found = [];
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (const a of letters) {
    for (const b of letters) {
      const code = a + b;
      const name = NOT_COUNTRIES.has(code) ? undefined : names.of(code);
      if (name && name !== code) found.push([code, name]);
    }
  }
  return found.sort((x, y) => x[1].localeCompare(y[1], locale));
}

/** "France" for "FR" in the reader's language (the code itself when the browser cannot name it). */
export function countryName(code) {
  try {
    return new Intl.DisplayNames(locale, { type: "region", fallback: "code" }).of(code) || code;
  } catch {
    return code;
  }
}

/** The reader's country from the browser's language ("en-GB" → GB), else France. */
export function homeCountry() {
  try {
    return new Intl.Locale(navigator.language).maximize().region || "FR";
  } catch {
    return "FR";
  }
}
