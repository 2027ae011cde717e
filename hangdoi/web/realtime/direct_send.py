"""Messages to websockets written by the thread that sends them, not handed to a thread per socket.

Engine.IO in threading mode queues every packet for every socket and wakes that socket's writer
thread to frame and write it. A call shown on 20 lobby screens then costs 20 queue hand-offs and
20 thread wake-ups, each fighting the request threads for the interpreter: on the load benchmark
the fan-out cost more than the requests it announced.

Here, on a websocket that opened as one (every client of ours asks for the websocket transport
only) and carries plain frames (hangdoi/web/realtime/uncompressed.py), a Socket.IO packet is framed
once, however many sockets it goes to, and written at once by the emitting thread (server frames
are not masked, so the same bytes suit every socket). Writes never block the emitter: what a
socket cannot take at once waits in that socket's backlog, which a thread of its own writes out,
and anything sent meanwhile queues behind it, so each socket still gets its frames whole and in
order. A socket whose backlog passes BACKLOG_LIMIT has stopped reading: it is closed, and the
client resyncs when it reconnects. Everything else (long-polling, sockets upgraded from it,
Engine.IO's own pings) goes the library's way.

Under gunicorn (as `hangdoi serve` runs), bench/load.py at 310 tickets/s offered, 70 sockets,
interleaved rounds on 2026-12-06: through the library's queues 2.87-3.01 ms of server CPU per
request, 283-300 tickets/s carried, issue p99 40.8-41.5 ms, call-to-display p99 41.8-43.6 ms;
written directly 2.29-2.51 ms, 309-310 tickets/s, 25.6-32.1 ms and 25.6-34.1 ms (README
"Benchmarks"). Without it the server no longer carries the load it is asked to.

It relies on python-engineio internals, so it runs only on the releases it is tested against
(TESTED_ENGINEIO, also pyproject.toml's range); on any other, or if the internals it checks are not
there, it leaves the server as it was, says so in the log, and messages go the library's way.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
from importlib.metadata import PackageNotFoundError, version

import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.exceptions import SocketIsClosedError

from hangdoi.web.realtime.uncompressed import OFFER

log = logging.getLogger(__name__)

# Releases of python-engineio this module is tested against (the range pyproject.toml declares).
TESTED_ENGINEIO = ((4, 12), (4, 16))


def engineio_tested() -> bool:
    try:
        release = tuple(int(part) for part in version("python-engineio").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    return TESTED_ENGINEIO[0] <= release < TESTED_ENGINEIO[1]

BACKLOG_LIMIT = 4 * 1024 * 1024


def text_frame(text: str) -> bytes:
    """One unmasked, final websocket text frame (RFC 6455 §5.2), as a server sends it."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


class OrderedWriter:
    """Stands in for a websocket's TCP socket: every write, from whatever thread, goes out whole and
    in the order written, without blocking the writer; reads go to the socket itself."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._lock = threading.Lock()
        self._backlog = bytearray()
        self._draining = False
        self.broken = False

    def __getattr__(self, name):
        return getattr(self._sock, name)

    @property
    def waiting(self) -> int:
        """Bytes written that the connection has not taken yet."""
        return len(self._backlog)

    def send(self, data: bytes, flags: int = 0) -> int:
        with self._lock:
            if self.broken:
                raise BrokenPipeError("websocket closed")
            if self._draining:
                self._queue(data)
                return len(data)
            try:
                written = self._sock.send(data, socket.MSG_DONTWAIT)
            except BlockingIOError:
                written = 0
            except OSError:
                self.broken = True
                raise
            if written < len(data):
                self._queue(memoryview(data)[written:])
                self._draining = True
                threading.Thread(target=self._drain, name="hangdoi-websocket-backlog", daemon=True).start()
        return len(data)

    sendall = send

    def _queue(self, data) -> None:
        self._backlog += data
        if len(self._backlog) > BACKLOG_LIMIT:
            log.warning("a websocket stopped reading (%d bytes waiting): closing it", len(self._backlog))
            self._backlog.clear()
            self.broken = True
            self._shut()

    def _drain(self) -> None:
        while True:
            with self._lock:
                chunk, self._backlog = bytes(self._backlog), bytearray()
                if not chunk or self.broken:
                    self._draining = False
                    return
            try:
                self._sock.sendall(chunk)   # blocks this thread only
            except OSError:
                with self._lock:
                    self.broken, self._draining = True, False
                return

    def _shut(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)   # the reader sees the end and closes the session
        except OSError:
            pass


class DirectWebSocket(SimpleWebSocketWSGI):
    """Engine.IO's websocket driver (SimpleWebSocketWSGI.__call__, with the websocket registered with
    DirectSend while its session lasts when it opened as one, on plain frames)."""

    def __init__(self, handler, server, direct: "DirectSend"):
        super().__init__(handler, server)
        self.direct = direct

    def wait(self):
        """The next message; None (as when the client closes) for a text frame that is no Engine.IO
        packet, whose first character is its type: python-engineio decodes it outside its own error
        handling, and the exception reached the server, which wrote an HTTP 500 into the socket."""
        data = super().wait()
        if isinstance(data, str) and not (data[:1].isascii() and data[:1].isdigit()):
            log.info("a websocket sent a frame that is no Engine.IO packet: closing it")
            self.ws.close(reason=1003)
            return None
        return data

    def __call__(self, environ, start_response):
        engineio_socket = getattr(self.app, "__self__", None)
        opened_as_websocket = engineio_socket is not None and not engineio_socket.connected
        self.ws = simple_websocket.Server(environ, **self.server_args)
        sid = engineio_socket.sid if opened_as_websocket and OFFER not in environ else None
        if sid is not None:
            self.direct.register(sid, self.ws)
        self.direct.open_websockets.add(self.ws)
        try:
            answer = self.app(self)
        finally:
            self.direct.open_websockets.discard(self.ws)
            if sid is not None:
                self.direct.unregister(sid)
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        if self.ws.mode == "werkzeug":
            raise ConnectionError()   # how simple-websocket tells Werkzeug the connection is done
        return answer


class DirectSend:
    """Installed on a Socket.IO server: Engine.IO's send_packet writes to registered sockets itself.
    It relies on three things python-engineio does not promise (the driver table `_async`, its
    websocket driver class, `_get_socket`); without them it leaves the server as it was, and
    tests/test_direct_send.py fails."""

    def __init__(self, socketio_server):
        self.eio = socketio_server.eio
        self.writers: dict[str, OrderedWriter] = {}
        self.open_websockets: set = set()        # every websocket served through DirectWebSocket
        self._send_through_queue = self.eio.send_packet
        drivers = getattr(self.eio, "_async", None)
        if not engineio_tested():
            log.warning("python-engineio %s is not a release DirectSend is tested on: messages go through "
                        "its queues", version("python-engineio"))
            return
        if (not isinstance(drivers, dict) or drivers.get("websocket") is not SimpleWebSocketWSGI
                or not hasattr(self.eio, "_get_socket") or not hasattr(socket, "MSG_DONTWAIT")):
            log.warning("python-engineio is not as expected: messages go through its queues")
            return
        self.eio._async = {**self.eio._async,   # a copy: the driver table is shared by every server
                           "websocket": lambda handler, server: DirectWebSocket(handler, server, self)}
        self.eio.send_packet = self.send_packet

    def close_all(self) -> None:
        """Close every websocket with 1001 "going away" (the server is stopping). A websocket closed
        under it is what a browser's Socket.IO client reconnects after; a Socket.IO or Engine.IO
        "disconnect" from the server would tell it not to come back."""
        for ws in list(self.open_websockets):
            try:
                ws.close(reason=1001, message="server stopping")
            except Exception:  # noqa: BLE001 — already closed by the other side
                pass

    def register(self, sid: str, ws) -> None:
        if ws.sock.gettimeout() is not None:
            return      # a socket with a timeout would make a write wait for room: keep the queue
        writer = OrderedWriter(ws.sock)
        ws.sock = writer
        self.writers[sid] = writer

    def unregister(self, sid: str) -> None:
        self.writers.pop(sid, None)

    def send_packet(self, sid: str, pkt) -> None:
        writer = self.writers.get(sid)
        if writer is None or pkt.binary:
            return self._send_through_queue(sid, pkt)
        try:
            engineio_socket = self.eio._get_socket(sid)
            if not engineio_socket.check_ping_timeout():
                return None
        except (KeyError, SocketIsClosedError):
            return None     # gone meanwhile: nothing to deliver to
        frame = getattr(pkt, "hangdoi_frame", None)
        if frame is None:   # a room's packet is one object for every socket: framed once
            frame = pkt.hangdoi_frame = text_frame(pkt.encode())
        try:
            writer.send(frame)
        except OSError:
            pass            # the reader thread sees the socket end and closes the session
        return None
