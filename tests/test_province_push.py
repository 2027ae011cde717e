"""A centre pushes its timeline to its province (hangdoi/services/replication): a day at the
province equals the centre's (same digest), pushes are idempotent and resumable, bad pushes are
refused whole, and the link survives cuts, delays, dropped batches and lost answers through a
real proxy in front of a real province server."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import requests

from hangdoi import engine
from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.engine.ratings import rate
from hangdoi.engine.sql import Tx
from hangdoi.engine.state import centre_seq
from hangdoi.fixtures.testing import LiveServer
from hangdoi.schema import upgrade
from hangdoi.services.replication import ingest
from hangdoi.services.replication.pusher import LinkRefused, Pusher
from hangdoi.services.replication.timeline import batch_after, canonical, day_digest, day_rows

from .conftest import fresh_sqlite_url, start_province
from .faults import FaultyLink

KEY = "X-Hangdoi-Centre-Key"


def a_morning(db, centre, clock, tickets=10):
    """Tickets issued, called, served, one no-show, one rating, a pause: every kind of row."""
    c1, an = centre.counter(1), centre.officer("an")
    c2, binh = centre.counter(2), centre.officer("binh")
    engine.sign_in(db, c1, an)
    engine.sign_in(db, c2, binh)
    for i in range(tickets):
        engine.issue_ticket(db, centre.centre, "HT01" if i % 2 else "CT01")
        clock.advance(minutes=1)
    served = engine.call_next(db, c1, an)["ticket"]
    engine.start(db, c1, an)
    clock.advance(minutes=4)
    engine.finish(db, c1, an)
    rate(db, c1, served["public_id"], 3, [])
    engine.call_next(db, c2, binh)
    clock.advance(minutes=3)
    engine.no_show(db, c2, binh)
    engine.pause(db, c2, binh)
    clock.advance(minutes=10)
    engine.resume(db, c2, binh)
    engine.call_next(db, c1, an)


def own_digest(db, centre_id, day):
    with db.read() as session:
        rows = day_rows(Tx(session), centre_id, day)
    return {"day": day.isoformat(), "rows": len(rows), "digest": day_digest([canonical(r) for r in rows])}


@pytest.fixture
def province_db(tmp_path, sqlite_template, clock):
    """The province's database, on the centre's clock (the live tests below run the clocks apart)."""
    (tmp_path / "province").mkdir()
    database = Database(fresh_sqlite_url(sqlite_template, tmp_path / "province"), clock=clock)
    yield database
    database.dispose()


def push_all(db, centre_id, province_db, link_id, rows_per_batch=2000):
    """Every change so far, batch after batch, straight into the province's database."""
    acknowledged = 0
    while True:
        with db.read() as session:
            batch = batch_after(Tx(session), centre_id, acknowledged, rows_per_batch)
        if batch.through <= acknowledged:
            return acknowledged
        acknowledged = ingest.store(province_db, link_id, ingest.check_batch(json.loads(json.dumps(batch.payload()))))[
            "acknowledged"]


# -- the log and its digest, without the network ------------------------------------------------
def test_a_day_pushed_in_small_batches_has_the_same_digest_at_the_province(db, centre, clock, province_db):
    a_morning(db, centre, clock)
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    acknowledged = push_all(db, centre.centre, province_db, link_id, rows_per_batch=3)
    assert acknowledged == centre_seq(db, centre.centre)
    day = clock.now().date()
    mine = own_digest(db, centre.centre, day)
    assert mine["rows"] > 30
    assert ingest.stored_digest(province_db, link_id, day) == mine
    # Every stream is there: tickets as issued, their events (a rating among them), the counters'.
    kinds = {json.loads(r["body"])["stream"] for r in rows_of(province_db)}
    assert kinds == {"ticket", "ticket_event", "counter_event"}
    assert any(json.loads(r["body"]).get("kind") == "rated" for r in rows_of(province_db))


def rows_of(province_db):
    with province_db.read() as session:
        return Tx(session).rows("SELECT stream, remote_id, body FROM replica_row")


def test_a_push_sent_again_stores_nothing_twice_and_a_gap_says_where_to_resume(db, centre, clock, province_db):
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    engine.issue_ticket(db, centre.centre, "HT01")
    with db.read() as session:
        first = batch_after(Tx(session), centre.centre, 0)
    assert ingest.store(province_db, link_id, ingest.check_batch(first.payload())) == {
        "acknowledged": first.through, "stored": len(first.rows)}
    # The answer was lost: the centre sends the same batch again.
    assert ingest.store(province_db, link_id, ingest.check_batch(first.payload())) == {
        "acknowledged": first.through, "stored": 0}
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.issue_ticket(db, centre.centre, "CT01")
    with db.read() as session:
        later = batch_after(Tx(session), centre.centre, first.through + 1)      # skips a change
    with pytest.raises(ingest.PushGap) as gap:
        ingest.store(province_db, link_id, ingest.check_batch(later.payload()))
    assert gap.value.acknowledged == first.through
    assert len(rows_of(province_db)) == len(first.rows)                          # nothing of it stored
    # Overlapping: from an older mark, what is new is stored once.
    with db.read() as session:
        overlap = batch_after(Tx(session), centre.centre, 0)
    answer = ingest.store(province_db, link_id, ingest.check_batch(overlap.payload()))
    assert answer["acknowledged"] == centre_seq(db, centre.centre)
    assert len(rows_of(province_db)) == len(overlap.rows)


def test_a_change_bigger_than_a_batch_goes_whole(db, centre, clock, province_db):
    for _ in range(6):
        engine.issue_ticket(db, centre.centre, "HT01")
    engine.close_day(db, centre.centre)                 # one change that closes all six
    with db.read() as session:
        tx = Tx(session)
        seq_before_close = centre_seq(db, centre.centre) - 1
        batch = batch_after(tx, centre.centre, seq_before_close, rows_per_batch=2)
    assert batch.through == seq_before_close + 1
    assert len(batch.rows) >= 6


def test_the_province_overview_counts_each_centres_day_and_raises_its_alerts(db, centre, clock, province_db,
                                                                             tmp_path):
    from hangdoi.app import create_app
    from hangdoi.config import load_settings
    from hangdoi.services.replication import overview

    from .centres import NEIGHBOUR_CENTRE, PASSWORD
    from .conftest import build_centre
    a_morning(db, centre, clock)                          # 10 issued: 1 served and rated 3, 1 no-show, 1 called
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh", "Huyện Ba Vì (cũ)")
    quiet_id, _ = ingest.add_centre(province_db, "Xã Tản Lĩnh", "Huyện Ba Vì (cũ)")
    ingest.add_centre(province_db, "Phường Hà Đông", "Quận Hà Đông (cũ)")
    push_all(db, centre.centre, province_db, link_id)
    ingest.store(province_db, quiet_id, ingest.check_batch({"centre": 1, "after": 0, "through": 0, "rows": []}))
    seen = {c["name"]: c for c in overview.overview(province_db, clock.now())}
    busy = seen["Xã Phú Thịnh"]
    assert (busy["state"], busy["issued"], busy["waiting"], busy["served"], busy["no_shows"]) == ("up", 10, 7, 1, 1)
    assert (busy["ratings"], busy["satisfaction"], busy["heard_minutes"]) == (1, 1.0, 0.0)
    assert busy["longest_wait_minutes"] == pytest.approx(25.0)      # the 09:02 ticket, at 09:27
    assert busy["alerts"] == []
    assert (seen["Xã Tản Lĩnh"]["state"], seen["Xã Tản Lĩnh"]["issued"]) == ("up", 0)    # heard, nothing issued
    assert seen["Phường Hà Đông"]["state"] == "waiting"
    clock.advance(minutes=11)                                        # nothing heard for 11 minutes
    later = {c["name"]: c for c in overview.overview(province_db, clock.now())}
    assert later["Xã Phú Thịnh"]["state"] == "down"
    assert later["Xã Phú Thịnh"]["alerts"] == ["link_down", "long_wait"]
    assert [c["name"] for c in overview.overview(province_db, clock.now(), area="Quận Hà Đông (cũ)")] == [
        "Phường Hà Đông"]
    # The same through the API, for a province admin only.
    build_centre(province_db, NEIGHBOUR_CENTRE)
    app = create_app(load_settings(env={}, data_dir=tmp_path / "province-app"), db=province_db)
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "tinh", "password": PASSWORD}).json["token"]
    answer = client.get("/api/v1/province/centres?state=down", headers={"Authorization": f"Bearer {token}"})
    assert [c["name"] for c in answer.json["centres"]] == ["Xã Phú Thịnh", "Xã Tản Lĩnh"]
    assert client.get("/api/v1/province/centres?state=asleep",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 422
    assert client.get("/api/v1/province/centres").status_code == 401


# -- through a live province server ------------------------------------------------------------
@pytest.fixture
def province(tmp_path, sqlite_template):
    """A province server process on its own database, with one centre linked."""
    server = start_province(tmp_path / "province-server", sqlite_template)
    yield server
    server.stop()


def stored(server):
    database = Database(server.database_url, clock=SystemClock())
    try:
        with database.read() as session:
            return Tx(session).rows("SELECT stream, remote_id, seq, body FROM replica_row ORDER BY id")
    finally:
        database.dispose()


def test_the_centre_pushes_its_day_and_the_digests_match(db, centre, clock, province):
    a_morning(db, centre, clock)
    pusher = Pusher(db, province.url, province.key, centre.centre, rows_per_batch=5)
    pusher.catch_up()
    assert pusher.state.pushes > 3
    assert pusher.day_matches(clock.now().date())
    answer = requests.get(f"{province.url}/api/v1/province/link", headers={KEY: province.key}, timeout=5).json()
    assert answer["acknowledged"] == centre_seq(db, centre.centre)
    # The centre's clock runs days away from the province's: nothing depends on it.
    assert abs(clock.now() - SystemClock().now()) > timedelta(minutes=10)


def test_what_an_unknown_revoked_or_broken_client_gets(db, centre, clock, province, tmp_path):
    push = f"{province.url}/api/v1/province/push"
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.issue_ticket(db, centre.centre, "CT01")
    with db.read() as session:
        good = batch_after(Tx(session), centre.centre, 0).payload()

    def send(body, key=province.key, **kw):
        headers = {} if key is None else {KEY: key}
        if isinstance(body, (dict, list)):
            return requests.post(push, json=body, headers=headers, timeout=10, **kw)
        return requests.post(push, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10)

    def code(response):
        return response.json()["error"]["code"]

    assert (send(good, key=None).status_code, code(send(good, key=None))) == (401, "centre_key_required")
    wrong = f"{province.link_id}.{'x' * 43}"
    assert (send(good, key=wrong).status_code, code(send(good, key=wrong))) == (401, "invalid_centre_key")
    for junk in ("", "1", "..", "99999999999999.x", "-1.x", "١.x".encode(), "1." + "y" * 200):
        assert send(good, key=junk).status_code == 401, junk
    assert code(send(b"{not json")) == "malformed_json"
    assert send(b"[1, 2]").status_code == 422
    assert code(send({**good, "rows": list(reversed(good["rows"]))})) == "batch_out_of_order"
    assert code(send({**good, "rows": good["rows"] + good["rows"][-1:]})) == "invalid_batch"     # a row twice
    assert code(send({**good, "rows": [{**good["rows"][0], "seq": good["through"] + 5}]})) == "invalid_batch"
    assert code(send({**good, "rows": [{**good["rows"][0], "centre": 77}]})) == "event_for_another_centre"
    assert code(send({**good, "rows": [{**good["rows"][0], "stream": "officer"}]})) == "invalid_batch"
    assert code(send({**good, "rows": [{k: v for k, v in good["rows"][0].items() if k != "day"}]})) == "invalid_batch"
    assert code(send({**good, "after": -1})) == "invalid_batch"
    assert code(send({**good, "after": 2, "through": 1})) == "invalid_batch"
    assert code(send({**good, "extra": 1})) == "invalid_batch"
    huge = b'{"centre": 1, "after": 0, "through": 1, "rows": [' + b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}]}'
    assert send(huge).status_code == 413
    assert stored(province) == []                                   # nothing of any of them
    # A gap: the answer says where to start again.
    gap = send({**good, "after": good["through"] + 3, "through": good["through"] + 4, "rows": []})
    assert (gap.status_code, code(gap), gap.json()["acknowledged"]) == (409, "push_gap", 0)
    # The real push goes in; the same key cannot then speak for another of the installation's centres.
    assert send(good).json() == {"acknowledged": good["through"], "stored": len(good["rows"])}
    assert send(good).json() == {"acknowledged": good["through"], "stored": 0}
    other = {**good, "centre": 42, "rows": [{**r, "centre": 42} for r in good["rows"]]}
    assert code(send(other)) == "event_for_another_centre"
    # Revoked: refused from then on; what it pushed stays.
    database = Database(province.database_url, clock=SystemClock())
    assert ingest.revoke_centre(database, province.link_id)
    database.dispose()
    assert code(send(good)) == "invalid_centre_key"
    pusher = Pusher(db, province.url, province.key, centre.centre)
    with pytest.raises(LinkRefused):
        pusher.push_once()
    assert len(stored(province)) == len(good["rows"])


def test_the_link_survives_cuts_delays_dropped_batches_and_lost_answers(db, centre, clock, province):
    link = FaultyLink(province.port)
    pusher = Pusher(db, link.url, province.key, centre.centre, rows_per_batch=8, idle_seconds=0.05,
                    timeout=3, backoff=(0.05, 0.4))
    pusher.start()
    try:
        a_morning(db, centre, clock, tickets=6)
        wait_until(lambda: pusher.state.acknowledged == centre_seq(db, centre.centre))
        link.cut_link()                                  # the line is down: the centre goes on working
        a_morning_more(db, centre, clock)
        wait_until(lambda: pusher.state.last_error is not None)
        link.restore()
        link.delay = 0.2                                 # a slow line
        wait_until(lambda: pusher.state.acknowledged == centre_seq(db, centre.centre))
        link.delay = 0.0
        link.drop_up_after = 300                         # the next push is cut off mid-batch
        for _ in range(5):
            engine.issue_ticket(db, centre.centre, "CT01")
        wait_until(lambda: pusher.state.acknowledged == centre_seq(db, centre.centre))
        link.lose_answers = 2                            # the province commits; its answers never arrive
        for _ in range(5):
            engine.issue_ticket(db, centre.centre, "HT01")
        wait_until(lambda: pusher.state.acknowledged == centre_seq(db, centre.centre))
    finally:
        pusher.stop()
        link.close()
    assert link.dropped >= 3
    rows = stored(province)
    assert len({(r["stream"], r["remote_id"]) for r in rows}) == len(rows)       # nothing twice
    day = clock.now().date()
    assert ingest_digest(province, day) == own_digest(db, centre.centre, day)     # nothing lost
    assert_reports_agree(db, centre.centre, province, day)


def assert_reports_agree(db, centre_id, server, day):
    """The province's report of the centre's day equals the centre's own report of it."""
    from hangdoi.services.reports import build_report
    from hangdoi.services.reports.province import province_report
    database = Database(server.database_url, clock=SystemClock())
    try:
        theirs = next(row for row in province_report(database, day, day, "centre")["rows"]
                      if row["key"] == server.link_id)
    finally:
        database.dispose()
    mine = build_report(db, centre_id, day, day, "day")["totals"]
    keys = ("issued", "served", "no_show", "cancelled", "closed", "open", "transferred", "wait_minutes",
            "service_minutes", "within_target", "ratings", "origins")
    assert mine["issued"] > 0
    assert {k: theirs[k] for k in keys} == {k: mine[k] for k in keys}


def a_morning_more(db, centre, clock):
    c1, an = centre.counter(1), centre.officer("an")
    engine.start(db, c1, an)                      # the citizen a_morning called last
    engine.finish(db, c1, an)
    for _ in range(4):
        engine.issue_ticket(db, centre.centre, "HT01")
        clock.advance(minutes=1)
    engine.call_next(db, c1, an)


def ingest_digest(server, day):
    database = Database(server.database_url, clock=SystemClock())
    try:
        return ingest.stored_digest(database, server.link_id, day)
    finally:
        database.dispose()


def test_the_province_killed_during_ingest_loses_nothing_once_it_is_back(db, centre, clock, province):
    pusher = Pusher(db, province.url, province.key, centre.centre, rows_per_batch=4, idle_seconds=0.05,
                    timeout=3, backoff=(0.05, 0.4))
    pusher.start()
    stop = threading.Event()

    def keep_issuing():
        while not stop.is_set():
            engine.issue_ticket(db, centre.centre, "HT01")
            time.sleep(0.01)

    writer = threading.Thread(target=keep_issuing, daemon=True)
    writer.start()
    try:
        wait_until(lambda: pusher.state.pushes >= 5)
        province.kill()                                   # SIGKILL, mid-stream
        time.sleep(0.5)
        stop.set()
        writer.join()
        province.start()
        wait_until(lambda: pusher.state.acknowledged == centre_seq(db, centre.centre), timeout=60)
    finally:
        stop.set()
        pusher.stop()
    rows = stored(province)
    assert len({(r["stream"], r["remote_id"]) for r in rows}) == len(rows)
    day = clock.now().date()
    assert ingest_digest(province, day) == own_digest(db, centre.centre, day)
    assert_reports_agree(db, centre.centre, province, day)


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not reached in time")


def test_the_same_push_sent_to_two_province_workers_at_once_is_stored_once(sqlite_url, clock, tmp_path):
    """The province as deployed: PostgreSQL, two gunicorn workers; the centre on SQLite."""
    from .conftest import build_centre, private_postgres_schema
    centre_db = Database(sqlite_url, clock=clock)
    centre = build_centre(centre_db)
    a_morning(centre_db, centre, clock, tickets=20)
    with centre_db.read() as session:
        batch = batch_after(Tx(session), centre.centre, 0).payload()
    with private_postgres_schema("hd_province") as url:
        setup = Database(url, clock=SystemClock())
        link_id, key = ingest.add_centre(setup, "Phường Ba Đình")
        setup.dispose()
        server = LiveServer(tmp_path / "province-pg", database_url=url, gunicorn_workers=2, gunicorn_threads=8).start()
        try:
            barrier = threading.Barrier(8)
            answers = []

            def send():
                barrier.wait()
                answers.append(requests.post(f"{server.url}/api/v1/province/push", json=batch,
                                             headers={KEY: key}, timeout=30).json())

            senders = [threading.Thread(target=send) for _ in range(8)]
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            server.link_id, server.database_url = link_id, url
            rows = stored(server)
        finally:
            server.stop()
    assert {a["acknowledged"] for a in answers} == {batch["through"]}
    assert sorted(a["stored"] for a in answers) == [0] * 7 + [len(batch["rows"])]
    assert len(rows) == len(batch["rows"])
    centre_db.dispose()


def test_a_centre_server_linked_by_its_settings_pushes_and_catches_up_after_a_sigkill(tmp_path, province):
    """The centre as installed: `hangdoi serve` with HANGDOI_PROVINCE_URL and HANGDOI_PROVINCE_KEY."""
    from .conftest import start_demo
    (tmp_path / "centre").mkdir()
    centre, ids = start_demo(tmp_path / "centre", extra_env={"HANGDOI_PROVINCE_URL": province.url,
                                                              "HANGDOI_PROVINCE_KEY": province.key})
    try:
        def tickets_at_province():
            return sum(r["stream"] == "ticket" for r in stored(province))

        for _ in range(3):
            assert centre.post("/tickets", json={"service": next(iter(ids.services.values()))}).status_code == 201
        wait_until(lambda: tickets_at_province() == 3)
        # Killed while it issues and pushes: what it committed reaches the province once it is back.
        issuing = [centre.post("/tickets", json={"service": next(iter(ids.services.values()))}) for _ in range(20)]
        centre.kill()
        issued = sum(r.status_code == 201 for r in issuing)
        centre.start()
        wait_until(lambda: tickets_at_province() == 3 + issued, timeout=60)
    finally:
        centre.stop()
    rows = stored(province)
    assert len({(r["stream"], r["remote_id"]) for r in rows}) == len(rows)


def test_the_province_admin_sees_which_linked_centre_needs_attention_first(browser, tmp_path, sqlite_template):
    """At 1366×768, as a province's operations room would: the list, its alerts, a filter by area."""
    from hangdoi.clock import FixedClock, local_day
    from hangdoi.services.replication.overview import PROVINCE_TIMEZONE

    from .centres import NEIGHBOUR_CENTRE, PASSWORD, SMALL_CENTRE, always_open
    from .conftest import build_centre, screenshot
    now = SystemClock().now()
    if local_day(now - timedelta(minutes=50), PROVINCE_TIMEZONE) != local_day(now, PROVINCE_TIMEZONE):
        # The overview is today's; a morning with a 30-minute wait cannot have happened yet today.
        pytest.skip("the province's day began less than 50 minutes ago: no 50-minute-old morning today")
    folder = tmp_path / "province-site"
    folder.mkdir()
    url = fresh_sqlite_url(sqlite_template, folder)
    upgrade(url)
    province_db = Database(url, clock=SystemClock())
    build_centre(province_db, always_open(NEIGHBOUR_CENTRE))             # "tinh", the province admin
    names = [("Xã Phú Thịnh", "Huyện Ba Vì (cũ)"), ("Xã Tản Lĩnh", "Huyện Ba Vì (cũ)"),
             ("Phường Hà Đông", "Quận Hà Đông (cũ)"), ("Xã Minh Quang", "Huyện Ba Vì (cũ)"),
             ("Phường Kiến Hưng", "Quận Hà Đông (cũ)")]
    links = [ingest.add_centre(province_db, name, area)[0] for name, area in names]
    # Phú Thịnh: a busy morning pushed now, someone waiting well over half an hour.
    clock = FixedClock(now - timedelta(minutes=50))
    centre_db = Database(fresh_sqlite_url(sqlite_template, tmp_path), clock=clock)
    # Open whatever the hour the test runs at (the clock is 50 minutes before now).
    centre = build_centre(centre_db, always_open(SMALL_CENTRE))
    a_morning(centre_db, centre, clock, tickets=14)
    push_all(centre_db, centre.centre, province_db, links[0])
    centre_db.dispose()
    # Tản Lĩnh and Kiến Hưng heard from just now with nothing issued; Minh Quang's line went down
    # 25 minutes ago; Hà Đông has never connected.
    for link in (links[1], links[3], links[4]):
        ingest.store(province_db, link, ingest.check_batch({"centre": 1, "after": 0, "through": 0, "rows": []}))
    with province_db.write() as session:
        Tx(session).execute("UPDATE centre_link SET last_push_at = :at WHERE id = :id",
                            at=Tx(session).instant(now - timedelta(minutes=25)), id=links[3])
    province_db.dispose()
    server = LiveServer(folder, database_url=url).start()
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.url + "/counter")
        page.fill("input[name=username]", "tinh")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(server.url + "/admin/linked")
        rows = page.locator("table.linked tbody tr")
        assert rows.count() == 5
        # Needing attention first: the busy centre with its long wait and the one whose line is down.
        first, second = rows.nth(0), rows.nth(1)
        assert {first.get_attribute("data-link"), second.get_attribute("data-link")} == {str(links[0]), str(links[3])}
        assert "Mất kết nối quá 10 phút" in page.locator(f"tr[data-link='{links[3]}']").inner_text()
        busy = page.locator(f"tr[data-link='{links[0]}']")
        assert "Có người chờ quá 30 phút" in busy.inner_text()
        assert busy.locator("td.num").nth(0).inner_text() == "14"
        assert page.locator("#attention").inner_text() == "2 trung tâm cần chú ý"
        assert "Chưa kết nối lần nào" in page.locator(f"tr[data-link='{links[2]}']").inner_text()
        screenshot(page, "admin-linked-1366x768")
        page.select_option("select[name=area]", "Quận Hà Đông (cũ)")
        page.click(".linked-filters button")
        page.wait_for_url("**/admin/linked?area=*")
        assert page.locator("table.linked tbody tr").count() == 2
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(server.url + "/admin/linked")
        screenshot(page, "admin-linked-1920x1080")
        page.close()
    finally:
        server.stop()


def test_a_day_that_differs_at_the_province_is_repaired_by_reconciliation(db, centre, clock, province):
    a_morning(db, centre, clock)
    pusher = Pusher(db, province.url, province.key, centre.centre)
    pusher.catch_up()
    day = clock.now().date()
    # The province's copy goes wrong: a row lost (the service finished), one altered, one it never had.
    database = Database(province.database_url, clock=SystemClock())
    with database.write() as session:
        tx = Tx(session)
        finished = [r for r in tx.rows("SELECT id, body FROM replica_row WHERE stream = 'ticket_event'")
                    if json.loads(r["body"])["kind"] == "finished"][0]
        tx.execute("DELETE FROM replica_row WHERE id = :id", id=finished["id"])
        tx.execute("UPDATE replica_ticket SET status = 'serving' WHERE status = 'done'")
        tx.execute("UPDATE replica_row SET body = replace(body, '\"status\":\"waiting\"', '\"status\":\"cancelled\"') "
                   "WHERE id = (SELECT min(id) FROM replica_row WHERE stream = 'ticket_event')")
        tx.execute("INSERT INTO replica_row (link_id, stream, remote_id, seq, local_day, body) "
                   "VALUES (:link, 'counter_event', 999999, 1, :day, '{}')", link=province.link_id, day=tx.day(day))
    assert not pusher.day_matches(day)
    assert pusher.reconcile(day) == {"put": 2, "dropped": 1}
    assert pusher.day_matches(day)
    assert pusher.reconcile(day) == {"put": 0, "dropped": 0}                  # nothing left to do
    assert_reports_agree(db, centre.centre, province, day)
    from hangdoi.services.replication import overview
    busy = overview.overview(database, clock.now())[0]
    assert (busy["served"], busy["no_shows"], busy["waiting"]) == (1, 1, 7)   # the tickets rebuilt too
    database.dispose()


def test_a_centre_restored_from_an_older_backup_is_set_right_at_the_province(db, centre, clock, province,
                                                                            sqlite_template, tmp_path):
    a_morning(db, centre, clock)
    Pusher(db, province.url, province.key, centre.centre).catch_up()
    # The centre's disk died; it is set up again from a backup taken before it opened this morning.
    (tmp_path / "restored").mkdir()
    restored = Database(fresh_sqlite_url(sqlite_template, tmp_path / "restored"), clock=clock)
    again = build_centre_like(restored, centre)
    engine.issue_ticket(restored, again.centre, "HT01")
    engine.issue_ticket(restored, again.centre, "CT01")
    pusher = Pusher(restored, province.url, province.key, again.centre)
    assert pusher.push_once() == 0 and pusher.state.behind_province          # its marks are behind the province's
    pusher.reconcile_recent(days=7)
    day = clock.now().date()
    assert pusher.day_matches(day)
    assert ingest_digest(province, day)["rows"] == own_digest(restored, again.centre, day)["rows"]
    assert_reports_agree(restored, again.centre, province, day)
    restored.dispose()


def build_centre_like(database, centre):
    from .conftest import build_centre
    built = build_centre(database)
    assert built.centre == centre.centre
    return built


def test_the_centre_manager_sees_when_the_line_to_the_province_is_down_and_when_it_is_back(browser, tmp_path,
                                                                                         province):
    from .conftest import screenshot, start_demo
    from .test_admin_dashboard import sign_in
    link = FaultyLink(province.port)
    link.cut_link()
    (tmp_path / "centre").mkdir()
    centre, ids = start_demo(tmp_path / "centre", extra_env={"HANGDOI_PROVINCE_URL": link.url,
                                                              "HANGDOI_PROVINCE_KEY": province.key})
    try:
        service = next(iter(ids.services.values()))
        assert centre.post("/tickets", json={"service": service}).status_code == 201   # the centre works on
        page = sign_in(browser, centre, "lanhdao", "lanhdao123")
        line = page.locator(".device[data-province]")
        line.and_(page.locator(".bad")).wait_for()
        assert "chưa liên lạc được với tỉnh" in line.inner_text()          # never reached since it started
        # The line's state is no event of the queue: the page reads it again every 30 seconds.
        page.wait_for_selector(".alert:has-text('Mất kết nối về tỉnh')", timeout=90_000)
        screenshot(page, "admin-dashboard-province-down-1366x768")
        link.restore()
        wait_until(lambda: sum(r["stream"] == "ticket" for r in stored(province)) == 1, timeout=90)
        assert centre.post("/tickets", json={"service": service}).status_code == 201   # the page reads again
        page.wait_for_selector(".device[data-province]:not(.bad):has-text('đã gửi hết số liệu')", timeout=60_000)
        assert page.locator(".alert:has-text('Mất kết nối về tỉnh')").count() == 0
        page.close()
    finally:
        centre.stop()
        link.close()


def test_a_flood_on_the_province_is_counted_per_proven_centre_and_per_address(db, centre, tmp_path, sqlite_template):
    """A centre gone wrong (or a stolen key) pushing in a loop, and a LAN client trying keys: each
    runs into its own limit; the other centres push on."""
    folder = tmp_path / "province-server"
    folder.mkdir()
    url = fresh_sqlite_url(sqlite_template, folder)
    upgrade(url)
    setup = Database(url, clock=SystemClock())
    _, looping = ingest.add_centre(setup, "Xã Phú Thịnh")
    _, calm = ingest.add_centre(setup, "Xã Tản Lĩnh")
    setup.dispose()
    limits = {"HANGDOI_PROVINCE_RATE_LIMIT": "20/minute", "HANGDOI_WRONG_KEY_RATE_LIMIT_PER_MINUTE": "20"}
    server = LiveServer(folder, database_url=url, extra_env=limits).start()
    server.database_url = url
    heartbeat = {"centre": centre.centre, "after": 0, "through": 0, "rows": []}
    push = f"{server.url}/api/v1/province/push"
    try:
        with requests.Session() as http:
            answers = [http.post(push, json=heartbeat, headers={KEY: looping}, timeout=10) for _ in range(25)]
            assert [a.status_code for a in answers] == [200] * 20 + [429] * 5
            assert answers[-1].json()["error"]["code"] == "rate_limited"
            # Another centre, from the same address, is counted on its own.
            assert http.post(push, json=heartbeat, headers={KEY: calm}, timeout=10).status_code == 200
            # Guessed keys are counted by address: 20 answers of 401, then 429.
            guesses = [http.post(push, json=heartbeat, headers={KEY: f"1.guess{n}"}, timeout=10).status_code
                       for n in range(22)]
            assert guesses == [401] * 20 + [429] * 2
            assert http.post(push, json=heartbeat, headers={KEY: calm}, timeout=10).status_code == 200
            # Nothing of it reached the centres' figures: heartbeats store nothing.
            assert stored(server) == []
    finally:
        server.stop()


def test_the_centre_sends_its_names_when_they_change_and_bad_ones_are_refused(db, centre, clock, province):
    from hangdoi.services.replication.reference import fingerprint, reference
    a_morning(db, centre, clock)
    pusher = Pusher(db, province.url, province.key, centre.centre)
    pusher.catch_up()                                                  # the timeline, then the names
    with db.read() as session:
        mine = reference(Tx(session), centre.centre)
    held = requests.get(f"{province.url}/api/v1/province/reference", headers={KEY: province.key}, timeout=5).json()
    assert held["fingerprint"] == fingerprint(mine)
    assert {"HT01", "CT01"} <= {s["code"] for s in mine["services"]} and mine["centre"]["sla_minutes"] == 30
    assert pusher.send_reference() is False                            # the same names: nothing goes
    with db.write() as session:
        Tx(session).execute("UPDATE service SET name = 'Đăng ký khai sinh (liên thông)' WHERE code = 'HT01'")
    assert pusher.send_reference() is True
    database = Database(province.database_url, clock=SystemClock())
    try:
        with database.read() as session:
            stored_names = json.loads(Tx(session).value("SELECT reference FROM centre_link WHERE id = :id",
                                                        id=province.link_id))
    finally:
        database.dispose()
    assert next(s for s in stored_names["services"] if s["code"] == "HT01")["name"] == "Đăng ký khai sinh (liên thông)"
    # What a broken or hostile client sends instead: refused whole, what was stored stays.
    put = f"{province.url}/api/v1/province/reference"

    def send(body, key=province.key):
        return requests.put(put, json=body, headers={KEY: key}, timeout=10)
    good = json.loads(json.dumps(reference_of(db, centre.centre)))
    for bad in ([], {**good, "extra": 1}, {k: v for k, v in good.items() if k != "services"},
                {**good, "services": [{"id": 1}]}, {**good, "services": "HT01"},
                {**good, "services": [{**good["services"][0], "name": "x" * 301}]},
                {**good, "centre": {**good["centre"], "sla_minutes": 0}},
                {**good, "officers": [{"id": 1, "username": {"a": 1}, "full_name": "A"}]},
                {**good, "domains": good["domains"] * 3000}):
        answer = send(bad)
        assert (answer.status_code, answer.json()["error"]["code"]) in ((422, "invalid_reference"), (413, "body_too_large")), bad
    assert send({**good, "centre": {**good["centre"], "id": 99}}).json()["error"]["code"] == "event_for_another_centre"
    assert send(good, key=None).status_code == 401
    assert requests.get(f"{province.url}/api/v1/province/reference", headers={KEY: province.key},
                        timeout=5).json()["fingerprint"] == fingerprint(reference_of(db, centre.centre))


def reference_of(db, centre_id):
    from hangdoi.services.replication.reference import reference
    with db.read() as session:
        return reference(Tx(session), centre_id)


def test_audit_entries_go_up_with_the_timeline_without_the_sms_gateways_secrets(db, centre, clock, province_db):
    """Who changed what at the centre reaches the province with the changes around it; the SMS
    gateway's address and credentials stay at the centre."""
    from hangdoi.services.administration.centre import centre_row, save_centre
    from hangdoi.services.administration.change import administer
    admin = centre.officer("quantri")
    engine.issue_ticket(db, centre.centre, "HT01")

    def configure(change):
        row = centre_row(change)
        sms = {"channel": "http", "url": "https://sms.example.vn/send?apikey=SECRET-KEY-123",
               "headers": {"Authorization": "Bearer SECRET-TOKEN-456"}, "body": "{text}"}
        return save_centre(change, {**row, "settings": {"sla_minutes": 20, "sms": sms}})

    administer(db, admin, configure)
    engine.issue_ticket(db, centre.centre, "CT01")
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    push_all(db, centre.centre, province_db, link_id, rows_per_batch=1)
    audits = [json.loads(r["body"]) for r in rows_of(province_db) if json.loads(r["body"])["stream"] == "audit"]
    assert [(a["entity"], a["action"], a["officer"]) for a in audits] == [("centre", "update", admin)]
    assert audits[0]["after"]["settings"]["sla_minutes"] == 20
    assert audits[0]["after"]["settings"]["sms"] == {"channel": "http", "withheld": True}
    assert not any("SECRET" in r["body"] for r in rows_of(province_db))
    day = clock.now().date()
    assert ingest.stored_digest(province_db, link_id, day) == own_digest(db, centre.centre, day)
    # In the order it happened: after the first ticket's change, before the second's.
    with db.read() as session:
        seqs = [r["seq"] for r in Tx(session).rows("SELECT seq FROM ticket_event ORDER BY id")]
    assert seqs[0] < audits[0]["seq"] < seqs[-1]
