"""The HTTP server of `hangdoi serve`: Werkzeug's, which Flask-SocketIO's threading mode runs on,
with these changes, each measured under bench/load.py.

- Werkzeug's threaded server starts a thread for every connection: at 300 tickets a second that
  was 300+ thread starts a second, 100 µs of interpreter and kernel time each.
  `PooledWSGIServer` hands each connection to an idle worker thread and starts one only when none
  is idle. A websocket holds its worker for as long as it is open, so the pool grows to the
  busiest moment's number of connections; a worker idle for IDLE_SECONDS ends.
- Werkzeug closes every connection after one answer (http.server cannot drain an unread body
  before the next request line), so each request also paid a TCP connect, an accept, a hand-off to
  a worker and a close, on both sides: 0.2-0.5 ms of server CPU per request in bench/load.py.
  `Http11RequestHandler` keeps a connection open when it knows the request's body length: it
  answers with Content-Length or chunked encoding, reads whatever of the body the application
  left, and waits up to KEEP_ALIVE_SECONDS for the next request (and as long for the first).
  Anything else (a websocket upgrade, a chunked upload, HTTP/1.0, "Connection: close") goes
  Werkzeug's way and is closed.
- Werkzeug formats a log line for every request even when its logger drops it.
- http.server reads a request's header lines through the e-mail parser, which built a whole
  e-mail message for every request: with Werkzeug's environ, a sixth of the interpreter time spent
  on a kiosk's request (py-spy, bench/load.py). `Http11RequestHandler.parse_request` reads them into
  a plain list (`RequestHeaders`) and `make_environ` builds the WSGI environ from it directly, with
  the same keys and values as Werkzeug's.

(gunicorn, as README "Deployment" runs it, has its own pool and keeps connections open.)
"""
from __future__ import annotations

import logging
import queue
import socket
import struct
import sys
import threading
import time
from email.utils import formatdate
from http import HTTPStatus

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

IDLE_SECONDS = 60.0
KEEP_ALIVE_SECONDS = 15.0
DRAIN_LIMIT = 1 << 20       # a larger unread body is cheaper to drop with its connection
MAX_LINE = 65536            # as http.server: a longer request or header line is refused
MAX_HEADERS = 100           # as http.client: more header lines are refused

_request_log = logging.getLogger("werkzeug")


class Http11RequestHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive where it is safe (module docstring)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # The head and the body leave in two writes; on a connection that stays open, Nagle's
        # algorithm would hold the body until the client's delayed ACK of the head (40 ms).
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A connection that sends nothing (one kept open after an answer, a browser's spare one)
        # must not hold a worker for ever: every read gives up after KEEP_ALIVE_SECONDS. The
        # kernel keeps that time, so the socket stays blocking: a timeout of Python's own would
        # cost two system calls more on every read.
        self._receive_timeout(KEEP_ALIVE_SECONDS)

    def _receive_timeout(self, seconds: float) -> None:
        whole = int(seconds)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                   struct.pack("ll", whole, int((seconds - whole) * 1e6)))

    def handle_one_request(self) -> None:
        try:
            more = self.rfile.peek(1)
        except OSError:         # timed out, or reset by the client
            more = b""
        if not more:
            self.close_connection = True
            return
        super().handle_one_request()

    def parse_request(self) -> bool:
        """As http.server's, with the header lines read into a `RequestHeaders` (module docstring).
        On failure the error answer has been sent and the connection will close."""
        self.command = None
        # An error answer has a status line and headers even when the request line was not
        # understood (http.server answers those as HTTP/0.9: a bare page, no status).
        self.request_version = "HTTP/1.1"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3:
            if words:
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({self.requestline!r})")
            return False
        command, path, version = words
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            known = version.startswith("HTTP/") and version[5:].replace(".", "", 1).isdigit()
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED if known else HTTPStatus.BAD_REQUEST,
                            f"Bad request version ({version!r})")
            return False
        self.request_version, self.command = version, command
        # As http.server (gh-87389): "//host/path" would read as a link to another site.
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        headers = self.headers = RequestHeaders()
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                break
            if len(line) > MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            name, colon, value = str(line, "iso-8859-1").partition(":")
            # A folded line (leading space) or one without a name is refused, as RFC 9112 allows.
            if not colon or not name or name != name.strip():
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad header line")
                return False
            headers.pairs.append((name, value.strip(" \t\r\n")))
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        connection = headers.get("Connection", "").lower()
        self.close_connection = version != "HTTP/1.1" and connection != "keep-alive" or connection == "close"
        if (headers.get("Expect", "").lower() == "100-continue" and version == "HTTP/1.1"
                and not self.handle_expect_100()):
            return False
        return True

    def make_environ(self) -> dict:
        """Werkzeug's environ, built from the header pairs without its URL parser. Werkzeug's own
        builds it for what this one does not handle: escapes or non-ASCII in the path, a target
        that is not a path, a chunked body, TLS."""
        target = self.path
        path, _, query = target.partition("#")[0].partition("?")
        if (not target.startswith("/") or "%" in path or not target.isascii()
                or "Transfer-Encoding" in self.headers or self.server.ssl_context is not None):
            return super().make_environ()
        server = self.server
        environ = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": self.rfile, "wsgi.errors": sys.stderr,
            "wsgi.multithread": server.multithread, "wsgi.multiprocess": server.multiprocess,
            "wsgi.run_once": False, "werkzeug.socket": self.connection,
            "SERVER_SOFTWARE": self.server_version, "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_URI": target, "RAW_URI": target,
            "REMOTE_ADDR": self.address_string(), "REMOTE_PORT": self.port_integer(),
            "SERVER_NAME": server.server_address[0], "SERVER_PORT": str(server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
        }
        for name, value in self.headers.pairs:
            if "_" in name:     # as Werkzeug: "X_Forwarded" must not pass for "X-Forwarded"
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if _request_log.isEnabledFor(logging.INFO):
            super().log_request(code, size)

    def run_wsgi(self) -> None:
        length = self._body_length()
        if length is None:
            # Werkzeug's way: a websocket may stay silent for long, and so may a chunked upload.
            self._receive_timeout(0)
            self.close_connection = True
            super().run_wsgi()
            return
        environ = self.environ = self.make_environ()
        body = LimitedStream(self.rfile, length)
        environ["wsgi.input"], environ["wsgi.input_terminated"] = body, True
        answer = _Answer(self)
        try:
            chunks = self.server.app(environ, answer.start_response)
            try:
                for chunk in chunks:
                    answer.write(chunk)
                answer.finish()
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except (ConnectionError, TimeoutError) as exc:
            self.close_connection = True
            self.connection_dropped(exc, environ)
            return
        except Exception:  # noqa: BLE001 — as Werkzeug: a 500 if nothing was sent yet, and the error logged
            self.close_connection = True
            _request_log.exception("error on request %s %s", self.command, self.path)
            if not answer.sent:
                self.send_error(500)
            return
        self._drain(body)

    def _drain(self, body: LimitedStream) -> None:
        """Read what the application left of the body, so the next request starts where it should."""
        drained = 0
        try:
            while not body.is_exhausted and drained <= DRAIN_LIMIT:
                drained += len(body.read(64 * 1024))
        except Exception:  # noqa: BLE001 — the client went away mid-body
            pass
        if not body.is_exhausted:
            self.close_connection = True

    def _body_length(self) -> int | None:
        """The request body's length, when the connection may serve another request after this one."""
        headers = self.headers
        if (self.request_version != "HTTP/1.1" or self.close_connection or "Upgrade" in headers
                or "Transfer-Encoding" in headers or headers.get("Expect")):
            return None
        raw = headers.get("Content-Length", "0").strip()
        return int(raw) if raw.isdigit() and len(raw) < 16 else None


_date_header = (0, "")


def _date_now() -> str:
    """The Date header's value, formatted once a second instead of once an answer."""
    global _date_header
    second = int(time.time())
    if _date_header[0] != second:
        _date_header = (second, formatdate(second, usegmt=True))
    return _date_header[1]


class RequestHeaders:
    """A request's header lines, in order, looked up by name whatever its case (what Werkzeug and
    http.server ask of `handler.headers`)."""

    __slots__ = ("pairs",)

    def __init__(self):
        self.pairs: list[tuple[str, str]] = []

    def get(self, name: str, default=None):
        name = name.lower()
        for key, value in self.pairs:
            if key.lower() == name:
                return value
        return default

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __getitem__(self, name: str):
        return self.get(name)

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


class _Answer:
    """One response written on a connection that stays open: it says its length or is chunked."""

    def __init__(self, handler: Http11RequestHandler):
        self.handler = handler
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent = self.chunked = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None):
        if exc_info and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        # The head leaves with the first part of the body, in one write: two would cost a system
        # call more, and the client a second wake-up for the same answer.
        head = b"" if self.sent else self._head()
        if data and self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        if head or data:
            self.handler.wfile.write(head + data)

    def finish(self) -> None:
        out = (b"" if self.sent else self._head()) + (b"0\r\n\r\n" if self.chunked else b"")
        if out:
            self.handler.wfile.write(out)

    def _head(self) -> bytes:
        if self.status is None:
            raise RuntimeError("the application wrote before start_response")
        handler = self.handler
        code, _, reason = self.status.partition(" ")
        reason = reason or handler.responses.get(int(code), ("",))[0]
        handler.log_request(int(code))
        lines = [f"{handler.protocol_version} {code} {reason}",
                 f"Server: {handler.version_string()}", f"Date: {_date_now()}"]
        names = set()
        for name, value in self.headers:
            lines.append(f"{name}: {value}")
            names.add(name.lower())
            if name.lower() == "connection" and value.lower() == "close":
                handler.close_connection = True
        bodiless = handler.command == "HEAD" or int(code) in (204, 304) or 100 <= int(code) < 200
        if "content-length" not in names and not bodiless:
            self.chunked = True
            lines.append("Transfer-Encoding: chunked")
        self.sent = True
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")


class PooledWSGIServer(BaseWSGIServer):
    multithread = True
    daemon_threads = True

    def __init__(self, host: str, port: int, app, idle_seconds: float = IDLE_SECONDS, **kwargs):
        super().__init__(host, port, app, handler=Http11RequestHandler, **kwargs)
        self.idle_seconds = idle_seconds
        self._connections: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Workers waiting for a connection, less connections queued and not yet taken: a connection
        # put in the queue when this is positive is sure to be taken by a worker already there.
        self._spare = 0
        self.workers = 0

    def process_request(self, request, client_address) -> None:
        with self._lock:
            start_one = self._spare == 0
            if start_one:
                self.workers += 1
            else:
                self._spare -= 1
        self._connections.put((request, client_address))
        if start_one:
            threading.Thread(target=self._work, name="hangdoi-http", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                request, client_address = self._connections.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._spare > 0:     # no queued connection counts on this worker
                        self._spare -= 1
                        self.workers -= 1
                        return
                continue
            self._serve_one(request, client_address)
            with self._lock:
                self._spare += 1

    def _serve_one(self, request, client_address) -> None:
        # As socketserver.ThreadingMixIn.process_request_thread does.
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 — one connection's failure is logged, the worker goes on
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
