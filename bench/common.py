"""What the benchmarks share: percentiles, the browser, a demo centre on a live server."""
from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hangdoi.services.catalogue import create_centre  # noqa: E402
from hangdoi.clock import SystemClock  # noqa: E402
from hangdoi.database import Database  # noqa: E402
from hangdoi.fixtures.demo import DEMO_CENTRE  # noqa: E402
from hangdoi.schema import upgrade  # noqa: E402
from hangdoi.fixtures.testing import LiveServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


def browser_like_socket() -> socketio.AsyncClient:
    """A Socket.IO client that offers permessage-deflate, as every browser does (aiohttp does not by
    default): the server's answer to that offer is part of what a lobby screen costs it."""
    return socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})


class LeanSocketIO:
    """A listening Socket.IO client in a few lines over one aiohttp websocket: connect (with auth),
    call (an emit that waits for its acknowledgement), answer the server's pings, and hand the events
    it has a handler for to that handler, decoding no other. The load benchmark's 70 listeners share
    the server's 2 cores; as python-socketio AsyncClients (which decode every message and start a
    task for each) they took a third of a core at 300 tickets/s, time taken from the server under
    test, where real screens and terminals are machines of their own. Like a browser, it offers
    permessage-deflate."""

    def __init__(self, http: aiohttp.ClientSession, url: str):
        self.http, self.url = http, url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._prefixes: list[tuple[str, Callable]] = []
        self._acks: dict[int, asyncio.Future] = {}
        self._next_ack = 0
        self._reader: asyncio.Task | None = None

    def on(self, event: str, handler: Callable[[dict], Awaitable[None] | None]) -> None:
        self._prefixes.append((f'42["{event}",', handler))

    async def connect(self, auth: dict | None = None) -> None:
        address = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.http.ws_connect(address, compress=15, max_msg_size=0)
        opening = await self.ws.receive_str()
        if not opening.startswith("0"):
            raise ConnectionError(f"not an Engine.IO opening: {opening[:80]}")
        await self.ws.send_str("40" + (json.dumps(auth) if auth else ""))
        answer = await self.ws.receive_str()
        if not answer.startswith("40"):
            raise ConnectionError(f"connection refused: {answer[:200]}")
        self._reader = asyncio.create_task(self._read())

    async def call(self, event: str, data, timeout: float = 30):
        self._next_ack += 1
        ack = self._acks[self._next_ack] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(f"42{self._next_ack}" + json.dumps([event, data]))
        return await asyncio.wait_for(ack, timeout)

    async def disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text = message.data
            if text == "2":
                await self.ws.send_str("3")
            elif text.startswith("43"):
                number, _, body = text[2:].partition("[")
                future = self._acks.pop(int(number), None)
                if future is not None and not future.done():
                    future.set_result(json.loads("[" + body)[0])
            else:
                for prefix, handler in self._prefixes:
                    if text.startswith(prefix):
                        result = handler(json.loads(text[2:])[1])
                        if asyncio.iscoroutine(result):
                            await result


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
    # Every device runs on this one machine: one address holds all the sockets.
    env = {"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0", "HANGDOI_MAX_SOCKETS_PER_ADDRESS": "0", **(extra_env or {})}
    server = LiveServer(data_dir, extra_env=env).start()
    server.kiosk_key = next(iter(ids["kiosks"].values()), None)
    return server, ids
