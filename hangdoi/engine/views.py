"""Ticket and counter rows: reading, updating, and presenting them as plain dictionaries."""
from __future__ import annotations

from datetime import datetime

from hangdoi.clock import local_time
from hangdoi.engine.sql import Tx
from hangdoi.models import REMOTE, SERVING, WAITING

TICKET_COLUMNS = ("id, centre_id, public_id, series_id, service_id, local_day, number, display_number, "
                  "priority_id, status, issued_at, queued_at, counter_id, officer_id, target_counter_id, "
                  "called_at, call_count, kiosk, origin, due_at")
INSTANT_FIELDS = ("issued_at", "queued_at", "called_at", "due_at")
AT_COUNTER_SQL = "status IN ('called', 'serving')"


# -- ticket rows -------------------------------------------------------------------------------
def select_tickets(tx: Tx, where: str, suffix: str = "", **params) -> list[dict]:
    return tickets_from(tx, f"SELECT {TICKET_COLUMNS} FROM ticket WHERE {where} {suffix}", **params)


def tickets_from(tx: Tx, statement: str, **params) -> list[dict]:
    """The ticket rows a SELECT of TICKET_COLUMNS returns, as dictionaries."""
    rows = tx.rows(statement, **params)
    for row in rows:
        row["local_day"] = tx.read_day(row["local_day"])
        for key in INSTANT_FIELDS:
            row[key] = tx.read_instant(row[key])
    return rows


def select_ticket(tx: Tx, where: str, suffix: str = "", **params) -> dict | None:
    found = select_tickets(tx, where, suffix, **params)
    return found[0] if found else None


def update_ticket(tx: Tx, ticket: dict, **changes) -> None:
    assignments = ", ".join(f"{key} = :{key}" for key in changes)
    values = {k: tx.instant(v) if k in INSTANT_FIELDS else v for k, v in changes.items()}
    tx.execute(f"UPDATE ticket SET {assignments} WHERE id = :ticket_id", ticket_id=ticket["id"], **values)
    ticket.update(changes)


def current_ticket(tx: Tx, counter_id: int, lock: bool = False) -> dict | None:
    return select_ticket(tx, f"counter_id = :counter AND {AT_COUNTER_SQL}",
                         "FOR UPDATE" if lock else "", counter=counter_id)


def people_ahead(tx: Tx, ticket: dict) -> int:
    """Waiting tickets of the same service that the calling policy takes before this one (for a
    remote number not checked in yet: before it, were it checked in now)."""
    if ticket["status"] not in (WAITING, REMOTE):
        return 0
    earlier = "(queued_at < :queued OR (queued_at = :queued AND id < :id))"
    ahead = (f"(priority_id IS NOT NULL OR {earlier})" if ticket["priority_id"] is None
             else f"(priority_id IS NOT NULL AND {earlier})")
    target = "target_counter_id IS NULL" if ticket["target_counter_id"] is None else "target_counter_id = :target"
    return tx.value(
        f"SELECT count(*) FROM ticket WHERE {_SAME_QUEUE} AND {target} AND id <> :id AND {ahead}",
        **_queue_params(tx, ticket), target=ticket["target_counter_id"])


def people_ahead_of_new(tx: Tx, ticket: dict) -> int:
    """`people_ahead` of a ticket just issued. A normal ticket for any counter, the usual case, has
    everyone in its queue ahead except normal tickets queued after it (none, unless the clock was
    set back): the queue's length, then a look at the queue's tail through the index."""
    if ticket["priority_id"] is not None or ticket["target_counter_id"] is not None:
        return people_ahead(tx, ticket)
    others = tx.value("SELECT untargeted FROM queue_length WHERE service_id = :service AND local_day = :day",
                      service=ticket["service_id"], day=tx.day(ticket["local_day"])) - 1
    later = tx.value(
        f"SELECT count(*) FROM ticket WHERE {_SAME_QUEUE} AND queued_at >= :queued AND id <> :id "
        "AND target_counter_id IS NULL AND priority_id IS NULL AND (queued_at > :queued OR id > :id)",
        **_queue_params(tx, ticket))
    return others - later


_SAME_QUEUE = "centre_id = :centre AND local_day = :day AND status = 'waiting' AND service_id = :service"


def _queue_params(tx: Tx, ticket: dict) -> dict:
    return {"centre": ticket["centre_id"], "day": tx.day(ticket["local_day"]), "service": ticket["service_id"],
            "id": ticket["id"], "queued": tx.instant(ticket["queued_at"])}


def waiting_by_service(tx: Tx, centre_id: int, day) -> dict[int, int]:
    """Tickets waiting per service (services with none left out), from the trigger-kept lengths."""
    rows = tx.rows("SELECT service_id, waiting FROM queue_length WHERE centre_id = :centre AND local_day = :day "
                   "AND waiting > 0", centre=centre_id, day=tx.day(day))
    return {row["service_id"]: row["waiting"] for row in rows}


# -- presenting --------------------------------------------------------------------------------
def iso_local(tx: Tx, centre_id: int, instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return local_time(instant, tx.centre(centre_id)["timezone"]).isoformat(timespec="seconds")


def service_ref(tx: Tx, service_id: int) -> dict:
    service = tx.service(service_id)
    return {"id": service["id"], "code": service["code"], "name": service["name"]}


def counter_ref(tx: Tx, counter_id: int | None) -> dict | None:
    if counter_id is None:
        return None
    counter = tx.counter(counter_id)
    return {"id": counter["id"], "number": counter["number"], "name": counter["name"]}


def ticket_view(tx: Tx, ticket: dict) -> dict:
    priority = tx.priority(ticket["priority_id"]) if ticket["priority_id"] else None
    return {
        "id": ticket["id"],
        "public_id": ticket["public_id"],
        "number": ticket["display_number"],
        "service": service_ref(tx, ticket["service_id"]),
        "status": ticket["status"],
        "priority": priority["code"] if priority else None,
        "priority_name": priority["name"] if priority else None,
        "counter": counter_ref(tx, ticket["counter_id"]),
        "target_counter": counter_ref(tx, ticket["target_counter_id"]),
        "issued_at": iso_local(tx, ticket["centre_id"], ticket["issued_at"]),
        "called_at": iso_local(tx, ticket["centre_id"], ticket["called_at"]),
        "call_count": ticket["call_count"],
        "origin": ticket["origin"],
        "due_at": iso_local(tx, ticket["centre_id"], ticket["due_at"]),
    }


COUNTER_STATE_SQL = (
    "SELECT c.id, c.number, c.name, c.active, c.paused, c.pause_reason, cs.officer_id, o.full_name, "
    "t.id AS ticket_id, t.display_number, t.status AS ticket_status FROM counter c "
    "LEFT JOIN counter_session cs ON cs.counter_id = c.id AND cs.ended_at IS NULL "
    "LEFT JOIN officer o ON o.id = cs.officer_id "
    "LEFT JOIN ticket t ON t.counter_id = c.id AND t.status IN ('called', 'serving') ")


def counter_views(tx: Tx, where: str, **params) -> list[dict]:
    return [_counter_view(row) for row in tx.rows(f"{COUNTER_STATE_SQL} WHERE {where} ORDER BY c.number",
                                                  **params)]


def counter_view(tx: Tx, counter_id: int) -> dict:
    return counter_views(tx, "c.id = :id", id=counter_id)[0]


def _counter_view(row: dict) -> dict:
    return {
        "id": row["id"], "number": row["number"], "name": row["name"],
        "status": counter_status(bool(row["active"]), row["officer_id"] is not None, bool(row["paused"]),
                                 row["ticket_status"]),
        "pause_reason": row["pause_reason"] if row["paused"] else None,
        "officer": {"id": row["officer_id"], "full_name": row["full_name"]} if row["officer_id"] else None,
        "ticket": row["display_number"],
        "ticket_id": row["ticket_id"],
    }


def counter_status(active: bool, signed_in: bool, paused: bool, ticket_status: str | None) -> str:
    if not active:
        return "inactive"
    if not signed_in:
        return "closed"
    if paused:
        return "paused"
    if ticket_status is None:
        return "open"
    return "serving" if ticket_status == SERVING else "calling"


def call_view(tx: Tx, ticket: dict, counter_id: int, recall: bool) -> dict:
    return {
        "ticket": {"id": ticket["id"], "number": ticket["display_number"],
                   "service": service_ref(tx, ticket["service_id"]), "origin": ticket["origin"]},
        "counter": counter_ref(tx, counter_id),
        "recall": recall,
        "at": iso_local(tx, ticket["centre_id"], ticket["called_at"]),
    }
