// Building DOM from data without innerHTML: strings always become text nodes.

/**
 * el("button", {class: "button", "data-testid": "x", onclick: fn}, "Label", child)
 * `text` sets textContent; `on*` adds listeners; true/false toggle boolean attributes.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function byTestId(id, root = document) {
  const node = root.querySelector(`[data-testid="${id}"]`);
  if (!node) throw new Error(`the page has no [data-testid="${id}"]`);
  return node;
}

/** {fooBar: node} for each data-testid "foo-bar" in `ids`: a page's elements, by the names its code uses. */
export function byTestIds(ids, root = document) {
  return Object.fromEntries(ids.map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), byTestId(id, root)]));
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

// Good news (a pin shown, a message deleted) is read at a glance, then goes; a refusal stays until
// the next action replaces it.
const NOTICE_SECONDS = 8;

/** `say(text, kind)` for a notice line: "ok" and "info" clear themselves, "error" and "warning" stay. */
export function noticeLine(node) {
  let timer = 0;
  return (text, kind = "ok") => {
    clearTimeout(timer);
    node.textContent = text;
    node.dataset.kind = kind;
    if (text && (kind === "ok" || kind === "info")) {
      timer = setTimeout(() => {
        node.textContent = "";
      }, NOTICE_SECONDS * 1000);
    }
  };
}

/** Copy an input's text to the clipboard; false when the browser would not (the text is selected then). */
export async function copyToClipboard(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    // No clipboard API (or no permission): copy the selected text the old way.
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

/** Save a file the API sent (`{blob, name}`) as the browser saves a download. */
export function saveFile({ blob, name }) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
