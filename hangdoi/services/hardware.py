"""What the hardware bridges last said about their devices (keypad and LED lines, the bridges
themselves), kept so that the dashboard shows a device's state to a manager who opens it after the
fault, and not only to one watching when it happened."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hangdoi.models import DeviceState


def record(db, centre_id: int, device: str, port: str, state: str, detail: str | None) -> dict:
    """Keep the latest report for (device, port); returns it as the dashboard reads it."""
    at = datetime.now(UTC)
    with db.write() as s:
        row = s.scalars(select(DeviceState).where(DeviceState.centre_id == centre_id, DeviceState.device == device,
                                                  DeviceState.port == port)).first()
        if row is None:
            row = DeviceState(centre_id=centre_id, device=device, port=port)
            s.add(row)
        row.state, row.detail, row.at = state, detail, at
    return _view(device, port, state, detail, at)


def last_states(db, centre_id: int) -> list[dict]:
    with db.read() as s:
        rows = s.scalars(select(DeviceState).where(DeviceState.centre_id == centre_id)
                         .order_by(DeviceState.device, DeviceState.port)).all()
        return [_view(r.device, r.port, r.state, r.detail, r.at) for r in rows]


def _view(device: str, port: str, state: str, detail: str | None, at: datetime) -> dict:
    return {"device": device, "port": port, "state": state, "detail": detail, "ok": state == "online",
            "at": at.isoformat(timespec="seconds")}
