// The page's words in its language: the catalogues of shopcast/locales/ (the server's too), chosen
// by <html lang>, which the server set from the person's choice or their browser's languages.

import catalogues from "shopcast:catalogues";

const DEFAULT = "en";

/** The page's language ("fr"), for the words and for Intl's dates, numbers and money. */
export const lang = catalogues[document.documentElement.lang] ? document.documentElement.lang : DEFAULT;

/**
 * The locale for Intl's dates, numbers and money: the browser's own variant of the page's language
 * ("en-GB" for an English page in a British browser), else the language itself.
 */
export const locale = (navigator.languages || []).find((tag) => tag.split("-")[0] === lang) ?? lang;

const plurals = new Intl.PluralRules(lang);

/**
 * The message for `key`, its `{name}` placeholders filled from `params`; a message with plural forms
 * ({one, other, …}) takes the one for `params.count`. A key missing from the page's language falls
 * back to English; one missing from English too is a bug, and says so in the console.
 */
export function t(key, params = {}) {
  let found = catalogues[lang][key];
  let rules = plurals;
  if (found === undefined) {
    found = catalogues[DEFAULT][key];
    rules = new Intl.PluralRules(DEFAULT);
  }
  if (found === undefined) {
    console.error(`no message "${key}" in the catalogues`);
    return key;
  }
  if (typeof found === "object") found = found[rules.select(params.count ?? 0)] ?? found.other;
  return found.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * A message whose placeholders are page elements (a name in bold, a code): `message` as t() gives it
 * without those params, split into its text and `nodes` in the order the language puts them, for
 * el() or append(). fill(t("chat.replying_to"), {name: strong, text: span})
 */
export function fill(message, nodes) {
  return message
    .split(/(\{\w+\})/)
    .filter(Boolean)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      return name && name in nodes ? nodes[name] : part;
    });
}
