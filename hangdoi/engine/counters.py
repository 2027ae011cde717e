"""Who works at a counter, and whether it is open: sign in/out, pause/resume, end a session."""
from __future__ import annotations

from hangdoi.engine import audit, views
from hangdoi.engine.errors import Conflict, Forbidden, NotFound
from hangdoi.engine.scope import sees, supervises
from hangdoi.engine.sql import Tx
from hangdoi.engine.tickets import acting_counter, back_to_queue, locked_counter, result, signed_in_officer
from hangdoi.engine.work import Work, transact


def _officer(tx: Tx, officer_id: int) -> dict | None:
    row = tx.row("SELECT id, centre_id, role, active FROM officer WHERE id = :id", id=officer_id)
    if row is not None:
        row["active"] = bool(row["active"])
    return row


def sign_in(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = locked_counter(tx, counter_id)
        officer = _officer(tx, officer_id)
        if officer is None or officer["centre_id"] != counter["centre_id"]:
            raise NotFound("counter_not_found")
        if not officer["active"]:
            raise Forbidden("forbidden")
        if not counter["active"]:
            raise Conflict("counter_inactive")
        here = signed_in_officer(tx, counter_id)
        if here is not None:
            if here == officer_id:
                return result(tx, None, counter)
            raise Conflict("counter_taken")
        if tx.value("SELECT id FROM counter_session WHERE officer_id = :officer AND ended_at IS NULL",
                    officer=officer_id) is not None:
            raise Conflict("officer_elsewhere")
        tx.execute("INSERT INTO counter_session (counter_id, officer_id, started_at) "
                   "VALUES (:counter, :officer, :at)", counter=counter_id, officer=officer_id,
                   at=tx.instant(work.now))
        _reset(tx, counter_id)
        work.counter_event(counter, "signed_in", officer_id=officer_id)
        return result(tx, None, counter)

    return transact(db, body)


def sign_out(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        if views.current_ticket(tx, counter_id) is not None:
            raise Conflict("counter_busy")
        _end(work, counter, officer_id, "signed_out")
        return result(tx, None, counter)

    return transact(db, body)


def end_session(db, counter_id: int, manager_id: int) -> dict:
    """A manager frees a counter (the officer went home signed in); its ticket goes back to the queue."""
    def body(work: Work) -> dict:
        tx = work.tx
        counter = locked_counter(tx, counter_id)
        manager = _officer(tx, manager_id)
        if manager is None or not sees(manager, counter["centre_id"]):
            raise NotFound("counter_not_found")
        if not supervises(manager, counter["centre_id"]):
            raise Forbidden("forbidden")
        officer = signed_in_officer(tx, counter_id)
        if officer is None:
            return result(tx, None, counter)
        current = views.current_ticket(tx, counter_id, lock=True)
        if current is not None:
            back_to_queue(tx, current)
            work.ticket_event(current, "requeued", officer_id=manager_id, counter_id=counter_id,
                              reason="session_ended")
        _end(work, counter, manager_id, "session_ended", officer=officer)
        audit.record(work, counter["centre_id"], manager_id, "counter", counter_id, "end_session",
                     {"officer": officer, "ticket": current["display_number"] if current else None}, None)
        return result(tx, None, counter)

    return transact(db, body)


def pause(db, counter_id: int, officer_id: int, reason: str | None = None) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        if counter["paused"]:
            raise Conflict("counter_paused")
        if views.current_ticket(tx, counter_id) is not None:
            raise Conflict("counter_busy")
        tx.execute("UPDATE counter SET paused = :yes, pause_reason = :reason WHERE id = :id",
                   yes=True, reason=reason, id=counter_id)
        work.counter_event(counter, "paused", officer_id=officer_id, reason=reason)
        return result(tx, None, counter)

    return transact(db, body)


def resume(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        if not counter["paused"]:
            raise Conflict("counter_not_paused")
        _reset(tx, counter_id, keep_streak=True)
        work.counter_event(counter, "resumed", officer_id=officer_id)
        return result(tx, None, counter)

    return transact(db, body)


def _reset(tx: Tx, counter_id: int, keep_streak: bool = False) -> None:
    streak = "" if keep_streak else ", priority_streak = 0"
    tx.execute(f"UPDATE counter SET paused = :no, pause_reason = NULL{streak} WHERE id = :id",
               no=False, id=counter_id)


def _end(work: Work, counter: dict, actor_id: int, kind: str, **data) -> None:
    tx = work.tx
    tx.execute("UPDATE counter_session SET ended_at = :at WHERE counter_id = :counter AND ended_at IS NULL",
               at=tx.instant(work.now), counter=counter["id"])
    _reset(tx, counter["id"], keep_streak=True)
    work.counter_event(counter, kind, officer_id=actor_id, **data)
