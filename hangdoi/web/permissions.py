"""Who may call each route: declared where the route is defined, checked before it runs.

    @api.post("/tickets")
    @allow(KIOSK)
    def issue_ticket(): ...

`allow(*callers)` marks a view. Every API request is checked against its view's mark before the
body is read (`check`): 401 when no caller it names is there, 403 when someone else is. A page
(kiosk, display, counter terminal, the manager's pages) is marked too; it shows its own answer to
whoever may not use it (a sign-in form, a "this screen is not registered" page), so the mark is
its declaration and the page enforces it. An application with a route that declares nothing does
not start (`require_declarations`), and tests/test_permissions.py reads the marks.

Which centre, which counter a caller may touch is narrower, and stays with the view and the
engine (hangdoi/engine/scope.py, the counter's signed-in officer): this says who may knock.
Socket events declare theirs in hangdoi/web/realtime/hub.py (ROOMS, EVENTS).
"""
from __future__ import annotations

# Officers' roles are callers too (hangdoi/models.py): OFFICER lets in any signed-in officer,
# manager or admin (the engine then checks the counter), MANAGER managers and admins, ADMIN admins,
# PROVINCE province admins; a province admin passes every one of them.
from hangdoi.models import ADMIN, MANAGER, OFFICER, PROVINCE

ANYONE = "anyone"        # citizens' phones, the open pages, signing in
KIOSK = "kiosk"          # a registered kiosk, by its key (X-Hangdoi-Kiosk-Key)
TABLET = "tablet"        # a counter's rating tablet, by its key (X-Hangdoi-Tablet-Key)
BRIDGE = "bridge"        # a hardware bridge, by the hardware key (X-Hangdoi-Hardware-Key)
DISPLAY = "display"      # a registered lobby display, by the key in its page's address
CENTRE = "centre"        # at a province server: a linked centre, by its key (X-Hangdoi-Centre-Key)
CALLERS = (ANYONE, KIOSK, TABLET, BRIDGE, DISPLAY, CENTRE, OFFICER, MANAGER, ADMIN, PROVINCE)

# The officers' roles each mark lets in.
ROLES_OF = {OFFICER: {"officer", "manager", "admin", "province"}, MANAGER: {"manager", "admin", "province"},
            ADMIN: {"admin", "province"}, PROVINCE: {"province"}}


def allow(*callers: str):
    unknown = set(callers) - set(CALLERS)
    if not callers or unknown:
        raise ValueError(f"allow() takes some of {', '.join(CALLERS)}; got {callers}")

    def mark(view):
        view.allowed = frozenset(callers)
        return view
    return mark


def declared(view) -> frozenset | None:
    return getattr(view, "allowed", None)


def require_declarations(app) -> None:
    """Every route says who may call it (Flask's own static routes serve files to anyone)."""
    missing = sorted(endpoint for endpoint, view in app.view_functions.items()
                     if declared(view) is None and not endpoint.endswith("static"))
    if missing:
        raise RuntimeError(f"routes without @allow(...): {', '.join(missing)}")


def check(allowed: frozenset, proofs: dict) -> str | None:
    """Which of the `allowed` callers the request proves to be (`proofs`: caller → a function that
    answers True, False, or None where the request names no such caller), else None.
    Raises nothing itself: the caller decides 401 or 403."""
    if ANYONE in allowed:
        return ANYONE
    for caller in allowed:
        if proofs[caller]():
            return caller
    return None
