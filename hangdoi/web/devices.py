"""Kiosks and lobby displays have no login: the unguessable key in their address is who they are."""
from __future__ import annotations

from sqlalchemy import select

from hangdoi.web.context import hangdoi


def registered(model, key: str | None):
    """The active kiosk or display (`model`) with this key, detached from its session; None when
    there is none, so the page can answer 403."""
    if not key or len(key) > 64:
        return None
    with hangdoi().db.read() as s:
        found = s.scalars(select(model).where(model.key == key, model.active.is_(True))).first()
        if found is not None:
            s.expunge(found)
        return found
