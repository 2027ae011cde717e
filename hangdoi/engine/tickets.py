"""The ticket lifecycle. Each public function is one transaction and appends to the timeline.

    issue → waiting ─call─→ called ─start─→ serving ─finish─→ done
                  ↑            │  ╰─no-show─→ no_show ─(call this ticket)─→ called
                  ╰─requeue/transfer─╯        (and cancel / end-of-day close from any open state)

Calling at a counter that still holds a ticket finishes that ticket first: an officer's "next"
means "I am done with this citizen".
"""
from __future__ import annotations

import secrets

from sqlalchemy import select

from ..models import (
    AT_COUNTER_STATES,
    CALLED,
    CANCELLED,
    DONE,
    NO_SHOW,
    OPEN_STATES,
    SERVING,
    WAITING,
    Centre,
    Counter,
    PriorityCategory,
    Service,
    Ticket,
    TicketSeries,
)
from . import views
from .errors import Conflict, Forbidden, Invalid, NotFound
from .hours import accepts_tickets
from .numbering import count_issue, display_number, next_number
from .policy import policy_for
from .work import Work, transact

# Which states each counter action may start from.
ALLOWED_FROM = {
    "recall": (CALLED,),
    "start": (CALLED,),
    "finish": (CALLED, SERVING),
    "no-show": (CALLED,),
    "requeue": (CALLED, SERVING),
    "transfer": (CALLED, SERVING),
    "cancel": OPEN_STATES,
}


# -- issuing -----------------------------------------------------------------------------------
def issue_ticket(db, centre_id: int, service: int | str, priority: str | None = None,
                 kiosk: str | None = None) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        centre = s.get(Centre, centre_id)
        if centre is None:
            raise NotFound("centre_not_found")
        svc = _find_service(s, centre_id, service)
        today = work.today(centre_id)
        if not svc.active:
            raise Conflict("service_inactive")
        if svc.closed_on == today:
            raise Conflict("service_closed_today")
        if not accepts_tickets(centre, work.now):
            raise Conflict("centre_closed")
        category = _find_priority(s, centre_id, priority)
        series = s.get(TicketSeries, svc.series_id)
        count_issue(s, svc.id, today, svc.daily_cap)
        number = next_number(s, series, today)
        ticket = Ticket(
            centre_id=centre_id, public_id=secrets.token_urlsafe(12), series_id=series.id,
            service_id=svc.id, local_day=today, number=number,
            display_number=display_number(series, number),
            priority_id=category.id if category else None, status=WAITING,
            issued_at=work.now, queued_at=work.now, kiosk=kiosk, call_count=0)
        s.add(ticket)
        s.flush()
        work.ticket_event(ticket, "issued", kiosk=kiosk, priority=priority)
        return {**views.ticket_view(s, ticket), "position": views.people_ahead(s, ticket)}

    return transact(db, body)


def _find_service(session, centre_id: int, service: int | str) -> Service:
    column = Service.id if isinstance(service, int) else Service.code
    found = session.scalars(select(Service).where(
        Service.centre_id == centre_id, column == service)).first()
    if found is None:
        raise NotFound("service_not_found")
    return found


def _find_priority(session, centre_id: int, code: str | None) -> PriorityCategory | None:
    if code is None:
        return None
    category = session.scalars(select(PriorityCategory).where(
        PriorityCategory.centre_id == centre_id, PriorityCategory.code == code,
        PriorityCategory.active.is_(True))).first()
    if category is None:
        raise Invalid("priority_not_found")
    return category


# -- calling -----------------------------------------------------------------------------------
def call_next(db, counter_id: int, officer_id: int) -> dict:
    """Finish what the counter holds, then call the next ticket the policy picks (or none)."""
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        require_available(counter)
        _finish_current(work, counter, officer_id)
        centre = s.get(Centre, counter.centre_id)
        ticket = policy_for(centre.settings).choose(
            s, counter, work.today(counter.centre_id), centre.settings, lock=True)
        if ticket is None:
            return result(s, None, counter)
        counter.priority_streak = counter.priority_streak + 1 if ticket.priority_id else 0
        _call(work, ticket, counter, officer_id, how="next")
        return result(s, ticket, counter)

    return transact(db, body)


def call_ticket(db, counter_id: int, officer_id: int, ticket_id: int) -> dict:
    """Call one chosen ticket: a waiting one, or a no-show whose citizen came back today."""
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        require_available(counter)
        ticket = _lock_ticket(s, ticket_id, counter.centre_id)
        if ticket.local_day != work.today(counter.centre_id):
            raise Conflict("not_today")
        if ticket.status not in (WAITING, NO_SHOW) or ticket.target_counter_id not in (None, counter.id):
            raise Conflict("not_callable")
        _finish_current(work, counter, officer_id)
        _call(work, ticket, counter, officer_id, how="chosen")
        return result(s, ticket, counter)

    return transact(db, body)


def recall(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(s, counter, "recall")
        ticket.call_count += 1
        work.ticket_event(ticket, "recalled", officer_id=officer_id, call_count=ticket.call_count)
        work.announce_call(ticket, counter, recall=True)
        return result(s, ticket, counter)

    return transact(db, body)


# -- at the counter ----------------------------------------------------------------------------
def start(db, counter_id: int, officer_id: int) -> dict:
    return _counter_transition(db, counter_id, officer_id, "start", SERVING, "started")


def finish(db, counter_id: int, officer_id: int) -> dict:
    return _counter_transition(db, counter_id, officer_id, "finish", DONE, "finished")


def no_show(db, counter_id: int, officer_id: int) -> dict:
    return _counter_transition(db, counter_id, officer_id, "no-show", NO_SHOW, "no_show")


def requeue(db, counter_id: int, officer_id: int) -> dict:
    """Back to waiting, keeping its place: the citizen stepped away to fetch a paper."""
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(s, counter, "requeue")
        back_to_queue(ticket)
        s.flush()
        work.ticket_event(ticket, "requeued", officer_id=officer_id, counter_id=counter.id)
        return result(s, ticket, counter)

    return transact(db, body)


def transfer(db, counter_id: int, officer_id: int, service_id: int | None = None,
             to_counter_id: int | None = None, reason: str | None = None) -> dict:
    """Send the current ticket to another service and/or counter, keeping its place in the queue."""
    def body(work: Work) -> dict:
        s = work.session
        if service_id is None and to_counter_id is None:
            raise Invalid("transfer_target_required")
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(s, counter, "transfer")
        today = work.today(counter.centre_id)
        new_service = s.get(Service, service_id) if service_id is not None else None
        if service_id is not None:
            if new_service is None or new_service.centre_id != counter.centre_id:
                raise NotFound("service_not_found")
            if not new_service.active:
                raise Conflict("service_inactive")
            if new_service.closed_on == today:
                raise Conflict("service_closed_today")
        target = s.get(Counter, to_counter_id) if to_counter_id is not None else None
        if to_counter_id is not None:
            if target is None or target.centre_id != counter.centre_id:
                raise NotFound("counter_not_found")
            if not target.active:
                raise Conflict("counter_inactive")
        if target is not None and target.id == counter.id:
            raise Conflict("transfer_same_place")
        if target is None and new_service is not None and new_service.id == ticket.service_id:
            raise Conflict("transfer_same_place")
        from_service = ticket.service_id
        back_to_queue(ticket)
        if new_service is not None:
            ticket.service_id = new_service.id
        ticket.target_counter_id = target.id if target else None
        s.flush()
        work.ticket_event(ticket, "transferred", officer_id=officer_id, counter_id=counter.id,
                          from_service=from_service, to_service=ticket.service_id,
                          to_counter=ticket.target_counter_id, reason=reason)
        if target is not None:
            work.counter_changed(target)
        return result(s, ticket, counter)

    return transact(db, body)


def cancel_ticket(db, ticket_id: int, officer_id: int | None = None, reason: str | None = None) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        ticket = _lock_ticket(s, ticket_id, None)
        _require_state(ticket, "cancel")
        at_counter = ticket.counter_id if ticket.status in AT_COUNTER_STATES else None
        ticket.status = CANCELLED
        s.flush()
        work.ticket_event(ticket, "cancelled", officer_id=officer_id, counter_id=at_counter,
                          reason=reason)
        counter = s.get(Counter, at_counter) if at_counter else None
        return result(s, ticket, counter)

    return transact(db, body)


# -- helpers shared with the counter functions ------------------------------------------------
def acting_counter(work: Work, counter_id: int, officer_id: int) -> Counter:
    """The counter, row-locked, after checking that this officer is signed in at it."""
    s = work.session
    counter = s.scalars(select(Counter).where(Counter.id == counter_id).with_for_update()).first()
    if counter is None:
        raise NotFound("counter_not_found")
    signed = views.open_session(s, counter.id)
    if signed is None or signed.officer_id != officer_id:
        raise Forbidden("not_signed_in_here")
    return counter


def require_available(counter: Counter) -> None:
    if not counter.active:
        raise Conflict("counter_inactive")
    if counter.paused:
        raise Conflict("counter_paused")


def current_for(session, counter: Counter, action: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(
        Ticket.counter_id == counter.id, Ticket.status.in_(AT_COUNTER_STATES)).with_for_update()).first()
    if ticket is None:
        raise Conflict("no_current_ticket")
    _require_state(ticket, action)
    return ticket


def _require_state(ticket: Ticket, action: str) -> None:
    if ticket.status not in ALLOWED_FROM[action]:
        raise Conflict("illegal_transition", action=action, status=ticket.status)


def _lock_ticket(session, ticket_id: int, centre_id: int | None) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
    if ticket is None or (centre_id is not None and ticket.centre_id != centre_id):
        raise NotFound("ticket_not_found")
    return ticket


def _counter_transition(db, counter_id, officer_id, action, new_status, kind) -> dict:
    def body(work: Work) -> dict:
        s = work.session
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(s, counter, action)
        ticket.status = new_status
        s.flush()
        work.ticket_event(ticket, kind, officer_id=officer_id)
        return result(s, ticket, counter)

    return transact(db, body)


def _finish_current(work: Work, counter: Counter, officer_id: int) -> None:
    current = work.session.scalars(select(Ticket).where(
        Ticket.counter_id == counter.id, Ticket.status.in_(AT_COUNTER_STATES)).with_for_update()).first()
    if current is None:
        return
    current.status = DONE
    work.session.flush()
    work.ticket_event(current, "finished", officer_id=officer_id, automatic=True)


def _call(work: Work, ticket: Ticket, counter: Counter, officer_id: int, how: str) -> None:
    ticket.status = CALLED
    ticket.counter_id = counter.id
    ticket.officer_id = officer_id
    ticket.target_counter_id = None
    ticket.called_at = work.now
    ticket.call_count += 1
    work.session.flush()
    work.ticket_event(ticket, "called", officer_id=officer_id, how=how)
    work.announce_call(ticket, counter, recall=False)


def back_to_queue(ticket: Ticket) -> None:
    ticket.status = WAITING
    ticket.counter_id = None
    ticket.officer_id = None


def result(session, ticket: Ticket | None, counter: Counter | None) -> dict:
    return {"ticket": views.ticket_view(session, ticket) if ticket else None,
            "counter": views.counter_view(session, counter) if counter else None}
