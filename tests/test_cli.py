"""The `hangdoi` command as an operator uses it."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import requests
from sqlalchemy import text

from hangdoi.fixtures.demo import DEMO_CENTRE, demo_credentials
from hangdoi.fixtures.testing import free_port


def hangdoi(args, data_dir, input_text=None, timeout=60):
    env = {**os.environ, "HANGDOI_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "hangdoi.cli", *args], env=env, input=input_text,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_creates_a_realistic_centre_prints_accounts_and_serves(tmp_path):
    port = free_port()
    env = {**os.environ, "HANGDOI_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "hangdoi.cli", "demo", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("serving on" in line for line in lines):
            lines.append(process.stdout.readline())
        for username, password in demo_credentials():
            assert f"{username} / {password}\n" in lines
        assert sum("lobby display" in line for line in lines) == 2
        # "serving on" is printed just before the port is bound: wait for it to answer.
        services = None
        while services is None and time.monotonic() < deadline + 10:
            try:
                services = requests.get(f"http://127.0.0.1:{port}/api/v1/services", timeout=5).json()
            except requests.ConnectionError:
                time.sleep(0.1)
        assert len(services) >= 20 and len({s["domain"]["code"] for s in services}) >= 6
        assert "Đăng ký khai sinh" in {s["name"] for s in services}
        login = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/login", timeout=5,
                              json={"username": "canbo1", "password": "matkhau1"})
        assert login.status_code == 200
    finally:
        # SIGTERM is gunicorn's graceful stop: up to its 10-second graceful timeout, more on a busy machine.
        process.terminate()
        process.wait(timeout=60)
    assert (tmp_path / "hangdoi.sqlite3").exists()


def test_demo_centre_has_overlapping_primary_and_backup_services():
    counters = DEMO_CENTRE["counters"]
    assert 6 <= len(counters) <= 8
    primaries = [set(c["primary"]) for c in counters]
    assert any(a & b for i, a in enumerate(primaries) for b in primaries[i + 1:])
    assert all(set(c.get("backup", [])) for c in counters[:1])
    officers = [o for o in DEMO_CENTRE["officers"] if o.get("role", "officer") == "officer"]
    assert len(officers) == len(counters)
    assert any(o.get("role") == "admin" for o in DEMO_CENTRE["officers"])


def test_the_large_catalogue_is_a_communes_real_size(db):
    from hangdoi.fixtures.demo import demo_centre, ensure_demo_centre
    assert ensure_demo_centre(db, "large")
    spec = demo_centre("large")
    with db.read() as s:
        count = lambda table: s.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: E731
        assert (count("domain"), count("service"), count("counter")) == (70, 399, 12)
        # A counter group's fields share its letter, each with its own numbers: no two overlap.
        series = s.execute(text("SELECT prefix, first_number, last_number FROM ticket_series")).all()
        assert len(series) == 70 and {r[0] for r in series} == set("ABCDEFGHIJKL")
        for prefix in "ABCDEFGHIJKL":
            ranges = sorted((r[1], r[2]) for r in series if r[0] == prefix)
            assert ranges[0][0] == 1 and ranges[-1][1] == 999
            assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))
    officers = [o for o in spec["officers"] if o.get("role", "officer") == "officer"]
    assert len(officers) == 12 and ("canbo12", "matkhau12") in demo_credentials("large")


def test_db_upgrade_create_admin_and_close_day(tmp_path):
    assert "up to date" in hangdoi(["db", "upgrade"], tmp_path).stdout
    created = hangdoi(["create-admin", "--username", "quantri", "--full-name", "Quản trị",
                       "--password", "mot-mat-khau-dai"], tmp_path)
    assert created.returncode == 0 and "quantri" in created.stdout
    again = hangdoi(["create-admin", "--username", "quantri", "--full-name", "X",
                     "--password", "mot-mat-khau-dai"], tmp_path)
    assert again.returncode != 0 and "exists" in again.stderr
    short = hangdoi(["create-admin", "--username", "b", "--full-name", "X", "--password", "ngan"], tmp_path)
    assert short.returncode != 0
    closed = hangdoi(["close-day"], tmp_path)
    assert closed.returncode == 0 and "closed 0 tickets" in closed.stdout
    bad = hangdoi(["close-day", "--date", "23/11/2026"], tmp_path)
    assert bad.returncode != 0 and "Invalid value" in bad.stderr
