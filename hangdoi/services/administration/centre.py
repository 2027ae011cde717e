"""The centre's own settings: name, address, time zone, opening hours with the lunch break, days
closed, the service-level target, the priority interleave, the lobby ticker, the default printer,
whether officers may note citizens' personal details and for how many days they are kept."""
from __future__ import annotations

import re
from dataclasses import MISSING, fields
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hangdoi.engine import booking_rules, citizens, ratings
from hangdoi.engine.state import ELDERLY_AGE, ELDERLY_PRIORITY, SLA_MINUTES
from hangdoi.engine.errors import Invalid
from hangdoi.services.administration.change import Change
from hangdoi.services.administration.devices import checked_printer

HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
SETTINGS = ("sla_minutes", "priority_streak_limit", "accept_outside_hours", "ticker", "printer", "personal_data",
            "personal_data_days", "booking", "sms", "elderly_age", "elderly_priority", "rating_scale")
SMS_CHANNELS = ("none", "gsm", "http")

# What a centre setting is while nobody has set it (the audit log shows a change from it as the
# value then in force; the province's template is compared with it).
SETTING_DEFAULTS = {"settings.sla_minutes": SLA_MINUTES, "settings.priority_streak_limit": 0,
                    "settings.accept_outside_hours": False, "settings.personal_data": False,
                    "settings.personal_data_days": citizens.DEFAULT_KEEP_DAYS, "settings.ticker": "",
                    "settings.elderly_age": ELDERLY_AGE, "settings.elderly_priority": ELDERLY_PRIORITY,
                    **{f"settings.booking.{f.name}": f.default for f in fields(booking_rules.BookingRules)
                       if f.default is not MISSING}}


def centre_row(change: Change) -> dict:
    tx = change.tx
    row = tx.row("SELECT id, name, address, timezone, opening_hours, closed_days, settings FROM centre WHERE id = :id",
                 id=change.centre_id)
    for key in ("opening_hours", "closed_days", "settings"):
        row[key] = tx.read_json(row[key])
    return row


def save_centre(change: Change, fields: dict) -> dict:
    before = centre_row(change)
    try:
        ZoneInfo(fields["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("bad_timezone", zone=str(fields["timezone"])[:60]) from None
    hours = check_hours(fields["opening_hours"])
    closed = check_closed_days(fields["closed_days"] or [])
    settings = {**before["settings"], **check_settings(fields["settings"] or {})}
    change.tx.execute("UPDATE centre SET name = :name, address = :address, timezone = :tz, opening_hours = :hours, "
                      "closed_days = :closed, settings = :settings WHERE id = :id",
                      name=fields["name"], address=fields["address"] or "", tz=fields["timezone"],
                      hours=change.tx.json(hours), closed=change.tx.json(closed),
                      settings=change.tx.json(settings), id=change.centre_id)
    after = centre_row(change)
    change.audit("centre", change.centre_id, "update", before, after)
    # Turning personal data off, or keeping it for fewer days, forgets what may no longer be kept now.
    citizens.purge_in(change.work, change.centre_id, change.officer["id"], after["settings"])
    return after


def check_hours(raw: dict) -> dict:
    sessions, weekdays = raw.get("sessions"), raw.get("weekdays")
    if set(raw) - {"sessions", "weekdays"} or not isinstance(sessions, list) or not 1 <= len(sessions) <= 4:
        raise Invalid("hours_sessions")
    previous_end = "00:00"
    for pair in sessions:
        if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(v, str) and HHMM.fullmatch(v) for v in pair)
                or not previous_end <= pair[0] < pair[1]):
            raise Invalid("hours_order")
        previous_end = pair[1]
    if not isinstance(weekdays, list) or not weekdays or not all(type(d) is int and 0 <= d <= 6 for d in weekdays):
        raise Invalid("hours_weekdays")
    return {"sessions": sessions, "weekdays": sorted(set(weekdays))}


def check_closed_days(raw: list) -> list[str]:
    days = set()
    for value in raw:
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            days.add(date.fromisoformat(value).isoformat())
        except ValueError:
            raise Invalid("closed_days_format", day=str(value)[:20]) from None
    return sorted(days)


def check_settings(raw: dict) -> dict:
    unknown = set(raw) - set(SETTINGS)
    if unknown:
        raise Invalid("invalid_field", field=f"settings.{sorted(unknown)[0]}"[:40], reason="unknown_setting")
    clean = dict(raw)
    if "sla_minutes" in raw and not (type(raw["sla_minutes"]) is int and 1 <= raw["sla_minutes"] <= 480):
        raise Invalid("invalid_field", field="settings.sla_minutes", reason="out_of_range", minimum=1, maximum=480)
    if "priority_streak_limit" in raw and not (type(raw["priority_streak_limit"]) is int
                                               and 0 <= raw["priority_streak_limit"] <= 10):
        raise Invalid("invalid_field", field="settings.priority_streak_limit", reason="out_of_range", minimum=0, maximum=10)
    if "accept_outside_hours" in raw and type(raw["accept_outside_hours"]) is not bool:
        raise Invalid("invalid_field", field="settings.accept_outside_hours", reason="true_or_false")
    if "ticker" in raw and raw["ticker"] is not None and not (isinstance(raw["ticker"], str) and len(raw["ticker"]) <= 300):
        raise Invalid("invalid_field", field="settings.ticker", reason="text_up_to", n=300)
    if "personal_data" in raw and type(raw["personal_data"]) is not bool:
        raise Invalid("invalid_field", field="settings.personal_data", reason="true or false")
    if "personal_data_days" in raw and not (type(raw["personal_data_days"]) is int
                                            and 1 <= raw["personal_data_days"] <= citizens.MAX_KEEP_DAYS):
        raise Invalid("invalid_field", field="settings.personal_data_days", reason="out_of_range", minimum=1, maximum=citizens.MAX_KEEP_DAYS)
    if "printer" in raw:
        clean["printer"] = checked_printer(raw["printer"])
    if "booking" in raw:
        clean["booking"] = booking_rules.checked(raw["booking"])
    if "sms" in raw:
        clean["sms"] = check_sms(raw["sms"])
    if "rating_scale" in raw and raw["rating_scale"] not in ratings.SCALES:
        raise Invalid("invalid_field", field="settings.rating_scale", reason="one_of", choices="3, 5")
    if "elderly_age" in raw and not (type(raw["elderly_age"]) is int and 50 <= raw["elderly_age"] <= 100):
        raise Invalid("invalid_field", field="settings.elderly_age", reason="out_of_range", minimum=50, maximum=100)
    if "elderly_priority" in raw and not (isinstance(raw["elderly_priority"], str) and 0 < len(raw["elderly_priority"]) <= 32):
        raise Invalid("invalid_field", field="settings.elderly_priority", reason="priority_code")
    return clean


# What a province may suggest to all its centres (hangdoi/services/administration/province_settings.py):
# rules of service, not a centre's own devices, texts, gateways or per-procedure capacities.
TEMPLATE_PARTS = ("opening_hours", "closed_days", "settings")
TEMPLATE_SETTINGS = ("sla_minutes", "priority_streak_limit", "accept_outside_hours", "personal_data",
                     "personal_data_days", "booking", "elderly_age", "elderly_priority")
MAX_TEMPLATE_DAYS = 400


def check_template(raw) -> dict:
    """A province's settings template, checked as a centre's own settings are; Invalid names the
    first wrong part."""
    if not isinstance(raw, dict) or not raw or set(raw) - set(TEMPLATE_PARTS):
        raise Invalid("invalid_field", field="template", reason="one_of", choices=", ".join(TEMPLATE_PARTS))
    clean = {}
    if "opening_hours" in raw:
        if not isinstance(raw["opening_hours"], dict):
            raise Invalid("hours_sessions")
        clean["opening_hours"] = check_hours(raw["opening_hours"])
    if "closed_days" in raw:
        if not isinstance(raw["closed_days"], list):
            raise Invalid("invalid_field", field="closed_days", reason="wrong_type", kind="list")
        if len(raw["closed_days"]) > MAX_TEMPLATE_DAYS:
            raise Invalid("invalid_field", field="closed_days", reason="too_many", n=MAX_TEMPLATE_DAYS)
        clean["closed_days"] = check_closed_days(raw["closed_days"])
    if "settings" in raw:
        settings = raw["settings"]
        if not isinstance(settings, dict):
            raise Invalid("invalid_field", field="settings", reason="an_object")
        foreign = set(settings) - set(TEMPLATE_SETTINGS)
        if foreign:
            known = set(SETTINGS) & foreign
            raise Invalid("invalid_field", field=f"settings.{sorted(foreign)[0]}"[:40],
                          reason="centre_own" if known == foreign else "unknown_setting")
        if isinstance(settings.get("booking"), dict) and "capacity" in settings["booking"]:
            raise Invalid("invalid_field", field="settings.booking.capacity", reason="centre_own")
        clean["settings"] = check_settings(settings)
    return clean


def check_sms(raw) -> dict:
    """How messages reach citizens' phones (drivers/sms/): a GSM modem's port, or an HTTP gateway's
    request template; "none": only the status page signals."""
    if not isinstance(raw, dict) or raw.get("channel", "none") not in SMS_CHANNELS:
        raise Invalid("invalid_field", field="settings.sms.channel", reason="one_of", choices=", ".join(SMS_CHANNELS))
    known = {"channel", "port", "baudrate", "ascii", "url", "method", "headers", "body", "success"}
    if set(raw) - known:
        raise Invalid("invalid_field", field=f"settings.sms.{sorted(set(raw) - known)[0]}"[:40], reason="unknown setting")
    if raw.get("channel") == "gsm" and not (isinstance(raw.get("port"), str) and 0 < len(raw["port"]) <= 200):
        raise Invalid("invalid_field", field="settings.sms.port", reason="serial_port")
    if raw.get("channel") == "http" and not (isinstance(raw.get("url"), str) and raw["url"].startswith(("http://", "https://"))
                                             and len(raw["url"]) <= 500):
        raise Invalid("invalid_field", field="settings.sms.url", reason="web_address")
    if "baudrate" in raw and raw["baudrate"] not in (9600, 19200, 38400, 57600, 115200):
        raise Invalid("invalid_field", field="settings.sms.baudrate", reason="out_of_range", minimum=9600, maximum=115200)
    if "ascii" in raw and type(raw["ascii"]) is not bool:
        raise Invalid("invalid_field", field="settings.sms.ascii", reason="true or false")
    if "method" in raw and raw["method"] not in ("GET", "POST"):
        raise Invalid("invalid_field", field="settings.sms.method", reason="one_of", choices="GET, POST")
    if "headers" in raw and not (isinstance(raw["headers"], dict) and len(raw["headers"]) <= 20 and all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 100 and len(v) <= 500 for k, v in raw["headers"].items())):
        raise Invalid("invalid_field", field="settings.sms.headers", reason="header_text")
    for key in ("body", "success"):
        if key in raw and raw[key] is not None and not (isinstance(raw[key], str) and len(raw[key]) <= 2000):
            raise Invalid("invalid_field", field=f"settings.sms.{key}", reason="text_up_to", n=2000)
    return dict(raw)
