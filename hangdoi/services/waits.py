"""What the manager's dashboard shows: the engine's supervision snapshot, each service's estimated
wait for a newcomer (our forecast, hangdoi/services/estimates/), and every device with its state."""
from __future__ import annotations

from hangdoi.engine import bookings, state
from hangdoi.services.estimates.wording import wait_view


def supervision_view(ctx, centre_id: int) -> dict:
    view = state.supervision(ctx.db, centre_id)
    estimates = ctx.estimates.current(centre_id).services
    for service in view["services"]:
        found = wait_view(estimates.get(service["id"]))
        service["estimated_wait"] = found
        service["estimated_wait_minutes"] = found["minutes"] if found else None
    return {**view, **ctx.hub.device_overview(centre_id), "bookings": bookings.day_summary(ctx.db, centre_id)}
