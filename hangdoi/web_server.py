"""The HTTP server of `hangdoi serve`: Werkzeug's, which Flask-SocketIO's threading mode runs on,
with two changes measured under bench/load.py.

- Werkzeug's threaded server starts a thread for every connection, and closes every connection
  after one answer: at 300 tickets a second that is 300+ thread starts a second, 100 µs of
  interpreter and kernel time each. `PooledWSGIServer` hands each connection to an idle worker
  thread and starts one only when none is idle. A websocket holds its worker for as long as it is
  open, so the pool grows to the busiest moment's number of connections; a worker idle for
  IDLE_SECONDS ends.
- Werkzeug formats a log line for every request even when its logger drops it.

(gunicorn, as README "Deployment" runs it, has its own pool and keeps connections open.)
"""
from __future__ import annotations

import logging
import queue
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

IDLE_SECONDS = 60.0

_request_log = logging.getLogger("werkzeug")


class Http11RequestHandler(WSGIRequestHandler):
    """Answers in HTTP/1.1 (Werkzeug 3 still closes each connection after its answer, since its
    server cannot drain an unread request body safely)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if _request_log.isEnabledFor(logging.INFO):
            super().log_request(code, size)


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
