// Two small SVG charts, no library: a time series (lines) and a scatter with a Pareto front.
// Each point carries a <title>, so hovering shows its values and screen readers can read them.

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 260;
const PAD = { left: 58, right: 16, top: 14, bottom: 36 };
export const COLORS = ["var(--c0)", "var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)",
  "var(--c5)", "var(--c6)"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Round tick values covering [lo, hi]. */
function ticks(lo, hi, count = 5) {
  if (lo === hi) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / count));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= count) || step * 10;
  const out = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice * 1e-9; v += nice) out.push(v);
  return out;
}

function extent(values, zero) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (zero) lo = Math.min(lo, 0);
  if (lo === hi) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
  const pad = (hi - lo) * 0.06;
  return [zero && lo === 0 ? 0 : lo - pad, hi + pad];
}

const short = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 2 });

function frame(root, xs, ys, { xFormat, yFormat, xLabel, yLabel, title, xTicks }) {
  const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  plot.append(svg("title", {}, title));
  const sx = (v) => PAD.left + ((v - xs[0]) / (xs[1] - xs[0])) * (W - PAD.left - PAD.right);
  const sy = (v) => H - PAD.bottom - ((v - ys[0]) / (ys[1] - ys[0])) * (H - PAD.top - PAD.bottom);
  for (const v of ticks(ys[0], ys[1])) {
    plot.append(svg("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: sy(v), y2: sy(v) }));
    plot.append(svg("text", { x: PAD.left - 6, y: sy(v) + 4, "text-anchor": "end" }, yFormat(v)));
  }
  for (const v of xTicks || ticks(xs[0], xs[1], 6)) {
    plot.append(svg("text", { x: sx(v), y: H - PAD.bottom + 16, "text-anchor": "middle" },
      xFormat(v)));
  }
  plot.append(svg("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom,
    y2: H - PAD.bottom }));
  if (xLabel) {
    plot.append(svg("text", { class: "label", x: W - PAD.right, y: H - 4, "text-anchor": "end" },
      xLabel));
  }
  if (yLabel) plot.append(svg("text", { class: "label", x: 4, y: 10 }, yLabel));
  root.replaceChildren(plot);
  return { plot, sx, sy };
}

const DAY = 86_400_000;

/**
 * Lines over time. `series`: [{name, points: [{t: Date|string, v: number|null}]}].
 * Returns false (drawing nothing) when no point has a value.
 */
export function timeChart(root, series, { yLabel, title, yFormat = (v) => short.format(v) } = {}) {
  const all = series.flatMap((s) => s.points.filter((p) => p.v !== null && p.v !== undefined)
    .map((p) => ({ ...p, t: new Date(p.t).getTime() })));
  if (!all.length) return false;
  const xs = extent(all.map((p) => p.t));
  if (xs[1] - xs[0] < DAY) { xs[0] -= DAY; xs[1] += DAY; }
  const ys = extent(all.map((p) => p.v), true);
  // Whole days in UTC: the API's dates and instants are UTC.
  const dateFmt = (v) => new Date(v).toLocaleDateString("en",
    { month: "short", day: "numeric", timeZone: "UTC" });
  const step = Math.max(1, Math.ceil((xs[1] - xs[0]) / DAY / 6)) * DAY;
  const xTicks = [];
  for (let t = Math.ceil(xs[0] / DAY) * DAY; t <= xs[1]; t += step) xTicks.push(t);
  const { plot, sx, sy } = frame(root, xs, ys, { xFormat: dateFmt, yFormat, yLabel, title, xTicks });
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const points = s.points.filter((p) => p.v !== null && p.v !== undefined)
      .map((p) => ({ ...p, t: new Date(p.t).getTime() })).sort((a, b) => a.t - b.t);
    if (points.length > 1) {
      const d = points.map((p, j) => `${j ? "L" : "M"}${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`);
      plot.append(svg("path", { d: d.join(""), fill: "none", stroke: color, "stroke-width": 2,
        class: "series" }));
    }
    for (const p of points) {
      const dot = svg("circle", { cx: sx(p.t), cy: sy(p.v), r: 3.5, fill: color, class: "point" });
      dot.append(svg("title", {}, `${s.name} · ${new Date(p.t).toLocaleDateString("en")}: ${
        yFormat(p.v)}`));
      plot.append(dot);
    }
  });
  return true;
}

/**
 * A scatter of `front` and `dominated` points ({x, y, label}); the front is joined in x order.
 * Returns false when there is nothing to plot.
 */
export function paretoChart(root, { front, dominated }, { xLabel, yLabel, title }) {
  const all = [...front, ...dominated];
  if (!all.length) return false;
  const xs = extent(all.map((p) => p.x));
  const ys = extent(all.map((p) => p.y));
  const f = (v) => short.format(v);
  const { plot, sx, sy } = frame(root, xs, ys, { xFormat: f, yFormat: f, xLabel, yLabel, title });
  const sorted = [...front].sort((a, b) => a.x - b.x);
  if (sorted.length > 1) {
    const d = sorted.map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    plot.append(svg("path", { d: d.join(""), class: "front-line" }));
  }
  const dot = (p, cls, r) => {
    const c = svg("circle", { cx: sx(p.x), cy: sy(p.y), r, class: cls });
    c.append(svg("title", {}, `${p.label}: ${xLabel} ${f(p.x)}, ${yLabel} ${f(p.y)}`));
    plot.append(c);
  };
  dominated.forEach((p) => dot(p, "dot-dominated", 4));
  front.forEach((p) => dot(p, "dot-front", 6));
  return true;
}
