// The province's procedures this centre serves: the ticks go to the API whole; its answer (or its
// refusal, which changed nothing) is said on the page.
import { $, jsonHeaders, toast } from "/assets/static/dom.js";
import { withCentre } from "./centre.js";

const L = JSON.parse($("labels").textContent);
const t = (code, params = {}) => (L[code] || code).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
window.hangdoiCatalogue = { saved: 0 };

async function save() {
  const codes = [...document.querySelectorAll('#choice input[name="code"]:checked')].map((box) => box.value);
  $("save").disabled = true;
  $("error").hidden = true;
  try {
    const response = await fetch(withCentre("/api/v1/admin/province-catalogue"), {
      method: "PUT", headers: jsonHeaders(), body: JSON.stringify({ codes }) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("error").textContent = (answer.error?.message || response.statusText).split(" / ")[0];
      $("error").hidden = false;
      return;
    }
    toast(t("catalogue_saved", answer));
    const all = document.querySelectorAll('#choice input[name="code"]').length;
    $("count").textContent = t("catalogue_count", { served: codes.length, total: all });
    window.hangdoiCatalogue.saved += 1;
  } finally {
    $("save").disabled = false;
  }
}

if ($("save")) $("save").addEventListener("click", save);
