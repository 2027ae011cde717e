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
    case "remote": return t("status_remote");
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
  const wait = ["waiting", "remote"].includes(ticket.status) && ticket.estimated_wait && ticket.estimated_wait.text.vi;
  document.getElementById("wait").hidden = !wait;
  document.getElementById("wait-vi").textContent = wait ? ticket.estimated_wait.text.vi : "";
  document.getElementById("wait-en").textContent = wait ? ticket.estimated_wait.text.en : "";
  if (ticket.status === "called" && was !== "called") signal(t("status_called", { counter: ticket.counter?.number ?? "" }));
  renderRemote();
}

// -- a number taken from a phone: when to set off, and a signal when the turn is near ----------
const REMOTE = document.getElementById("remote");
// When to come is the centre's decision (hangdoi/services/notify.py: the forecast's late end within
// the holder's lead, and a session they can still reach), sent by message and shown here alike.
let nearSignalled = false;
const clockAt = (minutes) => new Date(Date.now() + minutes * 60000).toTimeString().slice(0, 5);

function renderRemote() {
  if (!REMOTE) return;
  REMOTE.hidden = ticket.status !== "remote";
  if (REMOTE.hidden) return;
  const wait = ticket.estimated_wait;
  const near = Boolean(ticket.told_to_come);
  for (const lang of ["vi", "en"]) {
    const t = say(lang);
    const ahead = ticket.position === 0 ? "" : ticket.position === 1 ? t("status_ahead_one") : t("status_ahead", { n: ticket.position });
    const when = near ? t("status_set_off_now")
      : wait && wait.low !== null ? t("status_set_off", { from: clockAt(wait.low), to: clockAt(wait.high ?? wait.low) }) : "";
    const text = [ahead && `${ahead}.`, when].filter(Boolean).join(" ");
    document.getElementById(lang === "vi" ? "set-off" : "set-off-en").textContent = text;
  }
  if (near && !nearSignalled) { nearSignalled = true; signal(say("vi")("status_near_title")); }
}

// Sound, vibration and, where the citizen allowed it, the browser's own notification.
function signal(words) {
  document.body.classList.add("near");
  if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 300]);
  try {
    const audio = new AudioContext();
    for (const [i, freq] of [880, 660, 880].entries()) {
      const tone = audio.createOscillator();
      tone.frequency.value = freq;
      tone.connect(audio.destination);
      tone.start(audio.currentTime + i * 0.35);
      tone.stop(audio.currentTime + i * 0.35 + 0.25);
    }
  } catch (err) { /* no sound without a tap first on some phones: the vibration and the page remain */ }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(`${ticket.number} · ${words}`, { tag: ticket.public_id });
  }
  window.hangdoiStatus = { ...(window.hangdoiStatus || {}), signalled: (window.hangdoiStatus?.signalled || 0) + 1, words };
}

if (REMOTE) {
  document.getElementById("notify").addEventListener("click", async () => {
    if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
    document.getElementById("notify").hidden = true;
    document.getElementById("notify-on").hidden = false;
  });
  document.getElementById("give-up").addEventListener("click", async () => {
    if (!confirm(say("vi")("bk_cancel_confirm"))) return;
    const response = await fetch(`/api/v1/bookings/${encodeURIComponent(ticket.public_id)}/cancel`, { method: "POST" });
    if (response.ok) refresh();
  });
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
