"""Citizens' personal details, only where a centre turns them on, and their purge.

An officer may note who a ticket was for (full name, phone, ID number) while it is at their counter.
The details live in `citizen_detail` alone: the timeline only says that something was noted, so the
purge after the centre's `personal_data_days` leaves nothing of the person behind.
"""
from __future__ import annotations

import re
from datetime import timedelta

from hangdoi.engine import audit
from hangdoi.engine.errors import Conflict, Invalid
from hangdoi.engine.sql import Tx
from hangdoi.engine.tickets import acting_counter, current_for, result
from hangdoi.engine.work import Work, transact

DEFAULT_KEEP_DAYS = 30
MAX_KEEP_DAYS = 365
# Mobile and landline numbers as Vietnamese people write them: 0xxxxxxxxx, or +84 / 84 then 9 digits.
PHONE = re.compile(r"(?:\+?84|0)\d{9}")
# The chip ID card (CCCD) has 12 digits; the old identity card (CMND) 9.
ID_NUMBER = re.compile(r"\d{12}|\d{9}")
NAME_SEPARATORS = re.compile(r"\s+")
FIELDS = ("full_name", "phone", "id_number")


def enabled(settings: dict) -> bool:
    return settings.get("personal_data") is True


def keep_days(settings: dict) -> int:
    return settings.get("personal_data_days") or DEFAULT_KEEP_DAYS


def cleaned(full_name: str, phone: str | None, id_number: str | None) -> dict:
    """The details as stored: single spaces in the name, digits only (and a leading +) in numbers."""
    name = NAME_SEPARATORS.sub(" ", full_name).strip()
    if not 2 <= len(name) <= 100 or any(ch.isdigit() for ch in name):
        raise Invalid("citizen_name_invalid")
    phone = re.sub(r"[\s.\-()]", "", phone) if phone else None
    if phone and not PHONE.fullmatch(phone):
        raise Invalid("citizen_phone_invalid")
    id_number = re.sub(r"\s", "", id_number) if id_number else None
    if id_number and not ID_NUMBER.fullmatch(id_number):
        raise Invalid("citizen_id_invalid")
    return {"full_name": name, "phone": phone or None, "id_number": id_number or None}


def record(db, counter_id: int, officer_id: int, full_name: str, phone: str | None = None,
           id_number: str | None = None) -> dict:
    """Note who the ticket at this counter is for (again: the new details replace the old)."""
    details = cleaned(full_name, phone, id_number)

    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        if not enabled(tx.centre(counter["centre_id"])["settings"]):
            raise Conflict("personal_data_off")
        ticket = current_for(tx, counter, "citizen")
        tx.execute("INSERT INTO citizen_detail (ticket_id, centre_id, full_name, phone, id_number, recorded_at, "
                   "recorded_by) VALUES (:ticket, :centre, :full_name, :phone, :id_number, :at, :officer) "
                   "ON CONFLICT (ticket_id) DO UPDATE SET full_name = excluded.full_name, phone = excluded.phone, "
                   "id_number = excluded.id_number, recorded_at = excluded.recorded_at, "
                   "recorded_by = excluded.recorded_by",
                   ticket=ticket["id"], centre=counter["centre_id"], at=tx.instant(work.now), officer=officer_id,
                   **details)
        work.ticket_event(ticket, "citizen_noted", officer_id=officer_id, counter_id=counter_id,
                          fields=[key for key in FIELDS if details[key]])
        return {**result(tx, ticket, counter), "citizen": details}

    return transact(db, body)


def of_ticket(tx: Tx, ticket_id: int) -> dict | None:
    return tx.row("SELECT full_name, phone, id_number FROM citizen_detail WHERE ticket_id = :ticket",
                  ticket=ticket_id)


def purge(db, centre_id: int, officer_id: int | None = None) -> int:
    """Delete the details the centre may no longer keep: older than its period, or all of them when
    it has turned personal data off. Returns how many tickets' details were deleted."""
    def body(work: Work) -> int:
        return purge_in(work, centre_id, officer_id)

    return transact(db, body)


def purge_in(work: Work, centre_id: int, officer_id: int | None = None, settings: dict | None = None) -> int:
    """`purge` inside a change already under way (closing the day; saving the settings, which
    passes the `settings` just saved)."""
    tx = work.tx
    settings = tx.centre(centre_id)["settings"] if settings is None else settings
    if enabled(settings):
        cutoff = work.now - timedelta(days=keep_days(settings))
        where, params = "centre_id = :centre AND recorded_at < :cutoff", {"cutoff": tx.instant(cutoff)}
    else:
        where, params = "centre_id = :centre", {}
    removed = len(tx.rows(f"DELETE FROM citizen_detail WHERE {where} RETURNING ticket_id", centre=centre_id, **params))
    if removed:
        audit.record(work, centre_id, officer_id, "centre", centre_id, "purge_personal_data", None,
                     {"tickets": removed, "kept_days": keep_days(settings) if enabled(settings) else 0})
    return removed
