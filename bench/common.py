"""What the benchmarks share: percentiles, the browser, a demo centre on a live server."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hangdoi.catalogue import create_centre  # noqa: E402
from hangdoi.clock import SystemClock  # noqa: E402
from hangdoi.database import Database  # noqa: E402
from hangdoi.demo import DEMO_CENTRE  # noqa: E402
from hangdoi.schema import upgrade  # noqa: E402
from hangdoi.testing import LiveServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


def browser_like_socket() -> socketio.AsyncClient:
    """A Socket.IO client that offers permessage-deflate, as every browser does (aiohttp does not by
    default): the server's answer to that offer is part of what a lobby screen costs it."""
    return socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})


def percentile(values, p: float, digits: int = 1) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], digits)


def spread(values, digits: int = 1) -> dict:
    return {"p50": percentile(values, 50, digits), "p99": percentile(values, 99, digits), "n": len(values)}


def demo_server(prefix: str, spec=DEMO_CENTRE, extra_env: dict | None = None) -> tuple[LiveServer, dict]:
    """A fresh SQLite demo centre behind a live server, without the kiosk rate limit."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    url = f"sqlite:///{data_dir / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = create_centre(db, spec)
    db.dispose()
    env = {"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0", **(extra_env or {})}
    return LiveServer(data_dir, extra_env=env).start(), ids
