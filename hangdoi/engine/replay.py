"""Rebuild a ticket's state from its timeline alone: the proof that the timeline is complete."""
from __future__ import annotations

from sqlalchemy import select

from hangdoi.models import AT_COUNTER_STATES, WAITING, Ticket, TicketEvent

CALL_KINDS = ("called", "recalled")


def replay(events: list[TicketEvent]) -> dict:
    state = {"status": None, "service_id": None, "counter_id": None,
             "target_counter_id": None, "call_count": 0}
    for event in events:
        state["status"] = event.status
        state["service_id"] = event.service_id
        if event.kind in CALL_KINDS:
            state["call_count"] += 1
        if event.kind == "transferred":
            state["target_counter_id"] = event.data.get("to_counter")
        elif event.kind == "called":
            state["target_counter_id"] = None
        if event.status == WAITING:
            state["counter_id"] = None
        elif event.status in AT_COUNTER_STATES or event.counter_id is not None:
            state["counter_id"] = event.counter_id
    return state


def stored_state(ticket: Ticket) -> dict:
    return {"status": ticket.status, "service_id": ticket.service_id, "counter_id": ticket.counter_id,
            "target_counter_id": ticket.target_counter_id, "call_count": ticket.call_count}


def mismatches(session, centre_id: int | None = None) -> list[tuple[int, dict, dict]]:
    """Tickets whose stored state differs from the replay of their timeline (should be none)."""
    query = select(Ticket)
    if centre_id is not None:
        query = query.where(Ticket.centre_id == centre_id)
    events_by_ticket: dict[int, list[TicketEvent]] = {}
    event_query = select(TicketEvent).order_by(TicketEvent.id)
    if centre_id is not None:
        event_query = event_query.where(TicketEvent.centre_id == centre_id)
    for event in session.scalars(event_query):
        events_by_ticket.setdefault(event.ticket_id, []).append(event)
    found = []
    for ticket in session.scalars(query):
        replayed, stored = replay(events_by_ticket.get(ticket.id, [])), stored_state(ticket)
        if replayed != stored:
            found.append((ticket.id, stored, replayed))
    return found
