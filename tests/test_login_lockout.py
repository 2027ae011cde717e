"""Wrong passwords lock an account for a while, everywhere; an administrator's reset unlocks it."""
from __future__ import annotations

import time

import pytest

from hangdoi import auth
from hangdoi.app import create_app
from hangdoi.config import load_settings

from .centres import PASSWORD


@pytest.fixture
def client(db, centre, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data", login_rate_limit_per_minute=0),
                      db=db).test_client()


def login(client, username="an", password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, clock):
    for _ in range(auth.LOCK_AFTER - 1):
        assert login(client, password="sai-mat-khau").status_code == 401
    assert login(client).status_code == 200                      # a success starts the count again
    for _ in range(auth.LOCK_AFTER):
        assert login(client, password="sai-mat-khau").status_code == 401
    locked = login(client)
    assert locked.status_code == 429 and locked.json["error"]["code"] == "account_locked"
    assert "15 phút" in locked.json["error"]["message"]
    assert login(client, "binh").status_code == 200              # only that account
    clock.advance(minutes=auth.LOCK_MINUTES, seconds=1)
    assert login(client).status_code == 200


def test_an_administrators_password_reset_unlocks_at_once(client, centre):
    for _ in range(auth.LOCK_AFTER):
        login(client, password="sai-mat-khau")
    assert login(client).status_code == 429
    admin = {"Authorization": f"Bearer {login(client, 'quantri').json['token']}"}
    reset = client.post(f"/api/v1/admin/officers/{centre.officer('an')}/password", headers=admin,
                        json={"password": "mat-khau-moi-2026"})
    assert reset.status_code == 200, reset.json
    assert login(client, password="mat-khau-moi-2026").status_code == 200


def test_the_sign_in_form_says_the_account_is_locked(client):
    for _ in range(auth.LOCK_AFTER):
        login(client, password="sai-mat-khau")
    page = client.get("/counter")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/counter/login", data={"username": "an", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 429 and "tạm khoá 15 phút" in answer.text


def sign_in_by_form(client):
    page = client.get("/counter")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/counter/login", data={"username": "an", "password": PASSWORD, "csrf_token": token})


def test_a_signed_in_page_expires_and_its_cookie_is_locked_down(db, centre, tmp_path):
    app = create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db)
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


def test_a_call_without_a_cookie_gets_none_and_a_signed_in_page_keeps_its_cookie_fresh(db, centre, tmp_path):
    app = create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db)
    client = app.test_client()
    kiosk_call = client.get("/api/v1/services")
    assert kiosk_call.status_code == 200
    assert "Set-Cookie" not in kiosk_call.headers
    assert "Cookie" in kiosk_call.headers.get("Vary", "")      # what it lists depends on who asks
    sign_in_by_form(client)
    page = client.get("/counter")
    assert "counter-grid" in page.text and "Expires=" in page.headers["Set-Cookie"]
