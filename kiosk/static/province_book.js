// Booking a slot at any of the province's centres from a phone: centre → procedure → day and time (or
// a number for today, while the centre's link is up) → name and phone. What can be booked comes from
// each centre's offer (the public API); the answer leads to the booking's page (/province/b/…), whose
// QR code the centre's kiosk takes.
import { $, el } from "/assets/static/dom.js";
import { errorText as apiError, fold, languageButton, relabel, translator } from "./phone.js";

const LABELS = JSON.parse($("labels").textContent);
const CENTRES = JSON.parse($("centres").textContent);
const WEEKDAYS = { vi: ["CN", "T2", "T3", "T4", "T5", "T6", "T7"], en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] };
const API = "/api/v1/province/booking";
const REMOTE = "remote";          // page.slot when a number for today is asked instead of a slot

const page = { lang: localStorage.getItem("hangdoi-lang") === "en" ? "en" : "vi", step: "centres",
               centre: null, offer: null, service: null, day: null, slot: null, sending: false, failed: false };
const t = translator(LABELS, page);
const matches = (text, query) => {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const hay = fold(text);
  return words.every((w) => hay.includes(w)) || hay.replace(/\s+/g, "").includes(words.join(""));
};
const dayName = (iso) => `${WEEKDAYS[page.lang][new Date(`${iso}T00:00:00Z`).getUTCDay()]} ${iso.slice(8, 10)}/${iso.slice(5, 7)}`;

function choice(title, detail, onPick, disabled = false) {
  const button = el("button", "choice");
  button.type = "button";
  button.disabled = disabled;
  button.append(el("strong", "", title));
  if (detail) button.append(el("span", "", detail));
  button.addEventListener("click", onPick);
  return button;
}

function go(step) {
  page.step = step;
  document.querySelectorAll(".step").forEach((s) => { s.hidden = s.dataset.step !== step; });
  render();
  window.scrollTo(0, 0);
}

function renderCentres() {
  const query = $("search-centre").value;
  const found = CENTRES.filter((c) => matches(`${c.name} ${c.area}`, query));
  if (!found.length) { $("centre-list").replaceChildren(el("p", "empty", t(CENTRES.length ? "book_no_results" : "pb_no_centres"))); return; }
  const items = [];
  let area = null;
  for (const c of found) {      // the server sorts by area, then name
    if (c.area && c.area !== area) { area = c.area; items.push(el("div", "area", area)); }
    items.push(choice(c.name, t(c.bookable ? "pb_bookable" : "pb_not_bookable"), () => pickCentre(c), !c.bookable));
  }
  $("centre-list").replaceChildren(...items);
}

async function pickCentre(centre) {
  page.centre = centre;
  page.offer = null;
  page.failed = false;
  $("search").value = "";
  go("procedures");
  const response = await fetch(`${API}/centres/${centre.id}`).catch(() => null);
  page.offer = response && response.ok ? await response.json() : null;
  page.failed = !page.offer;
  render();
}

function renderProcedures() {
  $("centre-name").textContent = page.centre.name;
  const box = $("procedures");
  if (page.failed) { box.replaceChildren(el("p", "empty", t("book_offline"))); return; }
  if (!page.offer) { box.replaceChildren(el("p", "empty", t("pb_loading"))); return; }
  const all = procedures(page.offer);
  const found = all.filter((s) => matches(`${s.name} ${s.code}`, $("search").value));
  const detail = (s) => [s.days.length ? t("pb_procedure_days", { n: s.days.length }) : "",
                         s.remote ? t("pb_remote_today") : ""].filter(Boolean).join(" · ");
  box.replaceChildren(...(found.length
    ? found.map((s) => choice(s.name, detail(s), () => pickService(s)))
    : [el("p", "empty", t(all.length ? "book_no_results" : "pb_no_procedures"))]));
  box.dataset.ready = "1";
}

// The procedures with slots to book and those a number for today can be taken for, once each.
function procedures(offer) {
  const byCode = new Map(offer.services.map((s) => [s.code, { ...s, remote: false }]));
  for (const r of offer.remote || []) {
    byCode.set(r.code, { ...(byCode.get(r.code) || { code: r.code, name: r.name, days: [] }), remote: true });
  }
  return [...byCode.values()];
}

function pickService(service) {
  page.service = service;
  page.day = service.days.length ? service.days[0].date : null;
  go("slot");
}

function renderSlot() {
  $("slot-procedure").textContent = page.service.name;
  $("way-remote").hidden = !page.service.remote;
  $("slot-choice").hidden = !page.day;
  if (!page.day) return;
  $("days").replaceChildren(...page.service.days.map(({ date }) => {
    const b = el("button", `day${date === page.day ? " chosen" : ""}`, dayName(date));
    b.type = "button";
    b.setAttribute("aria-pressed", String(date === page.day));
    b.addEventListener("click", () => { page.day = date; renderSlot(); });
    return b;
  }));
  const slots = page.service.days.find((d) => d.date === page.day).slots;
  $("slots").replaceChildren(...slots.map((slot) => {
    const b = el("button", "slot");
    b.type = "button";
    b.disabled = slot.free <= 0;
    b.append(el("strong", "", `${slot.start}–${slot.end}`),
             el("span", "", slot.free > 0 ? t("book_free", { n: slot.free }) : t("book_full")));
    b.addEventListener("click", () => { page.slot = slot; go("form"); });
    return b;
  }));
  $("slots").dataset.ready = "1";
}

function renderForm() {
  const remote = page.slot === REMOTE;
  $("form-procedure").textContent = `${page.service.name} · ${page.centre.name}`;
  $("form-when").textContent = remote ? t("book_summary_remote")
    : t("book_summary_slot", { day: dayName(page.day), start: page.slot.start, end: page.slot.end });
  $("id-field").hidden = !page.offer.ask_id_number;
  $("submit").textContent = page.sending ? t("book_sending") : t(remote ? "book_confirm_remote" : "book_confirm_slot");
  $("submit").disabled = page.sending;
}

const errorText = (body) => apiError(body, page, LABELS, t);

async function submit(event) {
  event.preventDefault();
  if (page.sending) return;
  const remote = page.slot === REMOTE;
  const body = { service: page.service.code, full_name: $("full_name").value, phone: $("phone").value,
                 ...(remote ? {} : { date: page.day, start: page.slot.start }) };
  if (page.offer.ask_id_number) body.id_number = $("id_number").value;
  page.sending = true;
  $("error").hidden = true;
  renderForm();
  try {
    const response = await fetch(`${API}/centres/${page.centre.id}/${remote ? "numbers" : "bookings"}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => null);
    if (response.status === 201) { location.href = `/province/b/${answer.public_id}`; return; }
    $("error").textContent = errorText(answer);
    $("error").hidden = false;
  } catch (err) {
    $("error").textContent = t("book_offline");
    $("error").hidden = false;
  } finally {
    page.sending = false;
    renderForm();
  }
}

function render() {
  relabel(page, t);
  if (page.step === "centres") renderCentres();
  if (page.step === "procedures") renderProcedures();
  if (page.step === "slot") renderSlot();
  if (page.step === "form") renderForm();
}

$("search-centre").addEventListener("input", renderCentres);
$("search").addEventListener("input", renderProcedures);
languageButton($("lang"), page, render);
document.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", () => go(b.dataset.back)));
$("form").addEventListener("submit", submit);
$("way-remote").addEventListener("click", () => { page.slot = REMOTE; go("form"); });
render();
document.fonts.ready.then(() => { document.body.dataset.ready = "1"; });
