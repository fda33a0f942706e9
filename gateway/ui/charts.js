// Two SVG charts, drawn by hand (nothing fetched): the best mean score per round, one line per
// problem, and a pool's score histogram. Scores are in [0, 1].
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

const COLORS = ["#2457c5", "#1a7f37", "#b42318", "#9a6700", "#8250df", "#0a7ea4", "#bf3989"];

/** series: [{name, points: [[round, score]]}]; at most 12 lines are drawn (the first ones). */
export function roundsChart(series, width = 520, height = 220) {
  const pad = {l: 36, r: 12, t: 10, b: 28};
  const root = svg("svg", {width, height, role: "img", "aria-label": "best mean score per round"});
  const rounds = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const x = (r) => pad.l + (rounds <= 1 ? 0.5 : (r - 1) / (rounds - 1)) * (width - pad.l - pad.r);
  const y = (s) => pad.t + (1 - s) * (height - pad.t - pad.b);
  for (const v of [0, 0.5, 1]) {
    root.append(svg("line", {x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), stroke: "#e3e6ea"}));
    root.append(svg("text", {x: 4, y: y(v) + 4}, v.toFixed(1)));
  }
  for (let r = 1; r <= rounds; r++) {
    root.append(svg("text", {x: x(r) - 3, y: height - 8}, String(r)));
  }
  root.append(svg("text", {x: width / 2 - 16, y: height - 0.5}, "round"));
  series.slice(0, 12).forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => p[1] !== null).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      root.append(svg("polyline", {
        fill: "none",
        stroke: color,
        "stroke-width": 2,
        points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" ")
      }));
    }
    for (const p of pts) {
      const dot = svg("circle", {cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: color});
      dot.append(svg("title", {}, `${s.name}, round ${p[0]}: ${p[1].toFixed(3)}`));
      root.append(dot);
    }
  });
  return root;
}

/** bins: [{from, to, count}] as GET /pool/{problem}/scores gives them. */
export function histogram(bins, width = 520, height = 180) {
  const pad = {l: 36, r: 12, t: 10, b: 28};
  const root = svg("svg", {width, height, role: "img", "aria-label": "pool score histogram"});
  const max = Math.max(1, ...bins.map((b) => b.count));
  const w = (width - pad.l - pad.r) / bins.length;
  bins.forEach((b, i) => {
    const bh = (b.count / max) * (height - pad.t - pad.b);
    const rect = svg("rect", {
      x: pad.l + i * w + 1,
      y: height - pad.b - bh,
      width: w - 2,
      height: bh,
      fill: b.from === 1 ? "#1a7f37" : "#2457c5"
    });
    const label = b.from === b.to ? `${b.from}` : `[${b.from.toFixed(1)}, ${b.to.toFixed(1)})`;
    rect.append(svg("title", {}, `${label}: ${b.count}`));
    root.append(rect);
    if (b.count > 0)
      root.append(
          svg("text", {x: pad.l + i * w + w / 2 - 4, y: height - pad.b - bh - 2}, String(b.count)));
    if (i % 2 === 0 || b.from === 1) {
      root.append(svg(
          "text", {x: pad.l + i * w + 2, y: height - 10}, b.from === 1 ? "1" : b.from.toFixed(1)));
    }
  });
  root.append(svg("text", {x: 4, y: pad.t + 8}, String(max)));
  return root;
}
