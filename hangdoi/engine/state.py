"""Read-side snapshots: what a display, a kiosk, a counter or a citizen's phone shows right now.

Each is read in one consistent transaction together with the centre's `seq`, so a client that
takes a snapshot and then applies every message with a higher seq is never out of date.
"""
from __future__ import annotations

from sqlalchemy import select

from ..clock import local_day
from ..models import Centre, Counter, Domain, Service, Ticket, TicketEvent
from . import views
from .errors import NotFound
from .hours import accepts_tickets
from .policy import policy_for
from .work import waiting_by_service

RECENT_CALLS = 10


def _centre(session, centre_id: int) -> Centre:
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("centre_not_found")
    return centre


def services(db, centre_id: int) -> list[dict]:
    with db.read() as s:
        return _services(s, _centre(s, centre_id), db.clock.now())


def _services(s, centre: Centre, now) -> list[dict]:
    today = local_day(now, centre.timezone)
    waiting = waiting_by_service(s, centre.id, today)
    open_now = accepts_tickets(centre, now)
    rows = s.execute(select(Service, Domain).join(Domain, Service.domain_id == Domain.id)
                     .where(Service.centre_id == centre.id)
                     .order_by(Domain.position, Domain.id, Service.position, Service.id)).all()
    return [{
        "id": svc.id, "code": svc.code, "name": svc.name, "instant": svc.instant,
        "domain": {"id": dom.id, "code": dom.code, "name": dom.name},
        "waiting": waiting.get(svc.id, 0),
        "open": open_now and svc.active and svc.closed_on != today,
    } for svc, dom in rows]


def kiosk_state(db, centre_id: int) -> dict:
    with db.read() as s:
        centre = _centre(s, centre_id)
        return {"seq": centre.seq, "services": _services(s, centre, db.clock.now())}


def display_state(db, centre_id: int) -> dict:
    with db.read() as s:
        centre = _centre(s, centre_id)
        today = local_day(db.clock.now(), centre.timezone)
        counters = s.scalars(select(Counter).where(Counter.centre_id == centre_id)
                             .order_by(Counter.number)).all()
        waiting = waiting_by_service(s, centre_id, today)
        queues = [{"service_id": svc.id, "code": svc.code, "name": svc.name,
                   "waiting": waiting.get(svc.id, 0)}
                  for svc in s.scalars(select(Service).where(Service.centre_id == centre_id,
                                                             Service.active.is_(True))
                                       .order_by(Service.position, Service.id))]
        return {"seq": centre.seq, "centre": {"id": centre.id, "name": centre.name},
                "counters": [views.counter_view(s, c) for c in counters if c.active],
                "queues": queues, "recent_calls": _recent_calls(s, centre_id, today)}


def _recent_calls(s, centre_id: int, today) -> list[dict]:
    rows = s.execute(
        select(TicketEvent, Ticket).join(Ticket, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.centre_id == centre_id, Ticket.local_day == today,
               TicketEvent.kind.in_(("called", "recalled")))
        .order_by(TicketEvent.id.desc()).limit(RECENT_CALLS)).all()
    calls = []
    for event, ticket in rows:
        counter = s.get(Counter, event.counter_id)
        calls.append({"ticket": {"id": ticket.id, "number": ticket.display_number,
                                 "service": views.service_ref(s, event.service_id)},
                      "counter": views.counter_ref(counter), "recall": event.kind == "recalled",
                      "at": views.iso_local(s, centre_id, event.at)})
    return calls


def counter_state(db, counter_id: int) -> dict:
    with db.read() as s:
        counter = s.get(Counter, counter_id)
        if counter is None:
            raise NotFound("counter_not_found")
        centre = _centre(s, counter.centre_id)
        today = local_day(db.clock.now(), centre.timezone)
        current = views.current_ticket(s, counter.id)
        queue = policy_for(centre.settings).waiting_in_order(s, counter, today, centre.settings)
        return {"seq": centre.seq, "centre_id": centre.id, "counter": views.counter_view(s, counter),
                "ticket": views.ticket_view(s, current) if current else None,
                "waiting": [views.ticket_view(s, t) for t in queue]}


def ticket_status(db, public_id: str) -> dict:
    with db.read() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
        if ticket is None:
            raise NotFound("ticket_not_found")
        return {**views.ticket_view(s, ticket), "position": views.people_ahead(s, ticket)}
