"""Work the simulator hands to other processes: what estimators answer never changes a simulated
day, so the next days are played while earlier ones are estimated, one process per core.

Workers are spawned, not forked: the parent holds database threads that a fork would copy mid-lock.
With one job everything runs here, in order, and the figures are the same for any number of jobs.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable


class Workers:
    def __init__(self, jobs: int, start: Callable[..., None], *start_args):
        """`start(*start_args)` prepares each worker (and this process, with one job)."""
        self.jobs, self.start, self.start_args = jobs, start, start_args
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "Workers":
        if self.jobs > 1:
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=self.start, initargs=self.start_args)
        else:
            self.start(*self.start_args)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def submit(self, work: Callable, *args) -> Future:
        """`work` must be a module-level function (a worker finds it by name)."""
        if self.pool is not None:
            return self.pool.submit(work, *args)
        done: Future = Future()
        done.set_result(work(*args))
        return done
