"""One administrative change = one transaction = one audit record per thing changed.

`administer(db, officer_id, body, role=ADMIN, centre_id=None)` runs `body(change)` in an engine
transaction (so the screens hear of it through the realtime projection), after checking that the
officer may do it in that centre (default: their own; any centre for a province admin).
The body reads and writes with `change.tx` and calls `change.audit(...)` for what it changed.
`inspect(...)` runs a body that only reads the same way, in a read transaction: no write lock, no seq.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from hangdoi.clock import local_time
from hangdoi.engine import audit
from hangdoi.engine.errors import Forbidden, NotFound
from hangdoi.engine.scope import administers, supervises
from hangdoi.engine.sql import Tx
from hangdoi.engine.work import Work, transact
from hangdoi.models import ADMIN, MANAGER, PROVINCE

T = TypeVar("T")
ALLOWED = {ADMIN: (ADMIN, PROVINCE), MANAGER: (MANAGER, ADMIN, PROVINCE)}
MAY = {ADMIN: administers, MANAGER: supervises}


class Change:
    def __init__(self, work: Work, officer: dict):
        self.work, self.tx, self.officer = work, work.tx, officer
        self.centre_id: int = officer["centre_id"]

    def audit(self, entity: str, entity_id: int | None, action: str, before: dict | None, after: dict | None) -> None:
        audit.record(self.work, self.centre_id, self.officer["id"], entity, entity_id, action, before, after)


class Reading:
    """What a read-only body sees: the same `tx` and `centre_id` as a Change, nothing to audit."""

    def __init__(self, tx: Tx, officer: dict):
        self.tx, self.officer, self.centre_id = tx, officer, officer["centre_id"]


def administer(db, officer_id: int, body: Callable[[Change], T], role: str = ADMIN,
               centre_id: int | None = None) -> T:
    def run(work: Work) -> T:
        return body(Change(work, _allowed(work.tx, officer_id, role, centre_id)))

    return transact(db, run)


def inspect(db, officer_id: int, body: Callable[[Reading], T], role: str = ADMIN,
            centre_id: int | None = None) -> T:
    with db.read() as session:
        tx = Tx(session)
        return body(Reading(tx, _allowed(tx, officer_id, role, centre_id)))


def _allowed(tx: Tx, officer_id: int, role: str, centre_id: int | None) -> dict:
    """The officer as the change sees them: `centre_id` is the centre acted on."""
    officer = tx.row("SELECT id, centre_id, role FROM officer WHERE id = :id AND active = :yes", id=officer_id, yes=True)
    if officer is None or officer["role"] not in ALLOWED[role]:
        raise Forbidden("forbidden")
    acting = officer["centre_id"] if centre_id is None else centre_id
    if not MAY[role](officer, acting):
        raise Forbidden("forbidden")
    if tx.row("SELECT id FROM centre WHERE id = :id", id=acting) is None:
        raise NotFound("centre_not_found")
    return {**officer, "centre_id": acting}


def audit_log(db, centre_id: int, limit: int = 200, before_id: int | None = None) -> list[dict]:
    """The newest changes first, with who made them."""
    with db.read() as session:
        tx = Tx(session)
        rows = tx.rows(
            "SELECT a.id, a.at, a.entity, a.entity_id, a.action, a.before, a.after, o.username, o.full_name "
            "FROM audit_log a LEFT JOIN officer o ON o.id = a.officer_id WHERE a.centre_id = :centre "
            "AND a.id < :before ORDER BY a.id DESC LIMIT :limit",
            centre=centre_id, before=before_id or 2**62, limit=limit)
        timezone = tx.centre(centre_id)["timezone"]
    for row in rows:
        at = Tx.read_instant(row["at"])
        row["at"], row["local"] = at.isoformat(), local_time(at, timezone).strftime("%H:%M:%S %d/%m/%Y")
        row["before"], row["after"] = Tx.read_json(row["before"]), Tx.read_json(row["after"])
        row["officer"] = {"username": row.pop("username"), "full_name": row.pop("full_name")}
    return rows
