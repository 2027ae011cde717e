"""Committed engine changes → Socket.IO messages.

Rooms are per centre: `c<id>` (every subscriber: `state_changed`), `c<id>:display`, `c<id>:kiosk`
and `c<id>:counter:<counter id>` (`ticket_called` for the counter that called). Every message carries
the change's `seq`; clients apply messages in seq order and re-subscribe when they see a gap.
"""
from __future__ import annotations

from ..engine.work import Change

PUBLIC_TICKET_FIELDS = ("id", "number", "service", "status", "priority", "counter",
                        "target_counter", "issued_at", "called_at", "call_count")


def centre_room(centre_id: int) -> str:
    return f"c{centre_id}"


def display_room(centre_id: int) -> str:
    return f"c{centre_id}:display"


def kiosk_room(centre_id: int) -> str:
    return f"c{centre_id}:kiosk"


def counter_room(centre_id: int, counter_id: int) -> str:
    return f"c{centre_id}:counter:{counter_id}"


def messages(change: Change) -> list[tuple[str, dict, list[str]]]:
    """(event, payload, rooms) for one committed change, in the order they must be sent."""
    cid = change.centre_id
    out = [("state_changed", {
        "seq": change.seq,
        # Public ids stay out of broadcasts: they are the key to a citizen's status page.
        "tickets": [{k: t[k] for k in PUBLIC_TICKET_FIELDS} for t in change.tickets],
        "counters": change.counters,
        "queues": [{"service_id": sid, "waiting": n} for sid, n in sorted(change.queues.items())],
    }, [centre_room(cid)])]
    for call in change.calls:
        out.append(("ticket_called", {"seq": change.seq, **call},
                    [display_room(cid), counter_room(cid, call["counter"]["id"])]))
    return out


class Projection:
    """Sends each committed change through an emitter: a SocketIO server, or a write-only one
    bound to the Redis message queue when the change was made outside the server (the CLI)."""

    def __init__(self, emitter):
        self.emitter = emitter

    def __call__(self, change: Change) -> None:
        for event, payload, rooms in messages(change):
            self.emitter.emit(event, payload, to=rooms)
