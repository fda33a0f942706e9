// Small helpers for building views: elements from plain arguments (text is always text, never
// HTML), an error box that shows what the API said, and the formats the views share.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on"))
      el.addEventListener(k.slice(2), v);
    else if (k === "class")
      el.className = v;
    else
      el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** What went wrong, as the API said it: its code and message. */
export function errorBox(err) {
  const code = err && err.code ? err.code : "error";
  return h(
      "div", {class: "error", role: "alert", "data-code": code}, h("code", {}, code), ": ",
      err && err.message ? err.message : String(err));
}

export function badge(status) {
  return h("span", {class: `badge ${status}`}, status);
}

export function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const score = (x) => (x === null || x === undefined ? "–" : Number(x).toFixed(3));

export function bar(fraction) {
  const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  return h("div", {class: "bar", title: `${pct}%`}, h("span", {style: `width:${pct}%`}));
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat())
    if (c) el.append(c);
  return el;
}

export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = h("a", {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const shown = new WeakMap();

/**
 * Fills `el` with what make() builds, but only when `key` differs from what it shows: a live
 * view re-renders often, and replacing a button or link under the pointer loses the click.
 */
export function keep(el, key, make) {
  if (shown.get(el) === key) return el;
  shown.set(el, key);
  return fill(el, make());
}
