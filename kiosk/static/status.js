// A ticket on the citizen's phone: its state now, and again whenever anything in the centre moves.
import { Realtime } from "/assets/static/realtime.js";

const LABELS = JSON.parse(document.getElementById("labels").textContent);
// Vietnamese first, English underneath for visitors: a phone's language setting says little here.
const say = (lang) => (code, params = {}) => LABELS[lang][code].replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
let ticket = JSON.parse(document.getElementById("ticket").textContent);
let pending = null;

function stateText(tk, t) {
  const counter = tk.counter ? tk.counter.number : "";
  switch (tk.status) {
    case "waiting":
      if (tk.target_counter && tk.target_counter_staffed === false) return t("status_counter_closed", { counter: tk.target_counter.number });
      if (tk.position === 0) return t("status_next");
      return tk.position === 1 ? t("status_ahead_one") : t("status_ahead", { n: tk.position });
    case "called": return t("status_called", { counter });
    case "serving": return t("status_serving", { counter });
    case "done": return t("status_done");
    case "no_show": return t("status_no_show", { counter });
    case "cancelled": return t("status_cancelled");
    default: return t("status_closed");
  }
}

function render() {
  const card = document.getElementById("card");
  const was = card.dataset.status;
  card.dataset.status = ticket.status;
  document.getElementById("number").textContent = ticket.number;
  document.getElementById("service").textContent = ticket.service.name;
  document.getElementById("state").textContent = stateText(ticket, say("vi"));
  document.getElementById("state-en").textContent = stateText(ticket, say("en"));
  document.getElementById("issued").textContent = (ticket.issued_at || "").slice(11, 16);
  const wait = ticket.status === "waiting" && ticket.estimated_wait && ticket.estimated_wait.text.vi;
  document.getElementById("wait").hidden = !wait;
  document.getElementById("wait-vi").textContent = wait ? ticket.estimated_wait.text.vi : "";
  document.getElementById("wait-en").textContent = wait ? ticket.estimated_wait.text.en : "";
  if (ticket.status === "called" && was !== "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
}

async function refresh() {
  pending = null;
  const response = await fetch(`/api/v1/tickets/${encodeURIComponent(ticket.public_id)}`);
  if (response.ok) { ticket = await response.json(); render(); }
}
// Many changes come in bursts; one fetch per burst is enough.
const soon = () => { if (!pending) pending = setTimeout(refresh, 250); };

render();
// Waits change as time passes, even when nothing else moves.
setInterval(soon, 60000);
new Realtime("kiosk", {
  centre: ticket.centre_id,
  onSnapshot: soon, onState: soon, onCall: soon,
  onConnection: (up) => document.body.classList.toggle("offline", !up),
});
