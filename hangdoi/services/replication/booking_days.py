"""A centre's bookings as its province counts them: per local day, how many of each kind (slot,
remote), state and lateness. Bookings change state (booked → came, cancelled, expired), so they go
up as counts, not as a log: the pusher sends the days around today whenever they changed, and the
province keeps each day's latest (hangdoi/services/reports/province.py: province_bookings sums
them as a centre's report does).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from hangdoi.engine.errors import Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.reports.figures import booking_counts
from hangdoi.services.replication.timeline import canonical

DAYS_BACK, DAYS_AHEAD = 14, 31       # a booking's state settles within a day; booking reaches 30 days ahead
KINDS, STATES = ("slot", "remote"), ("booked", "checked_in", "cancelled", "expired")
MAX_DAYS = DAYS_BACK + DAYS_AHEAD + 1


def document(tx: Tx, centre_id: int, today: date) -> dict:
    days: dict[str, list] = {}
    for day, kind, status, late, n in booking_counts(tx, centre_id, today - timedelta(days=DAYS_BACK),
                                                      today + timedelta(days=DAYS_AHEAD)):
        days.setdefault(day.isoformat(), []).append([kind, status, late, n])
    return {"centre": centre_id, "days": {day: sorted(rows) for day, rows in sorted(days.items())}}


def fingerprint(doc: dict) -> str:
    return hashlib.sha256(canonical(doc).encode()).hexdigest()


def check(payload) -> dict:
    if not (isinstance(payload, dict) and set(payload) == {"centre", "days"} and type(payload["centre"]) is int
            and isinstance(payload["days"], dict) and len(payload["days"]) <= MAX_DAYS):
        raise Invalid("invalid_batch", reason=f"booking days: centre, days (at most {MAX_DAYS})")
    for day, rows in payload["days"].items():
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):
            raise Invalid("invalid_batch", reason="booking days: YYYY-MM-DD") from None
        if not (isinstance(rows, list) and len(rows) <= len(KINDS) * len(STATES) * 2 and all(
                isinstance(r, list) and len(r) == 4 and r[0] in KINDS and r[1] in STATES and type(r[2]) is bool
                and type(r[3]) is int and 0 < r[3] <= 1_000_000 for r in rows)):
            raise Invalid("invalid_batch", reason=f"booking days {day}: [[kind, status, late, n], …]")
    return payload


def store(tx: Tx, link_id: int, doc: dict) -> None:
    """Each day sent replaces what the province held for it."""
    for day, rows in doc["days"].items():
        tx.execute("DELETE FROM replica_booking_day WHERE link_id = :l AND local_day = :d",
                   l=link_id, d=tx.day(date.fromisoformat(day)))
        tx.execute("INSERT INTO replica_booking_day (link_id, local_day, counts) VALUES (:l, :d, :counts)",
                   l=link_id, d=tx.day(date.fromisoformat(day)), counts=json.dumps(rows))
