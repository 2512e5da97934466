// A model's page: metadata and lineage (GET /models/{id}), popularity over time
// (/models/{id}/popularity), and benchmark results per GPU with their history and cost
// (/models/{id}/benchmarks).

import { api, ApiError, modelPath } from "./api.js";
import { timeChart } from "./chart.js";
import { el, fmt, showState, skeleton } from "./ui.js";

const page = document.getElementById("page");
const id = decodeURIComponent(location.pathname.slice("/ui/models/".length)).replace(/\/$/, "");
const base = `/models/${modelPath(id)}`;

/** The task's p95 latency, as the API's filters and the recommendations read it. */
const p95 = (r) => r.tpot_ms_p95 ?? r.itl_ms_p95 ?? r.e2e_ms_p95 ?? r.e2e_ms_p50 ?? null;

const HISTORY_METRICS = {
  p95: { label: "p95 latency (ms)", value: p95, format: fmt.ms },
  throughput: { label: "Throughput per GPU", value: (r) => r.throughput_per_gpu, format: fmt.num },
  spot: { label: "Spot $ / 1M outputs", value: (r) => r.cost?.usd_per_million_spot ?? null,
    format: fmt.usd },
  on_demand: { label: "On-demand $ / 1M outputs",
    value: (r) => r.cost?.usd_per_million_on_demand ?? null, format: fmt.usd },
};

function stat(value, label) {
  return el("div", { class: "stat" }, el("div", { class: "v" }, value), el("div", { class: "l" }, label));
}

function modelLink(modelId) {
  return el("a", { href: `/ui/models/${modelPath(modelId)}` }, modelId);
}

function header(m) {
  const chips = [m.pipeline_tag, m.library_name, m.license && `license: ${m.license}`]
    .filter(Boolean).map((c) => el("span", { class: "chip" }, c));
  if (m.gated) chips.push(el("span", { class: "chip muted" }, "gated"));
  if (m.removed_at) chips.push(el("span", { class: "chip muted" }, `removed ${fmt.date(m.removed_at)}`));
  // A base outside the catalog has no page to link to; the relation is the registry's tag.
  const bases = m.lineage.base_models;
  const lineage = bases.length
    ? el("dd", { id: "base-models" }, bases.map((b, i) => [i ? ", " : "",
      b.in_catalog ? modelLink(b.id) : el("span", { title: "not in the catalog" }, b.id),
      b.relation ? ` (${b.relation})` : ""]))
    : el("dd", {}, "None recorded (a base model itself, or not declared)");
  const { children, children_count: total } = m.lineage;
  const derived = children.length
    ? el("dd", { id: "children" }, children.map((c, i) => [i ? ", " : "", modelLink(c.id),
      c.relation ? ` (${c.relation})` : ""]),
      total > children.length ? ` and ${fmt.int(total - children.length)} more` : "")
    : el("dd", {}, "None listed");
  return el("section", { class: "panel", "aria-labelledby": "model-title" },
    el("h1", { id: "model-title" }, m.id),
    el("div", {}, chips),
    el("div", { class: "stats", style: "margin:14px 0" },
      stat(fmt.params(m.num_parameters), "parameters"),
      stat(fmt.compact(m.downloads), "downloads (30 days)"),
      stat(fmt.compact(m.likes), "likes"),
      stat(fmt.date(m.last_modified), "last modified")),
    el("dl", { class: "meta" },
      el("dt", {}, "Author"), el("dd", {}, m.author || "—"),
      el("dt", {}, "Base model"), lineage,
      el("dt", {}, "Derived models"), derived,
      el("dt", {}, "Registry"), el("dd", {}, `${m.source}${m.sha ? ` · revision ${m.sha.slice(0, 10)}` : ""}`),
      el("dt", {}, "In catalog since"), el("dd", {}, fmt.date(m.first_seen)),
      el("dt", {}, "Tags"), el("dd", {}, m.tags.length
        ? m.tags.slice(0, 30).map((t) => el("span", { class: "chip muted" }, t)) : "—")));
}

async function popularity(section) {
  const chart = el("div", { class: "chart", id: "popularity-chart" });
  const metric = el("select", { "aria-label": "Popularity metric" },
    el("option", { value: "downloads" }, "Downloads"), el("option", { value: "likes" }, "Likes"));
  section.replaceChildren(
    el("div", { class: "summary" }, el("h2", {}, "Popularity over time"), metric), chart);
  skeleton(chart, 4);
  let points;
  try {
    points = (await api(`${base}/popularity`)).points;
  } catch (error) {
    showState(chart, "error", "Popularity is unavailable", error.message);
    return;
  }
  const draw = () => {
    const name = metric.value;
    const drawn = timeChart(chart, [{ name, points: points.map((p) => ({ t: p.date, v: p[name] })) }],
      { yLabel: name, title: `${name} of ${id} per day` });
    if (!drawn) showState(chart, "empty", "No popularity snapshots yet", "The daily snapshot job has not recorded this model.");
  };
  metric.addEventListener("change", draw);
  draw();
}

function costCell(r) {
  if (!r.cost) return el("td", { class: "num" }, "—");
  const c = r.cost;
  return el("td", { class: "num", title: `prices from ${c.price_source}` },
    fmt.usd(c.usd_per_million_spot), " / ", fmt.usd(c.usd_per_million_on_demand),
    c.spot_saving_pct !== null ? el("div", { class: "badge-good" }, `spot saves ${fmt.pct(c.spot_saving_pct)}`) : null);
}

function configLabel(r) {
  const parts = [`${r.num_gpus}× ${r.gpu}`, r.provenance.engine, r.concurrency && `conc. ${r.concurrency}`];
  return parts.filter(Boolean).join(" · ");
}

function resultsTable(latest) {
  const head = ["Configuration", "Throughput / GPU", "p95 latency", "TTFT p95", "Energy / output",
    "$ / 1M spot / on-demand", "Measured", "Source"];
  return el("div", { class: "table-wrap" }, el("table", { id: "results-table" },
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", class: i && i < 6 ? "num" : "" }, h)))),
    el("tbody", {}, latest.map((r) => el("tr", {},
      el("td", { title: r.result_key }, configLabel(r)),
      el("td", { class: "num" }, fmt.num(r.throughput_per_gpu)),
      el("td", { class: "num" }, fmt.ms(p95(r))),
      el("td", { class: "num" }, fmt.ms(r.ttft_ms_p95)),
      el("td", { class: "num" }, r.energy_per_output_j === null ? "—" : `${fmt.num(r.energy_per_output_j, 2)} J`),
      costCell(r),
      el("td", {}, fmt.date(r.provenance.measured_at)),
      el("td", {}, r.provenance.source))))));
}

function costSummary(latest) {
  const priced = latest.filter((r) => r.cost && r.cost.usd_per_million_spot !== null);
  if (!priced.length) return el("p", { class: "subtitle" }, "No cost yet: no recent GPU price for these results.");
  const best = priced.reduce((a, b) => (a.cost.usd_per_million_spot <= b.cost.usd_per_million_spot ? a : b));
  const c = best.cost;
  return el("div", { class: "stats", style: "margin-bottom:12px" },
    stat(fmt.usd(c.usd_per_million_spot), "best $ / 1M outputs, spot"),
    stat(fmt.usd(c.usd_per_million_on_demand), "same run, on-demand"),
    stat(fmt.pct(c.spot_saving_pct), "saved with spot"),
    stat(`${fmt.usd(c.spot_usd_per_gpu_hour)} / ${fmt.usd(c.on_demand_usd_per_gpu_hour)}`, "GPU-hour spot / on-demand"));
}

function group(section, rows) {
  const chart = el("div", { class: "chart", id: "history-chart" });
  const metric = el("select", { "aria-label": "History metric" },
    Object.entries(HISTORY_METRICS).map(([k, m]) => el("option", { value: k }, m.label)));
  // The newest run of each configuration is its current number; older ones are its history.
  // (The API lists the newest first within a task and GPU.)
  const newest = new Map();
  for (const r of rows) if (!newest.has(r.result_key)) newest.set(r.result_key, r);
  const latest = [...newest.values()];
  const draw = () => {
    const m = HISTORY_METRICS[metric.value];
    const byConfig = new Map();
    for (const r of rows) {
      if (!byConfig.has(r.result_key)) byConfig.set(r.result_key, { name: configLabel(r), points: [] });
      byConfig.get(r.result_key).points.push({ t: r.provenance.measured_at, v: m.value(r) });
    }
    const drawn = timeChart(chart, [...byConfig.values()], { yLabel: m.label, yFormat: m.format,
      title: `${m.label} per configuration over time` });
    if (!drawn) showState(chart, "empty", `No ${m.label.toLowerCase()} measured`, "Pick another metric.");
  };
  metric.addEventListener("change", draw);
  section.replaceChildren(costSummary(latest), resultsTable(latest),
    el("div", { class: "summary", style: "margin-top:16px" }, el("h2", {}, "History"), metric), chart);
  draw();
}

async function benchmarks(section) {
  const body = el("div", {});
  section.replaceChildren(el("h2", {}, "Benchmarks per GPU"), body);
  skeleton(body, 5);
  let data;
  try {
    data = (await api(`${base}/benchmarks`, { params: { limit: 500 } })).data;
  } catch (error) {
    showState(body, "error", "Benchmarks are unavailable", error.message);
    return;
  }
  if (!data.length) {
    showState(body, "empty", "Not benchmarked yet", "No results for this model on any GPU.");
    return;
  }
  const groups = new Map();
  for (const r of data) {
    const key = `${r.task} · ${r.gpu}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const picker = el("div", { class: "actions", role: "tablist", "aria-label": "Task and GPU" });
  const view = el("div", { style: "margin-top:12px" });
  const select = (key) => {
    for (const b of picker.children) b.setAttribute("aria-selected", String(b.dataset.key === key));
    for (const b of picker.children) b.className = b.dataset.key === key ? "primary" : "";
    group(view, groups.get(key));
  };
  for (const key of groups.keys()) {
    picker.append(el("button", { type: "button", role: "tab", "data-key": key, onclick: () => select(key) }, key));
  }
  body.replaceChildren(picker, view);
  select(groups.keys().next().value);
}

async function main() {
  document.title = `${id} · Model Catalog`;
  skeleton(document.getElementById("loading"), 6);
  let model;
  try {
    model = await api(base);
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404;
    showState(page, missing ? "empty" : "error", missing ? "Model not found" : "Could not load the model",
      missing ? `“${id}” is not in the catalog.` : error.message,
      el("a", { class: "button", href: "/ui/" }, "Back to the catalog"));
    return;
  }
  const pop = el("section", { class: "panel", id: "popularity" });
  const bench = el("section", { class: "panel", id: "benchmarks" });
  page.replaceChildren(header(model), pop, bench);
  await Promise.all([popularity(pop), benchmarks(bench)]);
}

main();
