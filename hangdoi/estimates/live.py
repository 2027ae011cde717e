"""The estimates every screen reads, per centre, kept fresh without costing the queue its speed.

Estimates are recomputed from the database when something changed (at most once every
MIN_INTERVAL seconds, and never taking more than CPU_SHARE of the time: a long queue costs more to
play forward, so a big centre on a busy morning recomputes less often rather than slowing the
kiosks; in a burst of tickets one recomputation covers several) or when they are
older than MAX_AGE (time passing changes waits too). The learned model is re-learned every
MODEL_REFRESH seconds. After a change a publisher thread sends the new per-service figures to every
screen of the centre as `estimates`, at most once every PUBLISH_INTERVAL seconds; tickets' own
figures are read through the API.

A ticket just issued is estimated with the figures of the moment: when they are too recent to be
recomputed, its estimate is the newcomer estimate its kiosk button showed, so the ticket, the
kiosk and the API always agree.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..clock import local_day
from ..engine.sql import Tx
from .forecast import Estimate, Estimates, Forecast
from .model import Model, learn
from .state import read_state
from .wording import wait_view

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.25
CPU_SHARE = 0.1
PUBLISH_INTERVAL = 1.0
MAX_AGE = 30.0
MODEL_REFRESH = 600.0


@dataclass(slots=True)
class Snapshot:
    seq: int
    computed: float                  # time.monotonic()
    estimates: Estimates
    cost: float = 0.0                # seconds the computation took


class LiveEstimates:
    def __init__(self, db, emit=None, forecast: Forecast | None = None):
        self.db = db
        self.emit = emit             # emit(centre_id, payload): the realtime hub sends `estimates`
        self.forecast = forecast or Forecast()
        self.min_interval = MIN_INTERVAL
        self._lock = threading.Lock()
        self._snapshots: dict[int, Snapshot] = {}
        self._models: dict[int, tuple[float, Model]] = {}
        self._learning: set[int] = set()
        self._dirty: set[int] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- reading ---------------------------------------------------------------------------
    def current(self, centre_id: int) -> Estimates:
        return self._snapshot(centre_id).estimates

    def for_ticket(self, centre_id: int, ticket_id: int, service_id: int) -> Estimate | None:
        snapshot = self._snapshot(centre_id)
        found = snapshot.estimates.tickets.get(ticket_id)
        return found if found is not None else snapshot.estimates.services.get(service_id)

    def with_estimate(self, ticket: dict, centre_id: int) -> dict:
        """The ticket with its estimated wait (`estimated_wait`; null once it is no longer waiting)."""
        found = None
        if ticket["status"] == "waiting":
            found = wait_view(self.for_ticket(centre_id, ticket["id"], ticket["service"]["id"]))
        return {**ticket, "estimated_wait": found}

    def services_view(self, centre_id: int) -> dict[str, dict | None]:
        """A newcomer's wait per service id (as text: JSON object keys), for screens."""
        return {str(sid): wait_view(e) for sid, e in self.current(centre_id).services.items()}

    def attach(self, snapshot: dict, centre_id: int) -> dict:
        """A kiosk's or display's snapshot with the estimates of the moment."""
        snapshot["estimates"] = self.services_view(centre_id)
        return snapshot

    def _snapshot(self, centre_id: int) -> Snapshot:
        with self._lock:
            cached = self._snapshots.get(centre_id)
            seq = self._seq(centre_id)
            age = time.monotonic() - cached.computed if cached else None
            if cached is None or age >= MAX_AGE or (cached.seq != seq and age >= self._interval(cached)):
                cached = self._compute(centre_id)
                self._snapshots[centre_id] = cached
            return cached

    def _interval(self, cached: Snapshot) -> float:
        if not self.min_interval:
            return 0.0                   # every change read at once (tests)
        return max(self.min_interval, cached.cost / CPU_SHARE)

    def _seq(self, centre_id: int) -> int:
        with self.db.read() as session:
            return Tx(session).value("SELECT seq FROM centre WHERE id = :id", id=centre_id)

    def _compute(self, centre_id: int) -> Snapshot:
        started = time.monotonic()
        with self.db.read() as session:
            tx = Tx(session)
            seq = tx.value("SELECT seq FROM centre WHERE id = :id", id=centre_id)
            now = self.db.clock.now()
            model = self._model(tx, centre_id, now)
            state = read_state(tx, centre_id, now)
        estimates = self.forecast.estimate(state, model)
        done = time.monotonic()
        return Snapshot(seq, done, estimates, done - started)

    def _model(self, tx: Tx, centre_id: int, now) -> Model:
        """The centre's learned model. Learning reads two weeks of timeline: the first time it is done
        here; later refreshes run in the background while the previous model goes on serving."""
        learned = self._models.get(centre_id)
        if learned is None:
            today = local_day(now, tx.centre(centre_id)["timezone"])
            learned = (time.monotonic(), learn(tx, centre_id, today))
            self._models[centre_id] = learned
        elif time.monotonic() - learned[0] >= MODEL_REFRESH and centre_id not in self._learning:
            self._learning.add(centre_id)
            threading.Thread(target=self._relearn, args=(centre_id,), name="hangdoi-learn", daemon=True).start()
        return learned[1]

    def _relearn(self, centre_id: int) -> None:
        try:
            with self.db.read() as session:
                tx = Tx(session)
                today = local_day(self.db.clock.now(), tx.centre(centre_id)["timezone"])
                self._models[centre_id] = (time.monotonic(), learn(tx, centre_id, today))
        except Exception:  # noqa: BLE001 — the previous model stays; the next refresh tries again
            log.exception("could not re-learn the wait model of centre %s", centre_id)
        finally:
            self._learning.discard(centre_id)

    # -- publishing ------------------------------------------------------------------------
    def on_commit(self, change) -> None:
        if self.emit is None:
            return
        with self._wake:
            self._dirty.add(change.centre_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._publish_loop, name="hangdoi-estimates", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _publish_loop(self) -> None:
        watched: set[int] = set()
        while True:
            with self._wake:
                if not self._dirty:
                    self._wake.wait(timeout=MAX_AGE)
                dirty, self._dirty = self._dirty, set()
            watched |= dirty
            for centre_id in sorted(watched):
                try:
                    self.emit(centre_id, {"services": self.services_view(centre_id)})
                except Exception:  # noqa: BLE001 — a failed estimate must never stop the queue
                    log.exception("could not publish estimates for centre %s", centre_id)
            time.sleep(PUBLISH_INTERVAL)
