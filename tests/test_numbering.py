"""Ticket numbers: per series, per local day, never twice, a clear error when used up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hangdoi import engine
from hangdoi.clock import local_day
from hangdoi.engine import Conflict
from hangdoi.models import Ticket

from .centres import SMALL_CENTRE
from .conftest import build_centre

HANOI = timezone(timedelta(hours=7))


def test_numbers_restart_on_the_local_day_not_the_utc_day(db, clock):
    ids = build_centre(db, {**SMALL_CENTRE, "settings": {"accept_outside_hours": True}})
    clock.set(datetime(2026, 11, 23, 23, 59, tzinfo=HANOI))
    late = engine.issue_ticket(db, ids.centre, "HT01")
    clock.set(datetime(2026, 11, 24, 0, 1, tzinfo=HANOI))
    after_midnight = engine.issue_ticket(db, ids.centre, "HT01")
    assert (late["number"], after_midnight["number"]) == ("1001", "1001")
    assert late["issued_at"].startswith("2026-11-23T23:59")
    assert after_midnight["issued_at"].startswith("2026-11-24T00:01")


def test_at_half_past_seven_local_it_is_already_the_new_day(db, clock):
    ids = build_centre(db, SMALL_CENTRE)
    clock.set(datetime(2026, 11, 23, 16, 0, tzinfo=HANOI))
    engine.issue_ticket(db, ids.centre, "HT01")
    engine.issue_ticket(db, ids.centre, "HT01")
    # 07:30 in Hà Nội is 00:30 UTC: the UTC date is the same, the local day is the next one.
    morning = datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)
    assert local_day(morning, "Asia/Ho_Chi_Minh").isoformat() == "2026-11-24"
    clock.set(morning)
    assert engine.issue_ticket(db, ids.centre, "HT01")["number"] == "1001"


def test_an_exhausted_range_is_an_error_not_a_wraparound(db, centre):
    numbers = [engine.issue_ticket(db, centre.centre, "DD01")["number"] for _ in range(3)]
    assert numbers == ["3001", "3002", "3003"]
    for _ in range(2):
        with pytest.raises(Conflict) as err:
            engine.issue_ticket(db, centre.centre, "DD01")
        assert err.value.code == "series_exhausted"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 3


def test_daily_cap_reached(db, centre, clock):
    engine.issue_ticket(db, centre.centre, "XD01")
    engine.issue_ticket(db, centre.centre, "XD01")
    with pytest.raises(Conflict) as err:
        engine.issue_ticket(db, centre.centre, "XD01")
    assert err.value.code == "daily_cap_reached"
    assert "Đã hết số hôm nay" in err.value.message
    clock.advance(days=1)
    assert engine.issue_ticket(db, centre.centre, "XD01")["number"] == "4001"


def test_outside_opening_hours_no_ticket(db, centre, clock):
    clock.set(datetime(2026, 11, 23, 18, 0, tzinfo=HANOI))      # Monday evening
    with pytest.raises(Conflict) as err:
        engine.issue_ticket(db, centre.centre, "HT01")
    assert err.value.code == "centre_closed"
    clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=HANOI))       # Saturday
    with pytest.raises(Conflict):
        engine.issue_ticket(db, centre.centre, "HT01")
    clock.set(datetime(2026, 11, 23, 12, 15, tzinfo=HANOI))     # lunch break: queue for the afternoon
    assert engine.issue_ticket(db, centre.centre, "HT01")["number"] == "1001"


def test_the_database_itself_refuses_a_duplicate_number(db, centre):
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    with pytest.raises(IntegrityError):
        with db.write() as s:
            original = s.get(Ticket, ticket["id"])
            s.add(Ticket(centre_id=original.centre_id, public_id="dup", series_id=original.series_id,
                         service_id=original.service_id, local_day=original.local_day,
                         number=original.number, display_number=original.display_number,
                         status="waiting", issued_at=original.issued_at,
                         queued_at=original.queued_at, call_count=0))
