"""Settings: defaults, then an optional config file, then `HANGDOI_*` environment variables.

The config file is a TOML file named by `HANGDOI_CONFIG` (or `hangdoi.toml` in the data directory)
whose keys are the lower-case setting names without the prefix, e.g. `database_url = "..."`.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "data")
    database_url: str = ""
    redis_url: str = ""
    # Pub/sub channel on Redis; installations sharing one Redis keep apart by naming their own.
    redis_channel: str = "hangdoi"
    secret_key: str = ""
    # How many tickets one kiosk may take per minute.
    kiosk_rate_limit_per_minute: int = 30
    # Tickets a day per centre that a client without a kiosk key may take (0: none; a kiosk proves
    # itself with its key, README "REST API").
    anonymous_tickets_per_day: int = 0
    # What one address (an IPv6 client: its /64) may ask of the public booking pages: bookings and
    # remote numbers, cancellations, and reads of slots and booking pages ("": no limit).
    booking_rate_limit: str = "10/hour;20/day"
    booking_cancel_rate_limit: str = "20/hour"
    public_read_rate_limit: str = "120/minute"
    # At a province server: requests a linked centre may make (counted by its proven key; a wrong or
    # missing key by address). A centre pushes once a second, back to back while catching up ("": no limit).
    province_rate_limit: str = "600/minute"
    # At a province server: the satisfaction scale its centres' rating tablets show, 3 or 5 levels
    # (hangdoi/engine/ratings.py); each linked centre takes it at its next pull.
    province_rating_scale: int = 3
    # Wrong centre keys one address may send per minute before it is answered 429 (0: no limit).
    wrong_key_rate_limit_per_minute: int = 30
    # Sign-in attempts per minute per address (0: no limit); wrong passwords per address and
    # username are limited too (hangdoi/web/throttle.py).
    login_rate_limit_per_minute: int = 20
    # Bearer tokens live this long (hours); a shift is at most a day.
    token_hours: int = 16
    # Largest request body accepted, in bytes.
    max_body_bytes: int = 16 * 1024
    # The address citizens' phones reach this server at (for the QR code on tickets), e.g.
    # "http://192.168.1.10:8000". Empty: the address the kiosk itself used.
    public_url: str = ""
    # Shared secret of hardware bridges (keypads, LED signs); empty: no bridge may connect.
    hardware_key: str = ""
    # Reverse proxies in front (nginx: 1). Their X-Forwarded-For and -Proto are believed, so rate
    # limits count each kiosk's own address and cookies know TLS; 0: such headers are ignored.
    proxies: int = 0
    # Database connections a process keeps (and as many more at a peak). Workers × 2 × this must
    # stay under PostgreSQL's max_connections (100 by default).
    db_pool_size: int = 20
    # gunicorn worker processes; 0: one on SQLite (a single writer), two on PostgreSQL.
    workers: int = 0
    # Threads per worker (each open websocket holds one); 0: hangdoi/serving.py's default.
    threads: int = 0
    # Connections one worker holds at once; more wait in the listen backlog.
    max_connections: int = 1000
    # Realtime sockets one address may hold at once (a device holds one or two; 0: no limit). Each
    # open socket holds one of a worker's threads.
    max_sockets_per_address: int = 10
    # Events one realtime socket may send in 10 seconds (0: no limit); a page sends a few a minute.
    socket_events_per_10_seconds: int = 30
    # A centre linked to its province: the province server's address and the key its
    # `hangdoi province add-centre` printed (both empty: not linked). The centre pushes its timeline
    # there (hangdoi/services/replication); `province_centre` is which of its centres (0: the first).
    province_url: str = ""
    province_key: str = ""
    province_centre: int = 0

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "hangdoi.sqlite3"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


# Field types are strings here (postponed annotations); each names how to read a text value.
_CASTS = {"int": int, "str": str, "Path": Path}


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Build the settings from the file, the environment and explicit overrides (in that order)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, object] = {}
    data_dir = Path(overrides.get("data_dir") or env.get("HANGDOI_DATA_DIR") or Path.cwd() / "data")
    config_file = env.get("HANGDOI_CONFIG") or data_dir / "hangdoi.toml"
    if Path(config_file).is_file():
        with open(config_file, "rb") as fh:
            values.update(tomllib.load(fh))
    for f in fields(Settings):
        key = "HANGDOI_" + f.name.upper()
        if key in env:
            values[f.name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = data_dir
    known = {f.name: f for f in fields(Settings)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"Unknown settings: {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _CASTS[known[name].type](value)
    settings = Settings(**kwargs)
    if settings.province_rating_scale not in (3, 5):
        raise ValueError(f"province_rating_scale is 3 or 5, not {settings.province_rating_scale}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not settings.secret_key:
        settings.secret_key = _persistent_secret(settings.data_dir)
    return settings


def _persistent_secret(data_dir: Path) -> str:
    """A secret kept in the data directory, so sessions survive restarts without configuration."""
    path = data_dir / "secret_key"
    if not path.exists():
        # Several workers may start at once: the first link wins and all of them read its key.
        draft = data_dir / f"secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        # Readable by its owner only from the first byte, not after a chmod.
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
