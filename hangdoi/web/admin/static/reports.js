// Draws the report's charts with Chart.js (window.Chart, from npm) from the JSON the page carries.
import { $ } from "/assets/static/dom.js";

const data = JSON.parse(document.getElementById("chart-data")?.textContent || "null");
const INK = "#14213d", RED = "#b3121b", GOLD = "#f6c343", GREEN = "#157a3c", MUTED = "#5b6475";
window.hangdoiReports = { drawn: 0 };

function setDefaults() {
  Chart.defaults.font.family = '"Be Vietnam Pro", sans-serif';
  Chart.defaults.font.size = 13;
  Chart.defaults.color = MUTED;
  Chart.defaults.animation = false;          // printed and screenshotted as drawn
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
}

function hoursChart() {
  const canvas = $("chart-hours");
  if (!canvas) return;
  new Chart(canvas, {
    data: {
      labels: data.hours.map((h) => `${String(h).padStart(2, "0")}h`),
      datasets: [
        { type: "bar", label: data.labels.report_chart_arrivals, data: data.arrivals, backgroundColor: INK, yAxisID: "y", order: 2 },
        { type: "line", label: data.labels.report_chart_wait, data: data.waits, borderColor: RED, backgroundColor: RED,
          yAxisID: "wait", spanGaps: true, tension: 0.25, order: 1 },
      ],
    },
    options: { scales: {
      y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: data.labels.report_chart_arrivals } },
      wait: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
              title: { display: true, text: data.labels.report_chart_wait } },
    } },
  });
}

function servedChart(id, names, counts) {
  const canvas = $(id);
  if (!canvas) return;
  // A bar per officer or centre: a province's hundred centres need the room a dozen officers do not.
  if (names.length > 12) canvas.parentElement.style.height = `${names.length * 22 + 40}px`;
  new Chart(canvas, {
    type: "bar",
    data: { labels: names, datasets: [{ label: data.labels.report_served, data: counts, backgroundColor: GREEN }] },
    // Every bar named: a skipped label leaves a reader guessing whose bar it is.
    options: { indexAxis: "y", plugins: { legend: { display: false } },
               scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } } },
  });
}

function satisfactionChart() {
  const canvas = $("chart-satisfaction");
  if (!canvas) return;
  new Chart(canvas, {
    type: "doughnut",
    // A fourth slice, "Bình thường", only where 5-level ratings gave neutral ones.
    data: { labels: data.rating_labels, datasets: [{ data: data.ratings,
      backgroundColor: data.ratings.length === 4 ? [RED, "#c9ccd6", GOLD, GREEN] : [RED, GOLD, GREEN] }] },
    options: { plugins: { legend: { position: "bottom" } } },
  });
}

if (data && window.Chart) {
  setDefaults();
  hoursChart();
  servedChart("chart-officers", data.officers, data.served);
  servedChart("chart-counters", data.counters, data.counter_served);
  satisfactionChart();
  window.hangdoiReports.drawn = Chart.instances ? Object.keys(Chart.instances).length : 0;
}
$("print")?.addEventListener("click", () => window.print());
