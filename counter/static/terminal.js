// The counter terminal: one big "call next", the ticket at the counter, the queue, the day's figures.
import { Realtime } from "/assets/static/realtime.js";
import { $, el, jsonHeaders, toast } from "/assets/static/dom.js";

const LABELS = JSON.parse(document.getElementById("labels").textContent).vi;
const COUNTER = Number(document.body.dataset.counter);
const OFFICER = Number(document.body.dataset.officer);
const API = `/api/v1/counters/${COUNTER}`;
const RATING_SHOWN_MS = 30000;

const desk = { snapshot: JSON.parse(document.getElementById("snapshot").textContent), busy: false,
               ratingUntil: 0, fetching: null, fetchAgain: false, services: [], counters: [] };
window.hangdoiTerminal = { actions: 0, lastAction: null };

const t = (code, params = {}) => (LABELS[code] || code).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
const minutesSince = (iso) => Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
const hhmm = (iso) => (iso || "").slice(11, 16);

// -- showing -----------------------------------------------------------------------------------
function render() {
  const { counter, ticket, waiting } = desk.snapshot;
  if (counter.officer?.id !== OFFICER) { location.href = "/counter?error=session_ended"; return; }
  const paused = counter.status === "paused";
  $("status-pill").textContent = paused ? t("terminal_paused")
    : ticket ? t(ticket.status === "serving" ? "terminal_serving" : "terminal_calling") : t("terminal_no_ticket");
  $("status-pill").className = `pill ${paused ? "paused" : ticket ? ticket.status : "idle"}`;
  $("current").className = `current ${ticket ? ticket.status : "empty"}`;
  $("ticket-state").textContent = ticket ? t(ticket.status === "serving" ? "terminal_serving" : "terminal_calling") : "";
  $("ticket-number").textContent = ticket ? ticket.number : "—";
  $("ticket-service").textContent = ticket ? ticket.service.name
    : waiting.length ? t("terminal_no_ticket") : t("terminal_nothing_waiting");
  $("ticket-priority").hidden = !(ticket && ticket.priority);
  // The category, not just "priority": the officer checks the papers that go with it.
  $("ticket-priority").textContent = ticket?.priority_name || t("terminal_priority");
  $("ticket-issued").textContent = ticket
    ? `${t("terminal_issued", { time: hhmm(ticket.issued_at) })} · ${t("terminal_waited", { m: minutesSince(ticket.issued_at) - minutesSince(ticket.called_at) })}`
    : "";
  $("at-counter-block").hidden = !ticket;
  const origin = ticket ? originText(ticket) : "";
  $("ticket-origin").hidden = !origin;
  $("ticket-origin").textContent = origin;
  const can = {
    recall: ticket?.status === "called", start: ticket?.status === "called",
    finish: !!ticket, "no-show": ticket?.status === "called", requeue: !!ticket, "call-next": !paused,
  };
  // A disabled button says why, on hover and to screen readers.
  const why = {
    recall: ticket ? "terminal_why_not_called" : "terminal_why_no_ticket", start: ticket ? "terminal_why_not_called" : "terminal_why_no_ticket",
    finish: "terminal_why_no_ticket", "no-show": ticket ? "terminal_why_not_called" : "terminal_why_no_ticket",
    requeue: "terminal_why_no_ticket", "call-next": "terminal_why_paused",
  };
  const explain = (button, disabled, reason) => {
    button.disabled = disabled;
    button.title = disabled ? t(desk.busy ? "terminal_why_busy" : reason) : "";
  };
  document.querySelectorAll("[data-action]").forEach((b) => {
    if (b.dataset.action in can) explain(b, desk.busy || !can[b.dataset.action], why[b.dataset.action]);
  });
  explain($("open-transfer"), desk.busy || !ticket, "terminal_why_no_ticket");
  explain($("pause"), desk.busy || !!ticket || paused, paused ? "terminal_why_paused" : "terminal_why_holding");
  $("paused").hidden = !paused;
  $("pause-reason").textContent = counter.pause_reason || "";
  $("rating-asked").hidden = Date.now() > desk.ratingUntil || !!ticket;
  renderCitizen(ticket);
  renderQueue(waiting);
  renderNoShows(desk.snapshot.no_shows || [], ticket);
  tickTimers();
}

// Where a ticket came from, when not the kiosk: an appointment (its slot) or a number from a phone.
function originText(ticket) {
  if (ticket.origin === "booked") return ticket.due_at ? t("terminal_origin_booked", { time: hhmm(ticket.due_at) }) : t("terminal_origin_late");
  return ticket.origin === "remote" ? t("terminal_origin_remote") : "";
}

function renderQueue(waiting) {
  $("queue-count").textContent = waiting.length;
  const absent = desk.snapshot.remote_absent || 0;
  $("remote-absent").hidden = !absent;
  $("remote-absent").textContent = absent ? t("terminal_remote_absent", { n: absent }) : "";
  $("queue").replaceChildren(...waiting.slice(0, 30).map((w) => {
    const item = el("li", w.priority ? "priority" : "");
    item.dataset.ticket = w.id;
    const service = el("span", "service", w.service.name);
    const origin = originText(w);
    if (origin) service.prepend(el("span", `origin ${w.origin}`, origin), " ");
    item.append(el("span", "number", w.number), service,
                el("span", "waited", t("terminal_minutes", { m: minutesSince(w.issued_at) })));
    item.addEventListener("click", () => askCall(w));
    return item;
  }));
  const per = new Map();
  for (const w of waiting) {
    const row = per.get(w.service.id) || { name: w.service.name, n: 0, oldest: w.issued_at };
    row.n += 1;
    if (w.issued_at < row.oldest) row.oldest = w.issued_at;
    per.set(w.service.id, row);
  }
  $("per-service").replaceChildren(...[...per.values()].map((row) => {
    const item = el("li");
    item.append(el("span", "name", row.name), el("span", "n", String(row.n)),
                el("span", "longest", `${t("terminal_longest")}: ${t("terminal_minutes", { m: minutesSince(row.oldest) })}`));
    return item;
  }));
}

// Today's no-shows here and for this counter's services: one click calls a citizen who came back.
function renderNoShows(noShows, ticket) {
  $("no-show-count").textContent = noShows.length;
  const list = $("no-show-list");
  if (!noShows.length) { list.replaceChildren(el("li", "none", t("terminal_no_show_none"))); return; }
  list.replaceChildren(...noShows.map((n) => {
    const item = el("li", n.priority ? "priority" : "");
    item.dataset.ticket = n.id;
    const when = n.here ? t("terminal_no_show_here", { time: hhmm(n.called_at) })
      : t("terminal_no_show_there", { time: hhmm(n.called_at), counter: n.counter?.number ?? "" });
    const button = el("button", "call-back");
    button.type = "button";
    button.append(el("span", "number", n.number), el("span", "service", n.service.name), el("span", "waited", when));
    button.disabled = !!ticket || desk.busy;
    button.title = ticket ? t("terminal_why_holding_call") : "";
    button.addEventListener("click", () => askCall(n, "terminal_call_back"));
    item.append(button);
    return item;
  }));
}

// Only where the centre keeps applicants' details; the snapshot carries them for the ticket at hand.
function renderCitizen(ticket) {
  const { personal_data: keeps, citizen } = desk.snapshot;
  $("citizen").hidden = !(keeps && ticket);
  $("open-citizen").disabled = desk.busy;
  const shown = citizen ? [citizen.full_name, citizen.phone, citizen.id_number].filter(Boolean).join(" · ") : t("terminal_citizen_none");
  $("citizen-text").textContent = shown;
  $("citizen-text").className = citizen ? "" : "none";
}

function renderToday(day) {
  // The citizen has rated: the prompt has done its work.
  const rated = day.ratings["1"] + day.ratings["2"] + day.ratings["3"];
  if (desk.ratedBefore != null && rated > desk.ratedBefore && desk.ratingUntil) { desk.ratingUntil = 0; render(); }
  desk.ratedBefore = rated;
  $("served").textContent = day.served;
  $("no-shows").textContent = day.no_shows;
  const avg = day.average_service_seconds;
  $("average").textContent = avg == null ? "—" : `${Math.floor(avg / 60)}:${String(avg % 60).padStart(2, "0")}`;
  const r = day.ratings, total = r["1"] + r["2"] + r["3"];
  $("ratings").textContent = total ? t("terminal_satisfied", { n: r["2"] + r["3"], total }) : "—";
}

function tickTimers() {
  const now = new Date();
  $("clock").textContent = now.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit",
                                                             timeZone: desk.snapshot.timezone });
  const ticket = desk.snapshot.ticket;
  if (ticket && ticket.called_at) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(ticket.called_at)) / 1000));
    $("at-counter").textContent = `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  }
}


// -- fetching ----------------------------------------------------------------------------------
async function refresh() {
  if (desk.fetching) { desk.fetchAgain = true; return; }
  desk.fetching = (async () => {
    try {
      const response = await fetch(`${API}/state`);
      if (response.status === 401 || response.status === 403) { location.href = "/counter?error=session_ended"; return; }
      if (response.ok) { desk.snapshot = await response.json(); render(); }
    } finally {
      desk.fetching = null;
      if (desk.fetchAgain) { desk.fetchAgain = false; refresh(); }
    }
  })();
}
async function refreshToday() {
  const response = await fetch("/api/v1/officers/me/today");
  if (response.ok) renderToday(await response.json());
}
// Ratings and others' changes arrive as state messages; the figures need not follow each one.
function refreshTodaySoon() {
  if (desk.todayTimer) return;
  desk.todayTimer = setTimeout(() => { desk.todayTimer = null; refreshToday(); }, 500);
}

// -- a citizen who booked, checked in here rather than at the kiosk ----------------------------
async function checkIn(event) {
  event.preventDefault();
  const code = $("check-in-code").value.trim();
  if (!code) return;
  try {
    const response = await fetch("/api/v1/check-in", { method: "POST", headers: jsonHeaders(), body: JSON.stringify({ code }) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { toast((answer.error?.message || "").split(" / ")[0], 6000); return; }
    $("check-in-code").value = "";
    toast(t("terminal_checked_in", { number: answer.number }), 6000);
    refresh();
  } catch (err) {
    toast(t("terminal_offline"), 6000);
  }
}
$("check-in").addEventListener("submit", checkIn);

// -- acting ------------------------------------------------------------------------------------
async function act(action, body = {}) {
  if (desk.busy) return;              // pressed twice: done once
  desk.busy = true;
  render();
  const holding = desk.snapshot.ticket;
  try {
    const response = await fetch(`${API}/${action}`, {
      method: "POST", headers: jsonHeaders(), body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    window.hangdoiTerminal.actions += 1;
    window.hangdoiTerminal.lastAction = { action, status: response.status, at: Date.now() };
    if (!response.ok) { toast((answer.error?.message || "").split(" / ")[0], 6000); return; }
    // The tablet asks a citizen who was served: not one transferred, returned or who never came.
    const served = holding && (action === "finish" || ((action === "call-next" || action === "call")
                                                      && (holding.status === "serving" || body.previous === "served")));
    desk.ratingUntil = served ? Date.now() + RATING_SHOWN_MS : 0;
    const sameTicket = answer.ticket && answer.ticket.id === desk.snapshot.ticket?.id;
    desk.snapshot = { ...desk.snapshot, ticket: answer.ticket, counter: answer.counter,
                      citizen: sameTicket ? desk.snapshot.citizen : null };
    if (action === "call-next" && !answer.ticket) toast(t("terminal_nothing_waiting"), 6000);
  } catch (err) {
    toast(t("terminal_offline"), 6000);
  } finally {
    desk.busy = false;
    render();
    refresh();
    refreshToday();
  }
}

// "Next" while the citizen was only called: ask what became of them rather than count them served.
function callNext() {
  const ticket = desk.snapshot.ticket;
  if (desk.busy) return;
  if (ticket?.status !== "called") { act("call-next"); return; }
  $("settle-title").textContent = t("terminal_settle_title", { number: ticket.number });
  $("settle-question").textContent = t("terminal_settle_question", { number: ticket.number });
  $("settle-dialog").showModal();
}
document.querySelectorAll("#settle-dialog [data-previous]").forEach((b) => b.addEventListener("click", () => {
  $("settle-dialog").close();
  act("call-next", { previous: b.dataset.previous });
}));

document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => {
  if (b.dataset.action === "call-next") callNext(); else act(b.dataset.action);
}));

function askCall(ticket, question = "terminal_call_this") {
  if (desk.snapshot.ticket || desk.busy) return;
  $("call-title").textContent = t(question, { number: ticket.number });
  $("do-call").onclick = () => { $("call-dialog").close(); act("call", { ticket: ticket.id }); };
  $("call-dialog").showModal();
}

$("open-citizen").addEventListener("click", () => {
  const { ticket, citizen, personal_data_days: days } = desk.snapshot;
  if (!ticket) return;
  $("citizen-title").textContent = t("terminal_citizen_title", { number: ticket.number });
  $("citizen-name").value = citizen?.full_name || "";
  $("citizen-phone").value = citizen?.phone || "";
  $("citizen-id").value = citizen?.id_number || "";
  $("citizen-kept").textContent = t("terminal_citizen_kept", { days });
  $("citizen-error").hidden = true;
  $("citizen-dialog").showModal();
  $("citizen-name").focus();
});
$("citizen-form").addEventListener("input", () => { $("citizen-error").hidden = true; });
$("citizen-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { full_name: $("citizen-name").value.trim(), phone: $("citizen-phone").value.trim() || null,
                 id_number: $("citizen-id").value.trim() || null };
  if (!body.full_name) {
    $("citizen-error").textContent = t("terminal_citizen_name_needed");
    $("citizen-error").hidden = false;
    return;
  }
  $("save-citizen").disabled = true;
  try {
    const response = await fetch(`${API}/citizen`, {
      method: "POST", headers: jsonHeaders(), body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("citizen-error").textContent = (answer.error?.message || "").split(" / ")[0];
      $("citizen-error").hidden = false;
      return;
    }
    desk.snapshot = { ...desk.snapshot, citizen: answer.citizen };
    $("citizen-dialog").close();
    toast(t("terminal_citizen_saved"), 3000);
    render();
  } catch (err) {
    $("citizen-error").textContent = t("terminal_offline");
    $("citizen-error").hidden = false;
  } finally {
    $("save-citizen").disabled = false;
  }
});

$("pause").addEventListener("click", () => $("pause-dialog").showModal());
document.querySelectorAll("#pause-dialog [data-reason]").forEach((b) => b.addEventListener("click", () => {
  $("pause-dialog").close();
  act("pause", { reason: b.dataset.reason });
}));
document.querySelectorAll("dialog [data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));

$("open-transfer").addEventListener("click", async () => {
  const centre = `?centre=${desk.snapshot.centre_id}`;
  const [services, display] = await Promise.all([fetch(`/api/v1/services${centre}`).then((r) => r.json()),
                                                 fetch(`/api/v1/display/state${centre}`).then((r) => r.json())]);
  const ticket = desk.snapshot.ticket;
  if (!ticket) return;
  $("transfer-title").textContent = t("terminal_transfer_title", { number: ticket.number });
  const option = (value, label) => { const o = el("option", "", label); o.value = value; return o; };
  // A real catalogue has some 400 procedures in 70 fields: grouped by field, as the kiosk shows them.
  const groups = new Map();
  for (const s of services.filter((x) => x.open && x.id !== ticket.service.id)) {
    if (!groups.has(s.domain.id)) { const g = el("optgroup"); g.label = s.domain.name; groups.set(s.domain.id, g); }
    groups.get(s.domain.id).append(option(s.id, s.name));
  }
  $("transfer-service").replaceChildren(option("", "—"), ...groups.values());
  $("transfer-counter").replaceChildren(option("", "—"), ...display.counters.filter((c) => c.id !== COUNTER && c.status !== "inactive")
    .map((c) => option(c.id, `${t("terminal_counter")} ${c.number} · ${c.name}`)));
  $("transfer-reason").value = "";
  $("transfer-dialog").showModal();
});
$("do-transfer").addEventListener("click", () => {
  const service = $("transfer-service").value, counter = $("transfer-counter").value;
  if (!service && !counter) return;
  $("transfer-dialog").close();
  act("transfer", { service: service ? Number(service) : null, counter: counter ? Number(counter) : null,
                    reason: $("transfer-reason").value.trim() || null });
});

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, dialog") || event.ctrlKey || event.altKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  if (key === " " || key === "enter") { event.preventDefault(); if (!$("call-next").disabled) callNext(); return; }
  const button = document.querySelector(`[data-key="${key}"]`);
  if (button && !button.disabled) { event.preventDefault(); act(button.dataset.action); }
});

render();
refreshToday();
setInterval(tickTimers, 1000);
setInterval(() => renderQueue(desk.snapshot.waiting), 30000);
new Realtime(`counter:${COUNTER}`, {
  onSnapshot: (snapshot) => { desk.snapshot = snapshot; render(); },
  onState: () => { refresh(); refreshTodaySoon(); },
  onCall: () => refresh(),
  onConnection: (up) => {
    $("offline").hidden = up; document.body.classList.toggle("offline", !up);
    window.hangdoiTerminal.live = up;
  },
});
