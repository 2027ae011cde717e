"""At a province server: every linked centre at a glance, from what it has pushed.

A centre's link is "up" while the province has heard from it within LINK_DOWN_MINUTES (a centre with
nothing new still says so every HEARTBEAT_SECONDS: hangdoi/services/replication/pusher.py), "down"
after that, "waiting" before its first push, "revoked" once its key is. Its figures are today's (the
province's local day) as far as its pushes go: how fresh they are is `last_event_age_minutes`.
"""
from __future__ import annotations

from datetime import datetime

from hangdoi.clock import local_day
from hangdoi.engine.sql import Tx

LINK_DOWN_MINUTES = 10          # no word from a centre this long (5 heartbeats missed): its link is down
WAIT_TARGET_MINUTES = 30        # a citizen waiting longer than this at a centre: an alert
PROVINCE_TIMEZONE = "Asia/Ho_Chi_Minh"
STATES = ("up", "down", "waiting", "revoked")


def overview(db, now: datetime, area: str | None = None, state: str | None = None) -> list[dict]:
    day = local_day(now, PROVINCE_TIMEZONE)
    with db.read() as session:
        tx = Tx(session)
        links = tx.rows("SELECT id, name, area, revoked_at, last_push_at, last_event_at FROM centre_link ORDER BY id")
        figures = {r["link_id"]: r for r in tx.rows(
            "SELECT link_id, count(*) AS issued, "
            "sum(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS waiting, "
            "min(CASE WHEN status = 'waiting' THEN issued_at END) AS oldest_waiting, "
            "sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS served, "
            "sum(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_shows, "
            "count(rating) AS ratings, sum(CASE WHEN rating >= 2 THEN 1 ELSE 0 END) AS satisfied "
            "FROM replica_ticket WHERE local_day = :day GROUP BY link_id", day=tx.day(day))}
        centres = [_centre(tx, link, figures.get(link["id"]), now) for link in links]
    return [c for c in centres if (area is None or c["area"] == area) and (state is None or c["state"] == state)]


def _centre(tx: Tx, link: dict, today: dict | None, now: datetime) -> dict:
    heard, latest = tx.read_instant(link["last_push_at"]), tx.read_instant(link["last_event_at"])
    heard_minutes = _minutes(now, heard)
    if link["revoked_at"] is not None:
        state = "revoked"
    elif heard is None:
        state = "waiting"
    else:
        state = "up" if heard_minutes <= LINK_DOWN_MINUTES else "down"
    today = today or {}
    oldest = tx.read_instant(today.get("oldest_waiting"))
    longest = _minutes(now, oldest)
    ratings = int(today.get("ratings") or 0)
    alerts = []
    if state == "down":
        alerts.append("link_down")
    if longest is not None and longest > WAIT_TARGET_MINUTES:
        alerts.append("long_wait")
    return {"id": link["id"], "name": link["name"], "area": link["area"], "state": state,
            "heard_minutes": heard_minutes, "last_event_age_minutes": _minutes(now, latest),
            "issued": int(today.get("issued") or 0), "waiting": int(today.get("waiting") or 0),
            "longest_wait_minutes": longest, "served": int(today.get("served") or 0),
            "no_shows": int(today.get("no_shows") or 0), "ratings": ratings,
            # The share satisfied or better, as the reports and the Decision 766 index count it.
            "satisfaction": round(int(today["satisfied"]) / ratings, 4) if ratings else None,
            "alerts": alerts}


def _minutes(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds() / 60), 1)
