"""Officers (cán bộ): create, edit, deactivate, reset a password. The centre always keeps one
active admin: nobody can deactivate or demote the last."""
from __future__ import annotations

import re

from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.models import ADMIN, PROVINCE
from hangdoi.services.administration.change import Change
from hangdoi.services.auth import end_sessions, hash_password

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 8


def officer_row(change: Change, officer_id: int) -> dict:
    # A province admin's account is not one of the centre's officers, even in its home centre.
    row = change.tx.row("SELECT id, username, full_name, role, active FROM officer WHERE id = :id AND centre_id = :c "
                        "AND role <> :province", id=officer_id, c=change.centre_id, province=PROVINCE)
    if row is None:
        raise NotFound("officer_not_found")
    row["active"] = bool(row["active"])
    return row


def save_officer(change: Change, fields: dict, officer_id: int | None = None) -> dict:
    tx = change.tx
    before = officer_row(change, officer_id) if officer_id else None
    username = fields["username"].lower()
    if not USERNAME.fullmatch(username):
        raise Invalid("invalid_field", field="username", reason="username_chars")
    if tx.row("SELECT id FROM officer WHERE username = :u AND id <> :id", u=username, id=officer_id or 0):
        raise Conflict("duplicate_username", username=username)
    active = True if fields["active"] is None else fields["active"]
    if before is not None and before["role"] == ADMIN and before["active"] and (fields["role"] != ADMIN or not active):
        _keep_an_admin(change, officer_id)
    if before is None:
        password = _checked_password(fields["password"])
        officer_id = tx.value(
            "INSERT INTO officer (centre_id, username, full_name, role, password_hash, active) "
            "VALUES (:c, :u, :name, :role, :hash, :active) RETURNING id", c=change.centre_id, u=username,
            name=fields["full_name"], role=fields["role"], hash=hash_password(password), active=active)
    else:
        tx.execute("UPDATE officer SET username = :u, full_name = :name, role = :role, active = :active WHERE id = :id",
                   u=username, name=fields["full_name"], role=fields["role"], active=active, id=officer_id)
        if fields["password"]:
            _set_password(change, officer_id, fields["password"])
        if not active:
            _sign_out_everywhere(change, officer_id)
    after = officer_row(change, officer_id)
    change.audit("officer", officer_id, "update" if before else "create", before, after)
    return after


def reset_password(change: Change, officer_id: int, password: str) -> dict:
    officer = officer_row(change, officer_id)
    _set_password(change, officer_id, password)
    # The before/after of a password is never written down, only that it changed.
    change.audit("officer", officer_id, "reset_password", None, {"username": officer["username"]})
    return officer


def _set_password(change: Change, officer_id: int, password: str) -> None:
    # Whoever knew the old password is signed out with it, pages and tokens alike.
    change.tx.execute("UPDATE officer SET password_hash = :hash WHERE id = :id",
                      hash=hash_password(_checked_password(password)), id=officer_id)
    end_sessions(change.tx, officer_id)


def sign_out_officer(change: Change, officer_id: int) -> dict:
    """A manager ends every sign-in of an officer (a lost phone, a shared password): pages, tokens,
    open sockets, and the counter they hold."""
    officer = officer_row(change, officer_id)
    _sign_out_everywhere(change, officer_id)
    change.audit("officer", officer_id, "sign_out", None, {"username": officer["username"]})
    return officer


def unlock_sign_in(change: Change, officer_id: int) -> dict:
    """A manager lets an officer whose sign-ins were slowed by wrong passwords sign in at once (the
    counts themselves live with the web layer's throttles); written in the audit log."""
    officer = officer_row(change, officer_id)
    change.audit("officer", officer_id, "unlock_sign_in", None, {"username": officer["username"]})
    return officer


def _checked_password(password: str | None) -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise Invalid("password_too_short", n=MIN_PASSWORD)
    return password


def _keep_an_admin(change: Change, officer_id: int) -> None:
    others = change.tx.value("SELECT count(*) FROM officer WHERE centre_id = :c AND role = :admin AND active = :yes "
                             "AND id <> :id", c=change.centre_id, admin=ADMIN, yes=True, id=officer_id)
    if not others:
        raise Conflict("last_admin")


def _sign_out_everywhere(change: Change, officer_id: int) -> None:
    tx = change.tx
    end_sessions(tx, officer_id)
    for session in tx.rows("SELECT counter_id FROM counter_session WHERE officer_id = :id AND ended_at IS NULL",
                           id=officer_id):
        tx.execute("UPDATE counter_session SET ended_at = :at WHERE counter_id = :counter AND ended_at IS NULL",
                   at=tx.instant(change.work.now), counter=session["counter_id"])
        change.work.counter_event({"id": session["counter_id"], "centre_id": change.centre_id}, "session_ended",
                                  officer=officer_id, reason="officer_deactivated")
