"""The audit log's one writer: who changed what, when, before and after, in the same transaction
as the change itself. Configuration changes (hangdoi/services/administration) and a manager's day actions
(closing a service for the day, ending a session, closing the day) both write here."""
from __future__ import annotations

from hangdoi.engine.work import Work


def record(work: Work, centre_id: int, officer_id: int | None, entity: str, entity_id: int | None, action: str,
           before: dict | None, after: dict | None) -> None:
    tx = work.tx
    tx.execute(
        "INSERT INTO audit_log (centre_id, officer_id, at, entity, entity_id, action, before, after) "
        "VALUES (:centre, :officer, :at, :entity, :entity_id, :action, :before, :after)",
        centre=centre_id, officer=officer_id, at=tx.instant(work.now), entity=entity, entity_id=entity_id,
        action=action, before=None if before is None else tx.json(before),
        after=None if after is None else tx.json(after))
    # Kiosks, displays, counters and dashboards re-read what they show.
    work.centre_changed(centre_id)
