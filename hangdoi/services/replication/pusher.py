"""At a centre: sends its timeline to the province, for as long as the server runs.

It asks the province where to start (the last change it acknowledged), then sends the changes after
it in batches (hangdoi/services/replication/timeline.py) and moves on by what each answer
acknowledges. Nothing is kept on the centre's side: after a cut link, a restart or a push whose
answer never came, it asks again and sends from there; the province skips rows it already has.
A link that fails is tried again after 1, 2, 4 … up to 60 seconds. The centre never waits for the
province: tickets are issued and called from its own database whatever the link does.

The other way, every BOOKINGS_SECONDS, it pulls the slots booked for this centre on the province's
booking page, with the province's key that signs their QR codes, the satisfaction scale it chose
for its centres and, when they changed, its procedure catalogue and its settings template; and it
sends up which slots are still free here (hangdoi/engine/bookings_from_province.py).

A server runs it in a process of its own, one per installation
(hangdoi/services/replication/push_process.py); the tests run it in theirs.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta

from hangdoi.clock import local_day
from hangdoi.engine import bookings_from_province, ratings
from hangdoi.engine.bookings import province_peer
from hangdoi.engine.errors import DomainError
from hangdoi.engine.sql import Tx
from hangdoi.services.administration import province_catalogue, province_settings
from hangdoi.services.replication import booking_days
from hangdoi.services.replication.reference import fingerprint, reference
from hangdoi.services.replication.timeline import (
    ROWS_PER_BATCH,
    batch_after,
    body_hash,
    canonical,
    day_digest,
    day_rows,
)

log = logging.getLogger(__name__)

KEY_HEADER = "X-Hangdoi-Centre-Key"
IDLE_SECONDS = 1.0          # how often a centre that is up to date looks for new changes
HEARTBEAT_SECONDS = 60.0    # a centre with nothing new still tells the province it is there
RECONCILE_SECONDS = 600.0   # how often, once up to date, the last days' digests are compared
RECONCILE_DAYS = 2          # today and yesterday; after a restore from a backup, a week
REFERENCE_SECONDS = 60.0    # how often the centre's names (fields, procedures, …) are compared
BOOKINGS_SECONDS = 10.0     # how often the province's bookings are pulled and the free slots compared
MAX_BACKOFF_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0


class LinkRefused(Exception):
    """The province answered with an error that sending again will not cure (a revoked key)."""


@dataclass
class LinkState:
    """What the centre's admin page and the tests read: how the link to the province is."""
    acknowledged: int | None = None      # the province's mark, as last heard (None: to be asked again)
    known_acknowledged: int | None = None  # the same, kept through failures (for the dashboard)
    last_success: float | None = None    # time.time() of the last answered push or question
    last_error: str | None = None
    pushes: int = 0
    rows_sent: int = 0
    errors: list[str] = field(default_factory=list)
    last_reconciled: float | None = None
    behind_province: bool = False        # the centre's seq fell below the province's mark (a restore)
    failing_since: float | None = None   # time.time() of the first failure since the last success


class Pusher:
    def __init__(self, db, url: str, key: str, centre_id: int | None = None, rows_per_batch: int = ROWS_PER_BATCH,
                 idle_seconds: float = IDLE_SECONDS, timeout: float = TIMEOUT_SECONDS,
                 backoff: tuple[float, float] = (1.0, MAX_BACKOFF_SECONDS),
                 heartbeat_seconds: float = HEARTBEAT_SECONDS, reconcile_seconds: float = RECONCILE_SECONDS):
        self.db, self.url, self.key, self.centre_id = db, url.rstrip("/"), key, centre_id
        self.rows_per_batch, self.idle_seconds, self.timeout = rows_per_batch, idle_seconds, timeout
        self.backoff, self.heartbeat_seconds = backoff, heartbeat_seconds
        self._last_post = float("-inf")
        self.reconcile_seconds = reconcile_seconds
        self._last_reconcile = time.monotonic()     # the first comparison comes a while after start
        self._reconcile_days = 0
        self._reference_sent: str | None = None      # the fingerprint the province holds, as last heard
        self._last_reference = float("-inf")
        self._offer_sent: str | None = None          # the fingerprint of the last offer the province took
        self._booking_days_sent: str | None = None   # … and of the bookings' counts
        self._last_bookings = float("-inf")
        self.state = LinkState()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one step at a time (the loop below, and tests) ------------------------------------------
    def push_once(self) -> int:
        """Send the next batch, if any; returns how many rows went. Raises on a failed link."""
        if self.centre_id is None:
            with self.db.read() as session:
                self.centre_id = Tx(session).value("SELECT min(id) FROM centre")
            if self.centre_id is None:
                return 0        # no centre set up yet
        if self.state.acknowledged is None:
            self.state.acknowledged = self._request("GET", "/api/v1/province/link")["acknowledged"]
        with self.db.read() as session:
            tx = Tx(session)
            batch = batch_after(tx, self.centre_id, self.state.acknowledged, self.rows_per_batch)
            if batch.through < self.state.acknowledged and not self.state.behind_province:
                # The centre's log went back (restored from a backup): its new changes reuse marks the
                # province already holds. Pushes resume once it passes them; until then, and for
                # the days it lost, reconciliation sends what differs.
                log.warning("the centre is at change %d, the province holds up to %d: restored from a backup?",
                            batch.through, self.state.acknowledged)
                self.state.behind_province = True
                self._reconcile_days = 7
        if batch.through <= self.state.acknowledged:
            if time.monotonic() - self._last_post >= self.heartbeat_seconds:
                # Nothing new: an empty push, so the province sees the link is up.
                ack = self.state.acknowledged
                self._request("POST", "/api/v1/province/push",
                              {"centre": self.centre_id, "after": ack, "through": ack, "rows": []})
                self._last_post = time.monotonic()
            return 0
        answer = self._request("POST", "/api/v1/province/push", batch.payload())
        self._last_post = time.monotonic()
        self.state.acknowledged = answer["acknowledged"]
        if answer.get("gap"):
            return 1        # nothing went; the next push starts where the province stands
        self.state.pushes += 1
        self.state.rows_sent += len(batch.rows)
        return len(batch.rows)

    def catch_up(self) -> None:
        """Push until the province has every change made so far, the names they use and the
        bookings' counts."""
        while self.push_once():
            pass
        self.send_reference()
        self.send_booking_days()

    def send_reference(self) -> bool:
        """Send what the centre's figures are named by, if the province holds something else;
        returns whether it went."""
        if self.centre_id is None:
            return False
        with self.db.read() as session:
            document = reference(Tx(session), self.centre_id)
        mine = fingerprint(document)
        if self._reference_sent is None:
            self._reference_sent = self._request("GET", "/api/v1/province/reference")["fingerprint"]
        self._last_reference = time.monotonic()
        if mine == self._reference_sent:
            return False
        self._request("PUT", "/api/v1/province/reference", document)
        self._reference_sent = mine
        return True

    def exchange_bookings(self) -> int:
        """Take the bookings made at the province since this centre's mark (and the province's key),
        then send the slots still free here if they changed; returns how many bookings were new."""
        self._last_bookings = time.monotonic()
        if self.centre_id is None:
            return 0
        new, more = 0, True
        while more:
            with self.db.read() as session:
                peer = province_peer(Tx(session), self.centre_id)
            answer = self._request("GET", f"/api/v1/province/bookings?after={peer['bookings_through'] if peer else 0}")
            if bookings_from_province.learn(self.db, self.centre_id, answer["link"], answer["signing_key"]) \
                    and peer is not None and peer["link_id"] != answer["link"]:
                continue            # linked anew: from the new link's first booking
            new += bookings_from_province.accept(self.db, self.centre_id, answer["items"], answer["through"])
            more = answer["more"]
        if answer.get("rating_scale") in ratings.SCALES:
            ratings.set_scale(self.db, self.centre_id, answer["rating_scale"])
        self._take_document(answer.get("catalogue_fingerprint"), province_catalogue, "/api/v1/province/catalogue")
        self._take_document(answer.get("settings_fingerprint"), province_settings,
                            "/api/v1/province/settings-template")
        offer = bookings_from_province.offer_document(self.db, self.centre_id)
        if fingerprint(offer) != self._offer_sent:
            self._request("PUT", "/api/v1/province/offer", offer)
            self._offer_sent = fingerprint(offer)
        return new

    def _take_document(self, theirs: str | None, keeper, path: str) -> None:
        """Bring down a document the province keeps for its centres when its fingerprint is not the
        one held here. One this centre refuses (a newer province's shape) is logged and left: the
        bookings still come and go."""
        if theirs is None or theirs == keeper.held_fingerprint(self.db, self.centre_id):
            return
        try:
            keeper.keep(self.db, self.centre_id, self._request("GET", path))
        except DomainError as exc:
            log.warning("the province's %s was not kept: %s", path.rsplit("/", 1)[-1], exc.message)

    def send_booking_days(self) -> bool:
        """Send the bookings' counts of the days around today if they changed since last sent."""
        if self.centre_id is None:
            return False
        with self.db.read() as session:
            tx = Tx(session)
            today = local_day(self.db.clock.now(), tx.centre(self.centre_id)["timezone"])
            document = booking_days.document(tx, self.centre_id, today)
        mine = booking_days.fingerprint(document)
        if mine == self._booking_days_sent:
            return False
        self._request("PUT", "/api/v1/province/booking-days", document)
        self._booking_days_sent = mine
        return True

    def day_matches(self, day) -> bool:
        """Whether the province's digest of a local day equals the centre's own."""
        theirs = self._request("GET", f"/api/v1/province/digest?day={day.isoformat()}")
        return theirs["digest"] == self.own_digest(day)["digest"]

    def reconcile(self, day) -> dict:
        """Make the province's copy of a local day equal the centre's: send the rows it lacks or
        holds differently, name those it holds that the centre does not."""
        theirs = {(stream, rid): digest for stream, rid, digest in
                  self._request("GET", f"/api/v1/province/day-index?day={day.isoformat()}")["rows"]}
        with self.db.read() as session:
            mine = {(r["stream"], r["id"]): r for r in day_rows(Tx(session), self.centre_id, day)}
        put = [r for key, r in mine.items() if theirs.get(key) != body_hash(canonical(r))]
        drop = [list(key) for key in theirs if key not in mine]
        for start in range(0, max(len(put), 1), self.rows_per_batch):
            chunk = put[start:start + self.rows_per_batch]
            if chunk or (start == 0 and drop):
                self._request("POST", "/api/v1/province/repair", {"centre": self.centre_id, "day": day.isoformat(),
                                                                  "put": chunk, "drop": drop if start == 0 else []})
        if put or drop:
            log.warning("province copy of %s repaired: %d rows sent again, %d dropped", day, len(put), len(drop))
        return {"put": len(put), "dropped": len(drop)}

    def reconcile_recent(self, days: int = RECONCILE_DAYS) -> dict:
        """Compare the digests of the last `days` local days; repair those that differ."""
        if self.centre_id is None:
            return {}
        with self.db.read() as session:
            tx = Tx(session)
            today = local_day(self.db.clock.now(), tx.centre(self.centre_id)["timezone"])
        repaired = {}
        for back in range(days):
            day = today - timedelta(days=back)
            if not self.day_matches(day):
                repaired[day.isoformat()] = self.reconcile(day)
        self.state.last_reconciled = time.time()
        return repaired

    def own_digest(self, day) -> dict:
        with self.db.read() as session:
            rows = day_rows(Tx(session), self.centre_id, day)
        return {"day": day.isoformat(), "rows": len(rows), "digest": day_digest([canonical(r) for r in rows])}

    # -- the loop --------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="province-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        first, most = self.backoff
        backoff = first
        while not self._stop.is_set():
            try:
                sent = self.push_once()
                self.state.last_success, self.state.last_error, self.state.failing_since = time.time(), None, None
                backoff = first
                if not sent:
                    if time.monotonic() - self._last_reference >= REFERENCE_SECONDS:
                        self.send_reference()
                        self.send_booking_days()
                    if time.monotonic() - self._last_bookings >= BOOKINGS_SECONDS:
                        self.exchange_bookings()
                    if time.monotonic() - self._last_reconcile >= self.reconcile_seconds or self._reconcile_days:
                        self.reconcile_recent(max(RECONCILE_DAYS, self._reconcile_days))
                        self._last_reconcile, self._reconcile_days = time.monotonic(), 0
                    self._stop.wait(self.idle_seconds)
            except Exception as exc:  # noqa: BLE001 — a link that fails is tried again, whatever failed
                if self.state.acknowledged is not None:
                    self.state.known_acknowledged = self.state.acknowledged
                self.state.last_error = str(exc)[:300]
                self.state.failing_since = self.state.failing_since or time.time()
                self.state.errors = [*self.state.errors[-9:], self.state.last_error]
                # Ask the province again: the answer to the last push may never have come.
                self.state.acknowledged = None
                self._reference_sent = self._offer_sent = self._booking_days_sent = None
                log.warning("push to the province failed (again in %.0f s): %s", backoff, exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, most)

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={KEY_HEADER: self.key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            answer = _json_or_none(error.read())
            if error.code == 409 and answer and isinstance(answer.get("acknowledged"), int):
                # A gap: the province says where it stands; the next push starts there.
                return {"acknowledged": answer["acknowledged"], "gap": True}
            message = (answer or {}).get("error", {}).get("message", "")
            if error.code in (401, 403):
                raise LinkRefused(f"the province refused the key ({error.code}): {message}") from None
            raise RuntimeError(f"the province answered {error.code}: {message}") from None


def _json_or_none(raw: bytes) -> dict | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
