// A booking's page: its state in both languages, and cancelling it (asked twice, once for sure).
import { $ } from "/assets/static/dom.js";

const LABELS = JSON.parse($("labels").textContent);
let booking = JSON.parse($("booking").textContent);
const say = (lang) => (code, params = {}) => LABELS[lang][code].replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");

function render() {
  $("card").dataset.status = booking.status;
  const number = booking.ticket ? booking.ticket.number : "";
  $("state").textContent = say("vi")(`bk_status_${booking.status}`, { number });
  $("state-en").textContent = say("en")(`bk_status_${booking.status}`, { number });
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
