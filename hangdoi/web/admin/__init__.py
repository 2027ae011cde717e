"""The manager's area:

    /admin                 live supervision (dashboard.py)
    /admin/reports         figures, charts and exports for any range and grouping (reports.py)
    /admin/reports/daily   the printable A4 report of one day (reports.py)
    /admin/settings        the admin's editors; /admin/audit, the audit log (settings.py)
    /admin/centres         a province admin's list of every centre, with today's figures (centres.py)
    /admin/linked          at a province server, the commune centres linked to it (linked.py)
    /admin/province-reports    at a province server, reports across them, on screen and on A4 (province_reports.py)
    /admin/province-catalogue  at a linked centre, the province's procedures it serves (province_catalogue.py)
    /admin/province-settings   at a linked centre, the province's settings template (province_settings.py)

Every page concerns the signed-in officer's centre; a province admin names another with `?centre=`,
which the pages keep in their links and API calls (static/centre.js).

Pages act through the REST API with the session cookie; the dashboard follows the `supervision`
realtime room.
"""
from hangdoi.web.admin import (  # noqa: F401 — their routes join the blueprint
    centres,
    dashboard,
    linked,
    province_catalogue,
    province_reports,
    province_settings,
    reports,
    settings,
)
from hangdoi.web.admin.blueprint import bp

__all__ = ["bp"]
