// The lobby board: a snapshot on (re)connect, then live changes and calls.
import { Realtime, newer } from "/assets/static/realtime.js";
import { $, el } from "/assets/static/dom.js";
import { Announcer } from "./announcer.js";

const labels = JSON.parse(document.getElementById("labels").textContent);
const timezone = document.body.dataset.timezone;
const RECENT = 8;
// This screen's counters (numbers); empty: all of them.
const shown = new Set(JSON.parse(document.body.dataset.counters || "[]"));
const mine = (counter) => !shown.size || shown.has(counter.number);
const byDomain = document.body.dataset.queuesBy === "domain";
const announcer = new Announcer({ serverVoice: document.body.dataset.voice === "server",
                                  key: location.pathname.split("/")[2] });
let fontsLoaded = false;    // the board's font has loaded: rows fitted from now on are final
const board = { counters: new Map(), services: [], waiting: new Map(), estimates: {}, queuesSeq: -1, recent: [] };


// The counters' cards, as large as the screen allows: normal cards, then denser ones, then one-line
// tiles, whichever is the first to show every counter wholly above the ticker.
const DENSITIES = ["normal", "dense", "compact"];
function renderCounters() {
  const grid = $("counters");
  const counters = [...board.counters.values()].filter(mine).sort((a, b) => a.number - b.number);
  grid.replaceChildren(...counters.map((c) => {
    const card = el("div", `card ${c.status}`);
    card.dataset.counter = c.number;
    card.append(el("div", "label", `Quầy ${c.number}`), el("div", "name", c.name),
                el("div", "ticket", c.ticket || "—"),
                el("span", "status", labels[`counter_status_${c.status}`] || c.status));
    return card;
  }));
  let chosen = DENSITIES[0];
  for (const density of DENSITIES) {
    chosen = density;
    grid.classList.toggle("dense", density === "dense");
    grid.classList.toggle("compact", density === "compact");
    document.querySelector(".board").classList.toggle("many", density === "compact");
    if (grid.getBoundingClientRect().bottom <= grid.parentElement.getBoundingClientRect().bottom + 0.5) break;
  }
  grid.dataset.density = chosen;
}

// Per service, or per domain (lĩnh vực) when the display is set so.
function queueRows() {
  const rows = new Map();
  for (const s of board.services) {
    const key = byDomain ? `d${s.domain.id}` : `s${s.service_id}`;
    const row = rows.get(key) || { name: byDomain ? s.domain.name : s.name, waiting: 0, estimate: null };
    row.waiting += board.waiting.get(s.service_id) || 0;
    // A domain shows its longest newcomer wait: the figure nobody will find too short.
    const estimate = board.estimates[s.service_id];
    if (estimate && estimate.text && estimate.text.vi
        && (!row.estimate || (estimate.minutes ?? Infinity) > (row.estimate.minutes ?? Infinity))) row.estimate = estimate;
    rows.set(key, row);
  }
  return [...rows.values()];
}

function renderQueues() {
  // Busy ones first: the list ends where the screen does, never scrolled.
  const rows = queueRows().sort((a, b) => b.waiting - a.waiting);
  $("queues").replaceChildren(...rows.map((row) => {
    const item = el("li", row.waiting ? "" : "none");
    item.append(el("span", "name", row.name), el("span", "count", `${row.waiting} ${labels.display_people}`));
    if (row.waiting && row.estimate) item.append(el("span", "estimate", `${labels.display_wait} ${row.estimate.text.vi}`));
    return item;
  }));
  fitRowsOnScreen($("queues"), rows);
  // Whoever measures the board (the tests) waits for a fitting made with the board's own font and
  // the centre's data.
  if (fontsLoaded && board.queuesSeq >= 0) document.body.dataset.queuesFitted = String(Number(document.body.dataset.queuesFitted || 0) + 1);
}

// Rows from the first one the screen would cut are left out, since half a line of text looks
// broken; the people waiting in them are added up in a last row, so no one's service just vanishes.
function fitRowsOnScreen(list, rows) {
  const items = [...list.children];
  const end = list.parentElement.getBoundingClientRect().bottom;
  const fits = (item) => item.getBoundingClientRect().bottom <= end;
  let kept = items.findIndex((item) => !fits(item));
  if (kept < 0) return;
  items.slice(kept).forEach((item) => { item.hidden = true; });
  const waitingLeftOut = () => rows.slice(kept).reduce((sum, row) => sum + row.waiting, 0);
  if (!waitingLeftOut()) return;
  const more = el("li", "more");
  const label = byDomain ? labels.display_other_domains : labels.display_other_services;
  list.append(more);
  for (;;) {
    more.replaceChildren(el("span", "name", `${label} (${rows.length - kept})`),
                         el("span", "count", `${waitingLeftOut()} ${labels.display_people}`));
    if (fits(more) || kept === 0) return;
    kept -= 1;
    items[kept].hidden = true;
  }
}

function renderRecent() {
  $("recent").replaceChildren(...board.recent.slice(0, RECENT).map((call) => {
    const item = el("li", call.recall ? "recall" : "");
    const number = el("span", "number", call.ticket.number);
    if (call.recall) number.append(el("small", "again", labels.display_recalled));
    item.append(number, el("span", "to", `Quầy ${call.counter.number}`));
    return item;
  }));
}

function showLatest(call, flash) {
  $("latest").classList.remove("empty");
  $("latest-number").textContent = call.ticket.number;
  $("latest-counter").textContent = `Quầy ${call.counter.number}`;
  $("latest-service").textContent = call.ticket.service.name;
  if (flash) {
    const latest = $("latest");
    latest.classList.remove("flash");
    void latest.offsetWidth;  // restart the animation
    latest.classList.add("flash");
  }
}

function onSnapshot(snapshot) {
  board.counters = new Map(snapshot.counters.map((c) => [c.id, { ...c, seq: snapshot.seq }]));
  board.services = snapshot.queues;
  board.waiting = new Map(snapshot.queues.map((q) => [q.service_id, q.waiting]));
  board.queuesSeq = snapshot.seq;
  board.estimates = snapshot.estimates || {};
  board.recent = snapshot.recent_calls.filter((call) => mine(call.counter));
  if (board.recent.length) showLatest(board.recent[0], false);
  renderRecent(); renderCounters(); renderQueues();   // the recent calls first: they take the queues' room
  document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
}

function onState(change) {
  for (const counter of change.counters) {
    board.counters.set(counter.id, newer(board.counters.get(counter.id), counter));
  }
  if (change.queues && change.queues.seq >= board.queuesSeq) {
    board.queuesSeq = change.queues.seq;
    board.waiting = new Map(change.queues.waiting.map((q) => [q.service_id, q.waiting]));
  }
  renderCounters(); renderQueues();
}

function onEstimates(estimates) {
  board.estimates = estimates;
  renderQueues();
}

function onCall(call) {
  if (!mine(call.counter)) return;
  // A ticket called again (a recall, or at another counter after a transfer) keeps one row: its latest call.
  board.recent = board.recent.filter((earlier) => earlier.ticket.id !== call.ticket.id);
  board.recent.unshift(call);
  board.recent.length = Math.min(board.recent.length, RECENT);
  showLatest(call, true);
  renderRecent();
  // The call and the recent list take room from the counters and the queues: fit them again.
  renderCounters(); renderQueues();
  announcer.announce(call);
}

function tick() {
  const now = new Date();
  $("time").textContent = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: timezone }).format(now);
  const date = new Intl.DateTimeFormat("vi-VN", { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", timeZone: timezone }).format(now);
  $("date").textContent = date.charAt(0).toUpperCase() + date.slice(1);
}

tick();
setInterval(tick, 1000);
// Which rows fit depends on the font and the screen: both can change after the first drawing. The
// faces are asked for by name: fonts.ready alone may settle before the page has asked for them.
Promise.all([400, 500, 600, 700, 800].map((weight) => document.fonts.load(`${weight} 1em "Be Vietnam Pro"`)))
  .catch(() => null)
  .then(() => { fontsLoaded = true; renderCounters(); renderQueues(); });
window.addEventListener("resize", () => { renderCounters(); renderQueues(); });
window.hangdoiAnnouncer = announcer;
window.hangdoiBoard = new Realtime("display", {
  device: location.pathname.split("/")[2],
  onSnapshot, onState, onCall, onEstimates,
  onConnection: (online) => document.body.classList.toggle("offline", !online),
});
