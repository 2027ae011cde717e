"""What the manager's dashboard shows: the engine's supervision snapshot, each service's estimated
wait for a newcomer (our forecast, hangdoi/services/estimates/), and every device with its state."""
from __future__ import annotations

from hangdoi.clock import local_time
from hangdoi.engine import bookings, state
from hangdoi.services.estimates.wording import wait_view


def supervision_view(ctx, centre_id: int) -> dict:
    view = state.supervision(ctx.db, centre_id)
    estimates = ctx.estimates.current(centre_id).services
    for service in view["services"]:
        found = wait_view(estimates.get(service["id"]))
        service["estimated_wait"] = found
        service["estimated_wait_minutes"] = found["minutes"] if found else None
    return {**view, **ctx.hub.device_overview(centre_id), "bookings": bookings.day_summary(ctx.db, centre_id),
            "province_link": _province_link(ctx, centre_id, view["centre"]["timezone"])}


def _province_link(ctx, centre_id: int, timezone: str) -> dict | None:
    """The link to the province as this centre's pusher sees it (None: not linked, or another
    process pushes): whether it works, since when it has not (local HH:MM), changes still to send."""
    if ctx.pusher is None:
        return None
    found = ctx.pusher.view(centre_id, state.centre_seq(ctx.db, centre_id))
    if found is not None and found["failing_since"] is not None:
        found["failing_since"] = local_time(found["failing_since"], timezone).strftime("%H:%M")
    return found
