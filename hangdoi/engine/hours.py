"""Opening hours: when the kiosk may hand out tickets."""
from __future__ import annotations

from datetime import datetime, time

from hangdoi.clock import local_time

DEFAULT_HOURS = {"sessions": [["07:30", "11:30"], ["13:30", "17:00"]], "weekdays": [0, 1, 2, 3, 4]}


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def session_left(centre: dict, now: datetime) -> float | None:
    """Minutes until the session under way ends; None outside the sessions (or on a closed day)."""
    local = local_time(now, centre["timezone"])
    hours = centre["opening_hours"] or DEFAULT_HOURS
    if (local.date().isoformat() in (centre["closed_days"] or [])
            or local.weekday() not in hours.get("weekdays", DEFAULT_HOURS["weekdays"])):
        return None
    for first, last in hours.get("sessions") or []:
        start, end = (datetime.combine(local.date(), parse_hhmm(t), local.tzinfo) for t in (first, last))
        if start <= local < end:
            return (end - local).total_seconds() / 60
    return None


def accepts_tickets(centre: dict, now: datetime) -> bool:
    """Tickets are issued from the first session's start to the last session's end on open days.

    The lunch break is inside that span on purpose: citizens who arrive at noon queue for the
    afternoon session rather than being turned away.
    """
    if (centre["settings"] or {}).get("accept_outside_hours"):
        return True
    local = local_time(now, centre["timezone"])
    if local.date().isoformat() in (centre["closed_days"] or []):
        return False
    hours = centre["opening_hours"] or DEFAULT_HOURS
    if local.weekday() not in hours.get("weekdays", DEFAULT_HOURS["weekdays"]):
        return False
    sessions = hours.get("sessions") or []
    if not sessions:
        return True
    return parse_hhmm(sessions[0][0]) <= local.time() < parse_hhmm(sessions[-1][1])
