"""Which centre a request concerns, and who may look after it.

One installation can host several centres (a province's). Kiosks and displays belong to one centre
by their key, officers by their account. A page or API call may name a centre with `?centre=<id>`
(a kiosk's ticket, with the body's `centre`); without it, an officer's request concerns the
officer's own centre and an anonymous one the first centre, which is all a single-centre
installation has. Managers and admins look after their own centre only; a province admin
(role `province`) after every centre.
"""
from __future__ import annotations

from sqlalchemy import select

from hangdoi.engine.errors import Forbidden, Invalid, NotFound
from hangdoi.models import ADMIN, MANAGER, PROVINCE, Centre

MAX_ID = 2**31 - 1


def sees(officer: dict, centre_id: int) -> bool:
    """Whether the centre's things exist for this officer: another centre's are "not found"."""
    return officer["role"] == PROVINCE or officer["centre_id"] == centre_id


def supervises(officer: dict, centre_id: int) -> bool:
    """May see and steer the centre's day: supervision, reports, closing a service or a counter."""
    return officer["role"] == PROVINCE or (officer["role"] in (MANAGER, ADMIN) and officer["centre_id"] == centre_id)


def administers(officer: dict, centre_id: int) -> bool:
    """May change the centre's setup: services, counters, officers, devices, settings."""
    return officer["role"] == PROVINCE or (officer["role"] == ADMIN and officer["centre_id"] == centre_id)


def parse_centre(raw) -> int | None:
    """A centre id as sent in a query string (text) or a JSON body (a number); None when absent."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= MAX_ID:
        raise Invalid("invalid_field", field="centre", reason="centre_id")
    return raw


def centre_ids(db) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(Centre.id).order_by(Centre.id)))


def existing(db, centre_id: int) -> int:
    """`centre_id`, if there is such a centre. Every kiosk ticket names its centre: each id is read
    once per process (centres are never deleted)."""
    if centre_id not in db.centres_seen:
        with db.read() as s:
            if s.get(Centre, centre_id) is None:
                raise NotFound("centre_not_found")
        db.centres_seen.add(centre_id)
    return centre_id


def public_centre(db, raw, default: int | None) -> int:
    """For kiosks, displays and citizens: the centre named, else the installation's first."""
    centre_id = parse_centre(raw)
    if centre_id is not None:
        return existing(db, centre_id)
    if default is None:
        raise NotFound("centre_not_found")
    return default


def officer_centre(db, officer: dict, raw) -> int:
    """For a signed-in officer: the centre named, when they may look after it, else their own."""
    centre_id = parse_centre(raw)
    if centre_id is None or centre_id == officer["centre_id"]:
        return officer["centre_id"]
    if officer["role"] != PROVINCE:
        raise Forbidden("forbidden")
    return existing(db, centre_id)
