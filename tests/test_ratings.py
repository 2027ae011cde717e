"""Ratings and an officer's day, on SQLite and PostgreSQL, through the API: right once, wrong never."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.engine import ratings, state
from hangdoi.models import TicketEvent

from .centres import PASSWORD, SMALL_CENTRE
from .conftest import build_centre


@pytest.fixture
def served(db, clock):
    """Counter 1 has served 1001 (finished) and marked 1002 no-show."""
    ids = build_centre(db, SMALL_CENTRE)
    counter, officer = ids.counter(1), ids.officer("an")
    engine.sign_in(db, counter, officer)
    first = engine.issue_ticket(db, ids.centre, "HT01")
    engine.issue_ticket(db, ids.centre, "HT01")
    engine.call_next(db, counter, officer)
    clock.advance(minutes=1)
    engine.start(db, counter, officer)
    clock.advance(minutes=4)
    engine.call_next(db, counter, officer)      # finishes 1001 after 4 minutes of service
    engine.no_show(db, counter, officer)
    return ids, first


@pytest.fixture
def client(db, tmp_path, served):
    """Counter 1's rating tablet: its requests carry that tablet's key."""
    ids, _first = served
    client = create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db).test_client()
    client.environ_base["HTTP_X_HANGDOI_TABLET_KEY"] = ids.tablets[1]
    return client


def rated_events(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "rated"))


def test_a_finished_ticket_is_rated_once(db, served, client):
    ids, first = served
    body = {"counter": ids.counter(1), "ticket": first["public_id"], "level": 1, "reasons": ["cho_lau", "thai_do"]}
    answer = client.post("/api/v1/ratings", json=body)
    assert answer.status_code == 201 and answer.json == {"ticket": "1001", "level": 1, "reasons": ["cho_lau", "thai_do"]}
    again = client.post("/api/v1/ratings", json={**body, "level": 3, "reasons": []})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_rated"
    assert rated_events(db) == 1
    with db.read() as s:
        event = s.scalars(select(TicketEvent).where(TicketEvent.kind == "rated")).one()
        assert event.officer_id == ids.officer("an") and event.data == {"level": 1, "reasons": ["cho_lau", "thai_do"]}


@pytest.mark.parametrize("change, status, code", [
    ({"level": 0}, 422, "invalid_field"),
    ({"level": 4}, 422, "rating_level_invalid"),                 # a 3-level centre
    ({"level": 6}, 422, "invalid_field"),
    ({"level": "3"}, 422, "invalid_field"),
    ({"reasons": ["bad"]}, 422, "invalid_field"),
    ({"reasons": ["khac", "khac"]}, 422, "invalid_field"),
    ({"reasons": "cho_lau"}, 422, "invalid_field"),
    ({"reasons": [{}]}, 422, "invalid_field"),                   # found by schemathesis: was a 500
    ({"reasons": [["cho_lau"]]}, 422, "invalid_field"),
    ({"ticket": "nobody-has-this-id"}, 404, "ticket_not_found"),
    ({"extra": 1}, 422, "unknown_field"),
])
def test_bad_ratings_change_nothing(db, served, client, change, status, code):
    ids, first = served
    body = {"counter": ids.counter(1), "ticket": first["public_id"], "level": 2, "reasons": [], **change}
    answer = client.post("/api/v1/ratings", json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)
    assert rated_events(db) == 0


def test_only_the_tablet_of_the_counter_that_served_may_rate(db, served, client):
    """The attack: an anonymous client forged a level-1 rating (201), and the citizen's own then got 409."""
    ids, first = served
    body = {"ticket": first["public_id"], "level": 1}
    anonymous = client.post("/api/v1/ratings", json=body, environ_base={"HTTP_X_HANGDOI_TABLET_KEY": ""})
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "invalid_device_key"
    forged = client.post("/api/v1/ratings", json=body, headers={"X-Hangdoi-Tablet-Key": "guessed-key"})
    assert forged.status_code == 401
    other_tablet = {"X-Hangdoi-Tablet-Key": ids.tablets[2]}
    elsewhere = client.post("/api/v1/ratings", json=body, headers=other_tablet)
    assert elsewhere.status_code == 409 and elsewhere.json["error"]["code"] == "not_rateable"
    claimed = client.post("/api/v1/ratings", json={**body, "counter": ids.counter(1)}, headers=other_tablet)
    assert claimed.status_code == 422 and claimed.json["error"]["code"] == "invalid_field"
    assert rated_events(db) == 0
    assert client.post("/api/v1/ratings", json={**body, "level": 3}).status_code == 201


def test_only_at_that_counter_only_when_done_only_soon(db, clock, served, client):
    ids, first = served
    waiting = engine.issue_ticket(db, ids.centre, "HT01")
    not_done = client.post("/api/v1/ratings", json={"counter": ids.counter(1), "ticket": waiting["public_id"], "level": 3})
    assert not_done.json["error"]["code"] == "not_rateable"
    clock.advance(minutes=ratings.RATING_MINUTES + 1)
    late = client.post("/api/v1/ratings", json={"counter": ids.counter(1), "ticket": first["public_id"], "level": 3})
    assert late.status_code == 409 and late.json["error"]["code"] == "rating_too_late"
    assert rated_events(db) == 0


def test_an_officers_day_counts_what_they_did(db, served, client):
    ids, first = served
    client.post("/api/v1/ratings", json={"counter": ids.counter(1), "ticket": first["public_id"], "level": 3})
    day = state.officer_today(db, ids.officer("an"))
    assert day == {"served": 1, "no_shows": 1, "average_service_seconds": 240, "ratings": {"1": 0, "2": 0, "3": 1}}
    token = client.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    assert client.get("/api/v1/officers/me/today", headers={"Authorization": f"Bearer {token}"}).json == day
    assert client.get("/api/v1/officers/me/today").status_code == 401
    assert state.officer_today(db, ids.officer("binh"))["served"] == 0


def serve(db, clock, ids, n):
    """n tickets served at counter 1, one after the other; their public ids."""
    counter, officer = ids.counter(1), ids.officer("an")
    done = []
    for _ in range(n):
        ticket = engine.issue_ticket(db, ids.centre, "HT01")
        engine.call_next(db, counter, officer)
        engine.start(db, counter, officer)
        clock.advance(minutes=2)
        engine.finish(db, counter, officer)
        done.append(ticket["public_id"])
    return done


def test_a_centre_on_five_levels_rates_on_five_and_its_reports_convert_honestly(db, clock, served, client):
    from hangdoi.services.reports import build_report
    ids, first = served
    assert ratings.set_scale(db, ids.centre, 5) and not ratings.set_scale(db, ids.centre, 5)
    page = client.get(f"/rate/{ids.tablets[1]}")
    assert page.data.count(b'class="level"') == 5 and "Bình thường".encode() in page.data
    publics = [first["public_id"], *serve(db, clock, ids, 5)]
    for public_id, level, reasons in zip(publics, (1, 2, 3, 4, 5, 5), (["cho_lau"], ["thai_do"], [], [], [], [])):
        answer = client.post("/api/v1/ratings", json={"ticket": public_id, "level": level, "reasons": reasons})
        assert answer.status_code == 201 and answer.json["scale"] == 5
    with db.read() as s:
        data = [e.data for e in s.scalars(select(TicketEvent).where(TicketEvent.kind == "rated").order_by(TicketEvent.id))]
    assert [(d["level"], d["scale"]) for d in data] == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5), (5, 5)]
    figures = build_report(db, ids.centre, clock.now().date(), clock.now().date(), "day")["totals"]["ratings"]
    # Both "not satisfied" levels are not satisfied; "Bình thường" counts, and never as satisfied.
    assert {k: figures[k] for k in ("1", "neutral", "2", "3", "total")} == {"1": 2, "neutral": 1, "2": 1, "3": 2,
                                                                              "total": 6}
    assert figures["share"]["2"] + figures["share"]["3"] == pytest.approx(0.5, abs=1e-3)
    assert figures["reasons"] == {"cho_lau": 1, "thai_do": 1}       # asked why at both unhappy levels
    # Back on three levels (the province chose again): old ratings keep their scale, new ones are 1–3.
    assert ratings.set_scale(db, ids.centre, 3)
    last = serve(db, clock, ids, 1)[0]
    assert client.post("/api/v1/ratings", json={"ticket": last, "level": 4}).json["error"]["code"] == \
        "rating_level_invalid"
    assert client.post("/api/v1/ratings", json={"ticket": last, "level": 3}).status_code == 201
    figures = build_report(db, ids.centre, clock.now().date(), clock.now().date(), "day")["totals"]["ratings"]
    assert (figures["3"], figures["neutral"], figures["total"]) == (3, 1, 7)
