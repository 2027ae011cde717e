"""Who works at a counter, and whether it is open: sign in/out, pause/resume, end a session."""
from __future__ import annotations

from sqlalchemy import select

from ..models import ADMIN, MANAGER, Counter, CounterSession, Officer
from . import views
from .errors import Conflict, Forbidden, NotFound
from .tickets import acting_counter, back_to_queue, result
from .work import Work, transact


def sign_in(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = s.scalars(select(Counter).where(Counter.id == counter_id).with_for_update()).first()
        officer = s.get(Officer, officer_id)
        if counter is None or officer is None or officer.centre_id != counter.centre_id:
            raise NotFound("counter_not_found")
        if not officer.active:
            raise Forbidden("forbidden")
        if not counter.active:
            raise Conflict("counter_inactive")
        here = views.open_session(s, counter.id)
        if here is not None:
            if here.officer_id == officer_id:
                return result(s, None, counter)
            raise Conflict("counter_taken")
        elsewhere = s.scalars(select(CounterSession).where(
            CounterSession.officer_id == officer_id, CounterSession.ended_at.is_(None))).first()
        if elsewhere is not None:
            raise Conflict("officer_elsewhere")
        s.add(CounterSession(counter_id=counter.id, officer_id=officer_id, started_at=work.now))
        counter.paused, counter.pause_reason, counter.priority_streak = False, None, 0
        s.flush()
        work.counter_event(counter, "signed_in", officer_id=officer_id)
        return result(s, None, counter)

    return transact(db, body)


def sign_out(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        if views.current_ticket(s, counter.id) is not None:
            raise Conflict("counter_busy")
        _end(work, counter, officer_id, "signed_out")
        return result(s, None, counter)

    return transact(db, body)


def end_session(db, counter_id: int, manager_id: int) -> dict:
    """A manager frees a counter (the officer went home signed in); its ticket goes back to the queue."""
    def body(work: Work) -> dict:
        s = work.session
        manager = s.get(Officer, manager_id)
        counter = s.scalars(select(Counter).where(Counter.id == counter_id).with_for_update()).first()
        if counter is None or manager is None or manager.centre_id != counter.centre_id:
            raise NotFound("counter_not_found")
        if manager.role not in (MANAGER, ADMIN):
            raise Forbidden("forbidden")
        signed = views.open_session(s, counter.id)
        if signed is None:
            return result(s, None, counter)
        current = views.current_ticket(s, counter.id)
        if current is not None:
            back_to_queue(current)
            s.flush()
            work.ticket_event(current, "requeued", officer_id=manager_id, counter_id=counter.id,
                              reason="session_ended")
        _end(work, counter, manager_id, "session_ended", officer=signed.officer_id)
        return result(s, None, counter)

    return transact(db, body)


def pause(db, counter_id: int, officer_id: int, reason: str | None = None) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        if counter.paused:
            raise Conflict("counter_paused")
        if views.current_ticket(s, counter.id) is not None:
            raise Conflict("counter_busy")
        counter.paused, counter.pause_reason = True, reason
        s.flush()
        work.counter_event(counter, "paused", officer_id=officer_id, reason=reason)
        return result(s, None, counter)

    return transact(db, body)


def resume(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        if not counter.paused:
            raise Conflict("counter_not_paused")
        counter.paused, counter.pause_reason = False, None
        s.flush()
        work.counter_event(counter, "resumed", officer_id=officer_id)
        return result(s, None, counter)

    return transact(db, body)


def _end(work: Work, counter: Counter, actor_id: int, kind: str, **data) -> None:
    s = work.session
    signed = views.open_session(s, counter.id)
    signed.ended_at = work.now
    counter.paused, counter.pause_reason = False, None
    s.flush()
    work.counter_event(counter, kind, officer_id=actor_id, **data)

