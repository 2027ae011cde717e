"""The ticket lifecycle. Each public function is one transaction and appends to the timeline.

    issue → waiting ─call─→ called ─start─→ serving ─finish─→ done
                  ↑            │  ╰─no-show─→ no_show ─(call this ticket)─→ called
                  ╰─requeue/transfer─╯        (and cancel / end-of-day close from any open state)

Calling at a counter that still holds a ticket settles that ticket first. One being served is
finished. One only called, never started, is not counted as served behind the officer's back: the
caller says what became of it (`previous`: "served", "no_show" or "requeue"), and without a word
the call is refused (`current_not_started`), so the terminal can ask.
"""
from __future__ import annotations

import secrets

from hangdoi.engine import views
from hangdoi.engine.errors import Conflict, Forbidden, Invalid, NotFound
from hangdoi.engine.hours import accepts_tickets
from hangdoi.engine.numbering import count_issue, display_number, next_number
from hangdoi.engine.policy import policy_for
from hangdoi.engine.sql import Tx
from hangdoi.engine.work import Work, transact
from hangdoi.models import CALLED, CANCELLED, DONE, NO_SHOW, OPEN_STATES, REMOTE, SERVING, WAITING

# What may become of a called, never started ticket when its counter calls another.
SETTLE_CALLED = ("served", "no_show", "requeue")

# Which states each counter action may start from.
ALLOWED_FROM = {
    "recall": (CALLED,),
    "start": (CALLED,),
    "finish": (CALLED, SERVING),
    "no-show": (CALLED,),
    "requeue": (CALLED, SERVING),
    "transfer": (CALLED, SERVING),
    "citizen": (CALLED, SERVING),
    "cancel": (*OPEN_STATES, REMOTE),
}


# -- issuing -----------------------------------------------------------------------------------
def issue_ticket(db, centre_id: int, service: int | str, priority: str | None = None,
                 kiosk: str | None = None, citizen: dict | None = None) -> dict:
    """`citizen`: the name and ID number read from a chip ID card at the kiosk, kept with the
    ticket only where the centre keeps personal data (hangdoi/engine/citizens.py)."""
    def body(work: Work) -> dict:
        tx = work.tx
        svc = issuable_service(work, centre_id, service)
        if not accepts_tickets(tx.centre(centre_id), work.now):
            raise Conflict("centre_closed")
        priority_id = _priority_id(tx, centre_id, priority)
        _require_kiosk(tx, centre_id, kiosk)
        ticket = issue_in(work, svc, priority_id=priority_id, kiosk=kiosk)
        work.ticket_event(ticket, "issued", kiosk=kiosk, priority=priority)
        if citizen is not None and tx.centre(centre_id)["settings"].get("personal_data") is True:
            tx.execute("INSERT INTO citizen_detail (ticket_id, centre_id, full_name, phone, id_number, recorded_at) "
                       "VALUES (:ticket, :centre, :full_name, NULL, :id_number, :at)", ticket=ticket["id"],
                       centre=centre_id, full_name=citizen["full_name"], id_number=citizen["id_number"],
                       at=tx.instant(work.now))
            work.ticket_event(ticket, "citizen_noted", fields=["full_name", "id_number"], source="id_card")
        return {**views.ticket_view(tx, ticket), "position": views.people_ahead_of_new(tx, ticket)}

    return transact(db, body)


def issuable_service(work: Work, centre_id: int, service: int | str) -> dict:
    """The service a number may be taken for today, or the domain error that says why not."""
    tx = work.tx
    if tx.centre(centre_id) is None:
        raise NotFound("centre_not_found")
    svc = tx.service(service) if isinstance(service, int) else tx.service_by_code(centre_id, service)
    if svc is None or svc["centre_id"] != centre_id:
        raise NotFound("service_not_found")
    if not svc["active"]:
        raise Conflict("service_inactive")
    if svc["closed_on"] == work.today(centre_id):
        raise Conflict("service_closed_today")
    return svc


def issue_in(work: Work, svc: dict, priority_id: int | None = None, kiosk: str | None = None,
             status: str = WAITING, origin: str | None = None, queued_at=None, due_at=None,
             capped: bool = True) -> dict:
    """Number and insert a ticket inside a change under way; the caller records how it came.
    `capped`: counts against the service's daily cap (an appointment's ticket was promised a
    place when it was booked, so it does not)."""
    tx, centre_id = work.tx, svc["centre_id"]
    today = work.today(centre_id)
    count_issue(tx, svc, today, enforce=capped)
    number = next_number(tx, svc, today)
    queued_at = queued_at or work.now
    ticket = {
        "centre_id": centre_id, "public_id": secrets.token_urlsafe(12), "series_id": svc["series_id"],
        "service_id": svc["id"], "local_day": today, "number": number,
        "display_number": display_number(svc, number), "priority_id": priority_id,
        "status": status, "issued_at": work.now, "queued_at": queued_at, "counter_id": None,
        "officer_id": None, "target_counter_id": None, "called_at": None, "call_count": 0,
        "kiosk": kiosk, "origin": origin, "due_at": due_at}
    ticket["id"] = tx.value(
        "INSERT INTO ticket (centre_id, public_id, series_id, service_id, local_day, number, "
        "display_number, priority_id, status, issued_at, queued_at, call_count, kiosk, origin, due_at) VALUES "
        "(:centre_id, :public_id, :series_id, :service_id, :day, :number, :display_number, "
        ":priority_id, :status, :at, :queued_at, 0, :kiosk, :origin, :due_at) RETURNING id",
        **{k: ticket[k] for k in ("centre_id", "public_id", "series_id", "service_id", "number",
                                  "display_number", "priority_id", "status", "kiosk", "origin")},
        day=tx.day(today), at=tx.instant(work.now), queued_at=tx.instant(queued_at),
        due_at=tx.instant(due_at))
    return ticket


def _require_kiosk(tx: Tx, centre_id: int, name: str | None) -> None:
    if name is not None and tx.active_kiosk(centre_id, name) is None:
        raise NotFound("kiosk_not_found")


def _priority_id(tx: Tx, centre_id: int, code: str | None) -> int | None:
    if code is None:
        return None
    found = tx.value("SELECT id FROM priority_category WHERE centre_id = :centre AND code = :code "
                     "AND active = :yes", centre=centre_id, code=code, yes=True)
    if found is None:
        raise Invalid("priority_not_found")
    return found


# -- calling -----------------------------------------------------------------------------------
def call_next(db, counter_id: int, officer_id: int, previous: str | None = None) -> dict:
    """Settle what the counter holds, then call the next ticket the policy picks (or none)."""
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        require_available(counter)
        _settle_current(work, counter, officer_id, previous)
        settings = tx.centre(counter["centre_id"])["settings"]
        ticket = policy_for(settings).choose(tx, counter, work.today(counter["centre_id"]), settings, work.now)
        if ticket is None:
            return result(tx, None, counter)
        streak = counter["priority_streak"] + 1 if ticket["priority_id"] else 0
        if streak != counter["priority_streak"]:   # most calls: a normal ticket after a normal one
            tx.execute("UPDATE counter SET priority_streak = :streak WHERE id = :id", streak=streak, id=counter["id"])
        _call(work, ticket, counter, officer_id, how="next")
        return result(tx, ticket, counter)

    return transact(db, body)


def call_ticket(db, counter_id: int, officer_id: int, ticket_id: int, previous: str | None = None) -> dict:
    """Call one chosen ticket: a waiting one, or a no-show whose citizen came back today."""
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        require_available(counter)
        ticket = _lock_ticket(tx, ticket_id, counter["centre_id"])
        if ticket["local_day"] != work.today(counter["centre_id"]):
            raise Conflict("not_today")
        if ticket["status"] not in (WAITING, NO_SHOW) or ticket["target_counter_id"] not in (None, counter["id"]):
            raise Conflict("not_callable")
        _settle_current(work, counter, officer_id, previous)
        _call(work, ticket, counter, officer_id, how="chosen")
        return result(tx, ticket, counter)

    return transact(db, body)


def recall(db, counter_id: int, officer_id: int) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(tx, counter, "recall")
        views.update_ticket(tx, ticket, call_count=ticket["call_count"] + 1)
        work.ticket_event(ticket, "recalled", officer_id=officer_id, call_count=ticket["call_count"])
        work.announce_call(ticket, counter["id"], recall=True)
        return result(tx, ticket, counter)

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
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(tx, counter, "requeue")
        back_to_queue(tx, ticket)
        work.ticket_event(ticket, "requeued", officer_id=officer_id, counter_id=counter["id"])
        return result(tx, ticket, counter)

    return transact(db, body)


def transfer(db, counter_id: int, officer_id: int, service_id: int | None = None,
             to_counter_id: int | None = None, reason: str | None = None) -> dict:
    """Send the current ticket to another service and/or counter, keeping its place in the queue."""
    def body(work: Work) -> dict:
        tx = work.tx
        if service_id is None and to_counter_id is None:
            raise Invalid("transfer_target_required")
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(tx, counter, "transfer")
        today = work.today(counter["centre_id"])
        new_service = tx.service(service_id) if service_id is not None else None
        if service_id is not None:
            if new_service is None or new_service["centre_id"] != counter["centre_id"]:
                raise NotFound("service_not_found")
            if not new_service["active"]:
                raise Conflict("service_inactive")
            if new_service["closed_on"] == today:
                raise Conflict("service_closed_today")
        target = _counter_row(tx, to_counter_id) if to_counter_id is not None else None
        if to_counter_id is not None:
            if target is None or target["centre_id"] != counter["centre_id"]:
                raise NotFound("counter_not_found")
            if not target["active"]:
                raise Conflict("counter_inactive")
        if target is not None and target["id"] == counter["id"]:
            raise Conflict("transfer_same_place")
        if target is None and new_service is not None and new_service["id"] == ticket["service_id"]:
            raise Conflict("transfer_same_place")
        from_service = ticket["service_id"]
        back_to_queue(tx, ticket, service_id=new_service["id"] if new_service else from_service,
                      target_counter_id=target["id"] if target else None)
        work.ticket_event(ticket, "transferred", officer_id=officer_id, counter_id=counter["id"],
                          from_service=from_service, to_service=ticket["service_id"],
                          to_counter=ticket["target_counter_id"], reason=reason)
        if target is not None:
            work.counter_changed(target)
        return result(tx, ticket, counter)

    return transact(db, body)


def cancel_ticket(db, ticket_id: int, officer_id: int | None = None, reason: str | None = None) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        ticket = _lock_ticket(tx, ticket_id, None)
        _require_state(ticket, "cancel")
        at_counter = ticket["counter_id"] if ticket["status"] in (CALLED, SERVING) else None
        views.update_ticket(tx, ticket, status=CANCELLED)
        work.ticket_event(ticket, "cancelled", officer_id=officer_id, counter_id=at_counter, reason=reason)
        return result(tx, ticket, _counter_row(tx, at_counter) if at_counter else None)

    return transact(db, body)


# -- helpers shared with the counter functions ------------------------------------------------
def _counter_row(tx: Tx, counter_id: int, lock: bool = False) -> dict | None:
    row = tx.row("SELECT id, centre_id, number, name, active, paused, pause_reason, priority_streak "
                 "FROM counter WHERE id = :id" + (" FOR UPDATE" if lock else ""), id=counter_id)
    if row is not None:
        row["active"], row["paused"] = bool(row["active"]), bool(row["paused"])
        tx.remember("counter", counter_id, {key: row[key] for key in ("id", "centre_id", "number", "name")})
    return row


def signed_in_officer(tx: Tx, counter_id: int) -> int | None:
    return tx.value("SELECT officer_id FROM counter_session WHERE counter_id = :counter "
                    "AND ended_at IS NULL", counter=counter_id)


def acting_counter(work: Work, counter_id: int, officer_id: int) -> dict:
    """The counter, row-locked, after checking that this officer is signed in at it."""
    counter = locked_counter(work.tx, counter_id)
    if signed_in_officer(work.tx, counter_id) != officer_id:
        raise Forbidden("not_signed_in_here")
    return counter


def locked_counter(tx: Tx, counter_id: int) -> dict:
    counter = _counter_row(tx, counter_id, lock=True)
    if counter is None:
        raise NotFound("counter_not_found")
    return counter


def require_available(counter: dict) -> None:
    if not counter["active"]:
        raise Conflict("counter_inactive")
    if counter["paused"]:
        raise Conflict("counter_paused")


def current_for(tx: Tx, counter: dict, action: str) -> dict:
    ticket = views.current_ticket(tx, counter["id"], lock=True)
    if ticket is None:
        raise Conflict("no_current_ticket")
    _require_state(ticket, action)
    return ticket


def _require_state(ticket: dict, action: str) -> None:
    if ticket["status"] not in ALLOWED_FROM[action]:
        raise Conflict("illegal_transition", action=action, status=ticket["status"])


def _lock_ticket(tx: Tx, ticket_id: int, centre_id: int | None) -> dict:
    ticket = views.select_ticket(tx, "id = :id", "FOR UPDATE", id=ticket_id)
    if ticket is None or (centre_id is not None and ticket["centre_id"] != centre_id):
        raise NotFound("ticket_not_found")
    return ticket


def _counter_transition(db, counter_id, officer_id, action, new_status, kind) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        counter = acting_counter(work, counter_id, officer_id)
        ticket = current_for(tx, counter, action)
        views.update_ticket(tx, ticket, status=new_status)
        work.ticket_event(ticket, kind, officer_id=officer_id)
        return result(tx, ticket, counter)

    return transact(db, body)


def _settle_current(work: Work, counter: dict, officer_id: int, previous: str | None) -> None:
    current = views.current_ticket(work.tx, counter["id"], lock=True)
    if current is None:
        return
    if current["status"] == CALLED:
        if previous is None:
            raise Conflict("current_not_started", number=current["display_number"])
        if previous not in SETTLE_CALLED:
            raise Invalid("invalid_field", field="previous", reason="one_of", choices=", ".join(SETTLE_CALLED))
        if previous == "no_show":
            views.update_ticket(work.tx, current, status=NO_SHOW)
            work.ticket_event(current, "no_show", officer_id=officer_id)
            return
        if previous == "requeue":
            back_to_queue(work.tx, current)
            work.ticket_event(current, "requeued", officer_id=officer_id, counter_id=counter["id"])
            return
    views.update_ticket(work.tx, current, status=DONE)
    work.ticket_event(current, "finished", officer_id=officer_id, automatic=True)


def _call(work: Work, ticket: dict, counter: dict, officer_id: int, how: str) -> None:
    views.update_ticket(work.tx, ticket, status=CALLED, counter_id=counter["id"], officer_id=officer_id,
                        target_counter_id=None, called_at=work.now, call_count=ticket["call_count"] + 1)
    work.ticket_event(ticket, "called", officer_id=officer_id, how=how)
    work.announce_call(ticket, counter["id"], recall=False)
    if how == "next" and ticket["priority_id"] is None:
        _pass_over_remote(work, ticket)


def _pass_over_remote(work: Work, called: dict) -> None:
    """Remote numbers queued before the ticket just called had their turn now, with their citizens
    not there: the clock of their grace period starts (hangdoi/engine/bookings.py cancels them
    when it runs out, unless they check in first and take their place)."""
    tx = work.tx
    tx.execute("UPDATE booking SET turn_at = :now WHERE turn_at IS NULL AND ticket_id IN ("
               "SELECT id FROM ticket WHERE centre_id = :centre AND local_day = :day AND status = 'remote' "
               "AND service_id = :service AND (queued_at < :queued OR (queued_at = :queued AND id < :id)))",
               now=tx.instant(work.now), centre=called["centre_id"], day=tx.day(called["local_day"]),
               service=called["service_id"], queued=tx.instant(called["queued_at"]), id=called["id"])


def back_to_queue(tx: Tx, ticket: dict, **changes) -> None:
    views.update_ticket(tx, ticket, status=WAITING, counter_id=None, officer_id=None, **changes)


def result(tx: Tx, ticket: dict | None, counter: dict | None) -> dict:
    return {"ticket": views.ticket_view(tx, ticket) if ticket else None,
            "counter": views.counter_view(tx, counter["id"]) if counter else None}
