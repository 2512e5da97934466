// The catalog: GET /models with the form's filters. The address holds the filters
// (history.replaceState), so a reload or a shared link shows the same list.

import { api, ApiError, modelPath } from "./api.js";
import { debounce, el, fmt, showState } from "./ui.js";

const form = document.getElementById("filters");
const results = document.getElementById("results");
const table = document.getElementById("table");
const count = document.getElementById("count");
const timing = document.getElementById("timing");
const more = document.getElementById("more");

// Form fields that map 1:1 onto API parameters (the params in billions are converted).
const DIRECT = ["q", "task", "author", "license", "source", "gated", "updated_since", "gpu",
  "max_p95_ms", "max_cost_per_mtok", "pricing", "sort"];
// Checkboxes sent as `name=true` when ticked.
const FLAGS = ["measured", "include_removed"];
const DEFAULTS = { sort: "-downloads", pricing: "spot" };
const BILLION = 1e9;

let controller = null;
let nextCursor = null;
let rows = [];

/** The form as API parameters (only those set, defaults left out). */
function params() {
  const data = new FormData(form);
  const out = {};
  for (const name of DIRECT) {
    const value = String(data.get(name) || "").trim();
    if (value && value !== DEFAULTS[name]) out[name] = value;
  }
  if (out.pricing && !out.max_cost_per_mtok) delete out.pricing;
  for (const [field, param] of [["min_b", "min_params"], ["max_b", "max_params"]]) {
    const value = parseFloat(data.get(field));
    if (Number.isFinite(value) && value >= 0) out[param] = Math.round(value * BILLION);
  }
  for (const name of FLAGS) if (data.get(name)) out[name] = "true";
  return out;
}

function fillForm(search) {
  const query = new URLSearchParams(search);
  for (const name of DIRECT) {
    form.elements[name].value = query.get(name) || DEFAULTS[name] || "";
  }
  for (const [field, param] of [["min_b", "min_params"], ["max_b", "max_params"]]) {
    const value = query.get(param);
    form.elements[field].value = value ? String(Number(value) / BILLION) : "";
  }
  for (const name of FLAGS) form.elements[name].checked = query.get(name) === "true";
}

function syncUrl(query) {
  const search = new URLSearchParams(query).toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function row(m) {
  const href = `/ui/models/${modelPath(m.id)}`;
  return el("tr", {},
    el("td", { class: "model", title: m.id }, el("a", { href }, m.id),
      m.gated ? el("span", { class: "chip muted" }, "gated") : null,
      m.removed_at ? el("span", { class: "chip muted" }, "removed") : null),
    el("td", {}, m.pipeline_tag || "—"),
    el("td", {}, m.license || "—"),
    el("td", { class: "num" }, fmt.params(m.num_parameters)),
    el("td", { class: "num" }, fmt.compact(m.downloads)),
    el("td", { class: "num" }, fmt.compact(m.likes)),
    el("td", {}, fmt.date(m.last_modified)));
}

function render(body, append) {
  rows = append ? rows.concat(body.data) : body.data;
  nextCursor = body.next_cursor;
  more.hidden = !nextCursor;
  const total = body.count_is_estimate ? `about ${fmt.int(body.count)}` : fmt.int(body.count);
  count.replaceChildren(el("strong", {}, `${total} models`),
    rows.length < body.count ? ` · showing ${fmt.int(rows.length)}` : "");
  if (!rows.length) {
    showState(table, "empty", "No models match these filters",
      "Loosen a limit or clear the filters to see the whole catalog.",
      el("button", { type: "button", onclick: () => { form.reset(); } }, "Clear filters"));
    return;
  }
  const head = el("thead", {}, el("tr", {},
    ["Model", "Task", "License"].map((h) => el("th", { scope: "col" }, h)),
    ["Params", "Downloads", "Likes"].map((h) => el("th", { scope: "col", class: "num" }, h)),
    el("th", { scope: "col" }, "Updated")));
  table.replaceChildren(el("table", { id: "models" }, head, el("tbody", {}, rows.map(row))));
  fillSuggestions();
}

function fillSuggestions() {
  for (const [id, field] of [["tasks", "pipeline_tag"], ["licenses", "license"],
    ["sources", "source"]]) {
    const list = document.getElementById(id);
    const known = new Set([...list.options].map((o) => o.value));
    for (const m of rows) {
      if (m[field] && !known.has(m[field])) { known.add(m[field]); list.append(el("option", { value: m[field] })); }
    }
  }
}

async function load({ append = false } = {}) {
  const query = params();
  if (!append) syncUrl(query);
  controller?.abort();
  controller = new AbortController();
  results.setAttribute("aria-busy", "true");
  const started = performance.now();
  try {
    const body = await api("/models", {
      params: { ...query, limit: 50, cursor: append ? nextCursor : undefined },
      signal: controller.signal,
    });
    render(body, append);
    timing.textContent = `${Math.round(performance.now() - started)} ms`;
  } catch (error) {
    if (error.name === "AbortError") return;
    count.replaceChildren(el("strong", {}, "Could not load models"));
    more.hidden = true;
    const retry = el("button", { type: "button", onclick: () => load() }, "Retry");
    showState(table, "error", error instanceof ApiError && error.status < 500
      ? "These filters are not valid" : "Something went wrong", error.message, retry);
  } finally {
    results.setAttribute("aria-busy", "false");
  }
}

async function loadGpus() {
  try {
    const body = await api("/gpus");
    const select = form.elements.gpu;
    const wanted = new URLSearchParams(location.search).get("gpu");
    const listed = new Set([...select.options].map((o) => o.value));
    for (const gpu of body.data) {
      if (!listed.has(gpu.name)) select.append(el("option", { value: gpu.name }, gpu.name));
    }
    if (wanted) select.value = wanted;
  } catch {
    // The GPU list only fills the select; the catalog works without it.
  }
}

// Typing waits for a pause; a choice (select, checkbox, a picked date) loads on `change`,
// which every browser fires for them (some fire no `input` for a select).
const TYPED = new Set(["text", "search", "number"]);
const typed = debounce(() => load(), 200);
form.addEventListener("input", (event) => { if (TYPED.has(event.target.type)) typed(); });
form.addEventListener("change", (event) => { if (!TYPED.has(event.target.type)) load(); });
form.addEventListener("reset", () => setTimeout(() => load(), 0));
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
more.addEventListener("click", () => load({ append: true }));

const wantedGpu = new URLSearchParams(location.search).get("gpu");
if (wantedGpu) form.elements.gpu.append(el("option", { value: wantedGpu }, wantedGpu));
fillForm(location.search);
loadGpus();
load();
