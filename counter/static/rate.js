// The tablet facing the citizen: after each finished ticket, three faces (five where the province
// chose five levels); reasons when not satisfied.
import { Realtime } from "/assets/static/realtime.js";
import { $ } from "/assets/static/dom.js";

const LABELS = JSON.parse(document.getElementById("labels").textContent).vi;
const COUNTER = Number(document.body.dataset.counter);
// The tablet's key is its address (/rate/<key>): it proves which counter's citizens it asks.
const KEY = location.pathname.split("/")[2];
const TIMEOUT_MS = 30000, THANKS_MS = 4000;
let ticket = null, timer = null, unhappyLevel = 1;
window.hangdoiRating = { sent: 0 };

function show(section) {
  for (const id of ["idle", "ask", "why", "thanks"]) $(id).hidden = id !== section;
  clearTimeout(timer);
  if (section !== "idle") timer = setTimeout(() => { ticket = null; show("idle"); }, section === "thanks" ? THANKS_MS : TIMEOUT_MS);
}

function ask(data) {
  ticket = data.ticket;
  $("question").textContent = LABELS.rate_question.replace("{number}", ticket.number);
  document.querySelectorAll(".reason").forEach((b) => b.setAttribute("aria-pressed", "false"));
  show("ask");
}

async function send(level, reasons = []) {
  if (!ticket) return;
  const rated = ticket;
  ticket = null;                     // one rating per ticket, whatever is tapped next
  show("thanks");
  await fetch("/api/v1/ratings", {
    method: "POST", headers: { "Content-Type": "application/json", "X-Hangdoi-Tablet-Key": KEY },
    body: JSON.stringify({ ticket: rated.public_id, level, reasons }),
  });
  window.hangdoiRating.sent += 1;
}

document.querySelectorAll(".level").forEach((b) => b.addEventListener("click", () => {
  const level = Number(b.dataset.level);
  if (b.dataset.unhappy === "1") { unhappyLevel = level; show("why"); } else send(level);
}));
document.querySelectorAll(".reason").forEach((b) => b.addEventListener("click", () => {
  b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
  show("why");
}));
$("send").addEventListener("click", () => send(unhappyLevel, [...document.querySelectorAll('.reason[aria-pressed="true"]')].map((b) => b.dataset.reason)));

const live = new Realtime(`rate:${COUNTER}`, { device: KEY });
live.socket.on("rating_requested", ask);
