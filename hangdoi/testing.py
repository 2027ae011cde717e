"""A real `hangdoi serve` process (embedded gunicorn), or gunicorn serving `hangdoi.wsgi` as deployed, on a loopback
port, for tests and benchmarks that need sockets and restarts."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests  # a test dependency: this module is for tests and benchmarks only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, data_dir: Path, database_url: str | None = None, redis_url: str | None = None,
                 port: int | None = None, extra_env: dict | None = None, gunicorn_workers: int | None = None,
                 gunicorn_threads: int = 100):
        self.data_dir = Path(data_dir)
        # Each websocket holds one of a worker's threads for as long as it stays connected.
        self.gunicorn_workers, self.gunicorn_threads = gunicorn_workers, gunicorn_threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HANGDOI_DATA_DIR": str(self.data_dir), **(extra_env or {})}
        if database_url:
            self.env["HANGDOI_DATABASE_URL"] = database_url
        if redis_url:
            self.env["HANGDOI_REDIS_URL"] = redis_url
        self.process: subprocess.Popen | None = None
        # A registered kiosk's key: `post` then speaks as that kiosk (X-Hangdoi-Kiosk-Key).
        self.kiosk_key: str | None = None
        self.log_path = self.data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 30) -> "LiveServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self._command(), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/openapi.json", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise TimeoutError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def _command(self) -> list[str]:
        if self.gunicorn_workers:
            # As README "Deployment" runs it; the schema is migrated beforehand there too.
            from .schema import upgrade
            upgrade(self.env.get("HANGDOI_DATABASE_URL") or f"sqlite:///{self.data_dir / 'hangdoi.sqlite3'}")
            return [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", str(self.gunicorn_threads),
                    "--workers", str(self.gunicorn_workers), "--bind", f"127.0.0.1:{self.port}", "hangdoi.wsgi:app"]
        return [sys.executable, "-m", "hangdoi.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]

    def worker_pids(self) -> list[int]:
        """The processes answering: gunicorn's workers (`hangdoi serve` runs gunicorn too)."""
        import psutil
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def kill(self) -> None:
        """SIGKILL to the server and every process it started: no chance to clean up, like a power cut."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(self, path: str, token: str | None = None, headers: dict | None = None, **kwargs) -> requests.Response:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        if self.kiosk_key:
            sent["X-Hangdoi-Kiosk-Key"] = self.kiosk_key
        return requests.post(f"{self.url}/api/v1{path}", headers={**sent, **(headers or {})}, timeout=10, **kwargs)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.url}/api/v1{path}", headers=headers, timeout=10)

    def login(self, username: str, password: str) -> str:
        response = self.post("/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
        return response.json()["token"]
