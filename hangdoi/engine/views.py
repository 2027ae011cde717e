"""Rows as plain dictionaries: what the API, the sockets and the CLI hand out."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select

from ..clock import local_time
from ..models import (
    AT_COUNTER_STATES,
    SERVING,
    WAITING,
    Centre,
    Counter,
    CounterSession,
    Officer,
    PriorityCategory,
    Service,
    Ticket,
)


def iso_local(session, centre_id: int, instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return local_time(instant, session.get(Centre, centre_id).timezone).isoformat(timespec="seconds")


def service_ref(session, service_id: int) -> dict:
    service = session.get(Service, service_id)
    return {"id": service.id, "code": service.code, "name": service.name}


def counter_ref(counter: Counter | None) -> dict | None:
    if counter is None:
        return None
    return {"id": counter.id, "number": counter.number, "name": counter.name}


def ticket_view(session, ticket: Ticket) -> dict:
    priority = session.get(PriorityCategory, ticket.priority_id) if ticket.priority_id else None
    counter = session.get(Counter, ticket.counter_id) if ticket.counter_id else None
    target = session.get(Counter, ticket.target_counter_id) if ticket.target_counter_id else None
    return {
        "id": ticket.id,
        "public_id": ticket.public_id,
        "number": ticket.display_number,
        "service": service_ref(session, ticket.service_id),
        "status": ticket.status,
        "priority": priority.code if priority else None,
        "counter": counter_ref(counter),
        "target_counter": counter_ref(target),
        "issued_at": iso_local(session, ticket.centre_id, ticket.issued_at),
        "called_at": iso_local(session, ticket.centre_id, ticket.called_at),
        "call_count": ticket.call_count,
    }


def current_ticket(session, counter_id: int) -> Ticket | None:
    return session.scalars(select(Ticket).where(
        Ticket.counter_id == counter_id, Ticket.status.in_(AT_COUNTER_STATES))).first()


def open_session(session, counter_id: int) -> CounterSession | None:
    return session.scalars(select(CounterSession).where(
        CounterSession.counter_id == counter_id, CounterSession.ended_at.is_(None))).first()


def counter_status(counter: Counter, signed_in: bool, current: Ticket | None) -> str:
    if not counter.active:
        return "inactive"
    if not signed_in:
        return "closed"
    if counter.paused:
        return "paused"
    if current is None:
        return "open"
    return "serving" if current.status == SERVING else "calling"


def counter_view(session, counter: Counter) -> dict:
    signed = open_session(session, counter.id)
    current = current_ticket(session, counter.id)
    officer = session.get(Officer, signed.officer_id) if signed else None
    return {
        **counter_ref(counter),
        "status": counter_status(counter, signed is not None, current),
        "pause_reason": counter.pause_reason if counter.paused else None,
        "officer": {"id": officer.id, "full_name": officer.full_name} if officer else None,
        "ticket": current.display_number if current else None,
        "ticket_id": current.id if current else None,
    }


def call_view(session, ticket: Ticket, counter: Counter, recall: bool) -> dict:
    return {
        "ticket": {"id": ticket.id, "number": ticket.display_number,
                   "service": service_ref(session, ticket.service_id)},
        "counter": counter_ref(counter),
        "recall": recall,
        "at": iso_local(session, ticket.centre_id, ticket.called_at),
    }


def people_ahead(session, ticket: Ticket) -> int:
    """Waiting tickets of the same service that the calling policy takes before this one."""
    if ticket.status != WAITING:
        return 0
    earlier = or_(Ticket.queued_at < ticket.queued_at,
                  and_(Ticket.queued_at == ticket.queued_at, Ticket.id < ticket.id))
    if ticket.priority_id is None:
        ahead = or_(Ticket.priority_id.is_not(None), earlier)
    else:
        ahead = and_(Ticket.priority_id.is_not(None), earlier)
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.centre_id == ticket.centre_id, Ticket.local_day == ticket.local_day,
        Ticket.status == WAITING, Ticket.service_id == ticket.service_id,
        Ticket.target_counter_id.is_(ticket.target_counter_id) if ticket.target_counter_id is None
        else Ticket.target_counter_id == ticket.target_counter_id,
        Ticket.id != ticket.id, ahead))

