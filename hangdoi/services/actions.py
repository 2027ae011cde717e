"""Counter actions by name: the REST routes, the socket event and the keypad bridge all run these.

Each entry names its input fields (validated before anything runs) and the engine call it makes,
always as the officer who is acting; the engine itself checks that the officer works at the counter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from hangdoi import engine
from hangdoi.engine import citizens
from hangdoi.validation import INT, STR, Field, check_object


@dataclass(frozen=True)
class CounterAction:
    run: Callable[..., dict]
    fields: dict[str, Field] = field(default_factory=dict)
    summary: str = ""


REASON = STR(max_length=200, nullable=True, description="Why (free text)")
# A ticket being served is finished by the next call; one only called must be settled by name.
PREVIOUS = STR(nullable=True, max_length=10, description=(
    "What became of the counter's ticket if it was called but never started: served, no_show or requeue "
    "(without it, such a call is refused with current_not_started)"))

COUNTER_ACTIONS: dict[str, CounterAction] = {
    "sign-in": CounterAction(lambda db, c, o, a: engine.sign_in(db, c, o),
                             summary="Sign in at this counter"),
    "sign-out": CounterAction(lambda db, c, o, a: engine.sign_out(db, c, o),
                              summary="Sign out (the counter must not hold a ticket)"),
    "call-next": CounterAction(lambda db, c, o, a: engine.call_next(db, c, o, a["previous"]), {"previous": PREVIOUS},
                               summary="Settle the current ticket, call the next one (ticket null when none waits)"),
    "call": CounterAction(lambda db, c, o, a: engine.call_ticket(db, c, o, a["ticket"], a["previous"]),
                          {"ticket": INT(required=True, description="Ticket id"), "previous": PREVIOUS},
                          summary="Call a chosen waiting (or no-show) ticket, settling the current one"),
    "recall": CounterAction(lambda db, c, o, a: engine.recall(db, c, o), summary="Announce the current ticket again"),
    "start": CounterAction(lambda db, c, o, a: engine.start(db, c, o), summary="Start serving the called ticket"),
    "finish": CounterAction(lambda db, c, o, a: engine.finish(db, c, o), summary="Finish the current ticket"),
    "no-show": CounterAction(lambda db, c, o, a: engine.no_show(db, c, o), summary="Mark the called ticket as no-show"),
    "requeue": CounterAction(lambda db, c, o, a: engine.requeue(db, c, o),
                             summary="Return the current ticket to the queue, keeping its place"),
    "transfer": CounterAction(
        lambda db, c, o, a: engine.transfer(db, c, o, service_id=a["service"],
                                            to_counter_id=a["counter"], reason=a["reason"]),
        {"service": INT(nullable=True, description="Service id to transfer to"),
         "counter": INT(nullable=True, description="Counter id to transfer to"),
         "reason": REASON},
        summary="Transfer the current ticket to another service and/or counter"),
    "citizen": CounterAction(
        lambda db, c, o, a: citizens.record(db, c, o, a["full_name"], a["phone"], a["id_number"]),
        {"full_name": STR(required=True, max_length=100, description="Họ và tên"),
         "phone": STR(nullable=True, max_length=20, description="Phone number, 0 + 9 digits or +84 + 9 digits"),
         "id_number": STR(nullable=True, max_length=14, description="CCCD (12 digits) or CMND (9 digits)")},
        summary="Note who the ticket at this counter is for (only where the centre keeps personal data; "
                "deleted after the centre's period)"),
    "pause": CounterAction(lambda db, c, o, a: engine.pause(db, c, o, a["reason"]), {"reason": REASON},
                           summary="Pause the counter (break, meeting, …)"),
    "resume": CounterAction(lambda db, c, o, a: engine.resume(db, c, o), summary="Resume after a pause"),
    "end-session": CounterAction(lambda db, c, o, a: engine.end_session(db, c, o),
                                 summary="A manager frees the counter: whoever is signed in there is signed "
                                         "out, the ticket they held goes back to the queue"),
}


def run_counter_action(db, name: str, counter_id: int, officer_id: int, payload) -> dict:
    """Validate `payload` for action `name` and run it. Raises BadInput or a DomainError."""
    action = COUNTER_ACTIONS[name]
    args = check_object(payload, action.fields)
    return action.run(db, counter_id, officer_id, args)
