"""A first estimate of how long someone taking a ticket now would wait, per service, for the
manager's dashboard: the service-aware queue-length baseline.

    people waiting for the service ÷ counters open for it × its mean service time

Open counters are those with an officer signed in and not paused that serve the service as
primary (backup counters count half: they help only when their own queue is empty). The mean
service time is learned from this centre's timeline over the last 14 days (at least 20 served
tickets), else a configured prior (`settings.service_minutes`, 8 by default). The simulation
estimator of the wait-time issue is to replace this behind `service_estimates`.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from .clock import local_day
from .engine import state
from .engine.sql import Tx
from .reports.timeline import visits

LOOKBACK_DAYS = 14
MIN_SAMPLES = 20
DEFAULT_SERVICE_MINUTES = 8.0
REFRESH_SECONDS = 600
BACKUP_WEIGHT = 0.5


class ServiceTimes:
    """Mean service minutes per service, re-learned at most every REFRESH_SECONDS."""

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        self._learned: dict[int, tuple[float, dict[int, float]]] = {}

    def means(self, centre_id: int) -> dict[int, float]:
        with self._lock:
            at, means = self._learned.get(centre_id, (0.0, {}))
            if time.monotonic() - at < REFRESH_SECONDS:
                return means
            means = self._learn(centre_id)
            self._learned[centre_id] = (time.monotonic(), means)
            return means

    def _learn(self, centre_id: int) -> dict[int, float]:
        with self.db.read() as session:
            tx = Tx(session)
            centre = tx.centre(centre_id)
            today = local_day(self.db.clock.now(), centre["timezone"])
            found = visits(tx, centre_id, today - timedelta(days=LOOKBACK_DAYS), today, centre["timezone"])
        served: dict[int, list[int]] = {}
        for visit in found:
            if visit.outcome == "done" and visit.service_ms > 0:
                served.setdefault(visit.service_id, []).append(visit.service_ms)
        return {sid: sum(ms) / len(ms) / 60000 for sid, ms in served.items() if len(ms) >= MIN_SAMPLES}


def service_estimates(db, centre_id: int, services: list[dict], means: dict[int, float]) -> dict[int, int | None]:
    """Minutes a newcomer would wait, per service id; None where no counter is open for it."""
    with db.read() as session:
        tx = Tx(session)
        prior = float(tx.centre(centre_id)["settings"].get("service_minutes") or DEFAULT_SERVICE_MINUTES)
        links = tx.rows(
            "SELECT cs.service_id, cs.role FROM counter_service cs JOIN counter c ON c.id = cs.counter_id "
            "JOIN counter_session s ON s.counter_id = c.id AND s.ended_at IS NULL "
            "WHERE c.centre_id = :centre AND c.active = :yes AND c.paused = :no", centre=centre_id, yes=True, no=False)
    capacity: dict[int, float] = {}
    for link in links:
        capacity[link["service_id"]] = capacity.get(link["service_id"], 0.0) + (
            1.0 if link["role"] == "primary" else BACKUP_WEIGHT)
    estimates = {}
    for service in services:
        counters = capacity.get(service["id"], 0.0)
        minutes = means.get(service["id"], prior)
        estimates[service["id"]] = round(service["waiting"] / counters * minutes) if counters else None
    return estimates


def supervision_view(ctx, centre_id: int) -> dict:
    """What the manager's dashboard shows: the engine's supervision snapshot, each service's
    estimated wait, and every device with its state."""
    view = state.supervision(ctx.db, centre_id)
    estimates = service_estimates(ctx.db, centre_id, view["services"], ctx.service_times.means(centre_id))
    for service in view["services"]:
        service["estimated_wait_minutes"] = estimates[service["id"]]
    return {**view, **ctx.hub.device_overview(centre_id)}
