"""End of day: whatever is still open is closed, counters are freed for tomorrow, and citizens'
personal details past the centre's keeping period are deleted."""
from __future__ import annotations

from datetime import date

from hangdoi.engine import audit, citizens, views
from hangdoi.engine.errors import NotFound
from hangdoi.engine.work import Work, transact
from hangdoi.models import CLOSED


def close_day(db, centre_id: int, day: date | None = None, officer_id: int | None = None) -> dict:
    """Close open tickets of `day` (default: today, local) and earlier, and remote numbers never
    checked in; end every counter session.
    `officer_id`: the manager who asked, for the audit log (None from the command line)."""
    def body(work: Work) -> dict:
        tx = work.tx
        if tx.centre(centre_id) is None:
            raise NotFound("centre_not_found")
        last_day = day or work.today(centre_id)
        tickets = views.select_tickets(
            tx, "centre_id = :centre AND local_day <= :day AND status IN ('waiting', 'called', 'serving', 'remote')",
            "ORDER BY id FOR UPDATE", centre=centre_id, day=tx.day(last_day))
        for ticket in tickets:
            before = ticket["status"]
            views.update_ticket(tx, ticket, status=CLOSED)
            work.ticket_event(ticket, "closed", previous=before)
        sessions = tx.rows(
            "SELECT cs.counter_id, cs.officer_id FROM counter_session cs JOIN counter c ON c.id = cs.counter_id "
            "WHERE c.centre_id = :centre AND cs.ended_at IS NULL", centre=centre_id)
        for signed in sessions:
            tx.execute("UPDATE counter_session SET ended_at = :at WHERE counter_id = :counter "
                       "AND ended_at IS NULL", at=tx.instant(work.now), counter=signed["counter_id"])
            tx.execute("UPDATE counter SET paused = :no, pause_reason = NULL WHERE id = :id",
                       no=False, id=signed["counter_id"])
            work.counter_event({"id": signed["counter_id"], "centre_id": centre_id}, "session_ended",
                               officer=signed["officer_id"], reason="day_closed")
        summary = {"day": last_day.isoformat(), "closed_tickets": len(tickets), "ended_sessions": len(sessions)}
        audit.record(work, centre_id, officer_id, "centre", centre_id, "close_day", None, summary)
        summary["purged_personal_data"] = citizens.purge_in(work, centre_id, officer_id)
        return summary

    return transact(db, body)
