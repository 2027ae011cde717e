"""Printers that really exist on this machine, for tests, benchmarks and trying things out.

`FakePrinter` reads the ESC/POS stream like a printer (escpos_parse), keeps every cut ticket as an
image, and answers DLE EOT status queries from its current state: paper in or out, cover open,
or mute (a printer that never answers). Two ways to reach it:

    TcpFakePrinter()   a network printer on 127.0.0.1:<port>, like port 9100 of a real one
    PtyFakePrinter()   a serial printer on a pty; `.device` is the path to give the serial transport
"""
from __future__ import annotations

import os
import select
import socket
import struct
import threading
import tty

from .escpos_parse import ParseError, Parser

PRINTER_OK, OFFLINE_BIT = 0x12, 0x08


class FakePrinter:
    def __init__(self, width: int = 576):
        self.width = width
        self.paper = True
        self.paper_low = False
        self.cover_open = False
        self.mute = False          # never answers a status query
        self.stalled = False       # stops reading: its buffer fills and writes block
        self.unplug_mid_ticket = False   # drops the connection as soon as a picture starts
        self.queries: list[int] = []
        self.errors: list[str] = []
        self.received = bytearray()
        self._parser = Parser(width, self._answer)
        self._outbox: list[bytes] = []
        self._lock = threading.Lock()

    @property
    def tickets(self):
        return self._parser.tickets

    def take(self, data: bytes) -> None:
        with self._lock:
            self.received += data
            try:
                self._parser.feed(data)
            except ParseError as exc:
                self.errors.append(str(exc))
                self._parser = Parser(self.width, self._answer)   # a real printer resyncs, more or less

    def answers(self) -> bytes:
        with self._lock:
            out, self._outbox = b"".join(self._outbox), []
            return out

    def status_byte(self, n: int) -> int:
        if n == 1:
            return PRINTER_OK | (OFFLINE_BIT if (self.cover_open or not self.paper) else 0)
        if n == 2:
            return PRINTER_OK | (0x04 if self.cover_open else 0) | (0x20 if not self.paper else 0)
        if n == 4:
            return PRINTER_OK | (0x60 if not self.paper else 0) | (0x0C if self.paper_low else 0)
        return PRINTER_OK

    def _answer(self, n: int) -> None:
        self.queries.append(n)
        if not self.mute:
            self._outbox.append(bytes([self.status_byte(n)]))


class TcpFakePrinter(FakePrinter):
    """Listens on a loopback port; one connection at a time, as a real network printer."""

    def __init__(self, width: int = 576):
        super().__init__(width)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.accepting = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-tcp-printer")
        self._thread.start()

    @property
    def settings(self) -> dict:
        return {"transport": "network", "host": "127.0.0.1", "port": self.port, "width": self.width}

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            with conn:
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        while not self._stop.is_set():
            if self.stalled:
                self._stop.wait(0.05)
                continue
            try:
                data = conn.recv(65536)
            except TimeoutError:
                data = None
            except OSError:
                return
            if data == b"":
                return
            if data:
                self.take(data)
                if self.unplug_mid_ticket and b"\x1dv0" in data:
                    # Reset, not a polite close: what the sender sees when the cable is pulled.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
            reply = self.answers()
            if reply:
                conn.sendall(reply)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)


class PtyFakePrinter(FakePrinter):
    """The far end of a pty pair: the near end's path works with pyserial like a USB-serial adapter."""

    def __init__(self, width: int = 576):
        super().__init__(width)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-pty-printer")
        self._thread.start()

    @property
    def settings(self) -> dict:
        return {"transport": "serial", "device": self.device, "baudrate": 115200, "width": self.width}

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self.stalled:
                self._stop.wait(0.05)
                continue
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            self.take(data)
            reply = self.answers()
            if reply:
                os.write(self._master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
