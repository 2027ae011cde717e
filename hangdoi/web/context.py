"""What every request handler of the web layer reaches for: the application's context.

The blueprints (the kiosk, counter, display and admin pages, the API, the realtime hub) take it
from here, below the application factory that registers them, so no page imports the factory
back.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from hangdoi.config import Settings
from hangdoi.database import Database
from hangdoi.engine.state import device_by_key
from hangdoi.models import Centre
from hangdoi.web.throttle import Throttles


class KioskKeys:
    """Which registered kiosk a key is, remembered for KEEP_SECONDS: every ticket asks, 300 a second
    at the busiest. An admin's change of kiosks forgets them at once in this process; a kiosk
    deactivated through another process stops within KEEP_SECONDS. Wrong keys are remembered too
    (a guesser gets no database read each time), at most LIMIT keys in all."""

    KEEP_SECONDS = 10.0
    LIMIT = 1000

    def __init__(self, db: Database):
        self.db = db
        self._known: dict[str, tuple[float, dict | None]] = {}
        self._lock = threading.Lock()

    def find(self, key: str) -> dict | None:
        now = time.monotonic()
        known = self._known.get(key)
        if known is not None and now - known[0] < self.KEEP_SECONDS:
            return known[1]
        found = device_by_key(self.db, "kiosk", key)
        with self._lock:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[key] = (now, found)
        return found

    def forget(self) -> None:
        with self._lock:
            self._known.clear()


@dataclass
class Hangdoi:
    """What request handlers need, hung on `app.extensions["hangdoi"]`."""

    settings: Settings
    db: Database
    throttles: Throttles
    kiosk_keys: KioskKeys
    hub: object = None
    printing: object = None
    estimates: object = None
    notify: object = None
    pusher: object = None          # a centre linked to its province: hangdoi/services/replication/push_process.py
    _default_centre: int | None = None

    def default_centre_id(self) -> int | None:
        """The first centre: the one a single-centre installation serves. Centres are never deleted,
        so once found it stays valid."""
        if self._default_centre is None:
            with self.db.read() as s:
                self._default_centre = s.scalars(select(Centre.id).order_by(Centre.id)).first()
        return self._default_centre


def hangdoi() -> Hangdoi:
    return current_app.extensions["hangdoi"]
