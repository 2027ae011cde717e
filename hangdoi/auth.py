"""Officer credentials and bearer tokens (stored hashed in the database, so every process agrees).

After LOCK_AFTER wrong passwords in a row an account refuses every sign-in for LOCK_MINUTES, even
with the right password, whichever process or address the attempts came from; an administrator's
password reset unlocks it at once. (Per address and per username the sign-ins are also rate-limited
per minute: hangdoi/ratelimit.py.)"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .engine.sql import Tx
from .models import ApiToken, Officer

# A hash to compare against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
LOCK_AFTER = 5
LOCK_MINUTES = 15


class AccountLocked(Exception):
    """Too many wrong passwords: no sign-in until `until` (an aware UTC datetime)."""

    def __init__(self, until):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


def hash_password(password: str) -> str:
    return generate_password_hash(password)


OFFICER_FIELDS = ("id", "username", "full_name", "role", "centre_id")


def officer_view(officer: Officer) -> dict:
    return {key: getattr(officer, key) for key in OFFICER_FIELDS}


def authenticate(db, username: str, password: str) -> dict | None:
    """The officer, or None for a wrong username or password; raises AccountLocked."""
    now = db.clock.now()
    with db.write() as s:
        officer = s.scalars(select(Officer).where(Officer.username == username)).first()
        if officer is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if officer.locked_until is not None and officer.locked_until > now:
            raise AccountLocked(officer.locked_until)
        if not officer.active or not check_password_hash(officer.password_hash, password):
            officer.failed_logins = (officer.failed_logins or 0) + 1
            if officer.failed_logins >= LOCK_AFTER:
                officer.failed_logins, officer.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
            return None
        officer.failed_logins, officer.locked_until = 0, None
        return officer_view(officer)


def issue_token(db, officer_id: int, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    now = db.clock.now()
    with db.write() as s:
        s.add(ApiToken(token_hash=_digest(token), officer_id=officer_id, created_at=now,
                       expires_at=now + timedelta(hours=hours), revoked=False))
    return token


# Every API call and socket connection asks who is there: one statement on a pooled connection, not
# the ORM (whose query cost more than the call-next it guarded).
OFFICER_COLUMNS = ", ".join(f"o.{key}" for key in (*OFFICER_FIELDS, "active"))


def officer_for_token(db, token: str) -> dict | None:
    row = _read_row(db, f"SELECT {OFFICER_COLUMNS}, t.revoked, t.expires_at FROM api_token t "
                        "JOIN officer o ON o.id = t.officer_id WHERE t.token_hash = :hash", hash=_digest(token))
    if row is None or row["revoked"] or Tx.read_instant(row["expires_at"]) <= db.clock.now():
        return None
    return _active_officer(row)


def officer_by_id(db, officer_id: int) -> dict | None:
    row = _read_row(db, f"SELECT {OFFICER_COLUMNS} FROM officer o WHERE o.id = :id", id=officer_id)
    return None if row is None else _active_officer(row)


def _read_row(db, sql: str, **params) -> dict | None:
    with db.single_read_cursor() as cursor:
        return Tx.on_cursor(cursor, postgres=not db.is_sqlite).row(sql, **params)


def _active_officer(row: dict) -> dict | None:
    if not row["active"]:
        return None
    return {key: row[key] for key in OFFICER_FIELDS}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
