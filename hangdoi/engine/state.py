"""Read-side snapshots: what a display, a kiosk, a counter or a citizen's phone shows right now.

Each is read in one consistent transaction together with the centre's `seq`, so a client that
takes a snapshot and then applies every message with a higher seq is never out of date.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hangdoi.clock import local_day
from hangdoi.engine import citizens, views
from hangdoi.engine.errors import Forbidden, NotFound
from hangdoi.engine.hours import accepts_tickets
from hangdoi.engine.hours import session_left as _session_left
from hangdoi.engine.policy import policy_for
from hangdoi.engine.scope import supervises
from hangdoi.engine.sql import Tx
from hangdoi.models import PRIMARY, REMOTE

RECENT_CALLS = 10
# The Law on the Elderly (Luật Người cao tuổi 2009): citizens from 60 are elderly.
ELDERLY_AGE, ELDERLY_PRIORITY = 60, "cao_tuoi"
MOST_USED = 4
# A wait longer than this is an alert on the manager's screen (centre.settings.sla_minutes).
SLA_MINUTES = 30


@contextmanager
def _reading(db):
    with db.read() as session:
        yield Tx(session)


def _centre(tx: Tx, centre_id: int) -> dict:
    centre = tx.centre(centre_id)
    if centre is None:
        raise NotFound("centre_not_found")
    return centre


def _seq(tx: Tx, centre_id: int) -> int:
    return tx.value("SELECT seq FROM centre WHERE id = :id", id=centre_id)


def centre_seq(db, centre_id: int) -> int:
    with _reading(db) as tx:
        return _seq(tx, centre_id)


def services(db, centre_id: int) -> list[dict]:
    with _reading(db) as tx:
        return _services(tx, _centre(tx, centre_id), db.clock.now())


def _services(tx: Tx, centre: dict, now) -> list[dict]:
    today = local_day(now, centre["timezone"])
    waiting = views.waiting_by_service(tx, centre["id"], today)
    counters = _serving_counters(tx, centre["id"])
    open_now = accepts_tickets(centre, now)
    rows = tx.rows(
        "SELECT s.id, s.code, s.name, s.instant, s.active, s.closed_on, d.id AS domain_id, "
        "d.code AS domain_code, d.name AS domain_name FROM service s JOIN domain d ON d.id = s.domain_id "
        "WHERE s.centre_id = :centre ORDER BY d.position, d.id, s.position, s.id", centre=centre["id"])
    return [{
        "id": r["id"], "code": r["code"], "name": r["name"], "instant": bool(r["instant"]),
        "active": bool(r["active"]),
        "domain": {"id": r["domain_id"], "code": r["domain_code"], "name": r["domain_name"]},
        "waiting": waiting.get(r["id"], 0),
        "counters": counters.get(r["id"], []),
        "open": open_now and bool(r["active"]) and (r["closed_on"] is None or tx.read_day(r["closed_on"]) != today),
    } for r in rows]


def _serving_counters(tx: Tx, centre_id: int) -> dict[int, list[int]]:
    """Per service, the numbers of the counters a citizen should expect: those serving it as their
    primary work, or, when none does, those that help out with it."""
    rows = tx.rows("SELECT cs.service_id, cs.role, c.number FROM counter_service cs JOIN counter c "
                   "ON c.id = cs.counter_id WHERE c.centre_id = :centre AND c.active = :yes ORDER BY c.number",
                   centre=centre_id, yes=True)
    primary: dict[int, list[int]] = {}
    backup: dict[int, list[int]] = {}
    for r in rows:
        (primary if r["role"] == PRIMARY else backup).setdefault(r["service_id"], []).append(r["number"])
    return {sid: primary.get(sid) or backup.get(sid, []) for sid in {*primary, *backup}}


def _priorities(tx: Tx, centre_id: int) -> list[dict]:
    return tx.rows("SELECT code, name FROM priority_category WHERE centre_id = :centre AND active = :yes "
                   "ORDER BY position, id", centre=centre_id, yes=True)


def kiosk_state(db, centre_id: int) -> dict:
    with _reading(db) as tx:
        centre = _centre(tx, centre_id)
        now = db.clock.now()
        return {"seq": _seq(tx, centre_id),
                "centre": {"id": centre["id"], "name": centre["name"], "timezone": centre["timezone"],
                           "hours": centre["opening_hours"].get("sessions", [])},
                "open": accepts_tickets(centre, now), "services": _services(tx, centre, now),
                "priorities": _priorities(tx, centre_id),
                "most_used": _most_used(tx, centre_id, local_day(now, centre["timezone"])),
                # A chip ID card scanned at the kiosk: its holder's age offers this priority, and the
                # name and number go with the ticket only where the centre keeps personal data.
                "elderly": {"age": centre["settings"].get("elderly_age", ELDERLY_AGE),
                            "priority": centre["settings"].get("elderly_priority", ELDERLY_PRIORITY)},
                "personal_data": citizens.enabled(centre["settings"])}


def _most_used(tx: Tx, centre_id: int, today, n: int = MOST_USED, days: int = 30) -> list[int]:
    """The services most asked for lately: the kiosk offers them on its first screen."""
    rows = tx.rows("SELECT t.service_id, count(*) AS n FROM ticket t JOIN service s ON s.id = t.service_id "
                   "WHERE t.centre_id = :centre AND t.local_day >= :since AND s.active = :yes "
                   "GROUP BY t.service_id ORDER BY n DESC, t.service_id LIMIT :limit",
                   centre=centre_id, since=tx.day(today - timedelta(days=days)), yes=True, limit=n)
    return [r["service_id"] for r in rows]


def ticket_card(db, ticket_id: int) -> dict:
    """What a ticket says on paper and on the kiosk's screen, beyond the ticket itself."""
    with _reading(db) as tx:
        row = tx.row("SELECT t.centre_id, t.service_id, t.priority_id, t.issued_at, s.name AS service, "
                     "d.name AS domain, p.name AS priority FROM ticket t JOIN service s ON s.id = t.service_id "
                     "JOIN domain d ON d.id = s.domain_id LEFT JOIN priority_category p ON p.id = t.priority_id "
                     "WHERE t.id = :id", id=ticket_id)
        if row is None:
            raise NotFound("ticket_not_found")
        centre = _centre(tx, row["centre_id"])
        return {"centre_id": centre["id"], "centre": centre["name"], "timezone": centre["timezone"],
                "domain": row["domain"], "service": row["service"], "priority": row["priority"],
                "counters": _serving_counters(tx, centre["id"]).get(row["service_id"], []),
                "issued_at": tx.read_instant(row["issued_at"])}


def display_state(db, centre_id: int) -> dict:
    with _reading(db) as tx:
        centre = _centre(tx, centre_id)
        today = local_day(db.clock.now(), centre["timezone"])
        waiting = views.waiting_by_service(tx, centre_id, today)
        queues = [{"service_id": r["id"], "code": r["code"], "name": r["name"], "waiting": waiting.get(r["id"], 0),
                   "domain": {"id": r["domain_id"], "name": r["domain_name"]}}
                  for r in tx.rows("SELECT s.id, s.code, s.name, d.id AS domain_id, d.name AS domain_name "
                                   "FROM service s JOIN domain d ON d.id = s.domain_id WHERE s.centre_id = :centre "
                                   "AND s.active = :yes ORDER BY d.position, s.position, s.id",
                                   centre=centre_id, yes=True)]
        return {"seq": _seq(tx, centre_id), "centre": {"id": centre["id"], "name": centre["name"]},
                "counters": views.counter_views(tx, "c.centre_id = :centre AND c.active = :yes",
                                                centre=centre_id, yes=True),
                "queues": queues, "recent_calls": _recent_calls(tx, centre_id, today)}


def _recent_calls(tx: Tx, centre_id: int, today) -> list[dict]:
    rows = tx.rows(
        "SELECT e.kind, e.at, e.counter_id, e.service_id, t.id, t.display_number FROM ticket_event e "
        "JOIN ticket t ON t.id = e.ticket_id WHERE e.centre_id = :centre AND t.local_day = :day "
        "AND e.kind IN ('called', 'recalled') ORDER BY e.id DESC LIMIT :n",
        centre=centre_id, day=tx.day(today), n=RECENT_CALLS * 4)
    # One row per ticket, its latest call: a recall is that ticket called again, not another citizen.
    latest = {}
    for r in rows:
        latest.setdefault(r["id"], r)
    return [{"ticket": {"id": r["id"], "number": r["display_number"],
                        "service": views.service_ref(tx, r["service_id"])},
             "counter": views.counter_ref(tx, r["counter_id"]), "recall": r["kind"] == "recalled",
             "at": views.iso_local(tx, centre_id, tx.read_instant(r["at"]))}
            for r in list(latest.values())[:RECENT_CALLS]]


def counter_watch(db, counter_id: int, officer: dict) -> int:
    """The counter's centre, if `officer` may watch it: signed in there, or a manager or admin of that
    centre. The REST route and the socket hub both ask this before reading the counter's state."""
    with _reading(db) as tx:
        row = tx.row("SELECT c.centre_id, cs.officer_id FROM counter c LEFT JOIN counter_session cs "
                     "ON cs.counter_id = c.id AND cs.ended_at IS NULL WHERE c.id = :id", id=counter_id)
    if row is None:
        raise NotFound("counter_not_found")
    if row["officer_id"] != officer["id"] and not supervises(officer, row["centre_id"]):
        raise Forbidden("not_signed_in_here")
    return row["centre_id"]


def supervision(db, centre_id: int) -> dict:
    """The manager's live view: every service's queue and oldest wait, every counter and how long
    its citizen has been there."""
    with _reading(db) as tx:
        centre = _centre(tx, centre_id)
        now = db.clock.now()
        today = local_day(now, centre["timezone"])
        oldest = {r["service_id"]: tx.read_instant(r["oldest"]) for r in tx.rows(
            "SELECT service_id, min(issued_at) AS oldest FROM ticket WHERE centre_id = :centre AND local_day = :day "
            "AND status = 'waiting' GROUP BY service_id", centre=centre_id, day=tx.day(today))}
        services = _services(tx, centre, now)
        for service in services:
            since = oldest.get(service["id"])
            service["longest_wait_minutes"] = int((now - since).total_seconds() // 60) if since else None
        counters = views.counter_views(tx, "c.centre_id = :centre", centre=centre_id)
        called = {r["counter_id"]: tx.read_instant(r["called_at"]) for r in tx.rows(
            "SELECT counter_id, called_at FROM ticket WHERE centre_id = :centre AND status IN ('called', 'serving')",
            centre=centre_id)}
        for counter in counters:
            at = called.get(counter["id"])
            counter["at_counter_seconds"] = int((now - at).total_seconds()) if at else None
        return {"seq": _seq(tx, centre_id),
                "centre": {"id": centre_id, "name": centre["name"], "timezone": centre["timezone"]},
                "sla_minutes": int(centre["settings"].get("sla_minutes", SLA_MINUTES)),
                "services": services, "counters": counters}


def centre_name(db, centre_id: int) -> str:
    """What the manager's pages call the centre in their header."""
    with _reading(db) as tx:
        return _centre(tx, centre_id)["name"]


def session_left(db, centre_id: int) -> float | None:
    """Minutes until the centre's session under way ends (None outside its sessions)."""
    with _reading(db) as tx:
        return _session_left(_centre(tx, centre_id), db.clock.now())


def centre_settings(db, centre_id: int) -> dict:
    with _reading(db) as tx:
        return _centre(tx, centre_id)["settings"]


def centre_summary(db, centre_id: int) -> dict:
    """One centre's day in a line, for the province's list of centres."""
    with _reading(db) as tx:
        centre = _centre(tx, centre_id)
        now = db.clock.now()
        day = tx.day(local_day(now, centre["timezone"]))
        by_status = {r["status"]: r["n"] for r in tx.rows(
            "SELECT status, count(*) AS n FROM ticket WHERE centre_id = :centre AND local_day = :day GROUP BY status",
            centre=centre_id, day=day)}
        oldest = tx.value("SELECT min(issued_at) FROM ticket WHERE centre_id = :centre AND local_day = :day "
                          "AND status = 'waiting'", centre=centre_id, day=day)
        staffed = tx.value("SELECT count(*) FROM counter_session s JOIN counter c ON c.id = s.counter_id "
                           "WHERE c.centre_id = :centre AND s.ended_at IS NULL", centre=centre_id)
        counters = tx.value("SELECT count(*) FROM counter WHERE centre_id = :centre AND active = :yes",
                            centre=centre_id, yes=True)
        address = tx.value("SELECT address FROM centre WHERE id = :id", id=centre_id)
    oldest = Tx.read_instant(oldest)
    return {"id": centre_id, "name": centre["name"], "address": address,
            "issued": sum(by_status.values()), "waiting": by_status.get("waiting", 0),
            "served": by_status.get("done", 0),
            "longest_wait_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
            "counters_staffed": staffed, "counters": counters}


def device_by_key(db, table: str, key: str) -> dict | None:
    """The active kiosk or display with this key (`table`: "kiosk" or "display"), with its centre.
    Every ticket a kiosk asks for looks its key up: one statement on a pooled cursor, not a session."""
    return _one_row(db, f"SELECT id, name, centre_id FROM {table} WHERE key = :key AND active = :yes",
                    key=key, yes=True)


def _one_row(db, sql: str, **params) -> dict | None:
    with db.single_read_cursor() as cursor:
        return Tx.on_cursor(cursor, postgres=not db.is_sqlite).row(sql, **params)


def called_today(db, centre_id: int, display_number: str, counter_number: int) -> str | None:
    """The counter's name when a ticket numbered so was called (or recalled) at that counter today,
    else None: what a lobby display may have announced."""
    with _reading(db) as tx:
        today = tx.day(local_day(db.clock.now(), tx.centre(centre_id)["timezone"]))
        return tx.value("SELECT c.name FROM ticket t JOIN ticket_event e ON e.ticket_id = t.id "
                        "JOIN counter c ON c.id = e.counter_id WHERE t.centre_id = :centre AND t.local_day = :day "
                        "AND t.display_number = :n AND c.number = :counter AND e.kind IN ('called', 'recalled') "
                        "LIMIT 1", centre=centre_id, day=today, n=display_number, counter=counter_number)


def counter_by_rating_key(db, key: str) -> dict | None:
    """The active counter whose rating tablet has this key, with its centre."""
    return _one_row(db, "SELECT id, number, centre_id FROM counter WHERE rating_key = :key AND active = :yes",
                    key=key, yes=True)


def displays(db, centre_id: int) -> list[dict]:
    with _reading(db) as tx:
        return tx.rows("SELECT id, name FROM display WHERE centre_id = :centre AND active = :yes ORDER BY id",
                       centre=centre_id, yes=True)


def counter_centre(db, counter_id: int) -> int:
    with _reading(db) as tx:
        found = tx.value("SELECT centre_id FROM counter WHERE id = :id", id=counter_id)
    if found is None:
        raise NotFound("counter_not_found")
    return found


def counter_card(db, counter_id: int) -> dict:
    with _reading(db) as tx:
        if tx.counter(counter_id) is None:
            raise NotFound("counter_not_found")
        return views.counter_ref(tx, counter_id)


def counter_at(db, centre_id: int, number: int) -> dict:
    """A counter by the number on its sign, with whoever is signed in there (keypads know numbers)."""
    with _reading(db) as tx:
        row = tx.row("SELECT c.id, cs.officer_id FROM counter c LEFT JOIN counter_session cs "
                     "ON cs.counter_id = c.id AND cs.ended_at IS NULL WHERE c.centre_id = :centre "
                     "AND c.number = :number", centre=centre_id, number=number)
    if row is None:
        raise NotFound("counter_not_found")
    return row


def officer_today(db, officer_id: int) -> dict:
    """An officer's own figures for today: served, average service time, no-shows, ratings."""
    with _reading(db) as tx:
        centre_id = tx.value("SELECT centre_id FROM officer WHERE id = :id", id=officer_id)
        if centre_id is None:
            raise NotFound("forbidden")
        centre = _centre(tx, centre_id)
        now = db.clock.now()
        midnight = datetime.combine(local_day(now, centre["timezone"]), time(), ZoneInfo(centre["timezone"]))
        rows = tx.rows(
            "SELECT e.ticket_id, e.kind, e.at, e.officer_id, e.data FROM ticket_event e WHERE e.ticket_id IN "
            "(SELECT ticket_id FROM ticket_event WHERE officer_id = :me AND at >= :since "
            "AND kind IN ('finished', 'no_show', 'rated')) AND e.kind IN ('called', 'recalled', 'started', "
            "'finished', 'no_show', 'rated') ORDER BY e.id", me=officer_id, since=tx.instant(midnight))
    served, no_shows, durations, ratings, started = 0, 0, [], {1: 0, 2: 0, 3: 0}, {}
    for row in rows:
        at, mine = tx.read_instant(row["at"]), row["officer_id"] == officer_id
        if row["kind"] in ("called", "started"):
            started[row["ticket_id"]] = at
        elif row["kind"] == "finished" and mine and at >= midnight:
            served += 1
            if row["ticket_id"] in started:
                durations.append((at - started[row["ticket_id"]]).total_seconds())
        elif row["kind"] == "no_show" and mine and at >= midnight:
            no_shows += 1
        elif row["kind"] == "rated" and mine:
            level = (tx.read_json(row["data"]) or {}).get("level")
            if level in ratings:
                ratings[level] += 1
    return {"served": served, "no_shows": no_shows,
            "average_service_seconds": round(sum(durations) / len(durations)) if durations else None,
            "ratings": {str(k): v for k, v in ratings.items()}}


def counter_state(db, counter_id: int) -> dict:
    with _reading(db) as tx:
        counter = tx.row("SELECT id, centre_id, priority_streak FROM counter WHERE id = :id", id=counter_id)
        if counter is None:
            raise NotFound("counter_not_found")
        centre = _centre(tx, counter["centre_id"])
        today = local_day(db.clock.now(), centre["timezone"])
        current = views.current_ticket(tx, counter_id)
        queue = policy_for(centre["settings"]).waiting_in_order(tx, counter, today, centre["settings"], db.clock.now())
        keeps_citizens = citizens.enabled(centre["settings"])
        return {"seq": _seq(tx, centre["id"]), "centre_id": centre["id"], "timezone": centre["timezone"],
                "counter": views.counter_view(tx, counter_id),
                "ticket": views.ticket_view(tx, current) if current else None,
                "personal_data": keeps_citizens, "personal_data_days": citizens.keep_days(centre["settings"]),
                "citizen": citizens.of_ticket(tx, current["id"]) if current and keeps_citizens else None,
                "waiting": [views.ticket_view(tx, t) for t in queue],
                "no_shows": _no_shows(tx, counter_id, centre["id"], today),
                # Numbers taken from phones for this counter's services, their citizens not here yet.
                "remote_absent": tx.value(
                    "SELECT count(*) FROM ticket WHERE centre_id = :c AND local_day = :d AND status = 'remote' "
                    "AND service_id IN (SELECT service_id FROM counter_service WHERE counter_id = :counter)",
                    c=centre["id"], d=tx.day(today), counter=counter_id)}


NO_SHOWS_LISTED = 30


def _no_shows(tx, counter_id: int, centre_id: int, today) -> list[dict]:
    """Today's no-shows this counter may call back: those called here, and the centre's for the
    services it serves, latest first; each says whether it was called here."""
    found = views.select_tickets(
        tx, "centre_id = :centre AND local_day = :day AND status = 'no_show' AND (counter_id = :counter "
            "OR service_id IN (SELECT service_id FROM counter_service WHERE counter_id = :counter))",
        "ORDER BY called_at DESC, id DESC LIMIT :n", centre=centre_id, day=tx.day(today), counter=counter_id,
        n=NO_SHOWS_LISTED)
    return [{**views.ticket_view(tx, t), "here": t["counter_id"] == counter_id} for t in found]


def ticket_status(db, public_id: str) -> dict:
    with _reading(db) as tx:
        ticket = views.select_ticket(tx, "public_id = :public_id", public_id=public_id)
        if ticket is None:      # a booking's page address leads to its ticket once checked in
            ticket = views.select_ticket(tx, "id = (SELECT ticket_id FROM booking WHERE public_id = :public_id)",
                                         public_id=public_id)
        if ticket is None:
            raise NotFound("ticket_not_found")
        # A ticket sent to a counter nobody is signed in at is not "next", whatever its place.
        target = ticket["target_counter_id"]
        staffed = target is None or tx.value(
            "SELECT count(*) FROM counter_session WHERE counter_id = :c AND ended_at IS NULL", c=target) > 0
        found = {**views.ticket_view(tx, ticket), "position": views.people_ahead(tx, ticket),
                 "centre_id": ticket["centre_id"], "target_counter_staffed": staffed}
        if ticket["status"] == REMOTE:
            # The centre's word that it is time to come (hangdoi/services/notify.py decides, and
            # sends its message): the status page signals the same moment.
            notices = tx.value("SELECT notices FROM booking WHERE ticket_id = :t", t=ticket["id"])
            found["told_to_come"] = "near" in (tx.read_json(notices) if notices is not None else {})
        return found
