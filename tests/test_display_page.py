"""The lobby board in real Chromium at 1920×1080, against a live server."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.fixtures.demo import DEMO_CENTRE
from hangdoi.schema import upgrade
from hangdoi.fixtures.testing import LiveServer

from .centres import open_now
from .conftest import build_centre, screenshot, start_demo

DISPLAY = {"width": 1920, "height": 1080}


def open_board(browser, server, ids, display="Sảnh chờ chính", last_counter=6):
    """The board of one display, once its first snapshot is drawn."""
    page = browser.new_page(viewport=DISPLAY)
    page.goto(f"{server.url}/display/{ids.displays[display]}")
    page.wait_for_selector(f".card[data-counter='{last_counter}']")
    return page


def sign_in(server, ids, number):
    token = server.login(f"canbo{number}", f"matkhau{number}")
    server.post(f"/counters/{ids.counter(number)}/sign-in", token).raise_for_status()
    return token


def test_a_call_appears_on_the_board_and_survives_a_server_restart(browser, demo_server):
    server, ids = demo_server
    tokens = {n: sign_in(server, ids, n) for n in (1, 2, 4)}
    for code in ("HT01", "HT02", "CT01", "DD01", "KD01", "HT01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = open_board(browser, server, ids)
    assert page.locator("#latest-number").inner_text() == "—"

    called = server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1]).json()["ticket"]["number"]
    # On the board within the same second as the call.
    page.wait_for_function("n => document.querySelector('#latest-number').textContent === n", arg=called,
                           timeout=1000)
    assert page.locator("#latest-counter").inner_text() == "Quầy 1"
    page.wait_for_function("() => document.querySelector(\".card[data-counter='1'] .ticket\").textContent !== '—'")
    assert page.locator(".card[data-counter='1'] .ticket").inner_text() == called
    server.post(f"/counters/{ids.counter(4)}/call-next", tokens[4])
    server.post(f"/counters/{ids.counter(2)}/call-next", tokens[2])
    page.wait_for_function("() => document.querySelectorAll('#recent li').length === 3")
    page.wait_for_timeout(3000)  # let the flash finish before the picture
    screenshot(page, "display-board")

    server.kill()
    page.wait_for_selector("body.offline", timeout=15000)
    assert page.locator(".offline-mark").is_visible()
    screenshot(page, "display-offline")
    server.start()
    page.wait_for_selector("body:not(.offline)", timeout=15000)
    server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1], json={"previous": "served"})  # tokens outlive a restart
    page.wait_for_function("() => document.querySelectorAll('#recent li').length === 4", timeout=5000)
    page.close()


def queue_rows(page) -> list[dict]:
    """The board's waiting list, row by row: text, classes, whether shown and wholly inside the list."""
    return page.evaluate("""() => {
        const end = document.querySelector('section.queues').getBoundingClientRect().bottom;
        return [...document.querySelectorAll('#queues li')].map((li) => ({
            text: li.innerText, classes: [...li.classList], shown: li.checkVisibility(),
            inside: li.getBoundingClientRect().bottom <= end }));
    }""")


def test_a_recall_is_one_row_in_the_recent_calls_marked_as_a_recall(browser, demo_server):
    server, ids = demo_server
    token = sign_in(server, ids, 1)
    for _ in range(2):
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    page = open_board(browser, server, ids)
    first = server.post(f"/counters/{ids.counter(1)}/call-next", token).json()["ticket"]["number"]
    page.wait_for_selector("#recent li")
    server.post(f"/counters/{ids.counter(1)}/recall", token).raise_for_status()
    page.wait_for_selector("#recent li.recall")
    assert page.locator("#recent li").count() == 1
    assert page.locator("#recent li .again").inner_text() == "gọi lại"
    server.post(f"/counters/{ids.counter(1)}/finish", token)
    second = server.post(f"/counters/{ids.counter(1)}/call-next", token).json()["ticket"]["number"]
    page.wait_for_function("n => document.querySelector('#recent li .number').textContent === n", arg=second)
    assert [t.split("gọi lại")[0].strip() for t in page.locator("#recent li .number").all_inner_texts()] == [second, first]
    page.reload()                                  # the snapshot says the same
    page.wait_for_selector("body[data-queues-fitted]")
    assert page.locator("#recent li").count() == 2 and page.locator("#recent li.recall").count() == 1


def test_the_queue_list_shows_whole_rows_only_busy_ones_first(browser, demo_server):
    server, ids = demo_server
    for code in ("HT01", "HT01", "CT01", "KD01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = open_board(browser, server, ids)
    page.wait_for_function("() => document.querySelector('#queues li:not(.none)') && document.body.dataset.queuesFitted")
    rows = queue_rows(page)
    shown = [row for row in rows if row["shown"]]
    assert len(rows) == 22 and 3 <= len(shown) < 22     # the demo has more services than fit
    assert all(row["inside"] for row in shown)           # none cut by the screen's edge
    assert rows[:len(shown)] == shown                    # the hidden ones are the last
    assert ["none" not in row["classes"] for row in rows[:3]] == [True] * 3
    assert page.locator("#queues li.more").count() == 0  # only empty queues were left out
    page.close()


def test_people_in_queues_the_screen_has_no_room_for_are_added_up_in_a_last_row(browser, demo_server):
    server, ids = demo_server
    services = server.get("/services").json()
    for service in services:
        server.post("/tickets", json={"service": service["id"]}).raise_for_status()
    server.post("/tickets", json={"service": services[-1]["id"]}).raise_for_status()
    page = open_board(browser, server, ids)
    page.wait_for_function("() => document.querySelector('#queues li.more') && document.body.dataset.queuesFitted")
    shown = [row for row in queue_rows(page) if row["shown"]]
    assert all(row["inside"] for row in shown)
    assert ["more" in row["classes"] for row in shown] == [False] * (len(shown) - 1) + [True]
    people = [int(re.search(r"(\d+) người", row["text"]).group(1)) for row in shown]
    assert sum(people) == len(services) + 1               # everyone waiting is on the screen
    assert f"Các thủ tục khác ({len(services) - len(shown) + 1})" in shown[-1]["text"]
    screenshot(page, "display-queues-more")
    page.close()


def test_assets_are_served_locally(demo_server):
    server, _ = demo_server
    import requests
    font = requests.get(f"{server.url}/assets/fonts/be-vietnam-pro-bold.ttf", timeout=5)
    assert font.status_code == 200 and len(font.content) > 50_000
    client = requests.get(f"{server.url}/assets/vendor/socket.io.min.js", timeout=5)
    assert client.status_code == 200 and b"io" in client.content
    assert requests.get(f"{server.url}/assets/vendor/nothing.js", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/assets/fonts/be-vietnam-pro-comic.ttf", timeout=5).status_code == 404


def test_unknown_display_key_gets_a_403_page(browser, demo_server):
    server, _ = demo_server
    page = browser.new_page(viewport=DISPLAY)
    for path in ("/display", "/display/not-a-key", "/display/" + "x" * 80):
        response = page.goto(f"{server.url}{path}")
        assert response.status == 403
        assert "Màn hình chưa được đăng ký" in page.content()
    screenshot(page, "display-forbidden")
    page.close()


def test_a_filtered_display_shows_and_announces_only_its_counters(browser, demo_server):
    server, ids = demo_server
    tokens = {n: sign_in(server, ids, n) for n in (1, 4)}
    for code in ("HT01", "DD01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = open_board(browser, server, ids, "Sảnh tầng 1 – Quầy 1 đến 3", last_counter=3)
    assert page.locator(".card").count() == 3
    server.post(f"/counters/{ids.counter(4)}/call-next", tokens[4])       # not on this screen
    called = server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1]).json()["ticket"]["number"]
    page.wait_for_function("n => document.querySelector('#latest-number').textContent === n", arg=called)
    page.wait_for_function("() => window.hangdoiAnnouncer.log.length >= 1")
    page.wait_for_timeout(300)
    assert [e["counter"] for e in page.evaluate("window.hangdoiAnnouncer.log")] == [1]
    assert page.locator("#recent li").count() == 1
    page.close()


def test_two_quick_calls_are_spoken_one_after_the_other(browser, demo_server):
    server, ids = demo_server
    tokens = {n: sign_in(server, ids, n) for n in (1, 2)}
    for code in ("HT01", "HT01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = open_board(browser, server, ids)
    first = server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1]).json()["ticket"]["number"]
    second = server.post(f"/counters/{ids.counter(2)}/call-next", tokens[2]).json()["ticket"]["number"]
    page.wait_for_function("() => window.hangdoiAnnouncer.log.length === 2")
    log = page.evaluate("window.hangdoiAnnouncer.log")
    assert [e["number"] for e in log] == [first, second]
    # The second waits while the first is spoken: never two voices at once.
    assert [e["state"] for e in log] == ["speaking", "queued"]
    page.wait_for_function("() => window.hangdoiAnnouncer.log[1].state !== 'queued'", timeout=20000)
    assert page.evaluate("window.hangdoiAnnouncer.log[0].state") == "done"
    # A recall is announced again.
    server.post(f"/counters/{ids.counter(1)}/recall", tokens[1])
    page.wait_for_function("() => window.hangdoiAnnouncer.log.length === 3")
    assert page.evaluate("window.hangdoiAnnouncer.log[2]")["recall"] is True
    page.close()


def test_the_announcement_audio_is_served_to_displays_for_calls_made(demo_server):
    """The attack: /display/audio/call.wav with a new made-up number each time wrote ~376 KB per
    anonymous request, never cleaned (60 requests: 22.6 MB)."""
    import io
    import wave
    from concurrent.futures import ThreadPoolExecutor

    import requests
    server, ids = demo_server
    key = next(iter(ids.displays.values()))
    number = server.post("/tickets", json={"service": "HT01"}).json()["number"]
    officer = server.login("canbo1", "matkhau1")
    server.post(f"/counters/{ids.counter(1)}/sign-in", officer).raise_for_status()
    assert server.post(f"/counters/{ids.counter(1)}/call-next", officer).json()["ticket"]["number"] == number
    audio = f"{server.url}/display/audio/call.wav"
    call = {"n": number, "c": "1", "k": str(ids.centre), "d": key}
    with ThreadPoolExecutor(16) as pool:           # every board fetches the new call at once
        answers = list(pool.map(lambda _: requests.get(audio, params=call, timeout=60), range(16)))
    assert {a.status_code for a in answers} == {200} and len({a.content for a in answers}) == 1
    assert answers[0].headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(answers[0].content)) as w:
        assert w.getnframes() / w.getframerate() > 1.0
    cache = server.data_dir / "voice" / "cache"
    files = sorted(p.name for p in cache.iterdir())
    assert requests.get(audio, params={**call, "d": ""}, timeout=5).status_code == 403
    assert requests.get(audio, params={**call, "d": "not-a-display"}, timeout=5).status_code == 403
    assert requests.get(audio, params={**call, "k": "2"}, timeout=5).status_code == 403
    for made_up in range(1100, 1160):              # numbers nobody called: nothing is built
        assert requests.get(audio, params={**call, "n": str(made_up)}, timeout=5).status_code == 404
    for bad in ({"n": "10 05", "c": "3"}, {"n": number, "c": "x"}, {"n": number}, {"n": "<script>", "c": "1"},
                {"n": number, "c": "99999"}, {"n": number, "c": "77"}, {"n": number, "c": "١"}):
        assert requests.get(audio, params={**bad, "d": key}, timeout=5).status_code == 404
    assert sorted(p.name for p in cache.iterdir()) == files


def test_the_announcement_cache_is_bounded_in_size_and_age(tmp_path):
    import os

    from display.voice import CACHE_FILES, CACHE_SECONDS, prune_cache
    now = 1_800_000_000
    for n in range(CACHE_FILES + 50):
        path = tmp_path / f"{n}.wav"
        path.write_bytes(b"x")
        os.utime(path, (now - n, now - n))
    old = tmp_path / "old.wav"
    old.write_bytes(b"x")
    os.utime(old, (now - CACHE_SECONDS - 1,) * 2)
    prune_cache(tmp_path, now=now)
    kept = {p.name for p in tmp_path.glob("*.wav")}
    assert len(kept) == CACHE_FILES and "0.wav" in kept and f"{CACHE_FILES}.wav" not in kept and "old.wav" not in kept


def test_thirty_counters_fit_without_scrolling_and_queues_by_domain(browser, tmp_path):
    spec = {**DEMO_CENTRE,
            "counters": [{"number": n, "name": f"Bàn {n}", "primary": ["HT"]} for n in range(1, 31)],
            "displays": [{"name": "Lớn", "options": {"queues_by": "domain", "ticker": "Giờ làm việc: 7h30–17h00"}}]}
    url = f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = build_centre(db, spec)
    db.dispose()
    server = LiveServer(tmp_path).start()
    server.kiosk_key = next(iter(ids.kiosks.values()))
    try:
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        server.post("/tickets", json={"service": "HT02"}).raise_for_status()
        page = browser.new_page(viewport=DISPLAY)
        page.goto(f"{server.url}/display/{ids.displays['Lớn']}")
        page.wait_for_selector(".card[data-counter='30']")
        page.wait_for_selector("body[data-queues-fitted]")      # drawn in its own font, and fitted
        assert page.evaluate("document.documentElement.scrollHeight") <= DISPLAY["height"]
        last = page.locator(".card[data-counter='30']").bounding_box()
        assert last["y"] + last["height"] <= DISPLAY["height"] - 60  # above the ticker
        first_row = page.locator("#queues li").first.inner_text()
        assert "Tư pháp – Hộ tịch" in first_row and "2" in first_row
        assert "7h30" in page.locator(".ticker").inner_text()
        screenshot(page, "display-thirty-counters")
        page.close()
    finally:
        server.stop()


def test_without_espeak_the_display_says_so_and_uses_the_browser_voice(browser, tmp_path):
    # A PATH with no espeak-ng on it: the server cannot make the default voice pack.
    server, ids = start_demo(tmp_path, extra_env={"PATH": str(tmp_path / "empty-bin")})
    try:
        page = browser.new_page(viewport=DISPLAY)
        page.goto(f"{server.url}/display/{ids.displays['Sảnh chờ chính']}")
        page.wait_for_selector("body.browser-voice")
        assert "giọng của trình duyệt" in page.locator(".voice-note").inner_text()
        assert page.locator(".voice-note").is_visible()
        page.close()
    finally:
        server.stop()


# Headless Chromium plays sound without a gesture whatever the flags say, so the one thing that
# cannot happen here, the browser's refusal, is put in place: play() rejects until a click.
REFUSE_SOUND_UNTIL_A_CLICK = """
  let touched = false;
  addEventListener("click", () => { touched = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    return touched ? play.call(this)
                   : Promise.reject(new DOMException("gesture needed", "NotAllowedError"));
  };
"""


def test_when_the_browser_blocks_sound_one_tap_turns_it_on(browser, demo_server):
    server, ids = demo_server
    token = sign_in(server, ids, 1)
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    page = browser.new_page(viewport=DISPLAY)
    page.add_init_script(REFUSE_SOUND_UNTIL_A_CLICK)
    page.goto(f"{server.url}/display/{ids.displays['Sảnh chờ chính']}")
    page.wait_for_selector(".card[data-counter='1']")
    assert not page.locator("#sound-on").is_visible()
    server.post(f"/counters/{ids.counter(1)}/call-next", token)
    page.wait_for_selector("body.needs-sound", timeout=10000)
    assert page.locator("#sound-on").is_visible()
    screenshot(page, "display-sound-on")
    page.locator("#sound-on").click()
    page.wait_for_selector("body:not(.needs-sound)")
    assert page.evaluate("localStorage.getItem('hangdoi.display.sound')") == "on"
    page.close()


@pytest.fixture
def morning_server(tmp_path):
    """The demo centre at mid-morning whenever the test runs: near closing, estimates say otherwise."""
    server, ids = start_demo(tmp_path, spec=open_now(DEMO_CENTRE))
    yield server, ids
    server.stop()


def test_the_board_shows_a_newcomers_expected_wait_where_people_wait(browser, morning_server):
    server, ids = morning_server
    sign_in(server, ids, 1)                                     # counter 1: Hộ tịch
    page = open_board(browser, server, ids)
    for _ in range(4):
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    server.post("/tickets", json={"service": "KD01"}).raise_for_status()   # no counter open for it
    row = page.locator("#queues li:has-text('Đăng ký khai sinh')")
    # The `estimates` messages that follow: the first may still count fewer of the four citizens.
    expect(row.locator(".estimate")).to_have_text(re.compile("^Dự kiến chờ khoảng"), timeout=10_000)
    business = page.locator("#queues li:has-text('Đăng ký thành lập hộ kinh doanh')")
    business.locator(".count:has-text('1 người')").wait_for()
    assert business.locator(".estimate").count() == 0
    assert page.locator("#queues li.none .estimate").count() == 0  # nobody waiting: nothing to say
