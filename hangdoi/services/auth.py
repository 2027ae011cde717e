"""Officer credentials, bearer tokens and signed-in pages, and how each ends.

Tokens are stored hashed in the database, so every process agrees. A page signed in by cookie
carries the officer's `session_version` at sign-in; signing out, a password change, deactivation
or a manager's action moves the version on (`end_sessions`), which also revokes every token, so a
copied cookie or token stops working at once in every process. Wrong passwords never lock an
account (anyone could lock anyone out): they are throttled per address and per address and
username (hangdoi/web/throttle.py), and the answer is the same for unknown and known usernames."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from hangdoi.engine.sql import Tx
from hangdoi.models import ApiToken, Officer

# A hash to compare against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


OFFICER_FIELDS = ("id", "username", "full_name", "role", "centre_id")


def officer_view(officer: Officer) -> dict:
    return {key: getattr(officer, key) for key in OFFICER_FIELDS}


def authenticate(db, username: str, password: str) -> dict | None:
    """The officer (with the `session_version` a cookie carries), or None for a wrong username or
    password or an inactive account, all alike."""
    with db.read() as s:
        officer = s.scalars(select(Officer).where(Officer.username == username)).first()
        if officer is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(officer.password_hash, password) or not officer.active:
            return None
        return {**officer_view(officer), "session_version": officer.session_version}


def end_sessions(tx, officer_id: int) -> None:
    """Every page signed in as this officer and every token of theirs stops working (in the
    caller's transaction: a password change and its revocation commit together)."""
    tx.execute("UPDATE officer SET session_version = session_version + 1 WHERE id = :id", id=officer_id)
    tx.execute("UPDATE api_token SET revoked = :yes WHERE officer_id = :id AND revoked = :no",
               id=officer_id, yes=True, no=False)


def sign_out(db, officer_id: int) -> None:
    """The officer signed out of a page: that cookie, and every copy of it, ends."""
    with db.write() as s:
        s.execute(update(Officer).where(Officer.id == officer_id)
                  .values(session_version=Officer.session_version + 1))


def revoke_token(db, token: str) -> None:
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == _digest(token)).values(revoked=True))


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


def session_officer(db, session) -> dict | None:
    """The officer a page's session cookie signs in, while that sign-in has not been ended."""
    officer_id, version = session.get("officer_id"), session.get("session_version", 0)
    if not isinstance(officer_id, int) or not isinstance(version, int):
        return None
    row = _read_row(db, f"SELECT {OFFICER_COLUMNS}, o.session_version FROM officer o WHERE o.id = :id",
                    id=officer_id)
    if row is None or row["session_version"] != version:
        return None
    return _active_officer(row)


def _read_row(db, sql: str, **params) -> dict | None:
    with db.single_read_cursor() as cursor:
        return Tx.on_cursor(cursor, postgres=not db.is_sqlite).row(sql, **params)


def _active_officer(row: dict) -> dict | None:
    if not row["active"]:
        return None
    return {key: row[key] for key in OFFICER_FIELDS}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
