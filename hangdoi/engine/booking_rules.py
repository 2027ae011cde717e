"""What a centre lets citizens do from their phones, and the checks on what they type. Pure rules:
no database, no clock of their own.

A centre's `settings["booking"]` (all optional):
    remote            take a number for today from a phone (default true)
    slots             book a slot on a day (default true)
    days_ahead        how many days after today can be booked (default 6)
    slot_minutes      length of a slot (default 30)
    capacity          {service code: citizens per slot}; a service not named gets its counters' worth
    service_minutes   minutes one citizen takes at a counter, for that derived capacity (default 15)
    bookable_share    the share of a slot's capacity that can be booked; the rest is kept for walk-ins
                      (default 0.5)
    early_minutes, late_minutes   the check-in window around a slot's start (default 15 and 10)
    per_person_per_day            bookings and remote numbers per phone and per ID number (default 2)
    remote_grace_minutes          how long a remote number is kept after its turn came (default 30)
    near_minutes                  "your turn is near" when the call is forecast within this (default 15)
    ask_id_number                 the booking form asks for the ID number (default false)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from hangdoi.engine.errors import Invalid
from hangdoi.engine.hours import DEFAULT_HOURS, parse_hhmm

# Vietnamese mobile numbers after the 2018 renumbering: 0 then 3, 5, 7, 8 or 9, then 8 digits;
# written also as +84 / 84 without the 0.
MOBILE = re.compile(r"0[35789]\d{8}")
ID_NUMBER = re.compile(r"\d{12}")          # the chip ID card (CCCD)
NAME = re.compile(r"[^\W\d_]+(?:[ '.-][^\W\d_]+)*")
# Booking codes: 8 letters and digits a person cannot misread (no 0/O, 1/I/L): 32^8, about 10^12.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE = re.compile(rf"[{CODE_ALPHABET}]{{8}}")


@dataclass(frozen=True)
class BookingRules:
    remote: bool = True
    slots: bool = True
    days_ahead: int = 6
    slot_minutes: int = 30
    capacity: dict = field(default_factory=dict)
    service_minutes: int = 15
    bookable_share: float = 0.5
    early_minutes: int = 15
    late_minutes: int = 10
    per_person_per_day: int = 2
    remote_grace_minutes: int = 30
    near_minutes: int = 15
    ask_id_number: bool = False


# Each setting's allowed range, for the administrator's form and the API alike.
RANGES = {"days_ahead": (0, 30), "slot_minutes": (10, 120), "service_minutes": (1, 240),
          "early_minutes": (0, 120), "late_minutes": (0, 60), "per_person_per_day": (1, 10),
          "remote_grace_minutes": (5, 240), "near_minutes": (5, 60)}


def rules_of(settings: dict) -> BookingRules:
    """The centre's rules; values that do not pass `checked` (an old file, say) fall back to defaults."""
    raw = settings.get("booking") or {}
    try:
        return BookingRules(**checked(raw))
    except Invalid:
        return BookingRules()


def checked(raw: dict) -> dict:
    """The `booking` settings as stored, or Invalid naming the first wrong one."""
    if not isinstance(raw, dict):
        raise Invalid("invalid_field", field="settings.booking", reason="an_object")
    names = {f.name for f in fields(BookingRules)}
    clean = {}
    for key, value in raw.items():
        if key not in names:
            raise Invalid("invalid_field", field=f"settings.booking.{key}"[:60], reason="unknown_setting")
        if key in ("remote", "slots", "ask_id_number"):
            ok, allowed = type(value) is bool, "true / false (có / không)"
        elif key == "bookable_share":
            ok, allowed = type(value) in (int, float) and 0 <= value <= 1, "0 … 1 (0 % … 100 %)"
        elif key == "capacity":
            ok, allowed = isinstance(value, dict) and len(value) <= 2000 and all(
                isinstance(k, str) and type(v) is int and 0 <= v <= 1000 for k, v in value.items()), "{mã: 0 … 1000}"
        else:
            low, high = RANGES[key]
            ok, allowed = type(value) is int and low <= value <= high, f"{low} … {high}"
        if not ok:
            raise Invalid("booking_setting", field=f"booking.{key}", allowed=allowed)
        clean[key] = value
    return clean


# -- what citizens type -------------------------------------------------------------------------
def mobile(raw: str) -> str:
    """A Vietnamese mobile number as 0xxxxxxxxx, from the ways people write it."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not MOBILE.fullmatch(digits):
        raise Invalid("booking_phone_invalid")
    return digits


def person_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", raw or "").strip()
    if not 2 <= len(name) <= 100 or not NAME.fullmatch(name):
        raise Invalid("booking_name_invalid")
    return name


def id_number(raw: str | None, required: bool) -> str | None:
    value = re.sub(r"\s", "", raw or "")
    if not value:
        if required:
            raise Invalid("booking_id_required")
        return None
    if not ID_NUMBER.fullmatch(value):
        raise Invalid("booking_id_invalid")
    return value


def code_of(raw: str) -> str | None:
    """A booking code as typed or scanned (any case, spaces or a dash inside), or None."""
    value = re.sub(r"[\s-]", "", raw or "").upper()
    return value if CODE.fullmatch(value) else None


# -- slots --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    start: time
    end: time

    @property
    def label(self) -> str:
        return self.start.strftime("%H:%M")


def open_on(centre: dict, day: date) -> bool:
    hours = centre["opening_hours"] or DEFAULT_HOURS
    return (day.isoformat() not in (centre["closed_days"] or [])
            and day.weekday() in hours.get("weekdays", DEFAULT_HOURS["weekdays"]))


def day_slots(centre: dict, day: date, rules: BookingRules) -> list[Slot]:
    """The day's slots: each session cut into whole slots from its start; none on a closed day."""
    if not open_on(centre, day):
        return []
    hours = centre["opening_hours"] or DEFAULT_HOURS
    step = timedelta(minutes=rules.slot_minutes)
    slots = []
    for first, last in hours.get("sessions") or DEFAULT_HOURS["sessions"]:
        at, end = datetime.combine(day, parse_hhmm(first)), datetime.combine(day, parse_hhmm(last))
        while at + step <= end:
            slots.append(Slot(at.time(), (at + step).time()))
            at += step
    return slots


def bookable(rules: BookingRules, service_code: str, counters: int) -> int:
    """How many citizens one slot of this service takes by booking: the slot's capacity (the
    centre's figure, or its counters' worth at `service_minutes` each) times the bookable share."""
    if service_code in rules.capacity:
        capacity = rules.capacity[service_code]
    else:
        capacity = counters * rules.slot_minutes / rules.service_minutes
    return int(capacity * rules.bookable_share + 1e-9)


def window(rules: BookingRules, slot_start: datetime) -> tuple[datetime, datetime]:
    """When a booking of the slot starting at `slot_start` may check in as an appointment."""
    return (slot_start - timedelta(minutes=rules.early_minutes),
            slot_start + timedelta(minutes=rules.late_minutes))
