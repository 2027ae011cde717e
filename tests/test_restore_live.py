"""`hangdoi restore` against a real running server: refused while it serves; after a stop, the
restore and a restart, the screens that were connected show what the backup held."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from .conftest import start_demo
from .test_realtime import subscriber


def test_restore_refuses_a_running_server_and_screens_resync_after_it(tmp_path):
    """A restore run while the server was up "succeeded", moved the change sequence backwards, and a
    sign then ignored the next change. Against a real server on SQLite, with the real commands."""
    server, ids = start_demo(tmp_path)
    env = {**os.environ, "HANGDOI_DATA_DIR": str(tmp_path)}
    command = lambda *args: subprocess.run([sys.executable, "-m", "hangdoi.cli", *args], env=env,  # noqa: E731
                                           capture_output=True, text=True, timeout=60)
    waiting = lambda: sum(s["waiting"] for s in server.get("/services").json())  # noqa: E731
    screen, recorder = subscriber(server)
    try:
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        made = command("backup", "--to", str(tmp_path / "backups"))
        assert made.returncode == 0, made.stderr
        saved = next((tmp_path / "backups").iterdir())
        for _ in range(3):
            server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        refused = command("restore", str(saved), "--yes")
        assert refused.returncode == 1 and "server is running" in refused.stderr
        assert waiting() == 4                                          # nothing was changed

        server.stop(graceful=True)
        restored = command("restore", str(saved), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert "issued again" in restored.stdout
        # One self-contained file: nothing was left beside it, by the backup or the restore's check.
        assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [saved.name]

        snapshots = len(recorder.snapshots)
        server.start()
        deadline = time.monotonic() + 30                               # the screen reconnects by itself
        while len(recorder.snapshots) == snapshots and time.monotonic() < deadline:
            time.sleep(0.1)
        queues = recorder.snapshots[-1]["queues"]
        assert sum(q["waiting"] for q in queues) == 1 == waiting()     # what the backup held
    finally:
        screen.close()
        server.stop()
