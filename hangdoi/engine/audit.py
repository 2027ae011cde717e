"""The audit log's one writer: who changed what, when, before and after, in the same transaction
as the change itself. Configuration changes (hangdoi/services/administration) and a manager's day actions
(closing a service for the day, ending a session, closing the day) both write here."""
from __future__ import annotations

from hangdoi.engine.work import Work


def record(work: Work, centre_id: int, officer_id: int | None, entity: str, entity_id: int | None, action: str,
           before: dict | None, after: dict | None) -> None:
    tx = work.tx
    # Written when the change is sealed, with its seq: a linked centre sends it up with its timeline.
    # Kiosks, displays, counters and dashboards re-read what they show.
    work.audit_entry({"centre_id": centre_id, "officer_id": officer_id, "at": tx.instant(work.now), "entity": entity,
                      "entity_id": entity_id, "action": action, "before": None if before is None else tx.json(before),
                      "after": None if after is None else tx.json(after)})
