// Small DOM and formatting helpers shared by the pages, and the nav bar's API key button.

import { apiKey, setApiKey } from "./api.js";

/** An element: el("a", {href: "/"}, "text", child). `class`, `text` and on* are handled. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** An empty, error or loading message in `container` (replacing what was there). */
export function showState(container, kind, title, text, action) {
  const box = el("div", { class: `state ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("strong", { text: title }), text ? el("div", { text }) : null);
  if (action) box.append(el("div", { style: "margin-top:12px" }, action));
  container.replaceChildren(box);
}

export function skeleton(container, rows = 6) {
  container.replaceChildren(...Array.from({ length: rows }, () => el("div", { class: "skeleton" })));
}

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en");

export const fmt = {
  int: (v) => (v === null || v === undefined ? "—" : whole.format(v)),
  compact: (v) => (v === null || v === undefined ? "—" : compact.format(v)),
  params: (v) => (v ? compact.format(v) : "—"),
  num: (v, digits = 1) => (v === null || v === undefined ? "—"
    : Number(v).toLocaleString("en", { maximumFractionDigits: digits })),
  ms: (v) => (v === null || v === undefined ? "—" : `${fmt.num(v, v < 10 ? 2 : 1)} ms`),
  usd: (v) => (v === null || v === undefined ? "—" : `$${Number(v).toFixed(v < 1 ? 3 : 2)}`),
  date: (v) => (v ? new Date(v).toLocaleDateString("en", { dateStyle: "medium" }) : "—"),
  pct: (v) => (v === null || v === undefined ? "—" : `${fmt.num(v, 0)}%`),
};

/** Calls `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function wireApiKeyButton() {
  const button = document.getElementById("api-key");
  if (!button) return;
  const paint = () => { button.textContent = apiKey() ? "API key ✓" : "API key"; };
  paint();
  button.addEventListener("click", () => {
    const key = prompt("API key sent as X-API-Key (leave empty to remove):", apiKey());
    if (key === null) return;
    setApiKey(key.trim());
    paint();
    location.reload();
  });
}

wireApiKeyButton();
