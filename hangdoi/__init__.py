"""hangdoi: the kiosk and queue-ticketing system for Vietnam's public administrative service centres."""
from .app import create_app

__all__ = ["create_app"]
