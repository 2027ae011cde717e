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
