"""The application factory: one Flask app, its database, its realtime hub."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from werkzeug.routing import IntegerConverter

from hangdoi.config import Settings, load_settings
from hangdoi.database import Database
from hangdoi.web.context import Hangdoi, KioskKeys
from hangdoi.web.permissions import require_declarations
from hangdoi.web.throttle import Throttles, make_limiter


class AsciiInt(IntegerConverter):
    regex = r"[0-9]+"


def create_app(settings: Settings | None = None, db: Database | None = None, clock=None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, template_folder="web/templates",
                instance_path=str(settings.data_dir.resolve() / "instance"))
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
    context = Hangdoi(settings=settings, db=db, throttles=Throttles(settings), kiosk_keys=KioskKeys(db))
    app.extensions["hangdoi"] = context

    from counter import bp as counter_pages
    from display import bp as display_pages
    from hangdoi.services.estimates.live import LiveEstimates
    from hangdoi.services.notify import Notifier
    from hangdoi.services.printing import TicketPrinting
    from hangdoi.web import security
    from hangdoi.web.admin import bp as admin_pages
    from hangdoi.web.api import api, errors
    from hangdoi.web.assets import assets
    from hangdoi.web.home import bp as home_page
    from hangdoi.web.realtime.hub import Hub
    from kiosk import bp as kiosk_pages
    context.hub = Hub(app, db, settings)
    context.printing = TicketPrinting(db, settings.data_dir, notify=context.hub.device_status)
    context.hub.devices = context.printing.devices
    context.estimates = LiveEstimates(db, emit=context.hub.estimates_changed)
    db.on_commit(context.estimates.on_commit)
    # Messages to citizens who began on a phone; its threads start with the first committed change.
    context.notify = Notifier(db, context.estimates)
    db.on_commit(context.notify.on_commit)
    if settings.province_url and settings.province_key:
        from hangdoi.services.replication.push_process import PushKeeper
        context.pusher = PushKeeper(db.url, settings.data_dir, settings.province_url, settings.province_key,
                                    settings.province_centre or None)
        context.pusher.start()
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
    require_declarations(app)
    return app
