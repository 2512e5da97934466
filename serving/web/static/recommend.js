// Recommendations: the precomputed ranking of a task, GPU and profile (GET /recommendations);
// moving a weight or setting a limit re-ranks with POST /recommendations/query. The Pareto
// front of two chosen axes comes from GET /pareto. The choices come from
// GET /recommendations/choices; the address keeps task, GPU, profile and axes.

import { api, ApiError, modelPath } from "./api.js";
import { COLORS, paretoChart } from "./chart.js";
import { debounce, el, fmt, showState, skeleton } from "./ui.js";

const form = document.getElementById("controls");
const taskSelect = document.getElementById("task");
const gpuSelect = document.getElementById("gpu");
const profileSelect = document.getElementById("profile");
const weightsBox = document.getElementById("weights");
const rankingPanel = document.getElementById("ranking-panel");
const rankingBox = document.getElementById("ranking");
const rankingTitle = document.getElementById("ranking-title");
const rankingMeta = document.getElementById("ranking-meta");
const axisX = document.getElementById("axis-x");
const axisY = document.getElementById("axis-y");
const paretoBox = document.getElementById("pareto");
const LIMITS = ["max_latency_p95_ms", "max_ttft_p95_ms", "max_cost_per_million", "max_memory_gb",
  "min_quality"];
const SLIDER_MAX = 5;

let choices;
let criteria = {}; // name -> {label, unit, direction, color}
let rankingRequest = null;
let paretoRequest = null;

function options(select, values, wanted, label = (v) => v) {
  select.replaceChildren(...values.map((v) => el("option", { value: v }, label(v))));
  if (values.includes(wanted)) select.value = wanted;
}

function syncUrl() {
  const query = new URLSearchParams({ task: taskSelect.value, gpu: gpuSelect.value,
    profile: profileSelect.value, x: axisX.value, y: axisY.value });
  history.replaceState(null, "", `?${query}`);
}

function sliders() {
  weightsBox.replaceChildren(...Object.entries(criteria).map(([name, c]) => {
    const input = el("input", { type: "range", min: 0, max: SLIDER_MAX, step: 0.5, value: 0,
      id: `w-${name}`, name: `w-${name}`, "data-criterion": name });
    const output = el("output", { for: `w-${name}` }, "0");
    input.addEventListener("input", () => { output.textContent = input.value; });
    return el("div", { class: "slider" },
      el("label", { for: `w-${name}` }, el("span", { class: "swatch", style: `background:${c.color}` }),
        c.label, c.direction === "cost" ? " ↓" : " ↑"),
      input, output);
  }));
}

/** Sliders set to a profile's weights, scaled so the largest sits at the top of the range. */
function setWeights(weights) {
  const top = Math.max(...Object.values(weights), 0) || 1;
  for (const input of weightsBox.querySelectorAll("input")) {
    const w = weights[input.dataset.criterion] || 0;
    input.value = Math.round((w / top) * SLIDER_MAX * 2) / 2;
    input.nextElementSibling.textContent = input.value;
  }
}

function weights() {
  const out = {};
  for (const input of weightsBox.querySelectorAll("input")) {
    if (Number(input.value) > 0) out[input.dataset.criterion] = Number(input.value);
  }
  return out;
}

function limits() {
  const out = {};
  for (const name of LIMITS) {
    const value = parseFloat(form.elements[name].value);
    if (Number.isFinite(value) && value > 0) out[name] = value;
  }
  out.pricing = form.elements.pricing.value;
  return out;
}

function formatValue(name, value) {
  if (value === null || value === undefined) return "—";
  const unit = criteria[name]?.unit || "";
  if (unit.startsWith("$")) return `${fmt.usd(value)}/1M`;
  if (unit === "ms") return fmt.ms(value);
  return `${fmt.num(value, 2)} ${unit.split(" ")[0]}`;
}

function why(item) {
  const parts = Object.entries(item.contributions || {}).filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = parts.reduce((s, [, v]) => s + v, 0) || 1;
  const bar = el("div", { class: "why", role: "img",
    "aria-label": parts.map(([n, v]) => `${criteria[n]?.label || n} ${Math.round((v / total) * 100)}%`).join(", ") },
    parts.map(([n, v]) => el("span", { title: `${criteria[n]?.label || n}: ${Math.round((v / total) * 100)}%`,
      style: `width:${(v / total) * 100}%;background:${criteria[n]?.color || "var(--muted)"}` })));
  const text = el("div", { class: "why-text" }, parts.slice(0, 4).map(([n, v], i) =>
    [i ? " · " : "", el("strong", {}, `${Math.round((v / total) * 100)}%`), ` ${(criteria[n]?.label || n).split(" (")[0]} `,
      `(${formatValue(n, item.values?.[n])})`]),
  item.missing?.length ? ` · no data: ${item.missing.join(", ")}` : "");
  return [bar, text];
}

function renderRanking(body, custom) {
  const items = body.items || [];
  rankingTitle.textContent = custom ? "Ranking · your weights" : `Ranking · ${profileSelect.value} profile`;
  rankingMeta.textContent = custom && body.candidates !== undefined
    ? `${fmt.int(body.feasible)} of ${fmt.int(body.candidates)} configurations meet your limits`
    : `${items.length} configurations`;
  if (!items.length) {
    const excluded = (body.excluded || []).map((e) => Object.entries(e).map(([k, v]) => `${k}: ${v}`).join(" ")).join("; ");
    showState(rankingBox, "empty", "No configuration meets these limits",
      excluded || "Loosen a limit, or pick another GPU.");
    return;
  }
  rankingBox.replaceChildren(el("ol", { class: "ranking", id: "ranking-list" }, items.map((item) =>
    el("li", { "data-model": item.model_id, "data-result": item.result_key },
      el("div", { class: "rank", "aria-label": `rank ${item.rank}` }, item.rank),
      el("div", {},
        el("a", { href: `/ui/models/${modelPath(item.model_id)}` }, item.model_id),
        el("span", { class: "chip muted", style: "margin-left:8px" }, `${item.num_gpus}× ${item.gpu}`),
        ...why(item)),
      el("div", { class: "score", title: "TOPSIS closeness, 0 to 1" }, fmt.num(item.score, 3))))));
}

async function loadRanking(custom) {
  rankingRequest?.abort();
  rankingRequest = new AbortController();
  rankingPanel.setAttribute("aria-busy", "true");
  const signal = rankingRequest.signal;
  try {
    let body;
    if (custom) {
      const w = weights();
      if (!Object.keys(w).length) {
        showState(rankingBox, "empty", "Give at least one criterion a weight", "Move a slider above 0.");
        return;
      }
      body = await api("/recommendations/query", { signal, body: { task: taskSelect.value,
        gpus: gpuSelect.value === "any" ? null : [gpuSelect.value], weights: w,
        constraints: limits(), top_k: 20, stability_draws: 0 } });
    } else {
      body = await api("/recommendations", { signal, params: { task: taskSelect.value,
        gpu: gpuSelect.value, profile: profileSelect.value } });
      setWeights(body.weights || {});
    }
    renderRanking(body, custom);
  } catch (error) {
    if (error.name === "AbortError") return;
    const missing = error instanceof ApiError && error.status === 404;
    showState(rankingBox, missing ? "empty" : "error",
      missing ? "No ranking for this combination" : "Could not rank", error.message);
  } finally {
    if (!signal.aborted) rankingPanel.setAttribute("aria-busy", "false");
  }
}

async function loadPareto() {
  paretoRequest?.abort();
  paretoRequest = new AbortController();
  if (axisX.value === axisY.value) {
    showState(paretoBox, "empty", "Pick two different axes", "");
    return;
  }
  skeleton(paretoBox, 4);
  try {
    const body = await api("/pareto", { signal: paretoRequest.signal, params: {
      task: taskSelect.value, gpu: gpuSelect.value, x: axisX.value, y: axisY.value } });
    const point = (p) => ({ x: p.x, y: p.y, label: `${p.model_id} (${p.num_gpus}× ${p.gpu})` });
    const axis = (a) => `${criteria[a.name]?.label?.split(" (")[0] || a.name} (${a.unit})`;
    const drawn = paretoChart(paretoBox, { front: body.front.map(point), dominated: (body.dominated || []).map(point) },
      { xLabel: axis(body.x), yLabel: axis(body.y), title: `Pareto front: ${body.x.name} vs ${body.y.name}` });
    if (!drawn) showState(paretoBox, "empty", "No configuration has both values", `${body.missing} lack one.`);
  } catch (error) {
    if (error.name === "AbortError") return;
    const missing = error instanceof ApiError && error.status === 404;
    showState(paretoBox, missing ? "empty" : "error",
      missing ? "No Pareto front for these axes" : "Could not load the Pareto front", error.message);
  }
}

function fillGpus(wanted) {
  options(gpuSelect, choices.gpus_by_task[taskSelect.value] || choices.gpus, wanted);
}

function refresh() {
  syncUrl();
  loadRanking(false);
  loadPareto();
}

async function main() {
  skeleton(rankingBox, 5);
  try {
    choices = await api("/recommendations/choices");
  } catch (error) {
    showState(rankingBox, "error", "Could not load the choices", error.message);
    return;
  }
  if (!choices.version || !choices.tasks.length) {
    showState(rankingBox, "empty", "No recommendations published yet",
      "They appear once the pipeline has ranked the benchmark results.");
    paretoBox.replaceChildren();
    return;
  }
  choices.criteria.forEach((c, i) => { criteria[c.name] = { ...c, color: COLORS[i % COLORS.length] }; });
  const wanted = new URLSearchParams(location.search);
  options(taskSelect, choices.tasks, wanted.get("task"));
  fillGpus(wanted.get("gpu"));
  options(profileSelect, choices.profiles, wanted.get("profile") || "balanced");
  const label = (a) => criteria[a]?.label || a;
  options(axisX, choices.axes, wanted.get("x") || "cost_spot_per_million", label);
  options(axisY, choices.axes, wanted.get("y") || "latency_p95_ms", label);
  if (axisX.value === axisY.value && choices.axes.length > 1) axisY.value = choices.axes.find((a) => a !== axisX.value);
  sliders();

  taskSelect.addEventListener("change", () => { fillGpus(gpuSelect.value); refresh(); });
  gpuSelect.addEventListener("change", refresh);
  profileSelect.addEventListener("change", refresh);
  for (const axis of [axisX, axisY]) axis.addEventListener("change", () => { syncUrl(); loadPareto(); });
  const custom = debounce(() => loadRanking(true), 250);
  weightsBox.addEventListener("input", custom);
  for (const name of [...LIMITS, "pricing"]) form.elements[name].addEventListener("input", custom);
  document.getElementById("reset-weights").addEventListener("click", () => {
    for (const name of LIMITS) form.elements[name].value = "";
    loadRanking(false);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  refresh();
}

main();
