"""End of day: whatever is still open is closed, counters are freed for tomorrow."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..models import CLOSED, OPEN_STATES, Centre, Counter, CounterSession, Ticket
from .errors import NotFound
from .work import Work, transact


def close_day(db, centre_id: int, day: date | None = None) -> dict:
    """Close open tickets of `day` (default: today, local) and earlier; end every counter session."""
    def body(work: Work) -> dict:
        s = work.session
        if s.get(Centre, centre_id) is None:
            raise NotFound("centre_not_found")
        last_day = day or work.today(centre_id)
        tickets = s.scalars(select(Ticket).where(
            Ticket.centre_id == centre_id, Ticket.local_day <= last_day,
            Ticket.status.in_(OPEN_STATES)).order_by(Ticket.id).with_for_update()).all()
        for ticket in tickets:
            before = ticket.status
            ticket.status = CLOSED
            s.flush()
            work.ticket_event(ticket, "closed", previous=before)
        sessions = s.scalars(select(CounterSession).join(Counter).where(
            Counter.centre_id == centre_id, CounterSession.ended_at.is_(None))).all()
        for signed in sessions:
            signed.ended_at = work.now
            counter = s.get(Counter, signed.counter_id)
            counter.paused, counter.pause_reason = False, None
            s.flush()
            work.counter_event(counter, "session_ended", officer=signed.officer_id, reason="day_closed")
        return {"day": last_day.isoformat(), "closed_tickets": len(tickets),
                "ended_sessions": len(sessions)}

    return transact(db, body)
