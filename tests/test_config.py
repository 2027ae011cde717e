"""Settings come from defaults, a TOML file, then HANGDOI_* variables."""
from __future__ import annotations

import pytest

from hangdoi.config import load_settings


def test_defaults_put_everything_in_the_data_directory(tmp_path):
    settings = load_settings(env={"HANGDOI_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    assert settings.redis_url == ""
    assert len(settings.secret_key) >= 32
    # The generated secret is kept, so sessions survive a restart; only its owner may read it.
    assert load_settings(env={"HANGDOI_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("secret_key")] == ["secret_key"]


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path):
    import subprocess
    import sys
    import time
    # Each process is ready (imported) well before the moment, then all read the settings at once.
    code = ("import sys, time\nfrom hangdoi.config import load_settings\n"
            "while time.time() < float(sys.argv[1]): time.sleep(0.0005)\nprint(load_settings().secret_key)")
    env = {**__import__("os").environ, "HANGDOI_DATA_DIR": str(tmp_path)}
    moment = str(time.time() + 3)
    starting = [subprocess.Popen([sys.executable, "-c", code, moment], env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(6)]
    keys = {process.communicate(timeout=60)[0].strip() for process in starting}
    assert keys == {(tmp_path / "secret_key").read_text().strip()}


def test_environment_overrides_the_file(tmp_path):
    (tmp_path / "hangdoi.toml").write_text('redis_url = "redis://file"\nkiosk_rate_limit_per_minute = 5\n')
    env = {"HANGDOI_DATA_DIR": str(tmp_path), "HANGDOI_REDIS_URL": "redis://env",
           "HANGDOI_DATABASE_URL": "postgresql+psycopg://x/y", "HANGDOI_SECRET_KEY": "s" * 40}
    settings = load_settings(env=env)
    assert settings.redis_url == "redis://env"
    assert settings.kiosk_rate_limit_per_minute == 5
    assert settings.database_url == "postgresql+psycopg://x/y"
    assert settings.secret_key == "s" * 40


def test_unknown_or_malformed_settings_are_refused(tmp_path):
    (tmp_path / "hangdoi.toml").write_text('colour = "blue"\n')
    with pytest.raises(ValueError, match="colour"):
        load_settings(env={"HANGDOI_DATA_DIR": str(tmp_path)})
    (tmp_path / "hangdoi.toml").write_text("")
    with pytest.raises(ValueError):
        load_settings(env={"HANGDOI_DATA_DIR": str(tmp_path), "HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "many"})
