// An episode's lineup as the brand's staff build it, in the studio and on the manager page: its products
// in order, each moved up or down or taken out, and the brand's products on sale to add at its end. The
// whole list is saved at each change (PUT …/lineup) and what the server answers is what is shown (it keeps
// only the brand's products on sale). The markup is pages/partials/lineup-editor.html; the studio adds
// the pin and the sales to each product (studio/shop.js).

import { api, messageOf } from "../shared/api.js";
import { byTestIds, el, show } from "../shared/dom.js";
import { money } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { priceOf, priceTag, productImage, stockList } from "../shared/product.js";

/**
 * The lineup of one episode at a time (`load`). `notice(text, kind)` says how each change went.
 * `decorate(product)`, when given, adds to a product's row: `current` (highlighted), `badge` (after its
 * title), `price` (instead of the regular one), `sold`, `action` (a button before the tools) and
 * `removable: false`. `onRender()` runs after each drawing.
 */
export function lineupEditor({ notice, decorate = () => ({}), onRender = () => {} }) {
  const ui = byTestIds(["lineup", "lineup-empty", "lineup-add", "lineup-add-select", "lineup-add-submit"]);
  let loads = 0;

  const editor = {
    episodeId: null,
    /** ProductCard, in the lineup's order. */
    products: [],
    /** The brand's products on sale (ProductOut), to add to the lineup. */
    catalog: [],
    /** A call is on its way: the buttons wait. */
    busy: false,
    load,
    clear,
    render,
    act,
  };

  /** The episode's lineup and the brand's products (by its slug); false when it could not be read. */
  async function load(episodeId, brandSlug) {
    const attempt = ++loads;
    editor.episodeId = episodeId;
    try {
      const [lineup, brandProducts] = await Promise.all([api.lineup(episodeId), api.products(brandSlug)]);
      if (attempt !== loads) return false;
      editor.products = lineup;
      editor.catalog = brandProducts;
      render();
      return true;
    } catch (error) {
      if (attempt === loads) notice(t("lineup.load_failed", { error: messageOf(error) }), "error");
      return false;
    }
  }

  /** Nothing shown, and an answer still on its way is dropped. */
  function clear() {
    loads += 1;
    Object.assign(editor, { episodeId: null, products: [], catalog: [] });
    ui.lineup.replaceChildren();
    show(ui.lineupEmpty, false);
    show(ui.lineupAdd, false);
  }

  function render() {
    const focus = focusKey();
    ui.lineup.replaceChildren(...editor.products.map(row));
    show(ui.lineupEmpty, editor.products.length === 0);
    refocus(focus);
    renderAdd();
    onRender();
  }

  /** Where the keyboard is in the lineup: [product id, button], to put it back once drawn again. */
  function focusKey() {
    const focused = document.activeElement;
    const item = focused?.closest?.("[data-testid=lineup-item]");
    return item ? [item.dataset.productId, focused.dataset.testid] : null;
  }

  /** The same button of the same product (which may have moved), else another of its buttons. */
  function refocus(key) {
    if (!key) return;
    const item = ui.lineup.querySelector(`[data-product-id="${CSS.escape(key[0])}"]`);
    const same = item?.querySelector(`[data-testid="${key[1]}"]:not(:disabled)`);
    (same ?? item?.querySelector("button:not(:disabled)"))?.focus({ preventScroll: true });
  }

  /** The brand's products not in the lineup yet, to add at its end. */
  function renderAdd() {
    const inLineup = new Set(editor.products.map((p) => p.id));
    const addable = editor.catalog.filter((p) => !inLineup.has(p.id));
    const picked = ui.lineupAddSelect.value;
    ui.lineupAddSelect.replaceChildren(
      ...addable.map((p) => el("option", { value: p.id, text: `${p.title} · ${money(p.price, p.currency)}` })),
    );
    if (addable.some((p) => p.id === picked)) ui.lineupAddSelect.value = picked;
    show(ui.lineupAdd, addable.length > 0);
    ui.lineupAddSubmit.disabled = editor.busy;
  }

  function row(product, index) {
    const extra = decorate(product);
    const { title } = product;
    const last = editor.products.length - 1;
    return el(
      "li",
      {
        class: "lineup-item",
        "data-testid": "lineup-item",
        "data-product-id": product.id,
        "aria-current": extra.current ? "true" : false,
      },
      productImage(product.image_urls[0], "lineup-image"),
      el(
        "div",
        { class: "lineup-body" },
        el(
          "p",
          { class: "lineup-title" },
          el("span", { "data-testid": "lineup-title", text: title }),
          extra.badge,
        ),
        el(
          "p",
          { class: "lineup-meta" },
          extra.price ?? priceTag(priceOf(product), product.currency, "lineup-price"),
          extra.sold,
        ),
        stockList(product.variants),
      ),
      el(
        "div",
        { class: "lineup-actions" },
        extra.action,
        el(
          "div",
          { class: "lineup-tools", role: "group", "aria-label": t("lineup.place_of", { title }) },
          tool("↑", t("lineup.move_up", { title }), "lineup-up", index === 0, () => move(index, -1)),
          tool("↓", t("lineup.move_down", { title }), "lineup-down", index === last, () => move(index, 1)),
          tool("✕", t("lineup.take_out", { title }), "lineup-remove", extra.removable === false, () => remove(product)),
        ),
      ),
    );
  }

  function tool(text, label, testId, disabled, onclick) {
    return el("button", {
      type: "button",
      class: "button button-small button-quiet lineup-tool",
      "data-testid": testId,
      "aria-label": label,
      title: label,
      text,
      disabled: editor.busy || disabled,
      onclick,
    });
  }

  /** Run `call` with the buttons waiting, then say `done(result)` or why it failed; null when it did. */
  async function act(call, done) {
    const focus = focusKey(); // its button is disabled meanwhile, which takes the keyboard away
    editor.busy = true;
    render();
    notice("");
    try {
      const result = await call();
      notice(done(result));
      return result;
    } catch (error) {
      notice(messageOf(error), "error");
      return null;
    } finally {
      editor.busy = false;
      render();
      refocus(focus);
    }
  }

  /** The lineup in this order, from the server. */
  async function save(ids, done) {
    const episodeId = editor.episodeId;
    const saved = await act(() => api.setLineup(episodeId, ids), done);
    if (saved && episodeId === editor.episodeId) {
      editor.products = saved;
      render();
    }
  }

  function move(index, by) {
    const ids = editor.products.map((p) => p.id);
    [ids[index], ids[index + by]] = [ids[index + by], ids[index]];
    const { title } = editor.products[index];
    save(ids, (saved) => t("lineup.moved", { title, position: index + by + 1, count: saved.length }));
  }

  function remove(product) {
    save(
      editor.products.filter((p) => p.id !== product.id).map((p) => p.id),
      () => t("lineup.taken_out", { title: product.title }),
    );
  }

  ui.lineupAdd.addEventListener("submit", (event) => {
    event.preventDefault();
    const product = editor.catalog.find((p) => p.id === ui.lineupAddSelect.value);
    if (!product || editor.busy) return;
    save([...editor.products.map((p) => p.id), product.id], () => t("lineup.added", { title: product.title }));
  });

  return editor;
}
