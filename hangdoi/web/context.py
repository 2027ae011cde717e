"""What every request handler of the web layer reaches for: the application's context.

The blueprints (the kiosk, counter, display and admin pages, the API, the realtime hub) take it
from here, below the application factory that registers them, so no page imports the factory
back.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from hangdoi.config import Settings
from hangdoi.database import Database
from hangdoi.models import Centre
from hangdoi.web.throttle import Throttles


@dataclass
class Hangdoi:
    """What request handlers need, hung on `app.extensions["hangdoi"]`."""

    settings: Settings
    db: Database
    throttles: Throttles
    hub: object = None
    printing: object = None
    estimates: object = None
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
