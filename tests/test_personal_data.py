"""Citizens' personal details: kept only where a centre turns it on, seen only by its officers,
deleted after the centre's period, and never copied into the timeline, the public pages or exports.
On SQLite and PostgreSQL, through the engine and the REST API."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.engine import citizens, state
from hangdoi.models import AuditLog, CitizenDetail, TicketEvent

from .centres import SMALL_CENTRE
from .conftest import build_centre
from .test_api import login

KEEPING = {**SMALL_CENTRE, "settings": {"personal_data": True, "personal_data_days": 30}}
DETAILS = {"full_name": "  Nguyễn   Thị Hoa ", "phone": "0912 345 678", "id_number": "001190012345"}
STORED = {"full_name": "Nguyễn Thị Hoa", "phone": "0912345678", "id_number": "001190012345"}


@pytest.fixture
def client(db, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db).test_client()


def at_counter(db, spec=KEEPING):
    """Counter 1 (officer "an") has called 1001."""
    ids = build_centre(db, spec)
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    ticket = engine.issue_ticket(db, ids.centre, "HT01")
    engine.call_next(db, ids.counter(1), ids.officer("an"))
    return ids, ticket


def kept(db) -> list[dict]:
    with db.read() as s:
        return [{"ticket": row.ticket_id, "full_name": row.full_name, "phone": row.phone, "id_number": row.id_number}
                for row in s.scalars(select(CitizenDetail).order_by(CitizenDetail.ticket_id))]


def everything_but_details(db) -> str:
    """Every other place a name could leak to: the timeline and the audit log, as stored."""
    with db.read() as s:
        events = [e.data for e in s.scalars(select(TicketEvent))]
        audits = [(a.before, a.after) for a in s.scalars(select(AuditLog))]
    return json.dumps([events, audits], ensure_ascii=False)


def test_nothing_is_kept_unless_the_centre_turns_it_on(db, client):
    ids, _ticket = at_counter(db, SMALL_CENTRE)
    answer = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json=DETAILS, headers=login(client, "an"))
    assert answer.status_code == 409 and answer.json["error"]["code"] == "personal_data_off"
    assert kept(db) == []
    snapshot = client.get(f"/api/v1/counters/{ids.counter(1)}/state", headers=login(client, "an")).json
    assert snapshot["personal_data"] is False and snapshot["citizen"] is None


def test_the_officer_notes_who_the_ticket_is_for_and_only_officers_see_it(db, client):
    ids, ticket = at_counter(db)
    officer = login(client, "an")
    answer = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json=DETAILS, headers=officer)
    assert answer.status_code == 200, answer.json
    assert answer.json["citizen"] == STORED and answer.json["ticket"]["number"] == "1001"
    assert kept(db) == [{"ticket": ticket["id"], **STORED}]
    snapshot = client.get(f"/api/v1/counters/{ids.counter(1)}/state", headers=officer).json
    assert snapshot["personal_data"] is True and snapshot["citizen"] == STORED
    # A correction replaces the details; fields left out are cleared.
    fixed = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json={"full_name": "Nguyễn Thị Hoà"},
                        headers=officer)
    assert fixed.status_code == 200
    assert kept(db) == [{"ticket": ticket["id"], "full_name": "Nguyễn Thị Hoà", "phone": None, "id_number": None}]
    # Nowhere public, nowhere in the timeline or the audit log.
    public = json.dumps([client.get(f"/api/v1/tickets/{ticket['public_id']}").json,
                         client.get("/api/v1/display/state").json], ensure_ascii=False)
    assert "Hoa" not in public and "Hoà" not in public and "0912345678" not in public
    leaks = everything_but_details(db)
    assert "Hoa" not in leaks and "Hoà" not in leaks and "0912345678" not in leaks and "001190012345" not in leaks
    with db.read() as s:
        noted = s.scalars(select(TicketEvent).where(TicketEvent.kind == "citizen_noted")).all()
    assert [e.data for e in noted] == [{"fields": ["full_name", "phone", "id_number"]}, {"fields": ["full_name"]}]
    # The timeline still replays to the stored state.
    with db.read() as s:
        from hangdoi.engine.replay import mismatches
        assert mismatches(s) == []


@pytest.mark.parametrize("body, code", [
    ({}, "missing_field"),
    ({"full_name": ""}, "invalid_field"),
    ({"full_name": "   "}, "invalid_field"),
    ({"full_name": "A"}, "citizen_name_invalid"),
    ({"full_name": "Nguyễn Văn 3"}, "citizen_name_invalid"),
    ({"full_name": "x" * 101}, "invalid_field"),
    ({"full_name": 42}, "invalid_field"),
    ({"full_name": "Trần Văn Nam", "phone": "12345"}, "citizen_phone_invalid"),
    ({"full_name": "Trần Văn Nam", "phone": "09123456789"}, "citizen_phone_invalid"),
    ({"full_name": "Trần Văn Nam", "phone": "abc"}, "citizen_phone_invalid"),
    ({"full_name": "Trần Văn Nam", "phone": 912345678}, "invalid_field"),
    ({"full_name": "Trần Văn Nam", "id_number": "12345678901"}, "citizen_id_invalid"),
    ({"full_name": "Trần Văn Nam", "id_number": "00119001234X"}, "citizen_id_invalid"),
    ({"full_name": "Trần Văn Nam", "address": "Hà Nội"}, "unknown_field"),
    ([], "expected_object"),
])
def test_bad_details_are_refused_and_nothing_is_kept(db, client, body, code):
    ids, _ticket = at_counter(db)
    answer = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json=body, headers=login(client, "an"))
    assert 400 <= answer.status_code < 500 and answer.json["error"]["code"] == code, answer.json
    assert kept(db) == []


def test_details_need_a_ticket_at_this_officers_counter(db, client):
    ids, _ticket = at_counter(db)
    engine.sign_in(db, ids.counter(2), ids.officer("binh"))
    elsewhere = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json=DETAILS, headers=login(client, "binh"))
    assert elsewhere.status_code == 403
    nothing_called = client.post(f"/api/v1/counters/{ids.counter(2)}/citizen", json=DETAILS,
                                 headers=login(client, "binh"))
    assert nothing_called.status_code == 409 and nothing_called.json["error"]["code"] == "no_current_ticket"
    anonymous = client.post(f"/api/v1/counters/{ids.counter(1)}/citizen", json=DETAILS)
    assert anonymous.status_code == 401
    assert kept(db) == []


def note(db, ids, name):
    """Issue, call and note one ticket at counter 1; returns the ticket's id."""
    ticket = engine.issue_ticket(db, ids.centre, "HT01")
    engine.call_ticket(db, ids.counter(1), ids.officer("an"), ticket["id"])
    citizens.record(db, ids.counter(1), ids.officer("an"), name)
    engine.finish(db, ids.counter(1), ids.officer("an"))
    return ticket["id"]


def test_details_are_deleted_after_the_centres_period_when_the_day_is_closed(db, clock):
    ids, _ticket = at_counter(db)
    engine.finish(db, ids.counter(1), ids.officer("an"))
    old = note(db, ids, "Lê Văn Cũ")
    clock.advance(days=29)
    recent = note(db, ids, "Phạm Thị Mới")
    clock.advance(days=1, minutes=1)                  # the first is now 30 days and a minute old
    assert engine.close_day(db, ids.centre)["purged_personal_data"] == 1
    assert [row["ticket"] for row in kept(db)] == [recent]
    assert old != recent
    clock.advance(days=30)
    assert engine.close_day(db, ids.centre)["purged_personal_data"] == 1
    assert kept(db) == []
    with db.read() as s:
        purges = s.scalars(select(AuditLog).where(AuditLog.action == "purge_personal_data")).all()
    assert [p.after for p in purges] == [{"tickets": 1, "kept_days": 30}, {"tickets": 1, "kept_days": 30}]
    assert "Cũ" not in everything_but_details(db) and "Mới" not in everything_but_details(db)


def save_settings(client, headers, **changes):
    current = client.get("/api/v1/admin/setup", headers=headers).json["centre"]
    body = {key: current[key] for key in ("name", "address", "timezone", "opening_hours", "closed_days")}
    return client.put("/api/v1/admin/centre", json={**body, "address": body["address"] or None, "settings": changes},
                      headers=headers)


def test_turning_it_off_or_shortening_the_period_deletes_at_once(db, client, clock):
    ids, _ticket = at_counter(db)
    engine.finish(db, ids.counter(1), ids.officer("an"))
    note(db, ids, "Lê Văn Cũ")
    clock.advance(days=10)
    newer = note(db, ids, "Phạm Thị Mới")
    admin = login(client, "quantri")
    assert save_settings(client, admin, personal_data=True, personal_data_days=30).status_code == 200
    assert len(kept(db)) == 2
    assert save_settings(client, admin, personal_data=True, personal_data_days=7).status_code == 200
    assert [row["ticket"] for row in kept(db)] == [newer]
    assert save_settings(client, admin, personal_data=False).status_code == 200
    assert kept(db) == []
    assert state.counter_state(db, ids.counter(1))["personal_data"] is False


@pytest.mark.parametrize("setting", [{"personal_data": "yes"}, {"personal_data": 1}, {"personal_data_days": 0},
                                     {"personal_data_days": 366}, {"personal_data_days": "30"},
                                     {"personal_data_days": 7.5}])
def test_bad_settings_are_refused_and_nothing_is_deleted(db, client, setting):
    ids, _ticket = at_counter(db)
    citizens.record(db, ids.counter(1), ids.officer("an"), "Lê Văn Cũ")
    answer = save_settings(client, login(client, "quantri"), **setting)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_field"
    assert len(kept(db)) == 1


def test_a_centre_purges_only_its_own(db, clock):
    from .centres import NEIGHBOUR_CENTRE
    ids, _ticket = at_counter(db)
    neighbour = build_centre(db, {**NEIGHBOUR_CENTRE, "settings": {"personal_data": True, "personal_data_days": 90}})
    citizens.record(db, ids.counter(1), ids.officer("an"), "Lê Văn Một")
    engine.sign_in(db, neighbour.counter(1), neighbour.officer("lan"))
    engine.issue_ticket(db, neighbour.centre, "HT01")
    engine.call_next(db, neighbour.counter(1), neighbour.officer("lan"))
    citizens.record(db, neighbour.counter(1), neighbour.officer("lan"), "Đỗ Thị Hai")
    clock.advance(days=31)
    assert citizens.purge(db, ids.centre) == 1
    assert citizens.purge(db, neighbour.centre) == 0
    assert [row["full_name"] for row in kept(db)] == ["Đỗ Thị Hai"]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(CitizenDetail)
                        .where(CitizenDetail.centre_id == neighbour.centre)) == 1
