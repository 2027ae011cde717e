"""`hangdoi serve` and `hangdoi demo`: gunicorn with threaded workers, embedded.

One server in every mode: the one a province's deployment runs behind nginx is the one a commune
centre runs alone, so the HTTP parsing, the connection limits and the websocket handling that the
tests exercise are the ones in production. gunicorn's own limits are set here (README "Security"):
a request line or header longer than it accepts is answered 400, a request head that has not
arrived within `timeout` seconds drops its connection, and at most `worker_connections` clients
are held per worker; the rest wait in the listen backlog.

The application is built in each worker, after the fork: it starts threads (the database writer,
the realtime projection) that would not survive one.
"""
from __future__ import annotations

import signal
import threading

from gunicorn.app.base import BaseApplication

from hangdoi.config import Settings

# Each open websocket holds one of a worker's threads for as long as it is connected: a centre's
# kiosks, lobby screens, counters and rating tablets, with room to spare.
THREADS = 100


def options(settings: Settings, host: str, port: int) -> dict:
    """gunicorn's settings for this installation (gunicorn's names)."""
    workers = settings.workers or (1 if settings.resolved_database_url().startswith("sqlite") else 2)
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": "gthread",
        "threads": settings.threads or THREADS,
        # Connections a worker holds at once (idle keep-alive ones included); more wait in the backlog.
        "worker_connections": settings.max_connections,
        # Silence from a worker this long means it is stuck: gunicorn restarts it.
        "timeout": 60,
        "graceful_timeout": 10,
        # A kiosk or screen polls at most every few seconds; an idle connection is closed after this.
        "keepalive": 15,
        "limit_request_line": 4094,
        "limit_request_fields": 60,
        "limit_request_field_size": 8190,
        # One line per request would cost more than the request; errors still reach the log.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "hangdoi",
        # The forwarded-for headers are believed only as far as settings.proxies says (ProxyFix).
        "forwarded_allow_ips": "127.0.0.1,::1" if settings.proxies else "",
    }


class Server(BaseApplication):
    """gunicorn, configured from `options`, serving what `build` returns in each worker."""

    def __init__(self, build, settings: dict):
        self._build, self._settings = build, settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._settings.items():
            self.cfg.set(name, value)

    def load(self):
        return self._build()


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until stopped (SIGTERM or Ctrl-C: gunicorn lets requests in flight finish)."""
    def build():
        from hangdoi.app import create_app
        from hangdoi.web.interpreter import settle_after_start
        from hangdoi.running import hold
        hold(settings.data_dir)
        app = create_app(settings)
        settle_after_start()
        close_sockets_when_stopping(app.extensions["hangdoi"].hub)
        return app

    Server(build, options(settings, host, port)).run()


def close_sockets_when_stopping(hub) -> None:
    """When gunicorn stops this worker (SIGTERM: graceful, SIGQUIT or SIGINT: quick), close its
    realtime sockets too. A lobby screen's socket never ends by itself, so gunicorn would otherwise
    wait out its graceful timeout and then kill the worker: every restart took 10 s and ended with
    a SIGKILL. Runs in the worker, whose own handlers gunicorn has installed by then; they still run
    first, in the main thread, as signal handlers do. Nothing is done where no one handles SIGTERM
    (the module imported outside a server) or outside the main thread."""
    if threading.current_thread() is not threading.main_thread() or not callable(signal.getsignal(signal.SIGTERM)):
        return
    for number in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
        previous = signal.getsignal(number)
        if not callable(previous):
            continue

        def stopping(sig, frame, previous=previous):
            threading.Thread(target=hub.close_all, name="close-sockets", daemon=True).start()
            previous(sig, frame)
        signal.signal(number, stopping)
