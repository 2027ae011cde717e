"""The deployment README "Deployment" describes: gunicorn with several threaded workers serving
`hangdoi.wsgi:app`, sharing PostgreSQL and Redis. Sockets land on whichever worker accepts them;
every screen still hears every call, and tickets issued through all workers at once stay unique."""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.fixtures.testing import LiveServer, free_port
from hangdoi.serving import THREADS

from .centres import PASSWORD
from .conftest import build_centre, service_missing, truncate_postgres
from .test_realtime import subscriber
from .test_scaleout import CENTRE

WORKERS = 3


def start_gunicorn(tmp_path, postgres_url, redis_url, **env):
    truncate_postgres(postgres_url)
    db = Database(postgres_url, clock=SystemClock())
    ids = build_centre(db, {**CENTRE, "kiosks": [{"name": "k1"}, {"name": "k2"}]})
    db.dispose()
    env = {"HANGDOI_REDIS_CHANNEL": f"hangdoi-test-{uuid.uuid4().hex[:8]}", **env}
    server = LiveServer(tmp_path / "g", database_url=postgres_url, redis_url=redis_url, extra_env=env,
                        gunicorn_workers=WORKERS).start()
    server.kiosk_key = ids.kiosks["k1"]
    return server, ids


@pytest.fixture
def gunicorn(tmp_path, postgres_schema_url, redis_url):
    server, ids = start_gunicorn(tmp_path, postgres_schema_url, redis_url, HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE="0")
    yield server, ids
    server.stop()


def test_gunicorn_workers_share_the_calls_and_the_numbering(gunicorn):
    server, ids = gunicorn
    assert len(server.worker_pids()) == WORKERS
    boards = [subscriber(server) for _ in range(8)]    # spread over the workers by the kernel
    try:
        numbers, errors = [], []

        def kiosk():
            for _ in range(15):
                answer = server.post("/tickets", json={"service": "HT01"})
                (numbers.append(answer.json()["number"]) if answer.status_code == 201 else errors.append(answer.text))
        kiosks = [threading.Thread(target=kiosk) for _ in range(4)]
        for thread in kiosks:
            thread.start()
        for thread in kiosks:
            thread.join()
        assert errors == [] and len(numbers) == 60 == len(set(numbers))
        token = server.login("cb1", PASSWORD)
        assert server.post(f"/counters/{ids.counter(1)}/sign-in", token).status_code == 200
        called = [server.post(f"/counters/{ids.counter(1)}/call-next", token, json={"previous": "served"}).json()["ticket"]["number"]
                  for _ in range(3)]
        for _, recorder in boards:
            heard = [recorder.next("ticket_called", timeout=10)["ticket"]["number"] for _ in called]
            assert heard == called
    finally:
        for client, _ in boards:
            client.close()


def test_a_signed_in_page_stays_signed_in_whichever_worker_answers(gunicorn):
    """Session cookies are signed with the one secret all workers generated into the data directory at
    once, without agreeing beforehand: any worker accepts any worker's cookie."""
    server, _ = gunicorn
    browser = requests.Session()
    page = browser.get(f"{server.url}/counter", timeout=10)
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    signed = browser.post(f"{server.url}/counter/login", data={"username": "cb1", "password": PASSWORD,
                                                               "csrf_token": token}, timeout=10)
    assert signed.status_code == 200
    for _ in range(12):          # new connections: the kernel hands them to different workers
        answer = requests.get(f"{server.url}/api/v1/officers/me/today", cookies=browser.cookies, timeout=10)
        assert answer.status_code == 200


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_nginx_sign_ins_are_limited_by_the_real_address_and_never_by_a_forged_one(db, tmp_path, proxies):
    from hangdoi.app import create_app
    from hangdoi.config import load_settings
    from .centres import SMALL_CENTRE
    build_centre(db, SMALL_CENTRE)
    settings = load_settings(env={"HANGDOI_PROXIES": str(proxies)}, data_dir=tmp_path / "data",
                             login_rate_limit_per_minute=2)
    client = create_app(settings, db=db).test_client()

    def attempt(address: str):
        # Through nginx every request comes from 127.0.0.1 and names the client in X-Forwarded-For.
        return client.post("/api/v1/auth/login", json={"username": "an", "password": "sai"},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": address}).status_code
    assert [attempt("192.168.1.21"), attempt("192.168.1.21"), attempt("192.168.1.21")] == [401, 401, 429]
    # Behind nginx the next address has its own allowance; with no proxy configured the header is
    # nobody's word, and the address it came from has used its allowance.
    assert attempt("192.168.1.22") == (401 if proxies else 429)


NGINX_SITE = Path(__file__).resolve().parent.parent / "scripts" / "deploy" / "nginx-hangdoi.conf"


@pytest.fixture
def nginx(tmp_path, postgres_schema_url, redis_url):
    """nginx with the site file README "Deployment" installs, moved to free loopback ports, in front
    of gunicorn configured as hangdoi.env.example says (HANGDOI_PROXIES=1)."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        service_missing("nginx is not installed (Debian package nginx)")
    server, ids = start_gunicorn(tmp_path, postgres_schema_url, redis_url, HANGDOI_PROXIES="1",
                                 HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE="3")
    port = free_port()
    site = NGINX_SITE.read_text().replace("127.0.0.1:5000", f"127.0.0.1:{server.port}") \
                                 .replace("listen 80;", f"listen 127.0.0.1:{port};")
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
        f"  include {prefix}/site.conf; }}\n")
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/openapi.json", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"nginx did not start: {process.stderr.read().decode()[-1000:]}")
    yield url, server, ids
    process.terminate()
    process.wait(timeout=10)
    server.stop()


def test_through_nginx_screens_hear_calls_and_each_kiosk_has_one_allowance_across_workers(nginx):
    url, server, ids = nginx
    front = LiveServer.__new__(LiveServer)          # the same client helpers, pointed at nginx
    front.url, front.kiosk_key = url, None
    boards = [subscriber(front) for _ in range(4)]
    try:
        # Each on a new connection, so the kernel hands them to different workers: the allowance
        # is counted once for all of them (in Redis), for the kiosk whose key is sent, whatever
        # address it claims.
        forged = [requests.post(f"{url}/api/v1/tickets", json={"service": "HT01"}, timeout=10,
                                headers={"X-Forwarded-For": f"10.9.9.{n}", "Connection": "close",
                                         "X-Hangdoi-Kiosk-Key": ids.kiosks["k1"]}).status_code
                  for n in range(6)]
        assert forged == [201, 201, 201, 429, 429, 429]
        other = requests.post(f"{url}/api/v1/tickets", json={"service": "HT01"}, timeout=10,
                              headers={"X-Hangdoi-Kiosk-Key": ids.kiosks["k2"]})
        assert other.status_code == 201
        token = front.login("cb1", PASSWORD)
        assert front.post(f"/counters/{ids.counter(1)}/sign-in", token).status_code == 200
        number = front.post(f"/counters/{ids.counter(1)}/call-next", token).json()["ticket"]["number"]
        for _, recorder in boards:
            assert recorder.next("ticket_called", timeout=10)["ticket"]["number"] == number
    finally:
        for client, _ in boards:
            client.close()


def test_through_nginx_trickled_request_heads_hold_no_worker_and_are_dropped(nginx):
    """Slowloris: a gunicorn thread waits for as long as a request head takes to arrive, so behind
    nginx (README "Deployment") the heads must stop at nginx, and nginx must drop the tricklers."""
    url, server, ids = nginx
    port = int(url.rsplit(":", 1)[1])
    threads = WORKERS * THREADS
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(threads + 20)]
    for conn in slow:
        conn.sendall(b"GET /api/v1/services HTTP/1.1\r\nHost: x\r\n")
        conn.setblocking(False)
    started = time.monotonic()
    open_ = set(range(len(slow)))
    checked = False
    while open_ and time.monotonic() - started < 30:
        for n in list(open_):
            try:
                slow[n].sendall(b"X-Slow: 1\r\n")
                if slow[n].recv(4096) == b"":
                    open_.discard(n)
            except BlockingIOError:
                pass
            except OSError:                                    # reset or broken pipe: dropped
                open_.discard(n)
        if not checked:                                        # every worker thread could be held by now
            asked = time.monotonic()
            ticket = requests.post(f"{url}/api/v1/tickets", json={"service": "HT01"}, timeout=10,
                                   headers={"X-Hangdoi-Kiosk-Key": ids.kiosks["k2"]})
            # Served while the tricklers hang on (they are dropped after 10 s): a held worker would make
            # it wait for that; a busy machine makes it take a second or two.
            assert ticket.status_code == 201 and time.monotonic() - asked < 5
            checked = True
        time.sleep(1)
    dropped_after = time.monotonic() - started
    for conn in slow:
        conn.close()
    assert not open_, f"{len(open_)} trickling connections still open after {dropped_after:.0f} s"
    assert 9 <= dropped_after <= 25                      # nginx's client_header_timeout, 10 s


def test_processes_sharing_redis_share_sign_in_counts_and_count_alone_without_it(redis_url):
    from hangdoi.config import Settings
    from hangdoi.web.throttle import LOGIN_FAILURES, Throttles
    channel = f"hangdoi-test-{uuid.uuid4().hex[:8]}"
    one, other = (Throttles(Settings(redis_url=redis_url, redis_channel=channel)) for _ in range(2))
    for n in range(LOGIN_FAILURES):                         # the slips of one address, on two processes
        assert (one if n % 2 else other).retry_after("10.0.0.1", "an") is None
        (one if n % 2 else other).failed("10.0.0.1", "an")
    assert one.retry_after("10.0.0.1", "an") and other.retry_after("10.0.0.1", "AN")
    assert one.retry_after("10.0.0.2", "an") is None        # another address is not slowed
    unreachable = Throttles(Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_channel=channel))
    for _ in range(LOGIN_FAILURES):
        unreachable.failed("10.0.0.1", "an")
    assert unreachable.retry_after("10.0.0.1", "an")        # counted in this process meanwhile
