"""The estimates every screen reads, per centre, kept fresh without costing the queue its speed.

Requests never compute: they read the centre's latest figures, which one background thread keeps
fresh. It notices a change (its own process's commits at once, other processes' through the
centre's seq, read every MIN_INTERVAL seconds) and recomputes at most once every MIN_INTERVAL
seconds, never taking more than CPU_SHARE of the time: a long queue costs more to play forward, so a
big centre on a busy morning recomputes less often rather than slowing the kiosks, and in a burst of
tickets one recomputation covers several. Figures older than MAX_AGE are recomputed anyway, since
time passing changes waits too. The learned model is re-learned every MODEL_REFRESH seconds. New
figures go to every screen of the centre as `estimates`, at most once every PUBLISH_INTERVAL
seconds; tickets' own figures are read through the API.

A ticket just issued is estimated with the figures of the moment: until they are recomputed, its
estimate is the newcomer estimate its kiosk button showed, so the ticket, the kiosk and the API
always agree.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from hangdoi.clock import local_day
from hangdoi.engine.sql import Tx
from hangdoi.services.estimates.forecast import Estimate, Estimates, Forecast
from hangdoi.services.estimates.model import Model, learn
from hangdoi.services.estimates.state import read_state
from hangdoi.services.estimates.wording import wait_view

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.25
# Estimates are in minutes: figures a few seconds old on a queue of thousands cost nobody anything,
# while every per cent of the interpreter they take shows in the kiosks' slowest answers.
CPU_SHARE = 0.03
# The forecast is pure Python: while it runs, request threads wait for the interpreter. In the
# background it works in slices of about SLICE seconds (one run of the forecast at least) and rests
# between them, so that a request waits for one slice at most.
SLICE = 0.002
PUBLISH_INTERVAL = 1.0
MAX_AGE = 30.0
MODEL_REFRESH = 600.0


@dataclass(slots=True)
class Snapshot:
    seq: int
    computed: float                  # time.monotonic()
    estimates: Estimates
    cost: float = 0.0                # seconds the computation worked (its rests not counted)
    published: bool = False


class LiveEstimates:
    def __init__(self, db, emit=None, forecast: Forecast | None = None):
        self.db = db
        self.emit = emit             # emit(centre_id, payload): the realtime hub sends `estimates`
        self.forecast = forecast or Forecast()
        self.min_interval = MIN_INTERVAL
        self._compute_lock = threading.Lock()
        self._snapshots: dict[int, Snapshot] = {}
        self._models: dict[int, tuple[float, Model]] = {}
        self._learning: set[int] = set()
        self._watched: set[int] = set()
        self._changed: set[int] = set()
        self._last_published: dict[int, float] = {}
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
        if ticket["status"] in ("waiting", "remote"):      # a remote number is in the forecast at its place
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
        cached = self._snapshots.get(centre_id)
        if cached is None or not self.min_interval:
            # The first read of a centre, or every read in tests (min_interval 0): computed here.
            with self._compute_lock:
                cached = self._snapshots.get(centre_id)
                if cached is None or cached.seq != self._seq(centre_id):
                    cached = self._store(centre_id, self._compute(centre_id))
        self._watch(centre_id)
        return cached

    # -- keeping fresh ---------------------------------------------------------------------
    def on_commit(self, change) -> None:
        with self._wake:
            self._changed.add(change.centre_id)
        self._watch(change.centre_id)

    def _watch(self, centre_id: int) -> None:
        if centre_id in self._watched and self._thread is not None:
            return
        with self._wake:
            self._watched.add(centre_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._refresh_loop, name="hangdoi-estimates", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _refresh_loop(self) -> None:
        while not self.db.closed:
            with self._wake:
                changed, self._changed = self._changed, set()
                watched = sorted(self._watched)
            wait = MAX_AGE
            for centre_id in watched:
                try:
                    wait = min(wait, self._refresh(centre_id, centre_id in changed))
                    wait = min(wait, self._publish(centre_id))
                except Exception:  # noqa: BLE001 — a failed estimate must never stop the queue
                    log.exception("could not refresh the estimates of centre %s", centre_id)
                    wait = min(wait, MAX_AGE)
            with self._wake:
                if not self._changed:
                    self._wake.wait(timeout=max(wait, 0.01))

    def _refresh(self, centre_id: int, changed: bool) -> float:
        """Recompute when due; the seconds until this centre should be looked at again."""
        cached = self._snapshots.get(centre_id)
        interval = self._interval(cached)
        if cached is not None:
            age = time.monotonic() - cached.computed
            if age < interval:
                return interval - age
            if age < MAX_AGE and not changed and cached.seq == self._seq(centre_id):
                return min(interval, MAX_AGE - age)
        with self._compute_lock:
            fresh = self._store(centre_id, self._compute(centre_id, Pacer(SLICE, CPU_SHARE)))
        return self._interval(fresh)

    def _publish(self, centre_id: int) -> float:
        """Send new figures to the centre's screens at most every PUBLISH_INTERVAL seconds; the
        seconds until unsent figures may go."""
        cached = self._snapshots.get(centre_id)
        if self.emit is None or cached is None or cached.published:
            return MAX_AGE
        wait = self._last_published.get(centre_id, 0.0) + PUBLISH_INTERVAL - time.monotonic()
        if wait > 0:
            return wait
        cached.published = True
        self._last_published[centre_id] = time.monotonic()
        self.emit(centre_id, {"services": self.services_view(centre_id)})
        return MAX_AGE

    def _store(self, centre_id: int, snapshot: Snapshot) -> Snapshot:
        self._snapshots[centre_id] = snapshot
        return snapshot

    def _interval(self, cached: Snapshot | None) -> float:
        if cached is None:
            return 0.0
        return max(self.min_interval or MIN_INTERVAL, cached.cost / CPU_SHARE)

    def _seq(self, centre_id: int) -> int:
        # Asked every MIN_INTERVAL for every centre, by every process: one statement, no ORM session.
        with self.db.single_read_cursor() as cursor:
            return Tx.on_cursor(cursor, postgres=not self.db.is_sqlite).value(
                "SELECT seq FROM centre WHERE id = :id", id=centre_id)

    def _compute(self, centre_id: int, pacer: "Pacer | None" = None) -> Snapshot:
        pacer = pacer or Pacer()
        with self.db.read() as session:
            tx = Tx(session)
            seq = tx.value("SELECT seq FROM centre WHERE id = :id", id=centre_id)
            now = self.db.clock.now()
            model = self._model(tx, centre_id, now)
            state = read_state(tx, centre_id, now, pause=pacer)
        estimates = self.forecast.estimate(state, model, pause=pacer)
        pacer()
        return Snapshot(seq, time.monotonic(), estimates, pacer.worked)

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


class Pacer:
    """Called between pieces of work: once `piece` seconds of work have gone by, it sleeps long
    enough that the work takes at most `share` of the time. `worked` is the time spent working."""

    def __init__(self, piece: float = 0.0, share: float = 1.0, sleep=time.sleep):
        self.piece, self.share, self.sleep = piece, share, sleep
        self.worked = 0.0
        self._unrested = 0.0
        self._since = time.perf_counter()

    def __call__(self) -> None:
        now = time.perf_counter()
        self.worked += now - self._since
        self._unrested += now - self._since
        if self.piece and self._unrested >= self.piece:
            self.sleep(self._unrested * (1 / self.share - 1))
            self._unrested = 0.0
        self._since = time.perf_counter()
