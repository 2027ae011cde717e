"""The application for a production WSGI server, several processes behind nginx:

    gunicorn --worker-class gthread --threads 100 --workers 4 --bind 127.0.0.1:5000 hangdoi.wsgi:app

Settings come from the environment as for `hangdoi serve` (README "Deployment"). Several workers
need PostgreSQL (`HANGDOI_DATABASE_URL`) and Redis (`HANGDOI_REDIS_URL`: Socket.IO messages reach
sockets held by the other workers). Clients use the websocket transport only, so no worker needs
sticky sessions. The schema is not migrated here: run `hangdoi db upgrade` before starting.
"""
from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.running import hold
from hangdoi.serving import close_sockets_when_stopping
from hangdoi.web.interpreter import settle_after_start

settings = load_settings()
hold(settings.data_dir)                 # `hangdoi restore` refuses while this process serves
app = create_app(settings)
settle_after_start()
close_sockets_when_stopping(app.extensions["hangdoi"].hub)
