"""WSGI entry point for production servers: `gunicorn -k gthread --threads 100 -w 1 hangdoi.wsgi:app`."""
import sys

from .app import create_app

sys.setswitchinterval(0.0005)  # see hangdoi.cli._serve
app = create_app()
