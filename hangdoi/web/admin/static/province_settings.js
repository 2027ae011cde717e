// The parts of the province's settings template this centre takes: the ticks go to the API whole;
// its answer (or its refusal, which changed nothing) is said on the page, which then shows the
// settings as they now are.
import { $, jsonHeaders, toast } from "/assets/static/dom.js";
import { withCentre } from "./centre.js";

const L = JSON.parse($("labels").textContent);
const t = (code, params = {}) => (L[code] || code).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
window.hangdoiTemplate = { taken: 0 };

async function take() {
  const paths = [...document.querySelectorAll('input[name="take"]:checked')].map((box) => box.value);
  $("error").hidden = true;
  if (!paths.length) {
    $("error").textContent = t("template_choose");
    $("error").hidden = false;
    return;
  }
  $("take").disabled = true;
  try {
    const response = await fetch(withCentre("/api/v1/admin/province-settings"), {
      method: "PUT", headers: jsonHeaders(), body: JSON.stringify({ take: paths }) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("error").textContent = (answer.error?.message || response.statusText).split(" / ")[0];
      $("error").hidden = false;
      return;
    }
    sessionStorage.setItem("hangdoiTemplateToast", t("template_taken", answer));
    window.location.reload();
  } finally {
    $("take").disabled = false;
  }
}

if ($("take")) $("take").addEventListener("click", take);
const said = sessionStorage.getItem("hangdoiTemplateToast");
if (said) {
  sessionStorage.removeItem("hangdoiTemplateToast");
  toast(said);
  window.hangdoiTemplate.taken += 1;
}
