"""Printing a ticket without ever holding up the kiosk.

Each printer has one worker thread and a queue (a printer does one job at a time; two kiosks may
share one). The caller waits at most LIMIT seconds for the answer; a job that cannot start writing
before its deadline is dropped, so a ticket the citizen was told did not print never comes out
minutes later. The printer is asked for its status before the ticket (no point printing into an
empty roll) and after it (the paper may have run out half way).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from . import status as st
from .raster import encode
from .ticket import PrintedTicket, render
from .transports import PrinterUnavailable, open_transport, printer_key

log = logging.getLogger(__name__)

LIMIT = 2.5     # the printer's share of the 3 s a kiosk may wait; issuing needs the rest
TIMEOUT = "printer_timeout"
SENT = "sent"


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    state: str          # a status.* state, or TIMEOUT
    printer: str        # printer_key of the printer asked

    def as_dict(self) -> dict:
        return {"printed": self.printed, "state": self.state, "printer": self.printer}


@dataclass
class Job:
    settings: dict
    ticket: PrintedTicket
    label: str
    deadline: float
    future: Future
    writing: bool = False   # the ticket is going out: a slow line may take longer than the kiosk waits


class PrinterWorker:
    def __init__(self, key: str, pool: "PrinterPool"):
        self.key = key
        self.pool = pool
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"printer {key}")
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                result = self._print(job)
            except Exception:   # noqa: BLE001 — a bug in one job must not kill the printer's worker
                log.exception("printing on %s failed", self.key)
                result = PrintResult(False, st.ERROR, self.key)
            self.pool.record(self.key, result.state)
            job.future.set_result(result)

    def _print(self, job: Job) -> PrintResult:
        if time.monotonic() >= job.deadline:
            return PrintResult(False, TIMEOUT, self.key)
        data = encode(render(job.ticket, job.settings["width"]))
        transport = open_transport(job.settings, self.pool.preview_folder, job.label)
        try:
            transport.open()
            asks = job.settings.get("status_query", True)
            before = st.query(transport) if asks else st.PrinterStatus(st.UNKNOWN)
            if not before.printable:
                return PrintResult(False, before.state, self.key)
            if time.monotonic() >= job.deadline:
                return PrintResult(False, TIMEOUT, self.key)
            job.writing = True
            transport.write(data)
            # The printer answers once it has worked through the ticket: allow for a slow line.
            after = (st.query(transport, 0.8 + transport.seconds_to_send(len(data))) if asks
                     else st.PrinterStatus(st.UNKNOWN))
            # Out of paper now means the ticket was cut short; anything else it printed.
            return PrintResult(after.state != st.PAPER_OUT, after.state if after.state != st.NO_ANSWER else st.UNKNOWN,
                               self.key)
        except PrinterUnavailable as exc:
            log.warning("printer %s unavailable: %s", self.key, exc)
            return PrintResult(False, st.OFFLINE, self.key)
        finally:
            transport.close()


class PrinterPool:
    """`on_status(key, state)` is called whenever a printer's state changes (for managers' screens)."""

    def __init__(self, preview_folder: Path, on_status=None, limit: float = LIMIT):
        self.preview_folder = Path(preview_folder)
        self.on_status = on_status
        self.limit = limit
        self.states: dict[str, str] = {}
        self._workers: dict[str, PrinterWorker] = {}
        self._lock = threading.Lock()

    def submit(self, settings: dict, ticket: PrintedTicket, label: str = "") -> Job:
        key = printer_key(settings)
        with self._lock:
            worker = self._workers.get(key) or self._workers.setdefault(key, PrinterWorker(key, self))
        job = Job(settings, ticket, label, time.monotonic() + self.limit - 0.2, Future())
        worker.jobs.put(job)
        return job

    def print(self, settings: dict, ticket: PrintedTicket, label: str = "") -> PrintResult:
        job = self.submit(settings, ticket, label)
        try:
            return job.future.result(timeout=self.limit)
        except FutureTimeout:
            key = printer_key(settings)
            if job.writing:    # on its way out of a slow printer: the citizen will have it
                return PrintResult(True, SENT, key)
            self.record(key, TIMEOUT)
            return PrintResult(False, TIMEOUT, key)

    def record(self, key: str, state: str) -> None:
        with self._lock:
            changed = self.states.get(key) != state
            self.states[key] = state
        if changed:
            if state not in st.PRINTABLE:
                log.warning("printer %s: %s", key, state)
            if self.on_status:
                try:
                    self.on_status(key, state)
                except Exception:  # noqa: BLE001 — telling managers must not break printing
                    log.exception("could not report printer status")
