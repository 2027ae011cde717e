"""Group commit for SQLite.

SQLite has one writer at a time. When many requests want to write at once, letting each thread
take the lock in turn makes every one of them wait for the others' commits (an fsync each) and for
the interpreter. Instead, while a batch is being written, changes are queued to one writer thread,
which then runs every change waiting at that moment in a single transaction, each inside its own
SAVEPOINT so that a refused change (a domain error) rolls back alone, and commits the batch with
one fsync. A change that finds nothing being written and nothing queued commits in its caller's
thread, alone, without the two thread switches of a hand-off. A caller gets its answer only after
the commit that made its change durable, and the realtime projection sees the changes in seq order,
before any caller is answered.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from hangdoi.engine.sql import Tx

log = logging.getLogger(__name__)

MAX_BATCH = 64


@dataclass
class _Job:
    body: Callable
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    change: Any = None


class _Refused(Exception):
    """A batch's only change was refused: roll its transaction back."""


class GroupCommit:
    def __init__(self, db, make_work: Callable, max_batch: int = MAX_BATCH):
        self.db = db
        self.make_work = make_work
        self.max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Held while a batch is written, by the writer thread or by a caller writing its own change.
        self._idle = threading.Lock()
        self._writer_waiting = False

    def run(self, body: Callable):
        job = _Job(body)
        if not self._writer_waiting and self._jobs.empty() and self._idle.acquire(blocking=False):
            # Nothing is being written: the change commits in this thread, alone. Handing it to
            # the writer thread and back would cost two thread switches and gather nothing.
            try:
                self._commit([job])
            finally:
                self._idle.release()
        else:
            self._ensure_started()
            self._jobs.put(job)
            job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="hangdoi-writer", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = [self._jobs.get()]
            # Callers that find the writer idle commit their own change; they must not keep
            # overtaking the changes queued here.
            self._writer_waiting = True
            with self._idle:
                self._writer_waiting = False
                while len(batch) < self.max_batch:
                    try:
                        batch.append(self._jobs.get_nowait())
                    except queue.Empty:
                        break
                self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        # Below a few hundred changes a second a batch mostly holds one change; it then needs no
        # savepoint: when refused, the whole transaction rolls back.
        alone = len(batch) == 1
        try:
            with self.db.sqlite_write_cursor() as cursor:
                # One transaction, so one Tx: its cache of rows that stay put (the centre, a
                # service, a kiosk) serves every change in the batch.
                tx = Tx.on_cursor(cursor)
                works = [self._run_one(tx, job, savepoint=not alone) for job in batch]
                if alone and batch[0].error is not None:
                    raise _Refused
                self._count_queues(batch, works)
        except _Refused:
            pass
        except BaseException as exc:  # noqa: BLE001 — the commit failed: nothing in the batch happened
            log.exception("group commit of %d changes failed", len(batch))
            for job in batch:
                job.error, job.change = job.error or exc, None
        for job in batch:
            if job.change is not None:
                try:
                    self.db.committed(job.change)
                except Exception:  # noqa: BLE001 — publishing must not undo a committed change
                    log.exception("publishing change %s failed", job.change.seq)
            job.done.set()

    def _run_one(self, tx: Tx, job: _Job, savepoint: bool):
        work = self.make_work(tx, self.db.clock.now())
        if savepoint:
            tx.execute("SAVEPOINT change")
        try:
            job.result = job.body(work)
            job.change = work.seal(count_queues=False)
        except Exception as exc:  # noqa: BLE001 — handed to the caller as raised
            if savepoint:
                tx.execute("ROLLBACK TO change")
            tx.forget_all()     # what the refused change read may be what it changed
            job.error, job.result, job.change = exc, None, None
        if savepoint:
            tx.execute("RELEASE change")
        return work

    @staticmethod
    def _count_queues(batch: list[_Job], works: list) -> None:
        """Count the waiting tickets once per centre, after its last change in the batch: the count
        scans the day's queue, and screens only keep the newest one anyway."""
        counted: set[int] = set()
        for job, work in reversed(list(zip(batch, works))):
            if job.change is not None and job.change.centre_id not in counted:
                counted.add(job.change.centre_id)
                job.change.queues = work.count_queues(job.change.centre_id)
