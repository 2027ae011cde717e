// A booking's page: its state in both languages, and cancelling it (asked twice, once for sure).
import { $ } from "/assets/static/dom.js";

const LABELS = JSON.parse($("labels").textContent);
let booking = JSON.parse($("booking").textContent);
const say = (lang) => (code, params = {}) => LABELS[lang][code].replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");

function render() {
  $("card").dataset.status = booking.status;
  const number = booking.ticket ? booking.ticket.number : "";
  const ahead = booking.ticket && booking.ticket.ahead != null ? booking.ticket.ahead : "…";
  const reason = booking.refusal_text || { vi: "", en: "" };
  for (const lang of ["vi", "en"]) {
    $(lang === "vi" ? "state" : "state-en").textContent =
      say(lang)(`bk_status_${booking.status}`, { number, ahead, reason: reason[lang] });
  }
}

// A number for today asked at the province: the centre issues it within seconds, then the queue
// moves; the page follows (the province hears both from the centre's pushed timeline).
if (booking.kind === "remote" && ["asked", "issued"].includes(booking.status)) {
  setTimeout(() => location.reload(), booking.status === "asked" ? 4000 : 30000);
}

async function cancel() {
  $("confirm").close();
  const response = await fetch($("cancel").dataset.url, { method: "POST" })
    .catch(() => null);
  const body = response ? await response.json().catch(() => null) : null;
  if (response && response.ok) { location.reload(); return; }
  const message = body && body.error ? body.error.message : "…";
  $("error").textContent = message;
  $("error").hidden = false;
}

render();
if ($("cancel")) {
  $("cancel").addEventListener("click", () => $("confirm").showModal());
  $("cancel-no").addEventListener("click", () => $("confirm").close());
  $("cancel-yes").addEventListener("click", cancel);
}
document.fonts.ready.then(() => { document.body.dataset.ready = "1"; });
