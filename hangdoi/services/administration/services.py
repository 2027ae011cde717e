"""Domains (lĩnh vực, each with its ticket series) and services (thủ tục): create and edit.

Rules: codes are unique in a centre; two series with the same prefix may not share a number
(1001–1999 and 1500–2500 would hand out 1500 twice a day); a daily cap may not go below what the
service has already issued today.
"""
from __future__ import annotations

from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.services.administration.change import Change

MAX_NUMBER = 99999


def domain_row(change: Change, domain_id: int) -> dict:
    row = change.tx.row(
        "SELECT d.id, d.code, d.name, d.position, r.id AS series_id, r.prefix, r.first_number AS first, "
        "r.last_number AS last FROM domain d JOIN ticket_series r ON r.centre_id = d.centre_id AND r.code = d.code "
        "WHERE d.id = :id AND d.centre_id = :centre", id=domain_id, centre=change.centre_id)
    if row is None:
        raise NotFound("domain_not_found")
    return row


def save_domain(change: Change, fields: dict, domain_id: int | None = None) -> dict:
    tx, centre = change.tx, change.centre_id
    before = domain_row(change, domain_id) if domain_id else None
    prefix = fields["prefix"] or ""
    first, last = fields["first"], fields["last"]
    if first > last or last > MAX_NUMBER:
        raise Invalid("range_invalid", max=MAX_NUMBER)
    clash = tx.row("SELECT id FROM domain WHERE centre_id = :centre AND code = :code AND id <> :id",
                   centre=centre, code=fields["code"], id=domain_id or 0)
    if clash is not None:
        raise Conflict("duplicate_code", value=fields["code"])
    overlap = tx.row(
        "SELECT code FROM ticket_series WHERE centre_id = :centre AND prefix = :prefix AND id <> :id "
        "AND first_number <= :last AND last_number >= :first",
        centre=centre, prefix=prefix, id=before["series_id"] if before else 0, first=first, last=last)
    if overlap is not None:
        raise Conflict("range_overlap", other=overlap["code"])
    position = fields["position"] if fields["position"] is not None else (before or {}).get("position") or _next_position(
        change, "domain")
    if before is None:
        domain_id = tx.value("INSERT INTO domain (centre_id, code, name, position) VALUES (:c, :code, :name, :pos) "
                             "RETURNING id", c=centre, code=fields["code"], name=fields["name"], pos=position)
        tx.execute("INSERT INTO ticket_series (centre_id, code, prefix, first_number, last_number) "
                   "VALUES (:c, :code, :prefix, :first, :last)", c=centre, code=fields["code"], prefix=prefix,
                   first=first, last=last)
    else:
        tx.execute("UPDATE domain SET code = :code, name = :name, position = :pos WHERE id = :id",
                   code=fields["code"], name=fields["name"], pos=position, id=domain_id)
        tx.execute("UPDATE ticket_series SET code = :code, prefix = :prefix, first_number = :first, "
                   "last_number = :last WHERE id = :id", code=fields["code"], prefix=prefix, first=first,
                   last=last, id=before["series_id"])
    after = domain_row(change, domain_id)
    change.audit("domain", domain_id, "update" if before else "create", before, after)
    return after


def service_row(change: Change, service_id: int) -> dict:
    row = change.tx.row(
        "SELECT id, code, name, domain_id AS domain, daily_cap, instant, active, position FROM service "
        "WHERE id = :id AND centre_id = :centre", id=service_id, centre=change.centre_id)
    if row is None:
        raise NotFound("service_not_found")
    row["instant"], row["active"] = bool(row["instant"]), bool(row["active"])
    return row


def save_service(change: Change, fields: dict, service_id: int | None = None) -> dict:
    tx, centre = change.tx, change.centre_id
    before = service_row(change, service_id) if service_id else None
    domain = domain_row(change, fields["domain"])
    clash = tx.row("SELECT id FROM service WHERE centre_id = :centre AND code = :code AND id <> :id",
                   centre=centre, code=fields["code"], id=service_id or 0)
    if clash is not None:
        raise Conflict("duplicate_code", value=fields["code"])
    if before is not None and fields["daily_cap"] is not None:
        issued = tx.value("SELECT issued FROM service_day WHERE service_id = :id AND local_day = :day",
                          id=service_id, day=tx.day(change.work.today(centre))) or 0
        if fields["daily_cap"] < issued:
            raise Conflict("cap_below_issued", issued=issued)
    values = {"code": fields["code"], "name": fields["name"], "domain": domain["id"], "series": domain["series_id"],
              "cap": fields["daily_cap"], "instant": bool(fields["instant"]),
              "active": True if fields["active"] is None else fields["active"],
              "pos": fields["position"] if fields["position"] is not None else
              (before or {}).get("position") or _next_position(change, "service")}
    if before is None:
        service_id = tx.value(
            "INSERT INTO service (centre_id, domain_id, series_id, code, name, active, daily_cap, instant, position) "
            "VALUES (:c, :domain, :series, :code, :name, :active, :cap, :instant, :pos) RETURNING id",
            c=centre, **values)
    else:
        tx.execute("UPDATE service SET domain_id = :domain, series_id = :series, code = :code, name = :name, "
                   "active = :active, daily_cap = :cap, instant = :instant, position = :pos WHERE id = :id",
                   id=service_id, **values)
    after = service_row(change, service_id)
    change.audit("service", service_id, "update" if before else "create", before, after)
    return after


def move_waiting(change: Change, from_service: int, to_service: int) -> dict:
    """Every ticket waiting for one service now waits for another, keeping its place in line
    (a manager's action when a procedure's officer is away); each move is on the timeline."""
    from hangdoi.engine import views
    source, target = service_row(change, from_service), service_row(change, to_service)
    if source["id"] == target["id"]:
        raise Conflict("transfer_same_place")
    if not target["active"]:
        raise Conflict("service_inactive")
    today = change.work.today(change.centre_id)
    tickets = views.select_tickets(
        change.tx, "centre_id = :centre AND service_id = :service AND status = 'waiting' AND local_day = :day",
        "ORDER BY id FOR UPDATE", centre=change.centre_id, service=source["id"], day=change.tx.day(today))
    for ticket in tickets:
        views.update_ticket(change.tx, ticket, service_id=target["id"], target_counter_id=None)
        change.work.ticket_event(ticket, "transferred", officer_id=change.officer["id"], counter_id=None,
                                 from_service=source["id"], to_service=target["id"], reason="manager_moved")
    change.audit("service", source["id"], "move_waiting", {"service": source["code"], "waiting": len(tickets)},
                 {"service": target["code"], "moved": len(tickets)})
    return {"from": source["code"], "to": target["code"], "moved": len(tickets)}


def _next_position(change: Change, table: str) -> int:
    return (change.tx.value(f"SELECT max(position) FROM {table} WHERE centre_id = :c", c=change.centre_id) or 0) + 1
