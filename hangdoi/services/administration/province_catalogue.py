"""At a centre linked to a province: the province's procedure catalogue, as the push process brought
it (hangdoi/services/replication/catalogue_at_province.py), and the admin's choice of which of its
procedures this centre serves.

Choosing one adds it as the centre's own service (its field too, with the field's ticket series
from the catalogue, if the centre has none of that code), or renames the centre's service of that
code to the province's name and puts it back in use. Unchoosing one takes it out of use, but not
while citizens wait for it today: the whole choice is refused, naming the procedure and how many
wait, and nothing changes (a manager moves them first: "Chuyển số đang chờ"). The centre's own
procedures that the province's list does not have stay as they are.
"""
from __future__ import annotations

from hangdoi.clock import local_day
from hangdoi.engine.errors import Conflict, Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.administration import province_held
from hangdoi.services.administration.change import Change
from hangdoi.services.administration.services import save_domain, save_service, service_row

MAX_CODES = 5000
KIND = "catalogue"


def keep(db, centre_id: int, document: dict) -> bool:
    """Keep the catalogue the link brought (checked); returns whether it changed."""
    document = _checked(document)
    return province_held.keep(db, centre_id, KIND, {k: document[k] for k in ("domains", "services")})


def held_fingerprint(db, centre_id: int) -> str | None:
    return province_held.held_fingerprint(db, centre_id, KIND)


def _document(tx: Tx, centre_id: int) -> dict | None:
    return province_held.held(tx, centre_id, KIND)


def offered(change, now) -> dict:
    """The province's procedures by field, each with whether this centre serves it (and under which
    name, when its own differs), and how many wait for it today. `change`: a Change or a Reading."""
    tx = change.tx
    document = _document(tx, change.centre_id)
    if document is None:
        return {"linked": False, "domains": [], "own_only": []}
    own = {r["code"]: r for r in tx.rows("SELECT id, code, name, active FROM service WHERE centre_id = :c",
                                         c=change.centre_id)}
    waiting = _waiting(tx, change.centre_id, local_day(now, tx.centre(change.centre_id)["timezone"]))
    province_codes = {s["code"] for s in document["services"]}
    domains = []
    for d in document["domains"]:
        services = [{"code": s["code"], "name": s["name"],
                     "served": bool(own.get(s["code"], {}).get("active")),
                     "own_name": own[s["code"]]["name"] if s["code"] in own and own[s["code"]]["name"] != s["name"]
                     else None, "waiting": waiting.get(s["code"], 0)}
                    for s in document["services"] if s["domain"] == d["code"]]
        if services:
            domains.append({"code": d["code"], "name": d["name"], "services": services})
    own_only = [{"code": code, "name": r["name"]} for code, r in sorted(own.items())
                if code not in province_codes and r["active"]]
    return {"linked": True, "domains": domains, "own_only": own_only}


def choose(change: Change, codes: list[str]) -> dict:
    """Serve exactly `codes` of the province's procedures; returns what changed."""
    tx = change.tx
    document = _document(tx, change.centre_id)
    if document is None:
        raise Conflict("province_catalogue_none")
    by_code = {s["code"]: s for s in document["services"]}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise Invalid("province_catalogue_unknown", service=unknown[0][:32])
    chosen = set(codes)
    waiting = _waiting(tx, change.centre_id, change.work.today(change.centre_id))
    own = {r["code"]: r["id"] for r in tx.rows("SELECT id, code FROM service WHERE centre_id = :c", c=change.centre_id)}
    added = renamed = stopped = 0
    for code in sorted(set(by_code) - chosen):       # first refuse what cannot stop, before any write
        if code in own and service_row(change, own[code])["active"] and waiting.get(code):
            raise Conflict("province_catalogue_waiting", service=code, n=waiting[code])
    domains = {r["code"]: r["id"] for r in tx.rows("SELECT id, code FROM domain WHERE centre_id = :c", c=change.centre_id)}
    catalogue_domains = {d["code"]: d for d in document["domains"]}
    for code in [s["code"] for s in document["services"] if s["code"] in chosen]:
        svc = by_code[code]
        if svc["domain"] not in domains:
            d = catalogue_domains[svc["domain"]]
            domains[svc["domain"]] = save_domain(change, {"code": d["code"], "name": d["name"], "prefix": d["prefix"],
                                                          "first": d["first"], "last": d["last"],
                                                          "position": None})["id"]
        if code in own:
            before = service_row(change, own[code])
            if before["active"] and before["name"] == svc["name"]:
                continue
            save_service(change, {**before, "name": svc["name"], "active": True}, own[code])
            renamed += 1
        else:
            save_service(change, {"code": code, "name": svc["name"], "domain": domains[svc["domain"]],
                                  "daily_cap": None, "instant": False, "active": True, "position": None})
            added += 1
    for code in sorted(set(by_code) - chosen):
        if code in own:
            before = service_row(change, own[code])
            if before["active"]:
                save_service(change, {**before, "active": False}, own[code])
                stopped += 1
    return {"added": added, "renamed": renamed, "stopped": stopped}


def _waiting(tx: Tx, centre_id: int, today) -> dict[str, int]:
    """Tickets waiting today (or held by a remote number), per procedure code."""
    rows = tx.rows("SELECT s.code, count(*) AS n FROM ticket t JOIN service s ON s.id = t.service_id "
                   "WHERE t.centre_id = :c AND t.local_day = :d AND t.status IN ('waiting', 'remote') "
                   "GROUP BY s.code", c=centre_id, d=tx.day(today))
    return {r["code"]: r["n"] for r in rows}


def _checked(document) -> dict:
    if not isinstance(document, dict) or not isinstance(document.get("domains"), list) \
            or not isinstance(document.get("services"), list) or len(document["services"]) > MAX_CODES \
            or len(document["domains"]) > MAX_CODES:
        raise Invalid("invalid_field", field="catalogue", reason="domains, services")
    for d in document["domains"]:
        if not (isinstance(d, dict) and set(d) == {"code", "name", "prefix", "first", "last"}
                and _text(d["code"], 32) and _text(d["name"], 200) and (d["prefix"] is None or _text(d["prefix"], 8))
                and type(d["first"]) is int and type(d["last"]) is int):
            raise Invalid("invalid_field", field="catalogue.domains", reason="code, name, prefix, first, last")
    codes = {d["code"] for d in document["domains"]}
    for s in document["services"]:
        if not (isinstance(s, dict) and set(s) == {"code", "name", "domain"} and _text(s["code"], 32)
                and _text(s["name"], 300) and s["domain"] in codes):
            raise Invalid("invalid_field", field="catalogue.services", reason="code, name, domain")
    return document


def _text(value, most: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= most

