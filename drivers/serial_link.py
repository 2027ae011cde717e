"""One serial line (RS-232, or RS-485 through a USB adapter) that survives being unplugged.

Reads and writes never raise: a missing or vanished port is closed, reported once through
`on_state`, and opened again with growing pauses (0.5 s doubling up to 10 s) while the caller keeps
going. Any pyserial URL works: a device path, a pty, or `loop://` in tests.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time

import serial

log = logging.getLogger(__name__)

UP, DOWN = "online", "offline"
FIRST_RETRY, LAST_RETRY = 0.5, 10.0


class SerialLink:
    def __init__(self, url: str, baudrate: int = 9600, timeout: float = 0.05, on_state=None):
        self.url, self.baudrate, self.timeout = url, baudrate, timeout
        self.on_state = on_state or (lambda url, state, detail: None)
        self.port: serial.SerialBase | None = None
        self.state: str | None = None
        self._retry_at = 0.0
        self._pause = FIRST_RETRY
        self._lock = threading.Lock()

    def _open(self) -> bool:
        if self.port is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self.port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout,
                                              write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._down(str(exc))
            return False
        self._pause = FIRST_RETRY
        self._set(UP, "")
        return True

    def _down(self, detail: str) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001 — it is already broken
                pass
            self.port = None
        self._retry_at = time.monotonic() + self._pause
        self._pause = min(self._pause * 2, LAST_RETRY)
        self._set(DOWN, detail)

    def _set(self, state: str, detail: str) -> None:
        if state != self.state:
            self.state = state
            (log.info if state == UP else log.warning)("serial %s %s %s", self.url, state, detail)
            try:
                self.on_state(self.url, state, detail)
            except Exception:  # noqa: BLE001 — reporting must not break the line
                log.exception("could not report serial state")

    def read(self) -> bytes:
        """What arrived, or b"" after the timeout (or while the port is away)."""
        with self._lock:
            if not self._open():
                port = None
            else:
                port = self.port
        if port is None:
            time.sleep(self.timeout)
            return b""
        try:
            first = port.read(1)
            return first + port.read(port.in_waiting) if first else b""
        except (serial.SerialException, OSError, TypeError) as exc:
            with self._lock:
                self._down(str(exc))
            return b""

    def write(self, data: bytes) -> bool:
        with self._lock:
            if not self._open():
                return False
            try:
                self.port.write(data)
                return True
            except (serial.SerialException, OSError) as exc:
                self._down(str(exc))
                return False

    def probe(self) -> bool:
        """Whether the line is there now. Opens it if it was away (once its pause is over), and
        notices a device that went away while nothing was written to it: a sign only listens, so
        without this it was found gone only by the next call's frame, which was lost."""
        with self._lock:
            if not self._open():
                return False
            try:
                fd = self.port.fileno()
            except Exception:  # noqa: BLE001 — no descriptor (loop://): nothing to look at
                return True
            try:
                if select.select([fd], [], [], 0)[0] and os.read(fd, 4096) == b"":
                    raise OSError("the device hung up")   # readable yet nothing: gone
                return True                 # (what was read is a reply or noise; a gone device gives EIO)
            except OSError as exc:
                self._down(str(exc))
                return False

    def close(self) -> None:
        with self._lock:
            if self.port is not None:
                self.port.close()
                self.port = None
