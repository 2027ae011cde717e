"""What a manager does to a service during the day: stop taking tickets for it, or start again.

Tickets already waiting stay and are served; only new ones are refused ("service_closed_today").
"""
from __future__ import annotations

from hangdoi.engine import audit
from hangdoi.engine.errors import Forbidden, NotFound
from hangdoi.engine.scope import sees, supervises
from hangdoi.engine.work import Work, transact


def set_open_today(db, service_id: int, manager_id: int, open_: bool) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        service = tx.service(service_id)
        manager = tx.row("SELECT centre_id, role FROM officer WHERE id = :id AND active = :yes",
                         id=manager_id, yes=True)
        if service is None or manager is None or not sees(manager, service["centre_id"]):
            raise NotFound("service_not_found")
        if not supervises(manager, service["centre_id"]):
            raise Forbidden("forbidden")
        today = work.today(service["centre_id"])
        tx.execute("UPDATE service SET closed_on = :day WHERE id = :id",
                   day=None if open_ else tx.day(today), id=service_id)
        tx.forget("service", service_id)
        audit.record(work, service["centre_id"], manager_id, "service", service_id,
                     "reopen_today" if open_ else "close_today", None, {"service": service["code"], "day": str(today)})
        return {"service": service_id, "open_today": open_}

    return transact(db, body)
