// The report's charts, drawn by Chart.js on a canvas (no inline script or style: the page's CSP holds):
// the live minute by minute (viewers, messages and orders, the pins marked as dashed lines with the
// product's name), and a show's episodes side by side. Their figures are also in the tables below them.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";
import { locale, t } from "../shared/i18n.js";
import { money } from "../shared/format.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip);

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Dashed vertical lines at `options.marks` ({x, label}) on the x scale, with their labels on top. */
const pinMarks = {
  id: "pinMarks",
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.strokeStyle = options.colour;
    ctx.fillStyle = options.colour;
    ctx.setLineDash([4, 4]);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (const mark of options.marks || []) {
      const x = scales.x.getPixelForValue(mark.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillText(mark.label.length > 18 ? `${mark.label.slice(0, 17)}…` : mark.label, x + 3, chartArea.top + 2);
    }
    ctx.restore();
  },
};

const common = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: "index", intersect: false },
  plugins: { legend: { labels: { color: colour("--text") } } },
});

function axis(title, position = "left", grid = true) {
  return {
    type: "linear",
    position,
    beginAtZero: true,
    title: { display: true, text: title, color: colour("--muted") },
    ticks: { color: colour("--muted"), precision: 0 },
    grid: { display: grid, color: colour("--line") },
  };
}

/** The live minute by minute on `canvas`, from the report's `minutes` and `pins`. */
export function minuteChart(canvas, report) {
  const point = (key) => report.minutes.map((m) => ({ x: m.minute, y: m[key] }));
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        { type: "bar", label: t("report.chart_orders"), data: point("orders"), yAxisID: "y2", backgroundColor: colour("--ok"), order: 3 },
        { label: t("report.chart_viewers"), data: point("viewers"), yAxisID: "y", borderColor: colour("--accent"), backgroundColor: colour("--accent"), pointRadius: 0, order: 1 },
        { label: t("report.chart_messages"), data: point("messages"), yAxisID: "y2", borderColor: colour("--info"), backgroundColor: colour("--info"), pointRadius: 0, order: 2 },
      ],
    },
    options: {
      ...common(),
      scales: {
        x: { ...axis(t("report.chart_minutes")), beginAtZero: true, max: Math.max(1, report.minutes.length - 1) },
        y: axis(t("report.chart_viewers")),
        y2: axis(t("report.chart_per_minute"), "right", false),
      },
      plugins: {
        ...common().plugins,
        pinMarks: { marks: report.pins.map((p) => ({ x: p.minute, label: p.title })), colour: colour("--muted") },
        tooltip: { callbacks: { title: (items) => t("report.minute_n", { n: items[0]?.parsed.x ?? 0 }) } },
      },
    },
    plugins: [pinMarks],
  });
}

/** A show's episodes side by side: viewers (bars) and revenue, live and replay (a line). */
export function episodesChart(canvas, episodes, currency, label) {
  const digits = 10 ** (new Intl.NumberFormat(locale, { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2);
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: episodes.map(label),
      datasets: [
        { label: t("report.chart_viewers"), data: episodes.map((e) => e.unique_viewers), yAxisID: "y", backgroundColor: colour("--accent"), order: 2 },
        {
          type: "line",
          label: t("report.chart_revenue"),
          data: episodes.map((e) => (e.live_revenue + e.replay_revenue) / digits),
          yAxisID: "y2",
          borderColor: colour("--ok"),
          backgroundColor: colour("--ok"),
          order: 1,
        },
      ],
    },
    options: {
      ...common(),
      scales: {
        x: { ticks: { color: colour("--muted") }, grid: { display: false } },
        y: axis(t("report.chart_viewers")),
        y2: { ...axis(t("report.chart_revenue"), "right", false), ticks: { color: colour("--muted"), callback: (v) => money(v * digits, currency) } },
      },
    },
  });
}
