"""The synthetic past days behind the demo and the report benchmark are timelines the engine could
have written: every ticket replays to its stored state, and today's numbering is untouched."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.fixtures.demo import DEMO_CENTRE
from hangdoi.engine.replay import mismatches
from hangdoi.fixtures.history import write_history
from hangdoi.models import Ticket
from hangdoi.services.reports import build_report

from .conftest import build_centre


def test_history_replays_counts_and_leaves_today_alone(db, clock):
    ids = build_centre(db, DEMO_CENTRE)
    written = write_history(db, ids.centre, date(2026, 11, 16), date(2026, 11, 22), tickets_per_day=120, seed=7)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == written > 400     # five working days
        assert mismatches(s, ids.centre) == []
        days = {d for (d,) in s.execute(select(Ticket.local_day).distinct())}
    assert all(d.weekday() < 5 for d in days) and len(days) == 5
    report = build_report(db, ids.centre, date(2026, 11, 16), date(2026, 11, 22), "day")
    assert report["totals"]["issued"] == written and report["totals"]["served"] > 0.85 * written
    assert report["totals"]["ratings"]["total"] > 0 and report["totals"]["transferred"] > 0
    assert engine.issue_ticket(db, ids.centre, "HT01")["number"] == "1001"            # today starts afresh
    with pytest.raises(ValueError):
        write_history(db, ids.centre, date(2026, 11, 16), date(2026, 11, 16), tickets_per_day=10)


def test_the_same_seed_writes_the_same_days(db, clock):
    ids = build_centre(db, DEMO_CENTRE)
    write_history(db, ids.centre, date(2026, 11, 2), date(2026, 11, 2), tickets_per_day=50, seed=3)
    write_history(db, ids.centre, date(2026, 11, 9), date(2026, 11, 9), tickets_per_day=50, seed=3)
    first, second = (build_report(db, ids.centre, day, day)["totals"] for day in (date(2026, 11, 2), date(2026, 11, 9)))
    assert first == second
