"""The centre's pusher runs in a process of its own (hangdoi/services/replication/push_process.py):
at a lower CPU priority than the server, one per installation, started again if it dies, and gone
when the server process that started it is."""
from __future__ import annotations

import os
import signal
import subprocess
import sys


import psutil

from hangdoi import engine
from hangdoi.engine.state import centre_seq
from hangdoi.services.replication.push_process import NICENESS, PushKeeper, read_state

from .test_province_push import province, stored, wait_until  # noqa: F401 — the live province fixture


def keeper_for(db, tmp_path, province, name="centre-data"):
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return PushKeeper(db.url, folder, province.url, province.key, None)


def test_one_niced_push_process_per_installation_started_again_when_killed(db, centre, clock, province, tmp_path):
    engine.issue_ticket(db, centre.centre, "HT01")
    first, second = keeper_for(db, tmp_path, province), keeper_for(db, tmp_path, province)
    first.start()
    second.start()                  # another worker of the same installation: it stands by
    try:
        wait_until(lambda: sum(r["stream"] == "ticket" for r in stored(province)) == 1)
        keepers = [k for k in (first, second) if k.process is not None]
        assert len(keepers) == 1
        child = psutil.Process(keepers[0].process.pid)
        assert child.nice() >= NICENESS                            # the server's requests come first
        listed = " ".join(child.cmdline())
        assert province.key not in listed and db.url not in listed   # secrets stay off the process list
        wait_until(lambda: (read_state(first.data_dir) or {}).get("acknowledged") == centre_seq(db, centre.centre))
        view = first.view(centre.centre, centre_seq(db, centre.centre))
        assert (view["ok"], view["to_send"]) == (True, 0)
        assert second.view(centre.centre + 1, 0) is None           # another centre's dashboard: not its link
        # Killed (out of memory, a crash): it is started again and goes on pushing.
        os.kill(child.pid, signal.SIGKILL)
        wait_until(lambda: keepers[0].process.pid != child.pid and keepers[0].process.poll() is None, 20)
        engine.issue_ticket(db, centre.centre, "HT01")
        wait_until(lambda: sum(r["stream"] == "ticket" for r in stored(province)) == 2)
    finally:
        first.stop()
        second.stop()
    assert all(k.process is None or k.process.poll() is not None for k in (first, second))


def test_the_push_process_ends_with_the_server_process_that_started_it(db, centre, province, tmp_path):
    folder = tmp_path / "centre-data"
    folder.mkdir()
    # A server process (here a bare one) that starts the keeper, then dies without a chance to clean up.
    script = ("import sys, time\n"
              "from hangdoi.services.replication.push_process import PushKeeper\n"
              "k = PushKeeper(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], None)\n"
              "k.start()\n"
              "while k.process is None: time.sleep(0.05)\n"
              "print(k.process.pid, flush=True)\n"
              "time.sleep(600)\n")
    server = subprocess.Popen([sys.executable, "-c", script, db.url, str(folder), province.url, province.key],
                              stdout=subprocess.PIPE, text=True)
    try:
        child = psutil.Process(int(server.stdout.readline()))
        assert child.is_running()
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        # It ends on its own (left to init, which may not reap it here: a zombie has ended).
        wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 15)
    finally:
        if server.poll() is None:
            server.kill()


def test_a_dashboard_reading_before_the_process_has_written_sees_a_link_not_yet_reached(tmp_path):
    keeper = PushKeeper("sqlite:///nowhere", tmp_path, "http://127.0.0.1:9", "1.x", 1)
    assert keeper.view(1, 5) is None                                # nothing written: no process pushes
    from hangdoi.services.replication.push_process import write_state
    write_state(tmp_path, None, 1)
    assert keeper.view(1, 5) == {"ok": False, "failing_since": None, "to_send": None}
    # A state left by a process that stopped long ago: the link is not working since then.
    import json
    state = tmp_path / "province-push.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "written_at": 1_700_000_000}))
    old = keeper.view(1, 5)
    assert old["ok"] is False and old["failing_since"] is not None

