"""Officer credentials and bearer tokens (stored hashed in the database, so every process agrees)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ApiToken, Officer

# A hash to compare against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def officer_view(officer: Officer) -> dict:
    return {"id": officer.id, "username": officer.username, "full_name": officer.full_name,
            "role": officer.role, "centre_id": officer.centre_id}


def authenticate(db, username: str, password: str) -> dict | None:
    with db.read() as s:
        officer = s.scalars(select(Officer).where(Officer.username == username)).first()
        if officer is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not officer.active or not check_password_hash(officer.password_hash, password):
            return None
        return officer_view(officer)


def issue_token(db, officer_id: int, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    now = db.clock.now()
    with db.write() as s:
        s.add(ApiToken(token_hash=_digest(token), officer_id=officer_id, created_at=now,
                       expires_at=now + timedelta(hours=hours), revoked=False))
    return token


def officer_for_token(db, token: str) -> dict | None:
    with db.read() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
        if row is None or row.revoked or row.expires_at <= db.clock.now():
            return None
        officer = s.get(Officer, row.officer_id)
        return officer_view(officer) if officer and officer.active else None


def officer_by_id(db, officer_id: int) -> dict | None:
    with db.read() as s:
        officer = s.get(Officer, officer_id)
        return officer_view(officer) if officer and officer.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
