"""The queue engine. It knows no Flask: plain values in, plain dictionaries out, one transaction each."""
from hangdoi.engine.closing import close_day
from hangdoi.engine.counters import end_session, pause, resume, sign_in, sign_out
from hangdoi.engine.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from hangdoi.engine.tickets import (
    call_next,
    call_ticket,
    cancel_ticket,
    finish,
    issue_ticket,
    no_show,
    recall,
    requeue,
    start,
    transfer,
)
from hangdoi.engine.work import Change

__all__ = [
    "Change", "Conflict", "DomainError", "Forbidden", "Invalid", "NotFound",
    "call_next", "call_ticket", "cancel_ticket", "close_day", "end_session", "finish",
    "issue_ticket", "no_show", "pause", "recall", "requeue", "resume", "sign_in", "sign_out",
    "start", "transfer",
]
