"""The application factory: one Flask app, its database, its realtime hub."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter
from sqlalchemy import select

from .config import Settings, load_settings
from .database import Database
from .models import Centre
from .throttle import Throttles, make_limiter


class AsciiInt(IntegerConverter):
    regex = r"[0-9]+"


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


def create_app(settings: Settings | None = None, db: Database | None = None, clock=None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.data_dir.resolve() / "instance"))
    # Ids in addresses are ASCII digits only: Werkzeug's own converter took '١' (Arabic-Indic one) for 1.
    app.url_map.converters["int"] = AsciiInt
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A signed-in page stays signed in for a working day at most, like a bearer token.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_hours),
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    db = db or Database(settings.resolved_database_url(), clock=clock, pool_size=settings.db_pool_size)
    context = Hangdoi(settings=settings, db=db, throttles=Throttles(settings))
    app.extensions["hangdoi"] = context

    from display import bp as display_pages

    from . import security
    from .api import api, errors
    from .assets import assets
    from .realtime.hub import Hub
    from counter import bp as counter_pages
    from kiosk import bp as kiosk_pages

    from .admin import bp as admin_pages
    from .home import bp as home_page
    from .printing import TicketPrinting
    from .estimates.live import LiveEstimates
    context.hub = Hub(app, db, settings)
    context.printing = TicketPrinting(db, settings.data_dir, notify=context.hub.device_status)
    context.hub.devices = context.printing.devices
    context.estimates = LiveEstimates(db, emit=context.hub.estimates_changed)
    db.on_commit(context.estimates.on_commit)
    app.register_blueprint(api)
    app.register_blueprint(kiosk_pages)
    app.register_blueprint(counter_pages)
    app.register_blueprint(admin_pages)
    app.register_blueprint(assets)
    app.register_blueprint(display_pages)
    app.register_blueprint(home_page)
    if settings.proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies,
                                x_host=settings.proxies)
    errors.register(app)
    security.register(app)
    make_limiter(app, settings)
    return app


def hangdoi() -> Hangdoi:
    return current_app.extensions["hangdoi"]
