"""Counters (quầy): number, name, the services they serve (primary or backup), their hardware.

A counter serves at least one service; a service is either primary or backup at a counter, not both.
"""
from __future__ import annotations

import secrets

from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.models import BACKUP, PRIMARY
from hangdoi.services.administration.change import Change

LED_PROTOCOLS = ("ascii", "modbus")
HARDWARE_FIELDS = {"serial_port": str, "keypad_address": int, "led_protocol": str, "led_address": int}


def counter_row(change: Change, counter_id: int) -> dict:
    tx = change.tx
    row = tx.row("SELECT id, number, name, active, hardware, rating_key FROM counter WHERE id = :id AND centre_id = :c",
                 id=counter_id, c=change.centre_id)
    if row is None:
        raise NotFound("counter_not_found")
    links = tx.rows("SELECT service_id, role FROM counter_service WHERE counter_id = :id ORDER BY service_id",
                    id=counter_id)
    row["active"], row["hardware"] = bool(row["active"]), tx.read_json(row["hardware"]) or {}
    row["primary"] = [r["service_id"] for r in links if r["role"] == PRIMARY]
    row["backup"] = [r["service_id"] for r in links if r["role"] == BACKUP]
    return row


def save_counter(change: Change, fields: dict, counter_id: int | None = None) -> dict:
    tx, centre = change.tx, change.centre_id
    before = counter_row(change, counter_id) if counter_id else None
    primary, backup = fields["primary"] or [], fields["backup"] or []
    if not primary and not backup:
        raise Invalid("counter_needs_service")
    if set(primary) & set(backup) or len(set(primary)) != len(primary) or len(set(backup)) != len(backup):
        raise Invalid("counter_service_twice")
    known = {r["id"] for r in tx.rows("SELECT id FROM service WHERE centre_id = :c", c=centre)}
    if not set(primary + backup) <= known:
        raise NotFound("service_not_found")
    if tx.row("SELECT id FROM counter WHERE centre_id = :c AND number = :n AND id <> :id",
              c=centre, n=fields["number"], id=counter_id or 0):
        raise Conflict("duplicate_counter_number", number=fields["number"])
    hardware = check_hardware(fields["hardware"])
    active = True if fields["active"] is None else fields["active"]
    if before is not None and not active and tx.row(
            "SELECT 1 AS busy FROM counter_session WHERE counter_id = :id AND ended_at IS NULL", id=counter_id):
        raise Conflict("counter_in_use")
    if before is None:
        counter_id = tx.value(
            "INSERT INTO counter (centre_id, number, name, active, paused, priority_streak, hardware, rating_key) "
            "VALUES (:c, :n, :name, :active, :no, 0, :hw, :key) RETURNING id",
            c=centre, n=fields["number"], name=fields["name"], active=active, no=False, hw=tx.json(hardware),
            key=secrets.token_urlsafe(16))
    else:
        tx.execute("UPDATE counter SET number = :n, name = :name, active = :active, hardware = :hw WHERE id = :id",
                   n=fields["number"], name=fields["name"], active=active, hw=tx.json(hardware), id=counter_id)
        tx.forget("counter", counter_id)    # later changes in the same group commit see the new name
        tx.execute("DELETE FROM counter_service WHERE counter_id = :id", id=counter_id)
    tx.execute_many("INSERT INTO counter_service (counter_id, service_id, role) VALUES (:counter, :service, :role)",
                    [{"counter": counter_id, "service": s, "role": PRIMARY} for s in primary]
                    + [{"counter": counter_id, "service": s, "role": BACKUP} for s in backup])
    after = counter_row(change, counter_id)
    # The tablet's key is a password: it stays out of the audit log.
    secret = lambda row: None if row is None else {k: v for k, v in row.items() if k != "rating_key"}  # noqa: E731
    change.audit("counter", counter_id, "update" if before else "create", secret(before), secret(after))
    change.work.counter_changed({"id": counter_id, "centre_id": centre})
    return after


def check_hardware(raw: dict | None) -> dict:
    if not raw:
        return {}
    for key, value in raw.items():
        wanted = HARDWARE_FIELDS.get(key)
        if wanted is None:
            raise Invalid("invalid_field", field=f"hardware.{key}"[:40], reason="unknown_setting")
        if value is not None and (type(value) is not wanted or (wanted is str and not 0 < len(value) <= 200)
                                  or (wanted is int and not 0 <= value <= 247)):
            raise Invalid("invalid_field", field=f"hardware.{key}", reason="wrong_value")
    if raw.get("led_protocol") not in (None, *LED_PROTOCOLS):
        raise Invalid("invalid_field", field="hardware.led_protocol", reason="one_of", choices=", ".join(LED_PROTOCOLS))
    return {k: v for k, v in raw.items() if v is not None}
