// The DOM helpers every page's script uses.
export const $ = (id) => document.getElementById(id);

// Headers of a JSON request a signed-in page sends: its CSRF token (hangdoi/web/security.py) rides in a
// header, which a page elsewhere cannot set on a request here.
export function jsonHeaders() {
  const token = document.querySelector('meta[name="csrf-token"]');
  return { "Content-Type": "application/json", ...(token ? { "X-CSRFToken": token.content } : {}) };
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let toastTimer = null;

// A short message in the page's #toast element, gone after `ms`.
export function toast(message, ms = 5000) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, ms);
}

// Take back a message that no longer holds (an earlier "Đã lưu" when this save failed).
export function clearToast() {
  clearTimeout(toastTimer);
  $("toast").hidden = true;
}

// Dates as Vietnamese readers write them, whatever the browser's language: 2026-12-06 ⇄ 06/12/2026.
export const vnDate = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso || "") ? iso.split("-").reverse().join("/") : iso || "");
export function isoDate(vn) {
  const found = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec((vn || "").trim());
  if (!found) return null;
  const iso = `${found[3]}-${found[2].padStart(2, "0")}-${found[1].padStart(2, "0")}`;
  const day = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === iso ? iso : null;
}
