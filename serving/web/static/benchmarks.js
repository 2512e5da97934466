// The benchmark plan: GET /benchmarks/plan filtered by GPU and status (server-side, so the
// totals follow the filter), sorted here by a column header. The address holds filters and
// sort (history.replaceState), so a reload or a shared link shows the same table. Each row can
// be queued now through POST /benchmarks/requests (benchmarks.request.js).

import { api, ApiError, modelPath } from "./api.js";
import { requestCell } from "./benchmarks.request.js";
import { el, fmt, showState } from "./ui.js";

const form = document.getElementById("filters");
const results = document.getElementById("results");
const table = document.getElementById("table");
const count = document.getElementById("count");
const plannedAt = document.getElementById("planned-at");
const totals = document.getElementById("totals");

const FILTERS = ["gpu", "status"];
const DEFAULT_SORT = "rank";
// The API's maximum page: a plan is one row per due (model, GPU, config), so this is plenty;
// beyond it the table says it shows the first rows by rank.
const LIMIT = 500;
const STATUS_ORDER = { planned: 0, over_budget: 1, unplannable: 2, given_up: 3 };
const STATUS_LABEL = {
  planned: "planned",
  over_budget: "over budget",
  unplannable: "unplannable",
  given_up: "given up",
};

// Sortable columns: how to read the value; nulls sort last either way.
const COLUMNS = [
  { key: "rank", label: "#", num: true, value: (r) => r.rank },
  { key: "model_id", label: "Model", value: (r) => r.model_id.toLowerCase() },
  { key: "gpu", label: "GPU", value: (r) => r.gpu.toLowerCase() },
  { key: null, label: "Config" },
  { key: null, label: "Reason" },
  { key: "est_gpu_hours", label: "GPU-hours", num: true, value: (r) => r.est_gpu_hours },
  { key: "est_usd_spot", label: "Spot $", num: true, value: (r) => r.est_usd_spot },
  { key: "est_usd_on_demand", label: "On-demand $", num: true, value: (r) => r.est_usd_on_demand },
  { key: "status", label: "Status", value: (r) => STATUS_ORDER[r.status] ?? 9 },
  { key: null, label: "Run" },
];
const SORTABLE = new Map(COLUMNS.filter((c) => c.key).map((c) => [c.key, c]));

let controller = null;
let items = [];
let sort = DEFAULT_SORT;

function params() {
  const data = new FormData(form);
  const out = {};
  for (const name of FILTERS) {
    const value = String(data.get(name) || "");
    if (value) out[name] = value;
  }
  return out;
}

function fillForm(search) {
  const query = new URLSearchParams(search);
  for (const name of FILTERS) form.elements[name].value = query.get(name) || "";
  const wanted = query.get("sort") || DEFAULT_SORT;
  sort = SORTABLE.has(wanted.replace(/^-/, "")) ? wanted : DEFAULT_SORT;
}

function syncUrl(query) {
  const search = new URLSearchParams(sort === DEFAULT_SORT ? query : { ...query, sort }).toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function sorted(rows) {
  const column = SORTABLE.get(sort.replace(/^-/, ""));
  const sign = sort.startsWith("-") ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    if (x === null || x === undefined) return y === null || y === undefined ? a.rank - b.rank : 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -sign : x > y ? sign : 0) || a.rank - b.rank;
  });
}

/** The run's config in two lines: engine and dtype, then the work ("8 concurrent · 512 → 256"). */
function configCell(config) {
  const what = [config.engine, config.dtype].filter(Boolean).join(" · ") || "default";
  const work = [config.concurrency != null ? `${config.concurrency} concurrent` : null,
    config.input_len != null && config.output_len != null
      ? `${config.input_len} → ${config.output_len} tokens` : null].filter(Boolean).join(" · ");
  return el("td", { class: "config", title: JSON.stringify(config) }, what,
    work ? el("span", { class: "detail" }, work) : null);
}

// The planner's reasons (assets/benchmarks/plan.py `due_reason`) as a short label and detail.
const REASONS = [
  [/^never measured$/, "never measured"],
  [/^new revision (.+)$/, "new revision"],
  [/^engine (.+)$/, "new engine"],
];

function reasonCell(reason) {
  for (const [pattern, label] of REASONS) {
    const match = reason.match(pattern);
    if (match) {
      const detail = match[1] ? match[1].replace(" -> ", " → ") : null;
      return el("td", { title: reason }, el("span", { class: "chip" }, label),
        detail ? el("span", { class: "detail" }, detail) : null);
    }
  }
  return el("td", {}, reason);
}

function row(item) {
  const href = `/ui/models/${modelPath(item.model_id)}`;
  return el("tr", { "data-model": item.model_id, "data-gpu": item.gpu, "data-status": item.status },
    el("td", { class: "num" }, item.rank),
    el("td", { class: "model", title: item.model_id }, el("a", { href }, item.model_id),
      item.revision ? el("span", { class: "detail", title: `revision to measure: ${item.revision}` },
        item.revision.slice(0, 10)) : null),
    el("td", {}, item.num_gpus > 1 ? `${item.num_gpus}× ${item.gpu}` : item.gpu),
    configCell(item.config),
    reasonCell(item.reason),
    el("td", { class: "num", title: item.estimate_basis || null }, fmt.num(item.est_gpu_hours, 2)),
    el("td", { class: "num" }, fmt.usd(item.est_usd_spot)),
    el("td", { class: "num" }, fmt.usd(item.est_usd_on_demand)),
    el("td", {}, el("span", { class: `chip status-${item.status}` }, STATUS_LABEL[item.status]),
      item.note ? el("span", { class: "detail" }, item.note) : null),
    requestCell(item));
}

function headerCell(column) {
  const classes = column.num ? "num" : null;
  if (!column.key) return el("th", { scope: "col", class: classes }, column.label);
  const active = sort.replace(/^-/, "") === column.key;
  const descending = sort.startsWith("-");
  const direction = active ? (descending ? "descending" : "ascending") : null;
  const button = el("button", { type: "button", class: "sort", "data-sort": column.key,
    onclick: () => {
      sort = active && !descending ? `-${column.key}` : column.key;
      syncUrl(params());
      renderTable();
      // The header was rebuilt: keep keyboard focus on the column just sorted.
      table.querySelector(`button[data-sort="${column.key}"]`).focus();
    } }, column.label, el("span", { "aria-hidden": "true" }, active ? (descending ? " ▼" : " ▲") : ""));
  return el("th", { scope: "col", class: classes, "aria-sort": direction }, button);
}

function renderTable() {
  const head = el("thead", {}, el("tr", {}, COLUMNS.map(headerCell)));
  table.replaceChildren(el("table", { id: "plan" },
    el("caption", { class: "visually-hidden" }, "Benchmark plan, sortable by column"),
    head, el("tbody", {}, sorted(items).map(row))));
}

function stat(id, value, label) {
  return el("div", { class: "stat", id }, el("div", { class: "v" }, value),
    el("div", { class: "l" }, label));
}

// "X of Y": a planned total against the cap stored with the plan (the budget it was made
// against, not today's settings). No cap before the first plan: the total alone.
function ofBudget(planned, budget, format) {
  if (budget === null || budget === undefined) return format(planned);
  return [format(planned), el("span", { class: "of" }, ` of ${format(budget)}`)];
}

function perRun(cap, format) {
  return cap === null || cap === undefined ? "" : ` · at most ${format(cap)} a run`;
}

function formatPlannedAt(value) {
  return new Date(value).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

function render(body, query) {
  items = body.data;
  const filtered = Object.keys(query).length > 0;
  count.replaceChildren(el("strong", {}, `${fmt.int(body.count)} plan item${body.count === 1 ? "" : "s"}`),
    items.length < body.count ? ` · showing the first ${fmt.int(items.length)} by rank` : "");
  plannedAt.textContent = body.planned_at ? `planned ${formatPlannedAt(body.planned_at)}` : "";
  const hours = (v) => fmt.num(v, 2);
  // The budget is the whole plan's; with a filter the totals are this view's share of it.
  const scope = filtered ? " here" : "";
  totals.replaceChildren(
    stat("total-gpu-hours", ofBudget(body.planned_gpu_hours, body.budget_gpu_hours, hours),
      `planned GPU-hours${scope}${perRun(body.budget_gpu_hours_per_run, hours)}`),
    stat("total-spot", ofBudget(body.planned_usd_spot, body.budget_usd, fmt.usd),
      `planned cost at spot${scope}${perRun(body.budget_usd_per_run, fmt.usd)}`),
    stat("total-on-demand", fmt.usd(body.planned_usd_on_demand), "if all fell back to on-demand"));
  totals.hidden = !items.length;
  fillGpus(items.map((item) => item.gpu));
  if (items.length) {
    renderTable();
  } else if (filtered) {
    showState(table, "empty", "No plan items match these filters",
      "Pick another GPU or status, or clear the filters to see the whole plan.",
      el("button", { type: "button", onclick: () => form.reset() }, "Clear filters"));
  } else if (body.planned_at) {
    showState(table, "empty", "Nothing to benchmark",
      `The plan made ${formatPlannedAt(body.planned_at)} found every candidate model measured at its `
      + "current revision and engine version.");
  } else {
    showState(table, "empty", "No plan yet",
      "Materialize the benchmark_plan asset (Dagster UI, group benchmarks, or `modelcat pipeline "
      + "run`).");
  }
}

function errorTitle(error) {
  if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) {
    return "Something went wrong";
  }
  if (error.status === 401 || error.status === 403) return "Reading the plan needs an API key";
  return "These filters are not valid";
}

async function load() {
  const query = params();
  syncUrl(query);
  controller?.abort();
  controller = new AbortController();
  results.setAttribute("aria-busy", "true");
  try {
    render(await api("/benchmarks/plan", { params: { ...query, limit: LIMIT },
      signal: controller.signal }), query);
  } catch (error) {
    if (error.name === "AbortError") return;
    count.replaceChildren(el("strong", {}, "Could not load the plan"));
    plannedAt.textContent = "";
    totals.hidden = true;
    const retry = el("button", { type: "button", onclick: () => load() }, "Retry");
    showState(table, "error", errorTitle(error), error.message, retry);
  } finally {
    results.setAttribute("aria-busy", "false");
  }
}

/** Adds GPUs to the select (the catalog's, and any the plan names), keeping the choice. */
function fillGpus(names) {
  const select = form.elements.gpu;
  const listed = new Set([...select.options].map((o) => o.value));
  const fresh = [...new Set(names)].filter((name) => name && !listed.has(name)).sort();
  if (!fresh.length) return;
  const chosen = select.value;
  const all = [...select.options].slice(1).map((o) => o.value).concat(fresh).sort();
  select.replaceChildren(select.options[0], ...all.map((name) => el("option", { value: name }, name)));
  select.value = chosen;
}

async function loadGpus() {
  try {
    fillGpus((await api("/gpus")).data.map((gpu) => gpu.name));
  } catch {
    // The GPU list only fills the select; the plan's own GPUs are added as it loads.
  }
}

form.addEventListener("change", () => load());
form.addEventListener("reset", () => setTimeout(() => load(), 0));
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });

// A GPU in the address is an option before the lists arrive, so the form can show it.
const wantedGpu = new URLSearchParams(location.search).get("gpu");
if (wantedGpu) fillGpus([wantedGpu]);
fillForm(location.search);
loadGpus();
load();
