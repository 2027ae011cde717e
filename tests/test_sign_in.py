"""Sign-in: wrong passwords slow the address that sends them and never lock the account; signing
out, a password change and a manager's action end a session everywhere, copied cookies included."""
from __future__ import annotations

import time

import pytest

from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.web.throttle import LOGIN_FAILURES

from .centres import PASSWORD


@pytest.fixture
def app(db, centre, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data", login_rate_limit_per_minute=100), db=db)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="an", password=PASSWORD, address="10.0.0.9"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_slow_their_address_and_never_lock_the_owner_out(client):
    """The attack: five anonymous wrong passwords (0.56 s) locked `admin` for 15 minutes."""
    for _ in range(LOGIN_FAILURES - 1):
        assert login(client, password="sai-mat-khau").status_code == 401
    assert login(client).status_code == 200                      # a success forgets the slips
    for _ in range(LOGIN_FAILURES):
        assert login(client, password="sai-mat-khau").status_code == 401
    slowed = login(client)
    assert slowed.status_code == 429 and slowed.json["error"]["code"] == "login_throttled"
    assert "giây" in slowed.json["error"]["message"]
    # The officer at her own counter signs in as usual: the guesses came from elsewhere.
    assert login(client, address="10.0.0.20").status_code == 200
    assert login(client, "binh").status_code == 200              # and the address may sign in others


@pytest.fixture(params=["memory", "redis"])
def shared_app(request, db, centre, tmp_path):
    """An app counting in process memory, or in Redis as several workers do (a fresh channel, so
    earlier runs' counts never meet this one's)."""
    redis = {"redis_url": request.getfixturevalue("redis_url"),
             "redis_channel": f"hangdoi-test-{tmp_path.name}"} if request.param == "redis" else {}
    return create_app(load_settings(env={}, data_dir=tmp_path / "data", login_rate_limit_per_minute=100, **redis),
                      db=db)


def test_a_manager_lets_a_slowed_officer_sign_in_at_once(shared_app, centre):
    client = shared_app.test_client()
    for address in ("10.0.0.9", "10.0.0.10"):
        for _ in range(LOGIN_FAILURES):
            login(client, password="sai-mat-khau", address=address)
        assert login(client, address=address).status_code == 429
    manager = login(client, "dung", address="10.0.0.30").json["token"]
    as_manager = {"Authorization": f"Bearer {manager}"}
    officer_token = login(client, "binh", address="10.0.0.31").json["token"]
    refused = client.post(f"/api/v1/admin/officers/{centre.officer('an')}/unlock",
                          headers={"Authorization": f"Bearer {officer_token}"})
    assert refused.status_code == 403                                  # an officer may not
    assert login(client, address="10.0.0.9").status_code == 429
    unlocked = client.post(f"/api/v1/admin/officers/{centre.officer('an')}/unlock", headers=as_manager)
    assert unlocked.status_code == 200 and unlocked.json["username"] == "an"
    assert login(client, address="10.0.0.10").status_code == 200       # at every address at once
    assert login(client, address="10.0.0.9").status_code == 200
    # A guesser starts counting again from nothing: it is slowed after as many slips as before.
    codes = [login(client, password="sai-mat-khau", address="10.0.0.9").status_code for _ in range(LOGIN_FAILURES + 1)]
    assert codes == [401] * LOGIN_FAILURES + [429]
    audit = client.get("/api/v1/admin/audit", headers=as_manager).json
    assert any(e["action"] == "unlock_sign_in" for e in audit)


def test_unknown_and_known_usernames_are_answered_alike(client):
    answers = {}
    for username in ("an", "nobody-like-this"):
        first = login(client, username, "sai-mat-khau", address=f"10.0.1.{len(answers) + 1}")
        for _ in range(LOGIN_FAILURES - 1):
            login(client, username, "sai-mat-khau", address=f"10.0.1.{len(answers) + 1}")
        after = login(client, username, "sai-mat-khau", address=f"10.0.1.{len(answers) + 1}")
        answers[username] = (first.status_code, first.json["error"]["code"], after.status_code,
                             after.json["error"]["code"])
    assert answers["an"] == answers["nobody-like-this"] == (401, "bad_credentials", 429, "login_throttled")


def test_one_address_may_not_try_many_usernames_fast(db, centre, tmp_path):
    client = create_app(load_settings(env={}, data_dir=tmp_path / "data", login_rate_limit_per_minute=5),
                        db=db).test_client()
    codes = [login(client, f"user{n}", "x").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    assert login(client, address="10.9.9.9").status_code == 200


def test_the_sign_in_form_says_to_wait(client):
    for _ in range(LOGIN_FAILURES):
        login(client, password="sai-mat-khau", address="127.0.0.1")
    page = client.get("/counter")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/counter/login", data={"username": "an", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 429 and "thử lại sau" in answer.text


def test_the_sign_in_form_needs_its_token(client):
    client.get("/counter")
    answer = client.post("/counter/login", data={"username": "an", "password": PASSWORD})
    assert answer.status_code == 302 and "form_expired" in answer.headers["Location"]
    assert "counter-grid" not in client.get("/counter").text


def sign_in_by_form(client):
    page = client.get("/counter")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/counter/login", data={"username": "an", "password": PASSWORD, "csrf_token": token})


def test_a_signed_in_page_expires_and_its_cookie_is_locked_down(app):
    app.config["PERMANENT_SESSION_LIFETIME"] = 1
    client = app.test_client()
    answer = sign_in_by_form(client)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie and "Secure" not in cookie
    assert "counter-grid" in client.get("/counter").text               # signed in: choose a counter
    time.sleep(2.1)
    assert "counter-grid" not in client.get("/counter").text           # the cookie has expired
    over_tls = app.test_client().get("/counter", base_url="https://hangdoi.local")
    assert "Secure" in over_tls.headers["Set-Cookie"]


def test_a_call_without_a_cookie_gets_none_and_a_signed_in_page_keeps_its_cookie_fresh(client):
    kiosk_call = client.get("/api/v1/services")
    assert kiosk_call.status_code == 200
    assert "Set-Cookie" not in kiosk_call.headers
    assert "Cookie" in kiosk_call.headers.get("Vary", "")      # what it lists depends on who asks
    sign_in_by_form(client)
    page = client.get("/counter")
    assert "counter-grid" in page.text and "Expires=" in page.headers["Set-Cookie"]


def csrf_of(client) -> str:
    return client.get("/counter").text.split('name="csrf-token" content="')[1].split('"')[0]


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(app):
    """The attack: a copied session cookie still worked after /counter/logout."""
    officer = app.test_client()
    sign_in_by_form(officer)
    cookie = officer.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert "counter-grid" in thief.get("/counter").text                # the copy works while signed in
    officer.post("/counter/logout", data={"csrf_token": csrf_of(officer)})
    assert "counter-grid" not in thief.get("/counter").text
    assert thief.get("/api/v1/officers/me/today").status_code == 401


def test_a_password_reset_ends_pages_and_tokens(app, centre):
    page = app.test_client()
    sign_in_by_form(page)
    token = login(page.application.test_client()).json["token"]
    admin = login(app.test_client(), "quantri").json["token"]
    reset = app.test_client().post(f"/api/v1/admin/officers/{centre.officer('an')}/password",
                                   headers={"Authorization": f"Bearer {admin}"}, json={"password": "mat-khau-moi-2026"})
    assert reset.status_code == 200
    assert page.get("/api/v1/officers/me/today").status_code == 401
    assert app.test_client().get("/api/v1/officers/me/today",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_manager_signs_an_officer_out_everywhere(app, centre):
    page = app.test_client()
    sign_in_by_form(page)
    token = login(app.test_client()).json["token"]
    manager = login(app.test_client(), "dung").json["token"]
    done = app.test_client().post(f"/api/v1/admin/officers/{centre.officer('an')}/sign-out",
                                  headers={"Authorization": f"Bearer {manager}"})
    assert done.status_code == 200, done.json
    assert page.get("/api/v1/officers/me/today").status_code == 401
    assert app.test_client().get("/api/v1/officers/me/today",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app.test_client()).status_code == 200                   # not locked: just signed out


def test_a_token_signs_out(client):
    token = login(client).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).json == {"signed_out": True}
    assert client.get("/api/v1/officers/me/today", headers=headers).status_code == 401
