"""A centre's timeline as the rows it sends its province, and the digest of a day of them.

The unit is the engine's change: each committed change bumps the centre's `seq` and its ticket and
counter events carry it (hangdoi/engine/work.py). Changes commit in seq order (SQLite has one writer;
on PostgreSQL the centre row's lock is held to the commit), so once the centre's seq reads B, every
event with a seq up to B is there to read: "the changes after A through B" is a complete, ordered
piece of the log, and the province keeps the B it stored to say where the next piece starts.

Each row goes as canonical JSON (sorted keys, no spaces, UTC instants to the microsecond): both
sides compute a day's digest over the same bytes, so a digest that differs means a row differs.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hangdoi.clock import local_day
from hangdoi.engine.sql import Tx

STREAMS = ("ticket", "ticket_event", "counter_event", "audit")
# What a push aims at; a single change with more events (closing the day) still goes whole.
ROWS_PER_BATCH = 2000

TICKET_COLUMNS = ("t.id, t.public_id, t.service_id, t.local_day, t.number, t.display_number, t.priority_id, "
                  "t.issued_at, t.kiosk, t.origin, t.due_at")


@dataclass(frozen=True)
class Batch:
    centre: int
    after: int
    through: int
    rows: list[dict]

    def payload(self) -> dict:
        return {"centre": self.centre, "after": self.after, "through": self.through, "rows": self.rows}


def canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def day_digest(bodies: list[str]) -> str:
    """The digest of a day: its rows' canonical JSON, in (stream, id) order."""
    h = hashlib.sha256()
    for body in bodies:
        h.update(body.encode())
        h.update(b"\n")
    return h.hexdigest()


def body_hash(body: str) -> str:
    """One row's fingerprint in a day's index (reconciliation compares them)."""
    return hashlib.sha256(body.encode()).hexdigest()


def row_order(row: dict) -> tuple[int, int]:
    return STREAMS.index(row["stream"]), row["id"]


def batch_after(tx: Tx, centre_id: int, after: int, rows_per_batch: int = ROWS_PER_BATCH) -> Batch:
    """The changes after `after`, as many whole ones as fit in about `rows_per_batch` events."""
    latest = tx.value("SELECT seq FROM centre WHERE id = :c", c=centre_id)
    seqs = [r["seq"] for r in tx.rows(
        "SELECT seq FROM (SELECT seq FROM ticket_event WHERE centre_id = :c AND seq > :after AND seq <= :latest "
        "UNION ALL SELECT seq FROM counter_event WHERE centre_id = :c AND seq > :after AND seq <= :latest "
        "UNION ALL SELECT seq FROM audit_log WHERE centre_id = :c AND seq > :after AND seq <= :latest) s "
        "ORDER BY seq LIMIT :n", c=centre_id, after=after, latest=latest, n=rows_per_batch + 1)]
    through = latest
    if len(seqs) > rows_per_batch:
        # Stop before the change the limit falls in, unless it is the first: a change goes whole.
        last = seqs[-1]
        through = last - 1 if seqs[0] < last else last
    return Batch(centre_id, after, through, _rows(tx, centre_id, after, through))


def _rows(tx: Tx, centre_id: int, after: int, through: int) -> list[dict]:
    tz = tx.centre(centre_id)["timezone"]
    rows = []
    events = tx.rows(
        "SELECT e.id, e.ticket_id, e.seq, e.kind, e.at, e.status, e.service_id, e.counter_id, e.officer_id, e.data, "
        "t.local_day FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id "
        "WHERE e.centre_id = :c AND e.seq > :after AND e.seq <= :through ORDER BY e.seq, e.id",
        c=centre_id, after=after, through=through)
    first_seq: dict[int, int] = {}
    for e in events:
        first_seq.setdefault(e["ticket_id"], e["seq"])
        rows.append(ticket_event_row(tx, centre_id, e))
    # A ticket's own row goes with the change that issued it (its first event).
    if first_seq:
        born_earlier = {r["ticket_id"] for r in tx.rows(
            "SELECT DISTINCT ticket_id FROM ticket_event WHERE centre_id = :c AND seq <= :after AND ticket_id IN "
            "(SELECT ticket_id FROM ticket_event WHERE centre_id = :c AND seq > :after AND seq <= :through)",
            c=centre_id, after=after, through=through)}
        for t in tx.rows(f"SELECT {TICKET_COLUMNS} FROM ticket t WHERE t.centre_id = :c AND t.id IN "
                         "(SELECT ticket_id FROM ticket_event WHERE centre_id = :c AND seq > :after AND seq <= :through)",
                         c=centre_id, after=after, through=through):
            if t["id"] not in born_earlier:
                rows.append(ticket_row(tx, centre_id, t, first_seq[t["id"]]))
    for e in tx.rows("SELECT id, counter_id, seq, kind, at, officer_id, data FROM counter_event "
                     "WHERE centre_id = :c AND seq > :after AND seq <= :through ORDER BY seq, id",
                     c=centre_id, after=after, through=through):
        rows.append(counter_event_row(tx, centre_id, e, tz))
    for e in tx.rows(f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE centre_id = :c AND seq > :after AND seq <= :through "
                     "ORDER BY seq, id", c=centre_id, after=after, through=through):
        rows.append(audit_row(tx, centre_id, e, tz))
    rows.sort(key=lambda r: (r["seq"], row_order(r)))
    return rows


def day_rows(tx: Tx, centre_id: int, day: date) -> list[dict]:
    """Every row of a local day, as sent: a ticket's rows belong to the day it was issued, a
    counter's events and audit entries to the local day they happened on."""
    tz = tx.centre(centre_id)["timezone"]
    rows = []
    events = tx.rows(
        "SELECT e.id, e.ticket_id, e.seq, e.kind, e.at, e.status, e.service_id, e.counter_id, e.officer_id, e.data, "
        "t.local_day FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id "
        "WHERE t.centre_id = :c AND t.local_day = :day", c=centre_id, day=tx.day(day))
    first_seq: dict[int, int] = {}
    for e in events:
        first_seq[e["ticket_id"]] = min(e["seq"], first_seq.get(e["ticket_id"], e["seq"]))
        rows.append(ticket_event_row(tx, centre_id, e))
    for t in tx.rows(f"SELECT {TICKET_COLUMNS} FROM ticket t WHERE t.centre_id = :c AND t.local_day = :day",
                     c=centre_id, day=tx.day(day)):
        if t["id"] in first_seq:
            rows.append(ticket_row(tx, centre_id, t, first_seq[t["id"]]))
    midnight = datetime.combine(day, time(), ZoneInfo(tz))
    for e in tx.rows("SELECT id, counter_id, seq, kind, at, officer_id, data FROM counter_event "
                     "WHERE centre_id = :c AND at >= :start AND at < :end", c=centre_id,
                     start=tx.instant(midnight), end=tx.instant(midnight + timedelta(days=1))):
        rows.append(counter_event_row(tx, centre_id, e, tz))
    for e in tx.rows(f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE centre_id = :c AND seq IS NOT NULL "
                     "AND at >= :start AND at < :end", c=centre_id,
                     start=tx.instant(midnight), end=tx.instant(midnight + timedelta(days=1))):
        rows.append(audit_row(tx, centre_id, e, tz))
    rows.sort(key=row_order)
    return rows


def ticket_event_row(tx: Tx, centre_id: int, e: dict) -> dict:
    return {"stream": "ticket_event", "id": e["id"], "seq": e["seq"], "centre": centre_id,
            "day": tx.read_day(e["local_day"]).isoformat(), "ticket": e["ticket_id"], "kind": e["kind"],
            "at": _instant(tx, e["at"]), "status": e["status"], "service": e["service_id"],
            "counter": e["counter_id"], "officer": e["officer_id"], "data": tx.read_json(e["data"]) or {}}


def ticket_row(tx: Tx, centre_id: int, t: dict, seq: int) -> dict:
    return {"stream": "ticket", "id": t["id"], "seq": seq, "centre": centre_id,
            "day": tx.read_day(t["local_day"]).isoformat(), "public_id": t["public_id"], "service": t["service_id"],
            "number": t["number"], "display_number": t["display_number"], "priority": t["priority_id"],
            "issued_at": _instant(tx, t["issued_at"]), "kiosk": t["kiosk"], "origin": t["origin"],
            # An appointment's slot start: the province's punctuality figures need it.
            "due_at": None if t["due_at"] is None else _instant(tx, t["due_at"])}


def counter_event_row(tx: Tx, centre_id: int, e: dict, tz: str) -> dict:
    at = tx.read_instant(e["at"])
    return {"stream": "counter_event", "id": e["id"], "seq": e["seq"], "centre": centre_id,
            "day": local_day(at, tz).isoformat(), "counter": e["counter_id"], "kind": e["kind"],
            "at": _iso(at), "officer": e["officer_id"], "data": tx.read_json(e["data"]) or {}}


AUDIT_COLUMNS = "id, seq, at, officer_id, entity, entity_id, action, before, after"


def audit_row(tx: Tx, centre_id: int, e: dict, tz: str) -> dict:
    """An administrative change as the province keeps it: who, when, what before and after, less
    what must not leave the centre (its SMS gateway's address and credentials)."""
    at = tx.read_instant(e["at"])
    return {"stream": "audit", "id": e["id"], "seq": e["seq"], "centre": centre_id, "day": local_day(at, tz).isoformat(),
            "at": _iso(at), "officer": e["officer_id"], "entity": e["entity"], "entity_id": e["entity_id"],
            "action": e["action"], "before": _shareable(tx.read_json(e["before"])),
            "after": _shareable(tx.read_json(e["after"]))}


def _shareable(state):
    settings = state.get("settings") if isinstance(state, dict) else None
    if isinstance(settings, dict) and isinstance(settings.get("sms"), dict):
        sms = settings["sms"]
        return {**state, "settings": {**settings, "sms": {"channel": sms.get("channel"), "withheld": True}}}
    return state


def _instant(tx: Tx, value) -> str:
    return _iso(tx.read_instant(value))


def _iso(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
