// The admin's editors: one list and one form per kind of thing, all over /api/v1/admin/*.
// A form sends the whole object (PUT replaces); the server checks everything and answers a
// bilingual error, shown in the form, which stays open so nothing typed is lost.
import { $, clearToast, el, isoDate, jsonHeaders, toast, vnDate } from "/assets/static/dom.js";
import { withCentre } from "./centre.js";

const L = JSON.parse($("labels").textContent);
const t = (code, params = {}) => (L[code] || code).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
const state = { setup: null, tab: location.hash.slice(1) || "centre", editing: null };
window.hangdoiSettings = { loads: 0 };

async function api(method, path, body, contentType = "application/json") {
  const response = await fetch(withCentre(`/api/v1${path}`), {
    method, headers: { ...jsonHeaders(), "Content-Type": contentType },
    body: body === undefined ? undefined : (contentType === "application/json" ? JSON.stringify(body) : body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((answer.error?.message || response.statusText).split(" / ")[0]);
  return answer;
}


async function load() {
  state.setup = await api("GET", "/admin/setup");
  $("centre-name").textContent = state.setup.centre.name;
  render();
  window.hangdoiSettings.loads += 1;
}

// -- field kinds ---------------------------------------------------------------------------------
const text = (name, label, opts = {}) => ({ name, label, kind: "text", ...opts });
const number = (name, label, opts = {}) => ({ name, label, kind: "number", ...opts });
const check = (name, label, opts = {}) => ({ name, label, kind: "check", ...opts });
const choice = (name, label, options, opts = {}) => ({ name, label, kind: "select", options, ...opts });
const ticks = (name, label, options) => ({ name, label, kind: "ticks", options });

function serviceOptions() {
  const domains = new Map(state.setup.domains.map((d) => [d.id, d.name]));
  return state.setup.services.map((s) => [s.id, `${s.code} — ${s.name}`, domains.get(s.domain)]);
}

const PRINTER_FIELDS = {
  network: [text("host", "settings_host"), number("port", "settings_port", { placeholder: "9100" })],
  serial: [text("device", "settings_device", { placeholder: "/dev/ttyUSB0" }), number("baudrate", "settings_baudrate", { placeholder: "9600" })],
  usb: [number("vendor_id", "settings_vendor_id"), number("product_id", "settings_product_id")],
  device: [text("device", "settings_device", { placeholder: "/dev/usb/lp0" })],
  preview: [],
};

// -- the kinds of things, their lists and their forms -------------------------------------------
const KINDS = {
  domains: {
    add: "settings_add_domain",
    columns: [["settings_code", (d) => d.code], ["settings_name", (d) => d.name],
              ["settings_range", (d) => `${d.prefix || ""}${d.first} – ${d.prefix || ""}${d.last}`]],
    fields: () => [text("code", "settings_code", { required: true, max: 32 }), text("name", "settings_name", { required: true }),
                   text("prefix", "settings_prefix", { max: 8 }), number("first", "settings_first", { required: true }),
                   number("last", "settings_last", { required: true })],
  },
  services: {
    add: "settings_add_service",
    columns: [["settings_code", (s) => s.code], ["settings_name", (s) => s.name],
              ["settings_domain", (s) => state.setup.domains.find((d) => d.id === s.domain)?.name || ""],
              ["settings_daily_cap", (s) => s.daily_cap ?? t("settings_no_cap")],
              ["settings_active", (s) => (s.active ? "✓" : t("settings_inactive"))]],
    fields: () => [text("code", "settings_code", { required: true, max: 32 }), text("name", "settings_name", { required: true, max: 300 }),
                   choice("domain", "settings_domain", state.setup.domains.map((d) => [d.id, d.name]), { numeric: true }),
                   number("daily_cap", "settings_daily_cap"), check("instant", "settings_instant"), check("active", "settings_active")],
    blank: { active: true },
  },
  counters: {
    add: "settings_add_counter",
    columns: [["settings_number", (c) => c.number], ["settings_name", (c) => c.name],
              ["settings_primary", (c) => codes(c.primary)], ["settings_backup", (c) => codes(c.backup)],
              ["settings_active", (c) => (c.active ? "✓" : t("settings_inactive"))],
              ["settings_tablet_link", (c) => link(`/rate/${c.rating_key}`)]],
    fields: () => [number("number", "settings_number", { required: true }), text("name", "settings_name", { required: true }),
                   ticks("primary", "settings_primary", serviceOptions()), ticks("backup", "settings_backup", serviceOptions()),
                   check("active", "settings_active"), text("hw_serial_port", "settings_serial_port", { placeholder: "/dev/ttyUSB0" }),
                   number("hw_keypad_address", "settings_keypad_address"),
                   choice("hw_led_protocol", "settings_led_protocol", [["", t("settings_none")], ["ascii", "ASCII"], ["modbus", "Modbus RTU"]]),
                   number("hw_led_address", "settings_led_address")],
    blank: { active: true, primary: [], backup: [] },
    toForm: (c) => ({ ...c, ...Object.fromEntries(Object.entries(c.hardware || {}).map(([k, v]) => [`hw_${k}`, v])) }),
    fromForm: (v) => {
      const hardware = {};
      for (const key of ["serial_port", "keypad_address", "led_protocol", "led_address"]) {
        if (v[`hw_${key}`] !== null && v[`hw_${key}`] !== "") hardware[key] = v[`hw_${key}`];
        delete v[`hw_${key}`];
      }
      return { ...v, hardware };
    },
  },
  officers: {
    add: "settings_add_officer",
    columns: [["settings_username", (o) => o.username], ["settings_full_name", (o) => o.full_name],
              ["settings_role", (o) => t(`settings_role_${o.role}`)], ["settings_active", (o) => (o.active ? "✓" : t("settings_inactive"))]],
    fields: (item) => [text("username", "settings_username", { required: true, max: 64 }), text("full_name", "settings_full_name", { required: true }),
                       choice("role", "settings_role", ["officer", "manager", "admin"].map((r) => [r, t(`settings_role_${r}`)])),
                       text("password", item ? "settings_new_password" : "settings_password", { kind: "password", required: !item }),
                       check("active", "settings_active")],
    blank: { role: "officer", active: true },
    // What a manager does for an officer without editing them: let them sign in again at once
    // after wrong passwords slowed them, or end every sign-in (a lost phone, a shared password).
    actions: [["settings_unlock_sign_in", "unlock", "settings_unlocked"],
              ["settings_sign_out_everywhere", "sign-out", "settings_signed_out", "settings_confirm_sign_out"]],
  },
  kiosks: {
    add: "settings_add_kiosk",
    columns: [["settings_name", (k) => k.name], ["settings_printer", (k) => (k.printer ? t(`settings_transport_${k.printer.transport}`) : t("settings_transport_none"))],
              ["settings_address_link", (k) => link(`/kiosk/${k.key}`)]],
    fields: (item, values) => [text("name", "settings_name", { required: true, max: 64 }),
                               choice("transport", "settings_transport", ["", "preview", "network", "serial", "usb", "device"].map(
                                 (x) => [x, t(x ? `settings_transport_${x}` : "settings_transport_none")]), { rerender: true }),
                               ...(values.transport ? [choice("width", "settings_width", [[576, "80 mm (576)"], [512, "80 mm (512)"], [384, "58 mm (384)"]], { numeric: true })] : []),
                               ...(PRINTER_FIELDS[values.transport] || []),
                               number("idle_seconds", "settings_idle_seconds"), check("active", "settings_active")],
    blank: { active: true, transport: "" },
    toForm: (k) => ({ ...k, ...(k.printer || {}), transport: k.printer?.transport || "", idle_seconds: k.options.idle_seconds ?? null }),
    fromForm: (v) => {
      const printer = v.transport ? { transport: v.transport, width: v.width || 576 } : null;
      for (const f of PRINTER_FIELDS[v.transport] || []) if (v[f.name] !== null && v[f.name] !== "") printer[f.name] = v[f.name];
      return { name: v.name, printer, idle_seconds: v.idle_seconds, active: v.active };
    },
  },
  displays: {
    add: "settings_add_display",
    columns: [["settings_name", (d) => d.name],
              ["settings_counters_shown", (d) => (d.counters.length ? d.counters.join(", ") : t("settings_all_counters"))],
              ["settings_address_link", (d) => link(`/display/${d.key}`)]],
    fields: () => [text("name", "settings_name", { required: true }),
                   ticks("counters", "settings_counters_shown", state.setup.counters.map((c) => [c.number, `${c.number} · ${c.name}`])),
                   text("ticker", "settings_ticker", { max: 300 }), check("active", "settings_active")],
    blank: { active: true, counters: [] },
    toForm: (d) => ({ ...d, ticker: d.options.ticker || "" }),
  },
};

function codes(ids) {
  const byId = new Map(state.setup.services.map((s) => [s.id, s.code]));
  return ids.map((id) => byId.get(id)).join(", ");
}

function link(path) {
  const a = el("a", "", path.length > 32 ? `${path.slice(0, 30)}…` : path);
  a.href = path;
  a.target = "_blank";
  return a;
}

// -- rendering -----------------------------------------------------------------------------------
function render() {
  for (const button of $("tabs").children) button.setAttribute("aria-selected", String(button.dataset.tab === state.tab));
  const panel = $("panel");
  panel.replaceChildren();
  if (state.tab === "centre") panel.append(centreForm());
  else if (state.tab === "services") panel.append(listOf("domains"), catalogueTools(), listOf("services"));
  else panel.append(listOf(state.tab));
}

function listOf(kind) {
  const spec = KINDS[kind];
  const items = state.setup[kind];
  const block = el("div", "block");
  const head = el("div", "block-head");
  const add = el("button", "primary", t(spec.add));
  add.type = "button";
  add.dataset.add = kind;
  add.addEventListener("click", () => openEditor(kind, null));
  head.append(el("h2", "", `${t(`settings_list_${kind}`)} (${items.length})`), add);
  const table = el("table", "list");
  const header = el("tr");
  for (const [label] of spec.columns) header.append(el("th", "", t(label)));
  header.append(el("th"));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(header);
  for (const item of items) {
    const row = el("tr", item.active === false ? "inactive" : "");
    row.dataset.id = item.id;
    for (const [, value] of spec.columns) {
      const cell = el("td");
      const shown = value(item);
      if (shown instanceof Node) cell.append(shown); else cell.textContent = String(shown);
      row.append(cell);
    }
    const edit = el("button", "small", t("settings_edit"));
    edit.type = "button";
    edit.addEventListener("click", () => openEditor(kind, item));
    const action = el("td", "action");
    action.append(edit);
    for (const [label, path, done, confirmation] of spec.actions || []) {
      const button = el("button", "small ghost", t(label));
      button.type = "button";
      button.dataset.action = path;
      button.addEventListener("click", () => officerAction(item, path, done, confirmation));
      action.append(button);
    }
    row.append(action);
    table.tBodies[0].append(row);
  }
  block.append(head, table);
  return block;
}

async function officerAction(officer, path, done, confirmation) {
  if (confirmation && !window.confirm(t(confirmation, { name: officer.full_name }))) return;
  try {
    await api("POST", `/admin/officers/${officer.id}/${path}`);
    toast(t(done, { name: officer.full_name }), 4000);
  } catch (error) {
    toast(error.message, 4000);
  }
}

function catalogueTools() {
  const tools = el("div", "tools");
  for (const [fmt, label] of [["csv", "settings_export_csv"], ["xlsx", "settings_export_xlsx"]]) {
    const a = el("a", "button", t(label));
    a.href = withCentre(`/api/v1/admin/catalogue.${fmt}`);
    a.download = "";
    tools.append(a);
  }
  const picker = el("label", "button file", t("settings_import"));
  const input = el("input");
  input.type = "file";
  input.accept = ".csv,.xlsx";
  input.id = "catalogue-file";
  input.addEventListener("change", () => importCatalogue(input.files[0]));
  picker.append(input);
  tools.append(picker);
  return tools;
}

async function importCatalogue(file) {
  if (!file) return;
  const type = file.name.toLowerCase().endsWith(".xlsx") ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
  try {
    const result = await api("POST", "/admin/catalogue", await file.arrayBuffer(), type);
    toast(t("settings_imported", result), 4000);
    await load();
  } catch (error) {
    toast(error.message, 4000);
  }
}

// -- the centre's own settings ------------------------------------------------------------------
function centreForm() {
  const c = state.setup.centre;
  const s = c.settings || {};
  const sessions = c.opening_hours?.sessions || [["07:30", "11:30"], ["13:30", "17:00"]];
  const values = {
    name: c.name, address: c.address, timezone: c.timezone,
    morning_from: sessions[0]?.[0] || "", morning_to: sessions[0]?.[1] || "",
    afternoon_from: sessions[1]?.[0] || "", afternoon_to: sessions[1]?.[1] || "",
    weekdays: c.opening_hours?.weekdays || [0, 1, 2, 3, 4], closed_days: (c.closed_days || []).map(vnDate).join("\n"),
    sla_minutes: s.sla_minutes ?? 30, priority_streak_limit: s.priority_streak_limit ?? 0,
    accept_outside_hours: Boolean(s.accept_outside_hours), ticker: s.ticker || "",
    personal_data: Boolean(s.personal_data), personal_data_days: s.personal_data_days ?? 30,
    ...bookingValues(s),
  };
  const hhmm = { placeholder: "07:30", max: 5 };
  const fields = [
    text("name", "settings_centre_name", { required: true }), text("address", "settings_centre_address"),
    text("timezone", "settings_timezone", { required: true }), number("sla_minutes", "settings_sla"),
    text("morning_from", "settings_morning_from", hhmm), text("morning_to", "settings_morning_to", hhmm),
    text("afternoon_from", "settings_afternoon_from", hhmm), text("afternoon_to", "settings_afternoon_to", hhmm),
    ticks("weekdays", "settings_weekdays", [0, 1, 2, 3, 4, 5, 6].map((d) => [d, t(`settings_weekday_${d}`)])),
    text("closed_days", "settings_closed_days", { kind: "textarea" }),
    number("priority_streak_limit", "settings_streak"), text("ticker", "settings_ticker", { max: 300 }),
    check("accept_outside_hours", "settings_outside_hours"),
    check("personal_data", "settings_personal_data", { help: "settings_personal_data_help", wide: true }),
    number("personal_data_days", "settings_personal_data_days"),
    ...BOOKING_FIELDS,
  ];
  const form = el("form", "centre-form");
  form.noValidate = true;
  const grid = el("div", "fields");
  for (const field of fields) grid.append(fieldInput(field, values[field.name]));
  const error = el("p", "form-error");
  error.hidden = true;
  const save = el("button", "primary", t("settings_save"));
  save.type = "submit";
  form.append(grid, error, save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = readFields(form, fields);
    const sessionsOut = [[v.morning_from, v.morning_to], [v.afternoon_from, v.afternoon_to]].filter((p) => p[0] && p[1]);
    const body = {
      name: v.name, address: v.address || null, timezone: v.timezone,
      opening_hours: { sessions: sessionsOut, weekdays: v.weekdays },
      // Typed as 02/09/2026; one that is no date goes as typed, and the answer names it.
      closed_days: (v.closed_days || "").split(/\s+/).filter(Boolean).map((d) => isoDate(d) || d),
      settings: { sla_minutes: v.sla_minutes, priority_streak_limit: v.priority_streak_limit ?? 0,
                  accept_outside_hours: v.accept_outside_hours, ticker: v.ticker || null,
                  personal_data: v.personal_data, personal_data_days: v.personal_data_days,
                  ...bookingSettings(v, s) },
    };
    try {
      await api("PUT", "/admin/centre", body);
      error.hidden = true;
      toast(t("settings_saved"), 4000);
      await load();
    } catch (problem) {
      clearToast();
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
  return form;
}

// Visits that begin on a phone (hangdoi/engine/booking_rules.py) and the messages to citizens
// (drivers/sms/). An HTTP gateway's request template is set through the API (README).
const BOOKING_FIELDS = [
  check("booking_remote", "settings_booking_remote", { wide: true }),
  check("booking_slots", "settings_booking_slots", { wide: true }),
  number("booking_days_ahead", "settings_booking_days_ahead"), number("booking_slot_minutes", "settings_booking_slot_minutes"),
  number("booking_share", "settings_booking_share"), number("booking_per_person", "settings_booking_per_person"),
  number("booking_near_minutes", "settings_booking_near"), number("elderly_age", "settings_elderly_age"),
  check("booking_ask_id", "settings_booking_ask_id", { wide: true }),
  choice("sms_channel", "settings_sms_channel", [["none", t("settings_sms_none")], ["gsm", t("settings_sms_gsm")],
                                                 ["http", t("settings_sms_http")]]),
  text("sms_port", "settings_sms_port", { placeholder: "/dev/ttyUSB0", max: 200 }),
  check("sms_ascii", "settings_sms_ascii", { wide: true }),
];

function bookingValues(s) {
  const b = s.booking || {};
  const sms = s.sms || {};
  return {
    booking_remote: b.remote ?? true, booking_slots: b.slots ?? true, booking_days_ahead: b.days_ahead ?? 6,
    booking_slot_minutes: b.slot_minutes ?? 30, booking_share: Math.round((b.bookable_share ?? 0.5) * 100),
    booking_per_person: b.per_person_per_day ?? 2, booking_near_minutes: b.near_minutes ?? 15,
    booking_ask_id: Boolean(b.ask_id_number), elderly_age: s.elderly_age ?? 60,
    sms_channel: sms.channel || "none", sms_port: sms.port || "", sms_ascii: sms.ascii ?? true,
  };
}

function bookingSettings(v, s) {
  const booking = { ...(s.booking || {}), remote: v.booking_remote, slots: v.booking_slots, ask_id_number: v.booking_ask_id };
  const numbers = { days_ahead: v.booking_days_ahead, slot_minutes: v.booking_slot_minutes,
                    per_person_per_day: v.booking_per_person, near_minutes: v.booking_near_minutes };
  for (const [key, value] of Object.entries(numbers)) if (value !== null) booking[key] = value;
  if (v.booking_share !== null) booking.bookable_share = v.booking_share / 100;
  const sms = { ...(s.sms || {}), channel: v.sms_channel || "none", ascii: v.sms_ascii };
  if (v.sms_port) sms.port = v.sms_port; else delete sms.port;
  return { booking, sms, ...(v.elderly_age !== null ? { elderly_age: v.elderly_age } : {}) };
}

// -- the editor dialog ---------------------------------------------------------------------------
function openEditor(kind, item) {
  const spec = KINDS[kind];
  state.editing = { kind, item, values: item ? (spec.toForm ? spec.toForm(item) : { ...item }) : { ...(spec.blank || {}) } };
  $("editor-title").textContent = item ? `${t("settings_edit")}: ${item.name || item.full_name || item.code}` : t(spec.add);
  drawEditor();
  $("editor-error").hidden = true;
  $("editor").showModal();
}

function drawEditor() {
  const { kind, item, values } = state.editing;
  const fields = KINDS[kind].fields(item, values);
  $("editor-fields").replaceChildren(...fields.map((f) => fieldInput(f, values[f.name])));
  for (const field of fields.filter((f) => f.rerender)) {
    $("editor-fields").querySelector(`[name="${field.name}"]`).addEventListener("change", () => {
      Object.assign(state.editing.values, readFields($("editor-form"), fields));
      drawEditor();
    });
  }
  state.editing.fields = fields;
}

async function saveEditor(event) {
  event.preventDefault();
  const { kind, item, fields } = state.editing;
  const spec = KINDS[kind];
  let body = readFields($("editor-form"), fields);
  if (spec.fromForm) body = spec.fromForm(body);
  if (kind === "officers" && item && !body.password) body.password = null;
  $("editor-save").disabled = true;
  try {
    await api(item ? "PUT" : "POST", item ? `/admin/${kind}/${item.id}` : `/admin/${kind}`, body);
    $("editor").close();
    toast(t("settings_saved"), 4000);
    await load();
  } catch (problem) {
    clearToast();
    $("editor-error").textContent = problem.message;
    $("editor-error").hidden = false;
  } finally {
    $("editor-save").disabled = false;
  }
}

function fieldInput(field, value) {
  const wrap = el("label", `field kind-${field.kind}`);
  wrap.append(el("span", "", t(field.label)));
  let input;
  if (field.kind === "select") {
    input = el("select");
    for (const [key, label] of field.options) {
      const option = el("option", "", label);
      option.value = key;
      option.selected = String(key) === String(value ?? "");
      input.append(option);
    }
  } else if (field.kind === "ticks") {
    const box = el("div", "ticks");
    box.dataset.name = field.name;
    let group = null;
    for (const [key, label, heading] of field.options) {
      if (heading && heading !== group) { group = heading; box.append(el("strong", "group", heading)); }
      const tick = el("label", "tick");
      const mark = el("input");
      mark.type = "checkbox";
      mark.value = key;
      mark.checked = (value || []).includes(key);
      tick.append(mark, el("span", "", label));
      box.append(tick);
    }
    wrap.classList.add("wide");
    wrap.append(box);
    return wrap;
  } else if (field.kind === "textarea") {
    input = el("textarea");
    input.rows = 3;
    input.value = value ?? "";
  } else {
    input = el("input");
    input.type = field.kind === "check" ? "checkbox" : field.kind;
    if (field.kind === "check") input.checked = Boolean(value);
    else input.value = value ?? "";
    if (field.placeholder) input.placeholder = field.placeholder;
    if (field.max) input.maxLength = field.max;
  }
  input.name = field.name;
  if (field.required) input.required = true;
  wrap.append(input);
  if (field.help) wrap.append(el("small", "help", t(field.help)));
  if (field.wide) wrap.classList.add("wide");
  return wrap;
}

function readFields(form, fields) {
  const values = {};
  for (const field of fields) {
    if (field.kind === "ticks") {
      const box = form.querySelector(`.ticks[data-name="${field.name}"]`);
      values[field.name] = [...box.querySelectorAll("input:checked")].map((i) => Number(i.value));
      continue;
    }
    const input = form.querySelector(`[name="${field.name}"]`);
    if (field.kind === "check") values[field.name] = input.checked;
    else if (field.kind === "number" || field.numeric) values[field.name] = input.value.trim() === "" ? null : Number(input.value);
    else values[field.name] = input.value.trim() === "" ? null : input.value.trim();
  }
  return values;
}

// -- wiring --------------------------------------------------------------------------------------
for (const button of $("tabs").children) {
  button.addEventListener("click", () => { state.tab = button.dataset.tab; history.replaceState(null, "", `#${state.tab}`); render(); });
}
$("editor-form").addEventListener("submit", saveEditor);
$("editor-cancel").addEventListener("click", () => $("editor").close());
load().catch((problem) => toast(problem.message, 4000));
