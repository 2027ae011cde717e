// Taking a number or booking a slot from a phone: field → procedure → today's number or a slot →
// name and phone. What is sent goes through the public API; its answer leads to the page of the
// number (/t/…) or of the booking (/b/…), which the citizen keeps.
import { $, el } from "/assets/static/dom.js";
import { errorText as apiError, fold, languageButton, relabel, translator } from "./phone.js";

const LABELS = JSON.parse($("labels").textContent);
const OFFER = JSON.parse($("offer").textContent);
const SERVICES = JSON.parse($("services").textContent).filter((s) => s.active);
const ESTIMATES = JSON.parse($("estimates").textContent || "{}");
const WEEKDAYS = { vi: ["CN", "T2", "T3", "T4", "T5", "T6", "T7"], en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] };

const page = { lang: localStorage.getItem("hangdoi-lang") === "en" ? "en" : "vi", step: "fields",
               field: null, service: null, way: null, day: null, slot: null, sending: false };
const t = translator(LABELS, page);
const vnDay = (iso) => iso.split("-").reverse().slice(0, 2).join("/");
const dayName = (iso) => (iso === OFFER.today ? t("book_today")
  : `${WEEKDAYS[page.lang][new Date(`${iso}T00:00:00Z`).getUTCDay()]} ${vnDay(iso)}`);

function fields() {
  const found = new Map();
  for (const s of SERVICES) {
    const f = found.get(s.domain.id) || { ...s.domain, services: [] };
    f.services.push(s);
    found.set(s.domain.id, f);
  }
  return [...found.values()];
}

function choice(title, detail, onPick, extra = "") {
  const button = el("button", `choice ${extra}`.trim());
  button.type = "button";
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

function pickService(service) { page.service = service; go("how"); }

function renderFields() {
  const words = fold($("search").value).split(/\s+/).filter(Boolean);
  $("fields-title").hidden = words.length > 0;
  if (!words.length) {
    $("fields").replaceChildren(...fields().map((f) => choice(f.name, t("book_procedures", { n: f.services.length }),
      () => { page.field = f.id; go("procedures"); })));
    return;
  }
  const compact = words.join("");
  const found = SERVICES.filter((s) => {
    const hay = fold(`${s.name} ${s.domain.name} ${s.code}`);
    return words.every((w) => hay.includes(w)) || hay.replace(/\s+/g, "").includes(compact);
  });
  $("fields").replaceChildren(...(found.length
    ? found.map((s) => choice(s.name, s.domain.name, () => pickService(s)))
    : [el("p", "empty", t("book_no_results"))]));
}

function renderProcedures() {
  const f = fields().find((x) => x.id === page.field);
  if (!f) return;
  $("field-name").textContent = f.name;
  $("procedures").replaceChildren(...f.services.map((s) => choice(s.name, null, () => pickService(s))));
}

function renderHow() {
  $("how-procedure").textContent = page.service.name;
  const remoteOpen = OFFER.remote && page.service.open;
  $("way-remote").disabled = !remoteOpen;
  const wait = ESTIMATES[String(page.service.id)];
  const words = wait && wait.text ? ` · ${wait.text[page.lang]}` : "";
  $("remote-detail").textContent = remoteOpen ? t("book_remote_detail", { n: page.service.waiting }) + words
    : t("book_remote_closed");
  $("way-slot").hidden = !OFFER.slots || !OFFER.days.length;
  $("slot-detail").textContent = t("book_slot_detail", { n: OFFER.days_ahead });
}

async function renderSlot() {
  $("slot-procedure").textContent = page.service.name;
  page.day = page.day || OFFER.days[0];
  $("days").replaceChildren(...OFFER.days.map((day) => {
    const b = el("button", `day${day === page.day ? " chosen" : ""}`, dayName(day));
    b.type = "button";
    b.setAttribute("aria-pressed", String(day === page.day));
    b.addEventListener("click", () => { page.day = day; renderSlot(); });
    return b;
  }));
  const box = $("slots");
  box.dataset.loading = "1";
  const response = await fetch(`/api/v1/services/${page.service.id}/slots?date=${page.day}`).catch(() => null);
  const slots = response && response.ok ? await response.json() : null;
  delete box.dataset.loading;
  if (!slots) { box.replaceChildren(el("p", "empty", response ? errorText(await response.json()) : t("book_offline"))); return; }
  if (!slots.some((s) => s.free > 0)) { box.replaceChildren(el("p", "empty", t("book_no_slots"))); return; }
  box.replaceChildren(...slots.map((slot) => {
    const b = el("button", "slot");
    b.type = "button";
    b.disabled = slot.free <= 0;
    b.append(el("strong", "", `${slot.start}–${slot.end}`),
             el("span", "", slot.free > 0 ? t("book_free", { n: slot.free }) : t("book_full")));
    b.addEventListener("click", () => { page.way = "slot"; page.slot = slot; go("form"); });
    return b;
  }));
  box.dataset.ready = "1";
}

function renderForm() {
  $("form-procedure").textContent = page.service.name;
  $("form-when").textContent = page.way === "remote" ? t("book_summary_remote")
    : t("book_summary_slot", { day: dayName(page.day), start: page.slot.start, end: page.slot.end });
  $("travel-field").hidden = page.way !== "remote";
  for (const option of $("travel_minutes").options) option.textContent = t("book_travel_minutes", { n: option.value });
  $("submit").textContent = page.sending ? t("book_sending") : t(page.way === "remote" ? "book_confirm_remote" : "book_confirm_slot");
  $("submit").disabled = page.sending;
}

const errorText = (body) => apiError(body, page, LABELS, t);

async function submit(event) {
  event.preventDefault();
  if (page.sending) return;
  const body = { service: page.service.id, full_name: $("full_name").value, phone: $("phone").value };
  if ($("id_number")) body.id_number = $("id_number").value;
  if (page.way === "slot") Object.assign(body, { date: page.day, start: page.slot.start });
  else body.travel_minutes = Number($("travel_minutes").value);
  page.sending = true;
  $("error").hidden = true;
  renderForm();
  try {
    const response = await fetch(page.way === "slot" ? "/api/v1/bookings" : "/api/v1/remote-tickets", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => null);
    if (response.status === 201) {
      location.href = page.way === "slot" ? `/b/${answer.public_id}` : `/t/${answer.public_id}`;
      return;
    }
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
  if (page.step === "fields") renderFields();
  if (page.step === "procedures") renderProcedures();
  if (page.step === "how") renderHow();
  if (page.step === "slot") renderSlot();
  if (page.step === "form") renderForm();
}

$("search").addEventListener("input", renderFields);
languageButton($("lang"), page, render);
document.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", () => go(b.dataset.back)));
$("form-back").addEventListener("click", () => go(page.way === "slot" ? "slot" : "how"));
$("way-remote").addEventListener("click", () => { page.way = "remote"; go("form"); });
$("way-slot").addEventListener("click", () => { page.way = "slot"; go("slot"); });
$("form").addEventListener("submit", submit);
render();
document.fonts.ready.then(() => { document.body.dataset.ready = "1"; });
