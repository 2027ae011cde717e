// The kiosk: home (domains, most used, search) → services → priority → ticket, in at most three taps.
import { Realtime } from "/assets/static/realtime.js";
import { $, el } from "/assets/static/dom.js";

const LABELS = JSON.parse(document.getElementById("labels").textContent);
const KIOSK = document.body.dataset.kiosk;
// The kiosk's key is its address (/kiosk/<key>); the API believes a kiosk only by it.
const KIOSK_KEY = location.pathname.split("/")[2];
const CENTRE = Number(document.body.dataset.centre);
const IDLE_MS = Number(document.body.dataset.idle) * 1000;
const TICKET_MS = Number(document.body.dataset.ticketSeconds) * 1000;
const QUIET_AFTER_TICKET_MS = 800;   // a double tap must not also press what appears under the finger
const KEYS = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"];
// Booking codes use these (hangdoi/engine/booking_rules.py): no 0/O, 1/I/L to misread.
const CODE_KEYS = ["23456789", "ABCDEFGHJK", "MNPQRSTUVW", "XYZ"];
const CODE_LENGTH = 8;
// A 2D scanner types what it reads, a character every few milliseconds, then Enter; a person at a
// touch screen types nothing. Keys further apart than this start a new reading.
const SCAN_GAP_MS = 100;
// The chip ID card's QR code: ID | old ID | full name | birth date ddmmyyyy | sex | address | issue date.
const CCCD = /^(\d{12})\|(\d{9})?\|([^|]{2,100})\|(\d{8})\|([^|]*)\|([^|]*)\|(\d{8})?$/;

const kiosk = {
  snapshot: JSON.parse(document.getElementById("snapshot").textContent),
  waiting: new Map(), estimates: {}, queuesSeq: -1, lang: "vi", screen: "home", previous: "home",
  domain: null, service: null, query: "", issuing: false, quietUntil: 0, lastTouch: Date.now(),
  shownAt: 0, ticketWait: null, pages: {}, code: "", citizen: null,
};
// For tests and the benchmark: tickets issued, the last one's time, and whether a tap would be taken now.
window.hangdoiKiosk = { lastIssueMs: null, issued: 0, ready: () => !busy() };

const t = (code, params = {}) => (LABELS[kiosk.lang][code] || LABELS.vi[code] || code)
  .replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
// "Hộ tịch" → "ho tich": citizens search without diacritics.
export const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();

// -- data ------------------------------------------------------------------------------------
function applySnapshot(snapshot) {
  kiosk.snapshot = snapshot;
  kiosk.waiting = new Map(snapshot.services.map((s) => [s.id, s.waiting]));
  kiosk.estimates = snapshot.estimates || {};
  kiosk.queuesSeq = snapshot.seq;
  // A citizen choosing a priority for a service closed meanwhile is told now, not after the last tap.
  if (kiosk.service) {
    kiosk.service = snapshot.services.find((s) => s.id === kiosk.service.id) || null;
    if (kiosk.screen === "priority" && !(kiosk.service && kiosk.service.open)) {
      message(!kiosk.service ? "service_inactive" : snapshot.open ? "service_closed_today" : "centre_closed");
      return;
    }
  }
  render();
}
function applyEstimates(estimates) {
  kiosk.estimates = estimates;
  if (kiosk.screen !== "ticket") render();
}
// An estimate in the kiosk's language; null when there is nothing honest to say.
const waitWords = (estimate) => (estimate && estimate.text ? estimate.text[kiosk.lang] : null);
function applyState(data) {
  const queues = data.queues;
  if (!queues || queues.seq <= kiosk.queuesSeq) return;
  kiosk.queuesSeq = queues.seq;
  kiosk.waiting = new Map(queues.waiting.map((q) => [q.service_id, q.waiting]));
  render();
}
const services = () => kiosk.snapshot.services;
const waitingFor = (service) => kiosk.waiting.get(service.id) || 0;
function domains() {
  const found = new Map();
  for (const s of services()) {
    const d = found.get(s.domain.id) || { ...s.domain, services: [], waiting: 0, open: false };
    d.services.push(s); d.waiting += waitingFor(s); d.open = d.open || s.open;
    found.set(s.domain.id, d);
  }
  return [...found.values()];
}

// -- pages -----------------------------------------------------------------------------------
// A long list (a real commune has some 70 fields and 400 procedures) is shown a page at a time,
// never cut off: every card on the screen is whole, and the pager below it says which page this
// is and how many are left. Pages are measured from the list as laid out, so they hold what fits
// at this screen's size, in this language and font.
function paged(listId, items) {
  const list = $(listId);
  const pager = $(`${listId}-pager`);
  const pageStarts = () => {
    list.replaceChildren(...items);
    const height = list.clientHeight;
    const starts = [0];
    let top = items.length ? items[0].getBoundingClientRect().top : 0;
    items.forEach((item, i) => {
      const box = item.getBoundingClientRect();
      if (i > starts.at(-1) && box.bottom - top > height + 0.5) { starts.push(i); top = box.top; }
    });
    return starts;
  };
  pager.hidden = true;
  let starts = pageStarts();
  if (starts.length > 1) {      // the pager takes room from the list: measure again with it shown
    pager.hidden = false;
    starts = pageStarts();
  }
  const page = Math.max(0, Math.min(kiosk.pages[listId] || 0, starts.length - 1));
  kiosk.pages[listId] = page;
  const end = starts[page + 1] ?? items.length;
  list.replaceChildren(...items.slice(starts[page], end));
  pager.querySelector(".page-n").textContent = t("kiosk_page", { n: page + 1, total: starts.length });
  pager.querySelector(".page-left").textContent = end < items.length ? t("kiosk_more_left", { n: items.length - end }) : "";
  pager.querySelector(".page-prev").disabled = page === 0;
  pager.querySelector(".page-next").disabled = end >= items.length;
  list.dataset.page = String(page + 1);
  list.dataset.pages = String(starts.length);
}
function turnPage(listId, by) {
  kiosk.pages[listId] = (kiosk.pages[listId] || 0) + by;
  render();
}

// -- screens ---------------------------------------------------------------------------------
function show(screen) {
  if (screen !== kiosk.screen) kiosk.previous = kiosk.screen;
  kiosk.screen = screen;
  document.querySelectorAll(".screen").forEach((s) => { s.hidden = s.dataset.screen !== screen; });
  kiosk.shownAt = Date.now();
  if (screen === "home") { kiosk.query = ""; kiosk.service = null; }
  if (screen === "home" && kiosk.previous !== "home") kiosk.pages = {};
  if (screen === "services") kiosk.pages["service-list"] = 0;
  render();
}

function serviceButton(service) {
  const button = el("button", `service${service.open ? "" : " closed"}`);
  button.type = "button";
  button.dataset.service = service.id;
  const counters = service.counters.length ? `${t("kiosk_counters")} ${service.counters.join(", ")}` : "";
  button.append(el("span", "name", service.name));
  const meta = el("span", "meta");
  const n = waitingFor(service);
  meta.append(el("span", "waiting", `${t("kiosk_waiting")}: ${n} ${t(n === 1 ? "kiosk_person" : "kiosk_people")}`));
  const wait = service.open ? waitWords(kiosk.estimates[service.id]) : null;
  if (wait) meta.append(el("span", "estimate", `${t("kiosk_estimate")} ${wait}`));
  if (counters) meta.append(el("span", "counters", counters));
  if (!service.open) meta.append(el("span", "closed-note", t("kiosk_closed_service")));
  button.append(meta);
  button.addEventListener("click", () => chooseService(service));
  return button;
}

function renderHome() {
  const used = kiosk.snapshot.most_used.map((id) => services().find((s) => s.id === id)).filter(Boolean);
  $("most-used-block").hidden = used.length === 0;
  $("most-used").replaceChildren(...used.map((s) => {
    const b = serviceButton(s); b.classList.add("chip"); return b;
  }));
  paged("domains", domains().map((d) => {
    const button = el("button", `domain${d.open ? "" : " closed"}`);
    button.type = "button";
    button.dataset.domain = d.id;
    button.append(el("span", "name", d.name),
                  el("span", "meta", `${t("kiosk_services_count", { n: d.services.length })} · `
                                     + `${t("kiosk_waiting")}: ${d.waiting}`));
    button.addEventListener("click", () => { kiosk.domain = d.id; show("services"); });
    return button;
  }));
}

function renderServices() {
  const d = domains().find((x) => x.id === kiosk.domain);
  if (!d) return;
  $("domain-title").textContent = d.name;
  paged("service-list", d.services.map(serviceButton));
}

function renderSearch() {
  $("search-text").textContent = kiosk.query;
  $("search-box").classList.toggle("empty", !kiosk.query);
  const words = fold(kiosk.query).split(/\s+/).filter(Boolean);
  const compact = words.join("");
  const found = !words.length ? [] : services().filter((s) => {
    const hay = fold(`${s.name} ${s.domain.name} ${s.code}`);
    // "ho tich" and "hotich" both find "Hộ tịch": a missed space is the commonest slip.
    return words.every((w) => hay.includes(w)) || hay.replace(/\s+/g, "").includes(compact);
  });
  if (words.length && !found.length) paged("search-results", [el("p", "no-results", t("kiosk_no_results"))]);
  else paged("search-results", found.map(serviceButton));
}

function renderPriority() {
  if (!kiosk.service) return;
  $("priority-service").textContent = kiosk.service.name;
  const elderly = elderlyOffer();
  $("elderly-offer").hidden = !elderly;
  if (elderly) $("elderly-text").textContent = t("kiosk_elderly_offer", { age: kiosk.citizen.age, category: elderly.name });
  $("priorities").replaceChildren(...kiosk.snapshot.priorities.map((p) => {
    const button = el("button", "priority", p.name);
    button.type = "button";
    button.dataset.priority = p.code;
    button.addEventListener("click", () => issue(kiosk.service, p.code));
    return button;
  }));
}

function renderLabels() {
  document.documentElement.lang = kiosk.lang;
  $("hello").hidden = !kiosk.citizen;
  if (kiosk.citizen) $("hello-text").textContent = t("kiosk_hello", { name: kiosk.citizen.name });
  document.querySelectorAll("[data-label]").forEach((node) => { node.textContent = t(node.dataset.label); });
  $("closed-banner").hidden = kiosk.snapshot.open;
  if (kiosk.ticketWait) $("ticket-wait").textContent = waitWords(kiosk.ticketWait) || "";
}

function renderFooter() {
  const hours = kiosk.snapshot.centre.hours.map(([from, to]) => `${from}–${to}`).join(", ");
  $("hours").textContent = hours ? t("kiosk_hours", { hours }) : "";
}

function render() {
  renderLabels();
  renderFooter();
  if (kiosk.screen === "home") renderHome();
  if (kiosk.screen === "services") renderServices();
  if (kiosk.screen === "search") renderSearch();
  if (kiosk.screen === "priority") renderPriority();
  if (kiosk.screen === "checkin") renderCheckIn();
}

// -- choosing and issuing --------------------------------------------------------------------
function chooseService(service) {
  if (busy()) return;
  if (!service.open) { message(kiosk.snapshot.open ? "service_inactive" : "centre_closed"); return; }
  kiosk.service = service;
  if (!kiosk.snapshot.priorities.length) { issue(service, null); return; }
  show("priority");
}

const busy = () => kiosk.issuing || Date.now() < kiosk.quietUntil;

// One request at a time, the spinner if it takes a moment, and a short quiet after it: one tap, one ticket.
async function whileBusy(work) {
  if (busy()) return;
  kiosk.issuing = true;
  const spinner = setTimeout(() => { $("busy").hidden = false; }, 150);
  try {
    await work(performance.now());
  } catch (err) {
    message(null);
  } finally {
    clearTimeout(spinner);
    $("busy").hidden = true;
    kiosk.issuing = false;
    kiosk.quietUntil = Date.now() + QUIET_AFTER_TICKET_MS;
  }
}

function issue(service, priority) {
  return whileBusy(async (started) => {
    const response = await fetch("/api/v1/tickets", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Hangdoi-Kiosk-Key": KIOSK_KEY },
      body: JSON.stringify({ service: service.id, priority, centre: CENTRE, ...citizenOfTicket() }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 201) showTicket(body, service, priority, started);
    else message(body.error?.code);
  });
}

function showTicket(ticket, service, priority, started, note = null) {
  kiosk.citizen = null;          // the next person at the kiosk is someone else
  $("ticket-note").hidden = !note;
  $("ticket-note").textContent = note ? note.text : "";
  $("ticket-note").classList.toggle("late", Boolean(note && note.late));
  $("ticket-number").textContent = ticket.number;
  $("ticket-service").textContent = service.name;
  const category = kiosk.snapshot.priorities.find((p) => p.code === priority);
  $("ticket-priority").hidden = !category;
  $("ticket-priority").textContent = category ? category.name : "";
  $("ticket-counters").textContent = service.counters.join(", ") || "—";
  $("ticket-ahead").textContent = String(ticket.position);
  const wait = waitWords(ticket.estimated_wait);
  $("ticket-wait-fact").hidden = !wait;
  $("ticket-wait").textContent = wait || "";
  kiosk.ticketWait = ticket.estimated_wait;
  $("ticket-qr").src = `/kiosk/qr/${encodeURIComponent(ticket.public_id)}.svg`;
  const problem = ticket.print && !ticket.print.printed
    ? (ticket.print.state === "paper_out" ? "print_paper_out" : "print_failed") : null;
  $("print-problem").hidden = !problem;
  $("print-problem").dataset.label = problem || "";
  $("print-problem").textContent = problem ? t(problem) : "";
  if (!problem) delete $("print-problem").dataset.label;
  show("ticket");
  window.hangdoiKiosk.lastIssueMs = performance.now() - started;
  window.hangdoiKiosk.issued += 1;
}

function message(code, error = null) {
  const known = code && LABELS.vi[code] ? code : "kiosk_error";
  $("message-take").hidden = true;
  $("message-text").dataset.label = known;
  $("message-text").textContent = t(known);
  // A message with details (the time to come back, the day booked) is the server's own sentence.
  if (error && /\{/.test(LABELS.vi[known] || "")) {
    const halves = (error.message || "").split(" / ");
    delete $("message-text").dataset.label;
    $("message-text").textContent = kiosk.lang === "en" && halves[1] ? halves[1] : halves[0];
  }
  show("message");
}

// -- arriving with a booking or a remote number ---------------------------------------------
function renderCheckIn() {
  $("code-text").textContent = kiosk.code;
  $("code-box").classList.toggle("empty", !kiosk.code);
  $("checkin-go").disabled = kiosk.code.length !== CODE_LENGTH || busy();
}

function buildCodeKeyboard() {
  const press = (value) => {
    if (value === "⌫") kiosk.code = kiosk.code.slice(0, -1);
    else if (value === "clear") kiosk.code = "";
    else if (kiosk.code.length < CODE_LENGTH) kiosk.code += value;
    renderCheckIn();
  };
  const rows = CODE_KEYS.map((keys, i) => {
    const row = el("div", "row");
    for (const k of keys) row.append(key(k, k, press));
    if (i === CODE_KEYS.length - 1) row.append(key("⌫", "⌫", press, "wide"), key("clear", "✕", press, "wide"));
    return row;
  });
  $("code-keyboard").replaceChildren(...rows);
}

function checkIn(code) {
  return whileBusy(async (started) => {
    kiosk.code = "";
    const response = await fetch("/api/v1/check-in", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Hangdoi-Kiosk-Key": KIOSK_KEY },
      body: JSON.stringify({ code }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      const service = services().find((s) => s.id === body.service.id) || { ...body.service, counters: [] };
      const booking = body.booking;
      const note = booking.kind === "remote" ? { text: t("kiosk_note_remote") }
        : { text: t(booking.late ? "kiosk_note_late" : "kiosk_note_slot", { start: booking.start }), late: booking.late };
      showTicket(body, service, body.priority, started, note);
    } else {
      message(body.error?.code, body.error);
      const booked = body.error?.code === "booking_too_early" && services().find((s) => s.id === body.error.service);
      if (booked) offerOrdinary(booked);
    }
  });
}

// Too early for a booking: the citizen may still take an ordinary number for the same procedure
// now. The button waits out the kiosk's quiet after a request (which starts as this request
// ends), so it looks no more pressable than it is.
function offerOrdinary(service) {
  const take = $("message-take");
  take.hidden = false;
  take.disabled = true;
  take.onclick = () => chooseService(service);
  setTimeout(() => { take.disabled = false; }, QUIET_AFTER_TICKET_MS + 50);
}

// What the scanner read: a chip ID card greets its holder; anything else is taken for a booking's
// or remote number's code (or its page's address) and checked in; the server says what it is not.
function scanned(text) {
  const card = CCCD.exec(text.trim());
  if (card) { readIdCard(card); return; }
  checkIn(text.trim());
}

function readIdCard(card) {
  const [, idNumber, , name, birth] = card;
  const born = new Date(Date.UTC(Number(birth.slice(4, 8)), Number(birth.slice(2, 4)) - 1, Number(birth.slice(0, 2))));
  const today = new Date();
  let age = today.getFullYear() - born.getUTCFullYear();
  if (today.getMonth() < born.getUTCMonth() || (today.getMonth() === born.getUTCMonth() && today.getDate() < born.getUTCDate())) age -= 1;
  kiosk.citizen = { idNumber, name: name.trim(), age };
  show(kiosk.screen === "priority" ? "priority" : "home");
}

function elderlyOffer() {
  const rule = kiosk.snapshot.elderly;
  if (!kiosk.citizen || !rule || kiosk.citizen.age < rule.age) return null;
  return kiosk.snapshot.priorities.find((p) => p.code === rule.priority) || null;
}

// The card's name and number travel with the ticket only where the centre keeps personal data.
const citizenOfTicket = () => (kiosk.citizen && kiosk.snapshot.personal_data
  ? { citizen: { full_name: kiosk.citizen.name, id_number: kiosk.citizen.idNumber } } : {});

// -- search keyboard -------------------------------------------------------------------------
function buildKeyboard() {
  const board = $("keyboard");
  const press = (key) => {
    if (key === "⌫") kiosk.query = kiosk.query.slice(0, -1);
    else if (key === "clear") kiosk.query = "";
    else if (kiosk.query.length < 40) kiosk.query += key;
    kiosk.pages["search-results"] = 0;
    renderSearch();
  };
  const rows = KEYS.map((letters, i) => {
    const row = el("div", "row");
    for (const letter of letters) row.append(key(letter.toLowerCase(), letter, press));
    if (i === 2) row.append(key("⌫", "⌫", press, "wide"));
    return row;
  });
  const last = el("div", "row");
  last.append(key(" ", "␣", press, "space"), key("clear", "✕", press, "wide"));
  board.replaceChildren(...rows, last);
}
function key(value, label, press, extra = "") {
  const button = el("button", `key ${extra}`.trim(), label);
  button.type = "button";
  button.dataset.key = value;
  button.addEventListener("click", () => press(value));
  return button;
}

// -- idle, clock, language -------------------------------------------------------------------
function tick() {
  const now = new Date();
  const tz = kiosk.snapshot.centre.timezone;
  $("time").textContent = now.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: tz });
  $("date").textContent = now.toLocaleDateString(kiosk.lang === "vi" ? "vi-VN" : "en-GB",
    { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", timeZone: tz });
  if (kiosk.screen === "home" || kiosk.issuing) return;
  const limit = kiosk.screen === "ticket" ? TICKET_MS : IDLE_MS;
  const since = kiosk.screen === "ticket" ? kiosk.shownAt : Math.max(kiosk.lastTouch, kiosk.shownAt);
  const left = Math.ceil((limit - (Date.now() - since)) / 1000);
  if (kiosk.screen === "ticket") $("countdown").textContent = t("kiosk_returning", { n: Math.max(0, left) });
  if (left <= 0) { kiosk.lang = "vi"; kiosk.citizen = null; show("home"); }
}

document.addEventListener("pointerdown", () => { kiosk.lastTouch = Date.now(); }, true);
document.addEventListener("contextmenu", (e) => e.preventDefault());   // no long-press menu on a kiosk
document.querySelectorAll("[data-go]").forEach((b) => b.addEventListener("click", () => {
  if (kiosk.issuing) return;
  const target = b.dataset.go === "back" ? kiosk.previous : b.dataset.go;
  show(target === "priority" || target === "ticket" ? "home" : target);
}));
$("search-open").addEventListener("click", () => show("search"));
$("checkin-open").addEventListener("click", () => { kiosk.code = ""; show("checkin"); });
$("checkin-go").addEventListener("click", () => checkIn(kiosk.code));
$("not-me").addEventListener("click", () => { kiosk.citizen = null; render(); });
$("elderly-take").addEventListener("click", () => { const p = elderlyOffer(); if (p) issue(kiosk.service, p.code); });
const scan = { text: "", last: 0 };
document.addEventListener("keydown", (event) => {
  const now = performance.now();
  if (now - scan.last > SCAN_GAP_MS) scan.text = "";
  scan.last = now;
  if (event.key === "Enter") {
    const text = scan.text;
    scan.text = "";
    if (text.length >= CODE_LENGTH) { event.preventDefault(); kiosk.lastTouch = Date.now(); scanned(text); }
  } else if (event.key.length === 1) {
    scan.text = (scan.text + event.key).slice(-1000);      // a province booking's signed code is ~350
  }
});
document.querySelectorAll(".pager button").forEach((b) => b.addEventListener("click", () => {
  turnPage(b.closest(".pager").id.replace(/-pager$/, ""), Number(b.dataset.page));
}));
// Pages are measured in the kiosk's font: measure again once it has arrived, and say so (tests
// wait for this rather than for time), and again if the screen changes size.
document.fonts.ready.then(() => { render(); document.body.dataset.laidOut = "1"; });
window.addEventListener("resize", render);
$("no-priority").addEventListener("click", () => issue(kiosk.service, null));
$("lang").addEventListener("click", () => { kiosk.lang = kiosk.lang === "vi" ? "en" : "vi"; render(); tick(); });

buildKeyboard();
buildCodeKeyboard();
applySnapshot(kiosk.snapshot);
tick();
setInterval(tick, 1000);

const live = new Realtime("kiosk", {
  device: KIOSK_KEY,
  onSnapshot: applySnapshot,
  onState: applyState,
  onEstimates: applyEstimates,
  onConnection: (up) => { $("offline-banner").hidden = up; },
});
// Opening hours change with the clock, not with events: take a fresh snapshot now and then.
setInterval(() => { if (live.socket.connected) live.subscribe(); }, 60000);
