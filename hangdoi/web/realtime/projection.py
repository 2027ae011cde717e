"""Committed engine changes → Socket.IO messages.

Rooms are per centre: `c<id>` (every subscriber gets `state_changed`), `c<id>:display`,
`c<id>:kiosk` and `c<id>:counter:<counter id>` (`ticket_called` goes to displays and the counter).

- `ticket_called` leaves at once, from the thread that committed the call, before its HTTP answer.
- `state_changed` is coalesced per centre: the first change after a quiet moment goes out at once,
  changes arriving within the next WINDOW seconds go out together. A busy morning then costs every
  screen a few messages a second instead of one per ticket. A message lists the `seqs` it covers;
  every ticket, counter and queue in it carries the `seq` of the change that produced it, so a client
  keeps the newest version of each whatever order messages arrive in (several processes publish
  through Redis independently).
"""
from __future__ import annotations

import logging
import threading
import time

from hangdoi.engine.work import Change

log = logging.getLogger(__name__)

WINDOW = 0.1
PUBLIC_TICKET_FIELDS = ("id", "number", "service", "status", "priority", "counter",
                        "target_counter", "issued_at", "called_at", "call_count")


def centre_room(centre_id: int) -> str:
    return f"c{centre_id}"


def display_room(centre_id: int) -> str:
    return f"c{centre_id}:display"


def kiosk_room(centre_id: int) -> str:
    return f"c{centre_id}:kiosk"


def supervision_room(centre_id: int) -> str:
    """Managers and admins: device faults (printers, keypads) and other things to act on."""
    return f"c{centre_id}:supervision"


def rating_room(centre_id: int, counter_id: int) -> str:
    """The citizen-facing tablet of one counter, waiting for a finished ticket to rate."""
    return f"c{centre_id}:rate:{counter_id}"


def counter_room(centre_id: int, counter_id: int) -> str:
    return f"c{centre_id}:counter:{counter_id}"


def call_messages(change: Change, extras=()) -> list[tuple[str, dict, list[str]]]:
    """`extras` add fields to each call (the display adds its announcement's audio URL)."""
    cid = change.centre_id
    messages = []
    for call in change.calls:
        payload = {"seq": change.seq, **call}
        for extra in extras:
            payload.update(extra(change.centre_id, payload))
        messages.append(("ticket_called", payload, [display_room(cid), counter_room(cid, call["counter"]["id"])]))
    return messages


def rating_messages(change: Change) -> list[tuple[str, dict, list[str]]]:
    return [("rating_requested",
             {"seq": change.seq, "ticket": {k: t[k] for k in ("public_id", "number", "service")},
              "counter": t["counter"]},
             [rating_room(change.centre_id, t["counter"]["id"])])
            for t in change.finished if t["counter"]]


class PendingState:
    """The merged content of the changes waiting to go out for one centre."""

    def __init__(self):
        self.seqs: list[int] = []
        self.tickets: dict[int, dict] = {}
        self.counters: dict[int, dict] = {}
        self.queues: dict[int, int] | None = None
        self.queues_seq = 0

    def add(self, change: Change) -> None:
        self.seqs.append(change.seq)
        for ticket in change.tickets:
            self._keep_newest(self.tickets, ticket["id"],
                              {**{k: ticket[k] for k in PUBLIC_TICKET_FIELDS}, "seq": change.seq})
        for counter in change.counters:
            self._keep_newest(self.counters, counter["id"], {**counter, "seq": change.seq})
        if change.queues is not None and change.seq > self.queues_seq:
            self.queues, self.queues_seq = change.queues, change.seq

    @staticmethod
    def _keep_newest(table: dict, key: int, item: dict) -> None:
        if key not in table or table[key]["seq"] < item["seq"]:
            table[key] = item

    def message(self) -> dict:
        return {
            "seq": max(self.seqs), "seqs": sorted(self.seqs),
            "tickets": list(self.tickets.values()),
            "counters": list(self.counters.values()),
            # Every service with tickets waiting, as of queues_seq; a service not listed has none.
            # None when no change here counted them (a later one in the same group commit did).
            "queues": None if self.queues is None else {
                "seq": self.queues_seq,
                "waiting": [{"service_id": sid, "waiting": n} for sid, n in sorted(self.queues.items())]},
        }


class Projection:
    """Sends committed changes through an emitter: a SocketIO server, or a write-only one bound to
    the Redis message queue when the change was made outside the server (the CLI)."""

    def __init__(self, emitter, window: float = WINDOW):
        self.emitter = emitter
        self.window = window
        self.call_extras: list = []
        self._pending: dict[int, PendingState] = {}
        self._last_sent: dict[int, float] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def __call__(self, change: Change) -> None:
        for event, payload, rooms in call_messages(change, self.call_extras) + rating_messages(change):
            self.emitter.emit(event, payload, to=rooms)
        with self._wake:
            pending = self._pending.get(change.centre_id)
            if pending is None:
                pending = self._pending[change.centre_id] = PendingState()
                self._start()
                # Only a centre's first pending change can make a message due sooner than the
                # thread already plans to wake: waking it for every change of a busy morning cost
                # a thread switch each, for nothing.
                self._wake.notify()
            pending.add(change)

    def flush(self) -> None:
        """Send everything pending now (the CLI calls this before it exits)."""
        with self._wake:
            ready, self._pending = self._pending, {}
        self._send(ready)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hangdoi-projection", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                now = time.monotonic()
                due = {cid: self._last_sent.get(cid, 0.0) + self.window for cid in self._pending}
                ready = {cid: self._pending.pop(cid) for cid, at in due.items() if at <= now}
                if not ready:
                    self._wake.wait(timeout=min(due.values()) - now)
                    continue
                for cid in ready:
                    self._last_sent[cid] = now
            self._send(ready)

    def _send(self, ready: dict[int, PendingState]) -> None:
        for centre_id, pending in ready.items():
            try:
                self.emitter.emit("state_changed", pending.message(), to=[centre_room(centre_id)])
            except Exception:  # noqa: BLE001 — a failed send must not stop later ones; clients resync
                log.exception("could not publish state for centre %s", centre_id)
