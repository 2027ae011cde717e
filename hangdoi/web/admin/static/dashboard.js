// The manager's live view: it re-reads /api/v1/supervision whenever the centre changes.
import { Realtime } from "/assets/static/realtime.js";
import { $, el, jsonHeaders, toast } from "/assets/static/dom.js";
import { centre, withCentre } from "./centre.js";

const LABELS = JSON.parse(document.getElementById("labels").textContent);
const board = { data: null, deviceNews: new Map(), fetching: false, again: false, timer: null, lastRead: 0 };
window.hangdoiDashboard = { renders: 0 };

const t = (code, params = {}) => (LABELS[code] || code).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
const mmss = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
const stateWord = (state) => t(`device_state_${state}`) || state;


// The estimate (P60 of simulated futures), and under it the range 20–80% of them fall in.
function estimateCell(e) {
  const cell = el("td", "estimate");
  if (!e || e.minutes == null) { cell.textContent = e && e.beyond_closing ? e.text.vi : "—"; return cell; }
  cell.append(t("admin_minutes", { m: e.minutes }));
  if (e.low != null && e.high != null && e.high > e.low) cell.append(el("small", "range", `${e.low}–${e.high}`));
  return cell;
}

async function post(path, confirmText, body = {}) {
  if (confirmText && !window.confirm(confirmText)) return;
  const response = await fetch(withCentre(`/api/v1${path}`), { method: "POST", headers: jsonHeaders(),
                                                   body: JSON.stringify(body) });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    toast((body.error?.message || "").split(" / ")[0]);
  }
  refresh();
}

function render() {
  const data = board.data;
  if (!data) return;
  $("centre-name").textContent = data.centre.name;
  renderCounters(data.counters);
  renderServices(data.services, data.sla_minutes);
  renderDevices(data.devices, data.displays || [], hardwareNow(data), data.province_link);
  renderAlerts(data);
  renderBookings(data.bookings);
  tick();
  window.hangdoiDashboard.renders += 1;
}

// Today's appointments per slot, and today's numbers taken from phones: who has come, who not yet.
function renderBookings(bookings) {
  const remote = bookings ? bookings.remote : null;
  const any = bookings && (bookings.slots.length || Object.values(remote).some((n) => n > 0));
  $("bookings-panel").hidden = !any;
  if (!any) return;
  $("remote-line").textContent = t("admin_remote_line", { waiting: remote.booked, came: remote.checked_in,
                                                          gone: remote.expired + remote.cancelled });
  $("bookings").replaceChildren(...bookings.slots.map((slot) => {
    const row = el("tr");
    row.dataset.slot = slot.start;
    const booked = slot.booked + slot.checked_in + slot.expired;
    row.append(el("td", "slot", `${slot.start}–${slot.end}`), el("td", "", String(booked)),
               el("td", "came", String(slot.checked_in)), el("td", slot.expired ? "late" : "", String(slot.expired)),
               el("td", "", String(slot.cancelled)));
    return row;
  }));
}

function renderCounters(counters) {
  $("counters").replaceChildren(...counters.map((c) => {
    const card = el("div", `counter ${c.status}`);
    card.dataset.counter = c.number;
    const head = el("div", "head");
    head.append(el("span", "number", String(c.number)), el("span", "pill", t(`counter_status_${c.status}`)));
    card.append(head, el("div", "name", c.name), el("div", "officer", c.officer ? c.officer.full_name : "—"));
    const now = el("div", "now");
    if (c.ticket) now.append(el("strong", "", c.ticket), el("span", "", ` · ${mmss(c.at_counter_seconds || 0)}`));
    else if (c.status === "paused") now.textContent = c.pause_reason || "";
    card.append(now);
    if (c.officer) {
      const end = el("button", "small", t("admin_end_session"));
      end.type = "button";
      end.addEventListener("click", () => post(`/counters/${c.id}/end-session`,
        t("admin_confirm_end_session", { name: c.officer.full_name, number: c.number })));
      card.append(end);
    }
    return card;
  }));
}

function renderServices(services, sla) {
  $("services").replaceChildren(...services.map((s) => {
    const row = el("tr", s.open ? "" : "closed");
    row.dataset.service = s.code;
    const name = el("td", "name");
    name.append(el("span", "", s.name), el("small", "", s.domain.name));
    const longest = el("td", "longest", s.longest_wait_minutes == null ? "—" : t("admin_minutes", { m: s.longest_wait_minutes }));
    if (s.longest_wait_minutes != null && s.longest_wait_minutes >= sla) longest.classList.add("late");
    const action = el("td", "action");
    const button = el("button", "small", s.open ? t("admin_close_service") : t("admin_reopen_service"));
    button.type = "button";
    // Closing turns citizens away at every kiosk at once: asked first. Reopening only welcomes them.
    button.addEventListener("click", () => post(`/services/${s.id}/${s.open ? "close-today" : "reopen"}`,
                                                s.open ? t("admin_confirm_close_service", { service: s.name }) : null));
    action.append(button);
    if (s.waiting > 0) {
      const move = el("button", "small", t("admin_move"));
      move.type = "button";
      move.dataset.move = s.code;
      move.addEventListener("click", () => openMove(s, services));
      action.append(move);
    }
    const estimate = estimateCell(s.estimated_wait);
    row.append(name, el("td", "waiting", String(s.waiting)), longest, estimate, action);
    return row;
  }));
}

function openMove(source, services) {
  $("move-title").textContent = t("admin_move_title", { n: source.waiting, service: source.name });
  $("move-target").replaceChildren(...services.filter((s) => s.id !== source.id).map((s) => {
    const option = el("option", "", `${s.code} — ${s.name}`);
    option.value = s.id;
    return option;
  }));
  board.moving = source;
  $("move").showModal();
}

// What the bridges last said of their keypads, signs and themselves (kept by the server), with any
// news heard since the last read on top.
function hardwareNow(data) {
  const all = new Map((data.hardware || []).map((h) => [`${h.device} ${h.port}`, h]));
  for (const news of board.deviceNews.values()) all.set(`${news.device} ${news.port}`, news);
  return [...all.values()];
}

function renderDevices(devices, displays, hardware, link) {
  const online = (d) => el("span", `presence ${d.online ? "up" : "down"}`, t(d.online ? "admin_online" : "admin_offline_device"));
  const kiosks = devices.map((d) => {
    const item = el("li", `device ${printerBad(d) || !d.online ? "bad" : ""}`);
    item.dataset.kiosk = d.name;
    item.append(online(d), el("span", "name", d.name),
                el("span", "state", d.printer ? `${t("admin_printer_state")}: ${stateWord(d.printer_state || "unknown")}` : t("admin_no_printer")));
    if (d.printer) {
      const button = el("button", "small", t("admin_reprint"));
      button.type = "button";
      button.addEventListener("click", () => post(`/kiosks/${d.id}/reprint`));
      item.append(button);
    }
    return item;
  });
  const screens = displays.map((d) => {
    const item = el("li", `device ${d.online ? "" : "bad"}`);
    item.dataset.display = d.name;
    item.append(online(d), el("span", "name", d.name), el("span", "kind", t("admin_display")));
    return item;
  });
  const lines = hardware.map((h) => {
    const item = el("li", `device ${h.ok ? "" : "bad"}`);
    item.dataset.hardware = `${h.device} ${h.port}`;
    item.append(el("span", `presence ${h.ok ? "up" : "down"}`, t(h.ok ? "admin_online" : "admin_offline_device")),
                el("span", "name", `${t(`admin_hardware_${h.device}`)} ${h.port}`),
                el("span", "state", h.ok ? t("admin_since", { time: (h.at || "").slice(11, 16) })
                                         : `${h.detail || ""} · ${t("admin_since", { time: (h.at || "").slice(11, 16) })}`));
    return item;
  });
  $("devices").replaceChildren(...kiosks, ...screens, ...lines, ...(link ? [provinceLine(link)] : []));
}

// A centre linked to its province (README "A centre linked to its province"): whether its figures
// get there, and how many changes still wait to go.
function provinceLine(link) {
  const item = el("li", `device ${link.ok ? "" : "bad"}`);
  item.dataset.province = "";
  const waiting = link.to_send == null ? t("admin_province_never")
    : link.to_send ? t("admin_province_behind", { n: link.to_send }) : t("admin_province_sent_all");
  item.append(el("span", `presence ${link.ok ? "up" : "down"}`, t(link.ok ? "admin_online" : "admin_offline_device")),
              el("span", "name", t("admin_province_link")),
              el("span", "state", link.failing_since ? `${t("admin_since", { time: link.failing_since })} · ${waiting}` : waiting));
  return item;
}

const printerBad = (d) => d.printer_state && !["ready", "unknown", "paper_low", "sent"].includes(d.printer_state);

function renderAlerts(data) {
  const alerts = [];
  for (const s of data.services) {
    if (s.longest_wait_minutes != null && s.longest_wait_minutes >= data.sla_minutes) {
      alerts.push(t("admin_wait_alert", { service: s.name, m: s.longest_wait_minutes, sla: data.sla_minutes }));
    }
  }
  for (const d of data.devices) {
    if (printerBad(d)) alerts.push(t("admin_device_alert", { device: d.name, state: stateWord(d.printer_state) }));
  }
  for (const d of [...data.devices, ...(data.displays || [])]) {
    if (!d.online) alerts.push(t("admin_device_alert", { device: d.name, state: t("admin_offline_device") }));
  }
  for (const h of hardwareNow(data)) {
    if (!h.ok) alerts.push(t("admin_device_alert", { device: `${t(`admin_hardware_${h.device}`)} ${h.port}`, state: stateWord(h.state) }));
  }
  const link = data.province_link;
  if (link && !link.ok && link.failing_since) {
    alerts.push(t("admin_province_down", { since: t("admin_since", { time: link.failing_since }) }));
  }
  $("alerts").replaceChildren(...(alerts.length ? alerts.map((a) => el("div", "alert", a))
                                                  : [el("div", "calm", t("admin_no_alerts"))]));
}

// One read at a time and at most one a second: under a busy morning the centre changes ten times
// a second, and a manager needs the picture fresh, not every frame of it.
const MIN_READ_INTERVAL_MS = 1000;

async function refresh() {
  if (board.fetching || board.timer) { board.again = true; return; }
  const wait = board.lastRead + MIN_READ_INTERVAL_MS - Date.now();
  if (wait > 0) { board.timer = setTimeout(() => { board.timer = null; refresh(); }, wait); return; }
  board.fetching = true;
  board.again = false;
  board.lastRead = Date.now();
  try {
    const response = await fetch(withCentre("/api/v1/supervision"));
    if (response.status === 401 || response.status === 403) { location.href = withCentre("/admin"); return; }
    if (response.ok) { board.data = await response.json(); render(); }
  } finally {
    board.fetching = false;
    if (board.again) { board.again = false; refresh(); }
  }
}

$("close-day").addEventListener("click", () => post("/close-day", t("admin_confirm_close_day")));
$("move-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("move").close();
  post(`/services/${board.moving.id}/move-waiting`, null, { to_service: Number($("move-target").value) });
});
$("move-cancel").addEventListener("click", () => $("move").close());
// Hoisted: render() calls it as soon as the centre's time zone is known.
function tick() {
  $("clock").textContent = new Date().toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit",
                                                                    timeZone: board.data?.centre.timezone });
}
tick();
setInterval(tick, 1000);
setInterval(refresh, 30000);     // waits grow with the clock, not only with events

const live = new Realtime("supervision", {
  centre,
  onSnapshot: (snapshot) => { board.data = snapshot; render(); },
  onState: () => refresh(),
  onCall: () => refresh(),
  onConnection: (up) => { $("offline").hidden = up; },
});
live.socket.on("device_status", (news) => {
  if (news.printer || news.presence) refresh();
  else { board.deviceNews.set(`${news.device} ${news.port}`, news); render(); }
});
