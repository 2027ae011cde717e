"""Kiosks (with their printers) and lobby displays (with the counters they show): register and edit.
Keys are made here, unguessable, and shown to the admin to put in the device's address."""
from __future__ import annotations

import secrets

from drivers.printer.transports import SettingsError, check_settings
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.services.administration.change import Change


def kiosk_row(change: Change, kiosk_id: int) -> dict:
    row = change.tx.row("SELECT id, name, key, printer, options, active FROM kiosk WHERE id = :id AND centre_id = :c",
                        id=kiosk_id, c=change.centre_id)
    if row is None:
        raise NotFound("kiosk_not_found")
    row["printer"], row["options"] = change.tx.read_json(row["printer"]), change.tx.read_json(row["options"]) or {}
    row["active"] = bool(row["active"])
    return row


def save_kiosk(change: Change, fields: dict, kiosk_id: int | None = None) -> dict:
    tx = change.tx
    before = kiosk_row(change, kiosk_id) if kiosk_id else None
    if tx.row("SELECT id FROM kiosk WHERE centre_id = :c AND name = :n AND id <> :id",
              c=change.centre_id, n=fields["name"], id=kiosk_id or 0):
        raise Conflict("duplicate_name", name=fields["name"])
    printer = checked_printer(fields["printer"])
    options = {"idle_seconds": fields["idle_seconds"]} if fields["idle_seconds"] else {}
    active = True if fields["active"] is None else fields["active"]
    values = {"name": fields["name"], "printer": None if printer is None else tx.json(printer),
              "options": tx.json(options), "active": active}
    kiosk_id = _store(change, "kiosk", kiosk_id, values)
    after = kiosk_row(change, kiosk_id)
    change.audit("kiosk", kiosk_id, "update" if before else "create", _no_key(before), _no_key(after))
    return after


def checked_printer(raw: dict | None) -> dict | None:
    if not raw:
        return None
    try:
        return check_settings(raw)
    except SettingsError as exc:
        raise Invalid("invalid_field", field=f"printer.{exc.field}"[:40], reason=exc.reason, **exc.params) from None


def display_row(change: Change, display_id: int) -> dict:
    row = change.tx.row("SELECT id, name, key, counters, options, active FROM display WHERE id = :id AND centre_id = :c",
                        id=display_id, c=change.centre_id)
    if row is None:
        raise NotFound("display_not_found")
    row["counters"], row["options"] = change.tx.read_json(row["counters"]) or [], change.tx.read_json(row["options"]) or {}
    row["active"] = bool(row["active"])
    return row


def save_display(change: Change, fields: dict, display_id: int | None = None) -> dict:
    tx = change.tx
    before = display_row(change, display_id) if display_id else None
    numbers = sorted(set(fields["counters"] or []))
    known = {r["number"] for r in tx.rows("SELECT number FROM counter WHERE centre_id = :c", c=change.centre_id)}
    if not set(numbers) <= known:
        raise NotFound("counter_not_found")
    options = {"ticker": fields["ticker"]} if fields["ticker"] else {}
    active = True if fields["active"] is None else fields["active"]
    values = {"name": fields["name"], "counters": tx.json(numbers), "options": tx.json(options), "active": active}
    display_id = _store(change, "display", display_id, values)
    after = display_row(change, display_id)
    change.audit("display", display_id, "update" if before else "create", _no_key(before), _no_key(after))
    return after


def _store(change: Change, table: str, device_id: int | None, values: dict) -> int:
    """Update the device, or register it with a new key; its id either way."""
    if device_id is not None:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        change.tx.execute(f"UPDATE {table} SET {assignments} WHERE id = :id", id=device_id, **values)
        return device_id
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    return change.tx.value(f"INSERT INTO {table} (centre_id, key, {columns}) VALUES (:centre, :key, {placeholders}) "
                           "RETURNING id", centre=change.centre_id, key=secrets.token_urlsafe(16), **values)


def _no_key(row: dict | None) -> dict | None:
    """A device key is a password: it stays out of the audit log."""
    return None if row is None else {k: v for k, v in row.items() if k != "key"}
