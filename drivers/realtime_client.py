"""A Python client of the realtime hub that keeps itself in sync. The hardware bridge and the tests
use it; the browser pages follow the same rules in JavaScript:

- subscribe on every (re)connect; the acknowledgement's snapshot is the state at its `seq`;
- `state_changed` lists the `seqs` it covers; seqs at or below the snapshot's are already in it;
- messages from several server processes may arrive slightly out of order, so a missing seq is
  only a gap once it is still missing after GAP_GRACE seconds; then subscribe again;
- every ticket, counter and queue carries the seq that produced it: keep the newest (`is_newer`);
- `ticket_called` is delivered as it comes (it is an announcement), unless the snapshot has it.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import socketio

log = logging.getLogger(__name__)

MESSAGE_EVENTS = ("state_changed", "ticket_called")
GAP_GRACE = 1.0


def is_newer(current: dict | None, incoming: dict) -> bool:
    """Whether `incoming` (an entity with a seq) should replace what the client holds."""
    return current is None or current.get("seq", -1) <= incoming.get("seq", -1)


class RealtimeClient:
    def __init__(self, url: str, room: str, token: str | None = None,
                 on_snapshot: Callable[[dict], None] | None = None,
                 on_message: Callable[[str, dict], None] | None = None, gap_grace: float = GAP_GRACE,
                 centre: int | None = None):
        self.url, self.room, self.token, self.centre = url, room, token, centre
        self.on_snapshot = on_snapshot or (lambda snapshot: None)
        self.on_message = on_message or (lambda event, data: None)
        self.seq: int | None = None          # every change up to here is accounted for
        self.gap_grace = gap_grace
        self._ahead: set[int] = set()         # seqs received beyond self.seq
        self._snapshot_seq = 0
        self.snapshot: dict | None = None
        self.subscriptions = 0
        self.synced = threading.Event()
        self._lock = threading.RLock()
        self._buffer: list[tuple[str, dict]] = []
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                   reconnection_delay_max=1.0, randomization_factor=0.2)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for event in MESSAGE_EVENTS:
            self.sio.on(event, lambda data, event=event: self._on_event(event, data))

    def connect(self, wait_timeout: float = 10) -> "RealtimeClient":
        self.sio.connect(self.url, transports=["websocket"], wait_timeout=wait_timeout,
                         auth={"token": self.token} if self.token else None)
        if not self.synced.wait(wait_timeout):
            raise TimeoutError("no snapshot from the hub")
        return self

    def close(self) -> None:
        self.sio.disconnect()

    def call(self, event: str, data: dict, timeout: float = 10):
        return self.sio.call(event, data, timeout=timeout)

    # -- internals ------------------------------------------------------------------------------
    def _on_connect(self) -> None:
        # Handlers run on the client's reading thread; an acknowledged call from here would wait
        # for itself, so subscribing happens on a task of its own.
        self.sio.start_background_task(self._subscribe)

    def _on_disconnect(self, *args) -> None:
        self.synced.clear()
        with self._lock:
            self.seq = None

    def _subscribe(self) -> None:
        try:
            ask = {"room": self.room} if self.centre is None else {"room": self.room, "centre": self.centre}
            ack = self.sio.call("subscribe", ask, timeout=10)
        except Exception:  # noqa: BLE001 — a reconnect will subscribe again
            log.warning("subscribe to %s failed", self.room, exc_info=True)
            return
        if "error" in ack:
            log.error("subscribe to %s refused: %s", self.room, ack["error"])
            return
        with self._lock:
            self.snapshot, self.seq = ack["snapshot"], ack["seq"]
            self._snapshot_seq, self._ahead = ack["seq"], set()
            self.subscriptions += 1
            self.on_snapshot(self.snapshot)
            pending, self._buffer = self._buffer, []
            for event, data in pending:
                self._apply(event, data)
        self.synced.set()

    def _on_event(self, event: str, data: dict) -> None:
        with self._lock:
            if self.seq is None:
                self._buffer.append((event, data))
                return
            self._apply(event, data)

    def _apply(self, event: str, data: dict) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
            return
        if event == "ticket_called":
            if data["seq"] > self._snapshot_seq:
                self.on_message(event, data)
            return
        fresh = {s for s in data.get("seqs", [data["seq"]]) if isinstance(s, int) and s > self.seq}
        if not fresh:
            return  # everything in it is already held
        self._ahead |= fresh
        while self.seq + 1 in self._ahead:
            self.seq += 1
            self._ahead.discard(self.seq)
        self.on_message(event, data)
        if self._ahead:
            threading.Timer(self.gap_grace, self._check_gap, args=(self.subscriptions, self.seq)).start()

    def _check_gap(self, subscription: int, seq_then: int) -> None:
        with self._lock:
            still_missing = (self.subscriptions == subscription and self.seq is not None
                             and self.seq == seq_then and self._ahead)
            if not still_missing:
                return
            log.info("gap in %s after seq %s; re-subscribing", self.room, self.seq)
            self.seq = None
            self.synced.clear()
        self.sio.start_background_task(self._subscribe)
