"""Reports across a province's centres (hangdoi/services/reports/province.py): made from the rows
the centres pushed, they equal the sum of the centres' own reports, group by centre, area, field,
procedure and period, and leave the province as CSV, XLSX and the Decision 766 table."""
from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from hangdoi import engine
from hangdoi.engine.ratings import rate
from hangdoi.engine.sql import Tx
from hangdoi.services.replication import ingest
from hangdoi.services.replication.reference import check, reference
from hangdoi.services.reports import build_report
from hangdoi.services.reports.province import province_report

from .centres import NEIGHBOUR_CENTRE, PASSWORD
from .conftest import build_centre
from .test_province_push import a_morning, province_db, push_all  # noqa: F401 — fixtures used by name

COUNTS = ("issued", "served", "no_show", "cancelled", "closed", "open", "transferred")


def a_neighbours_morning(db, neighbour, clock):
    """The other centre: served, one unhappy with a reason, one transferred back to the queue, one cancelled."""
    counter, lan = neighbour.counter(1), neighbour.officer("lan")
    engine.sign_in(db, counter, lan)
    tickets = [engine.issue_ticket(db, neighbour.centre, "HT01") for _ in range(4)]
    clock.advance(minutes=7)
    served = engine.call_next(db, counter, lan)["ticket"]
    engine.start(db, counter, lan)
    clock.advance(minutes=12)
    engine.finish(db, counter, lan)
    rate(db, counter, served["public_id"], 1, ["slow"])
    engine.call_next(db, counter, lan)
    clock.advance(minutes=2)
    engine.requeue(db, counter, lan)
    engine.cancel_ticket(db, tickets[3]["id"], lan)
    clock.advance(minutes=1)


def send_reference(db, centre_id, province_db, link_id):
    with db.read() as session:
        document = reference(Tx(session), centre_id)
    ingest.store_reference(province_db, link_id, check(json.loads(json.dumps(document))))


@pytest.fixture
def two_centres(db, centre, clock, province_db):
    """Two centres of one installation, each linked to the province, each with a morning's work pushed."""
    neighbour = build_centre(db, NEIGHBOUR_CENTRE)
    a_morning(db, centre, clock)
    a_neighbours_morning(db, neighbour, clock)
    links = {}
    for ids, name, area in ((centre, "Xã Phú Thịnh", "Huyện Ba Vì (cũ)"), (neighbour, "Phường Hà Đông", "Quận Hà Đông (cũ)")):
        link_id, _ = ingest.add_centre(province_db, name, area)
        push_all(db, ids.centre, province_db, link_id)
        send_reference(db, ids.centre, province_db, link_id)
        links[name] = (link_id, ids)
    return links


def figures(row):
    """What two reports must agree on: the counts, the waiting and service times, the ratings."""
    return {**{k: row[k] for k in COUNTS}, "wait": row["wait_minutes"], "service": row["service_minutes"],
            "within": row["within_target"], "ratings": row["ratings"], "origins": row["origins"]}


def test_each_centres_row_at_the_province_equals_the_centres_own_report(db, clock, province_db, two_centres):
    day = clock.now().date()
    by_centre = province_report(province_db, day, day, "centre")
    rows = {row["label"]: row for row in by_centre["rows"]}
    assert list(rows) == ["Xã Phú Thịnh", "Phường Hà Đông"]         # the list's order: by area, then name
    for name, (_link, ids) in two_centres.items():
        own = build_report(db, ids.centre, day, day, "day")["totals"]
        assert figures(rows[name]) == figures(own), name
    assert rows["Phường Hà Đông"]["ratings"]["reasons"] == {"slow": 1}
    assert rows["Phường Hà Đông"]["transferred"] == 0 and rows["Phường Hà Đông"]["cancelled"] == 1
    # The province's totals are the two centres' together.
    totals = by_centre["totals"]
    own = [build_report(db, ids.centre, day, day, "day")["totals"] for _link, ids in two_centres.values()]
    for key in COUNTS:
        assert totals[key] == sum(o[key] for o in own), key
    assert totals["issued"] == 14 and totals["served"] == 2
    assert totals["ratings"]["total"] == 2 and totals["ratings"]["1"] == 1 and totals["ratings"]["3"] == 1
    assert totals["bookings"] is None                                   # not sent to the province (yet)


def test_the_province_groups_by_procedure_code_field_area_and_period(db, centre, clock, province_db, two_centres):
    day = clock.now().date()
    by_service = {row["key"]: row for row in province_report(province_db, day, day, "service")["rows"]}
    # HT01 is offered by both centres: one row, both centres' tickets.
    neighbour = two_centres["Phường Hà Đông"][1]
    own_centre = {r["label"].split(" — ")[0]: r for r in build_report(db, centre.centre, day, day, "service")["rows"]}
    own_neighbour = build_report(db, neighbour.centre, day, day, "service")["rows"]
    assert by_service["HT01"]["issued"] == own_centre["HT01"]["issued"] + own_neighbour[0]["issued"] == 9
    assert by_service["HT01"]["label"] == "HT01 — " + own_centre["HT01"]["label"].split(" — ")[1]
    assert by_service["CT01"]["issued"] == own_centre["CT01"]["issued"] == 5
    by_domain = {row["key"]: row["issued"] for row in province_report(province_db, day, day, "domain")["rows"]}
    assert by_domain == {"HT": 9, "CT": 5}
    by_area = {row["label"]: row["issued"] for row in province_report(province_db, day, day, "area")["rows"]}
    assert by_area == {"Huyện Ba Vì (cũ)": 10, "Quận Hà Đông (cũ)": 4}
    one_area = province_report(province_db, day, day, "centre", area="Quận Hà Đông (cũ)")
    assert [row["label"] for row in one_area["rows"]] == ["Phường Hà Đông"] and one_area["totals"]["issued"] == 4
    # Every day of the range is a row, a day without tickets a row of zeros.
    from datetime import timedelta
    week = province_report(province_db, day - timedelta(days=2), day, "day")["rows"]
    assert [row["issued"] for row in week] == [0, 0, 14]
    month = province_report(province_db, day, day, "month")["rows"]
    assert [(row["label"], row["issued"]) for row in month] == [(day.strftime("%m/%Y"), 14)]


def test_a_centre_that_never_sent_its_names_still_counts(db, centre, clock, province_db):
    a_morning(db, centre, clock)
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    push_all(db, centre.centre, province_db, link_id)
    day = clock.now().date()
    report = province_report(province_db, day, day, "service")
    assert [(row["label"], row["issued"]) for row in report["rows"]] == [("—", 10)]
    assert report["totals"]["issued"] == 10


def test_bad_report_questions_are_refused(province_db, clock):
    from hangdoi.engine.errors import Invalid
    day = clock.now().date()
    with pytest.raises(Invalid):
        province_report(province_db, day, day, "officer")
    with pytest.raises(Invalid):
        province_report(province_db, day, day.replace(year=day.year - 1), "centre")
    with pytest.raises(Invalid):
        province_report(province_db, day.replace(year=day.year - 3), day, "centre")
