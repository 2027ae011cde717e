"""Every answer carries the security headers, and every page works under its content policy."""
from __future__ import annotations

import requests

from hangdoi.web.security import HEADERS, content_policy

PAGES = ["/", "/kiosk/{kiosk}", "/display/{display}", "/counter", "/admin", "/admin/reports", "/admin/settings",
         "/admin/audit", "/rate/1"]


def test_pages_api_answers_and_errors_carry_the_headers(demo_server):
    server, ids = demo_server
    kiosk = next(iter(ids.kiosks.values()))
    for path in (f"/kiosk/{kiosk}", "/api/v1/services", "/api/v1/openapi.json", "/no/such/page", "/kiosk/wrong-key"):
        response = requests.get(server.url + path, timeout=10)
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        policy = response.headers["Content-Security-Policy"]
        assert policy == content_policy(f"127.0.0.1:{server.port}")
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert f"connect-src 'self' ws://127.0.0.1:{server.port} wss://127.0.0.1:{server.port};" in policy


def test_no_page_breaks_the_content_policy(browser, demo_server):
    server, ids = demo_server
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{server.url}/admin")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "quantri123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    keys = {"kiosk": next(iter(ids.kiosks.values())), "display": next(iter(ids.displays.values()))}
    for path in PAGES:
        page.goto(server.url + path.format(**keys))
        page.wait_for_load_state("networkidle")
    page.goto(f"{server.url}/admin/reports")
    page.wait_for_selector("canvas")                           # the charts drew under the policy
    assert violations == []


def hidden_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_forms_that_change_something_need_the_pages_token(demo_server):
    server, ids = demo_server
    visitor = requests.Session()
    sign_in_page = visitor.get(f"{server.url}/counter", timeout=10).text
    # A page elsewhere posting the sign-in form gets nowhere, and no session is opened.
    forged = visitor.post(f"{server.url}/counter/login", data={"username": "canbo1", "password": "matkhau1"},
                          timeout=10, allow_redirects=False)
    assert forged.status_code == 302 and "form_expired" in forged.headers["Location"]
    assert "Trang đã mở quá lâu" in visitor.get(f"{server.url}{forged.headers['Location']}", timeout=10).text
    assert "counter-grid" not in visitor.get(f"{server.url}/counter", timeout=10).text
    signed = visitor.post(f"{server.url}/counter/login", timeout=10, allow_redirects=True,
                          data={"username": "canbo1", "password": "matkhau1", "csrf_token": hidden_token(sign_in_page)})
    assert signed.status_code == 200 and "counter-grid" in signed.text
    # Choosing a counter without the token signs in nowhere; with it, at counter 1.
    visitor.post(f"{server.url}/counter/choose", data={"counter": ids.counter(1)}, timeout=10)
    assert all(c["status"] == "closed" for c in server.get("/display/state").json()["counters"])
    visitor.post(f"{server.url}/counter/choose", timeout=10,
                 data={"counter": ids.counter(1), "csrf_token": hidden_token(signed.text)})
    states = {c["number"]: c["status"] for c in server.get("/display/state").json()["counters"]}
    assert states[1] == "open"
    # A forged sign-out leaves the officer at the counter.
    visitor.post(f"{server.url}/counter/logout", timeout=10)
    assert {c["number"]: c["status"] for c in server.get("/display/state").json()["counters"]}[1] == "open"


def test_a_page_of_the_same_site_cannot_act_for_a_signed_in_manager(demo_server):
    """The attack: a page on another port of the same host closed a service for a signed-in manager
    with a plain form post (SameSite=Lax lets a same-site post carry the cookie)."""
    server, ids = demo_server
    manager = requests.Session()
    page = manager.get(f"{server.url}/counter", timeout=10).text
    manager.post(f"{server.url}/counter/login", timeout=10,
                 data={"username": "lanhdao", "password": "lanhdao123", "csrf_token": hidden_token(page)})
    close = f"{server.url}/api/v1/services/{ids.service('HT01')}/close-today"
    form = manager.post(close, data={"x": "1"}, timeout=10)
    plain_json = manager.post(close, json={}, timeout=10)
    assert (form.status_code, plain_json.status_code) == (403, 403)
    assert plain_json.json()["error"]["code"] == "csrf_failed"
    assert next(s for s in server.get("/services").json() if s["code"] == "HT01")["open"] is True
    # The manager's own page sends its token in a header, which no other page can set.
    token = manager.get(f"{server.url}/admin", timeout=10).text.split('name="csrf-token" content="')[1].split('"')[0]
    assert manager.post(close, json={}, headers={"X-CSRFToken": token}, timeout=10).status_code == 200
