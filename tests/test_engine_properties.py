"""Random operation sequences against a shadow model; the invariants are checked after every step:
no number issued twice, no ticket held by two counters, one state per ticket, the timeline replays
to the stored state, a refused operation changes nothing, the model agrees with the database, and the
trigger-kept queue lengths agree with the tickets."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.engine import DomainError, state
from hangdoi.engine.replay import mismatches
from hangdoi.models import AT_COUNTER_STATES, TICKET_STATES, Ticket, TicketEvent

from .centres import MONDAY_9AM, SMALL_CENTRE, always_open
from .conftest import build_centre, fresh_sqlite_url, queue_lengths, truncate_postgres

SERVICES = ["HT01", "HT02", "CT01", "DD01", "XD01"]
OFFICERS = ["an", "binh", "chi", "dung"]
PRIORITIES = [None, None, None, "cao_tuoi", "tre_em"]


class QueueMachine(RuleBasedStateMachine):
    db_url: str = ""

    def __init__(self):
        super().__init__()
        self.clock = FixedClock(MONDAY_9AM)
        self.db = Database(self.db_url, clock=self.clock, pool_size=2)
        self.ids = build_centre(self.db, always_open(SMALL_CENTRE))
        self.status: dict[int, str] = {}          # ticket id → status, as the model expects it
        self.holding: dict[int, int | None] = {}  # counter id → ticket it holds
        self.signed: dict[int, int] = {}          # counter id → officer id
        self.numbers: set[tuple[str, str]] = set()

    def teardown(self):
        self.db.dispose()

    # -- running an operation -------------------------------------------------------------
    def attempt(self, fn, *args, **kwargs):
        before = self.event_count()
        try:
            return fn(self.db, *args, **kwargs)
        except DomainError:
            assert self.event_count() == before, "a refused operation changed the timeline"
            return None

    def event_count(self):
        with self.db.read() as s:
            return s.scalar(select(func.count()).select_from(TicketEvent))

    def record(self, counter_id, result):
        ticket = result["ticket"]
        if ticket is not None:
            self.status[ticket["id"]] = ticket["status"]
        self.holding[counter_id] = ticket["id"] if ticket and ticket["status"] in AT_COUNTER_STATES else None

    def finish_held(self, counter_id):
        held = self.holding.get(counter_id)
        if held is not None:
            self.status[held] = "done"

    # -- rules ------------------------------------------------------------------------------
    @rule(service=st.sampled_from(SERVICES), priority=st.sampled_from(PRIORITIES))
    def issue(self, service, priority):
        ticket = self.attempt(engine.issue_ticket, self.ids.centre, service, priority=priority)
        if ticket is not None:
            # Every series here has its own range, so (local day, number) identifies a ticket.
            key = (ticket["issued_at"][:10], ticket["number"])
            assert key not in self.numbers, "number issued twice"
            self.numbers.add(key)
            self.status[ticket["id"]] = "waiting"
            # The position on a new ticket (from the queue's length) is the one its status page counts.
            assert state.ticket_status(self.db, ticket["public_id"])["position"] == ticket["position"]

    @rule(number=st.integers(1, 3), username=st.sampled_from(OFFICERS))
    def sign_in(self, number, username):
        counter, officer = self.ids.counter(number), self.ids.officer(username)
        if self.attempt(engine.sign_in, counter, officer) is not None:
            self.signed[counter] = officer

    @rule(number=st.integers(1, 3))
    def sign_out(self, number):
        counter = self.ids.counter(number)
        if counter in self.signed and self.attempt(engine.sign_out, counter, self.signed[counter]):
            del self.signed[counter]

    @rule(number=st.integers(1, 3))
    def call_next(self, number):
        counter = self.ids.counter(number)
        result = self.attempt(engine.call_next, counter, self.signed.get(counter, -1))
        if result is not None:
            self.finish_held(counter)
            self.record(counter, result)

    @precondition(lambda self: self.status)
    @rule(number=st.integers(1, 3), pick=st.integers(0, 10_000))
    def call_ticket(self, number, pick):
        counter = self.ids.counter(number)
        ticket_id = sorted(self.status)[pick % len(self.status)]
        result = self.attempt(engine.call_ticket, counter, self.signed.get(counter, -1), ticket_id)
        if result is not None:
            self.finish_held(counter)
            self.record(counter, result)

    @rule(number=st.integers(1, 3),
          action=st.sampled_from([engine.recall, engine.start, engine.finish, engine.no_show,
                                  engine.requeue]))
    def counter_action(self, number, action):
        counter = self.ids.counter(number)
        result = self.attempt(action, counter, self.signed.get(counter, -1))
        if result is not None:
            self.record(counter, result)

    @rule(number=st.integers(1, 3), service=st.sampled_from([None, *SERVICES]),
          to=st.sampled_from([None, 1, 2, 3]))
    def transfer(self, number, service, to):
        counter = self.ids.counter(number)
        result = self.attempt(engine.transfer, counter, self.signed.get(counter, -1),
                              service_id=self.ids.service(service) if service else None,
                              to_counter_id=self.ids.counter(to) if to else None)
        if result is not None:
            self.record(counter, result)

    @precondition(lambda self: self.status)
    @rule(pick=st.integers(0, 10_000))
    def cancel(self, pick):
        ticket_id = sorted(self.status)[pick % len(self.status)]
        result = self.attempt(engine.cancel_ticket, ticket_id)
        if result is not None:
            self.status[ticket_id] = "cancelled"
            for counter, held in self.holding.items():
                if held == ticket_id:
                    self.holding[counter] = None

    @rule(number=st.integers(1, 3))
    def pause_or_resume(self, number):
        counter = self.ids.counter(number)
        officer = self.signed.get(counter, -1)
        if self.attempt(engine.pause, counter, officer, "nghỉ") is None:
            self.attempt(engine.resume, counter, officer)

    @rule(minutes=st.integers(1, 600))
    def time_passes(self, minutes):
        self.clock.advance(minutes=minutes)

    @rule()
    def close_day(self):
        engine.close_day(self.db, self.ids.centre)
        for ticket_id, status in self.status.items():
            if status in ("waiting", "called", "serving"):
                self.status[ticket_id] = "closed"
        self.holding.clear()
        self.signed.clear()

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def database_agrees_with_the_model(self):
        with self.db.read() as s:
            tickets = s.scalars(select(Ticket)).all()
            assert {t.id: t.status for t in tickets} == self.status
            assert all(t.status in TICKET_STATES for t in tickets)
            holders = [t.counter_id for t in tickets if t.status in AT_COUNTER_STATES]
            assert len(holders) == len(set(holders)), "a counter holds two tickets"
            assert None not in holders
            numbers = [(t.series_id, t.local_day, t.number) for t in tickets]
            assert len(numbers) == len(set(numbers)), "a number was issued twice"
            assert mismatches(s) == []
            kept, counted = queue_lengths(s)
            assert kept == counted, "a queue length drifted"


def test_random_operation_sequences_keep_every_invariant_on_sqlite(tmp_path, sqlite_template):
    counter = iter(range(10**6))

    class FreshFile(QueueMachine):
        def __init__(self):
            folder = tmp_path / str(next(counter))
            folder.mkdir()
            type(self).db_url = fresh_sqlite_url(sqlite_template, folder)
            super().__init__()

    run_state_machine_as_test(FreshFile, settings=settings(
        max_examples=60, stateful_step_count=40, deadline=None,
        suppress_health_check=list(HealthCheck)))


@pytest.mark.postgres
def test_random_operation_sequences_keep_every_invariant_on_postgres(postgres_schema_url):
    class FreshSchema(QueueMachine):
        def __init__(self):
            truncate_postgres(postgres_schema_url)
            type(self).db_url = postgres_schema_url
            super().__init__()

    run_state_machine_as_test(FreshSchema, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None,
        suppress_health_check=list(HealthCheck)))

