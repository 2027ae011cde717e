"""REST API v1 (/api/v1): the blueprint (blueprint.py) and the modules whose routes join it."""
from hangdoi.web.api import admin, bookings, core, hardware, openapi, province, province_bookings, reports  # noqa: F401 — their routes join the blueprint
from hangdoi.web.api.blueprint import api

__all__ = ["api"]
