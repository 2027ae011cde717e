"""At a province server: slots booked on the province's booking page (or by VNeID, iHanoi … through
the same API) at any of its linked centres. The centre's side: hangdoi/engine/bookings_from_province.py.

What can be booked is what each centre last said it has free (its offer, sent up by its pusher),
less the bookings made here that its offer did not count yet (those after its `through`). A
centre's link may be down for days: booking goes on from its last offer, and the QR code the
citizen gets is signed with the province's Ed25519 key (hangdoi/engine/signatures.py), so the
centre's kiosk takes it even if the booking itself has not come down yet.

Each booking has a `seq` in its centre's order, set when made and set again when cancelled; the
centre pulls what is after its mark. A person may hold one open booking per procedure at a centre,
and at most PER_PERSON_PER_DAY a day there, counted by phone and by ID number.

A number for today (kind "remote") is a place in the centre's live queue, which only the centre can
give: it is asked here only while the centre's link is up and its offer says it takes them, and
stays "asked" until the centre's next pull issues it ("issued", with its number, from the centre's
pushed timeline: hangdoi/services/replication/ingest.py) or refuses it ("refused", with why).
"""
from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hangdoi.clock import local_day
from hangdoi.engine import signatures
from hangdoi.engine.booking_rules import CODE_ALPHABET, id_number, mobile, person_name
from hangdoi.engine.bookings import mask
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.engine.sql import Tx
from hangdoi.models import BOOKED, CANCELLED, CHECKED_IN, EXPIRED
from hangdoi.services.replication.timeline import canonical

PER_PERSON_PER_DAY = 2
PULL_LIMIT = 500              # bookings per pull; a centre gets tens a day
MAX_OFFER_SERVICES = 2000
MAX_OFFER_DAYS = 31
MAX_SLOTS_PER_DAY = 200
REMOTE = "remote"
ASKED, ISSUED, REFUSED = "asked", "issued", "refused"     # a number for today's own states here
OPEN = (BOOKED, ASKED, ISSUED)                           # a place held, not yet used
REMOTE_HEARD_SECONDS = 60      # a number is asked only of a centre heard from this recently (it pulls every 10 s)


# -- the centre's offer ---------------------------------------------------------------------------
def check_offer(payload) -> dict:
    """An offer's shape (hangdoi/engine/bookings_from_province.py: offer_document), checked whole."""
    keys = {"through", "timezone", "ask_id_number", "early_minutes", "late_minutes", "days", "services"}
    # "remote" (the procedures a number for today can be asked for) is absent from an older centre's.
    if not isinstance(payload, dict) or set(payload) - {"remote"} != keys:
        raise Invalid("invalid_offer", reason=", ".join(sorted(keys)))
    remote = payload.setdefault("remote", [])
    slotted = {svc["code"] for svc in payload["services"]} if isinstance(payload["services"], list) else set()
    if not isinstance(remote, list) or len(remote) > MAX_OFFER_SERVICES or not all(
            (isinstance(r, str) and r in slotted)
            or (isinstance(r, dict) and set(r) == {"code", "name"} and _text(r["code"], 32) and _text(r["name"], 300))
            for r in remote):
        raise Invalid("invalid_offer", reason="remote: [a code of services, or {code, name}, …]")
    if type(payload["through"]) is not int or payload["through"] < 0 or type(payload["ask_id_number"]) is not bool \
            or any(type(payload[k]) is not int or not 0 <= payload[k] <= 240 for k in ("early_minutes", "late_minutes")):
        raise Invalid("invalid_offer", reason="through, ask_id_number, early_minutes, late_minutes")
    try:
        ZoneInfo(payload["timezone"])
    except (TypeError, ValueError, KeyError):
        raise Invalid("invalid_offer", reason="timezone") from None
    days = payload["days"]
    if not (isinstance(days, dict) and len(days) <= MAX_OFFER_DAYS and all(
            _is_day(day) and isinstance(slots, list) and 0 < len(slots) <= MAX_SLOTS_PER_DAY and all(
                isinstance(s, list) and len(s) == 2 and _is_hhmm(s[0]) and _is_hhmm(s[1]) for s in slots)
            for day, slots in days.items())):
        raise Invalid("invalid_offer", reason="days: {YYYY-MM-DD: [[HH:MM, HH:MM], …]}")
    services = payload["services"]
    if not isinstance(services, list) or len(services) > MAX_OFFER_SERVICES:
        raise Invalid("invalid_offer", reason=f"services: a list of at most {MAX_OFFER_SERVICES}")
    for i, svc in enumerate(services):
        if not (isinstance(svc, dict) and set(svc) == {"code", "name", "free"} and _text(svc["code"], 32)
                and _text(svc["name"], 300) and isinstance(svc["free"], dict)):
            raise Invalid("invalid_offer", reason=f"services {i}: code, name, free")
        for day, places in svc["free"].items():
            if not (day in days and isinstance(places, list) and len(places) == len(days[day])
                    and all(type(n) is int and 0 <= n <= 10_000 for n in places)):
                raise Invalid("invalid_offer", reason=f"services {i}: free {day[:10]!r}: places per slot of the day")
    return payload


def store_offer(db, link_id: int, offer: dict) -> dict:
    with db.write() as session:
        tx = Tx(session)
        _live_link(tx, link_id, lock=True)
        tx.execute("UPDATE centre_link SET offer = :doc, offer_at = :now WHERE id = :id",
                   doc=canonical(offer), now=tx.instant(db.clock.now()), id=link_id)
    return {"stored": True}


# -- what the page shows -------------------------------------------------------------------------
def centres(db) -> list[dict]:
    """The linked centres, each with whether anything can be booked there now: a slot, or a number
    for today while the centre is heard from."""
    # Decided in the database: a hundred offers are megabytes, and this list is the page's first read.
    # An offer is canonical JSON, so one with nothing to book reads "services":[] exactly, and one
    # without numbers for today "remote":[] (or, from an older centre, no "remote" at all).
    with db.read() as session:
        tx = Tx(session)
        heard = tx.instant(db.clock.now() - timedelta(seconds=REMOTE_HEARD_SECONDS))
        rows = tx.rows("SELECT id, name, area, CASE WHEN offer IS NOT NULL AND (offer NOT LIKE :no_slots OR "
                       "(offer LIKE :has_remote AND offer NOT LIKE :no_remote AND last_push_at >= :heard)) "
                       "THEN 1 ELSE 0 END AS bookable FROM centre_link WHERE revoked_at IS NULL "
                       "ORDER BY area, name, id", no_slots='%"services":[]%', has_remote='%"remote":%',
                       no_remote='%"remote":[]%', heard=heard)
    return [{"id": r["id"], "name": r["name"], "area": r["area"], "bookable": bool(r["bookable"])} for r in rows]


def offer(db, link_id: int) -> dict:
    """What can be booked at the centre now: its procedures, days and slots, with the places left."""
    with db.read() as session:
        tx = Tx(session)
        link = _live_link(tx, link_id)
        return _offer_view(tx, link, db.clock.now())


def _offer_view(tx: Tx, link: dict, now: datetime) -> dict:
    doc = json.loads(link["offer"]) if link["offer"] else None
    centre = {"id": link["id"], "name": link["name"], "area": link["area"]}
    if doc is None:
        return {"centre": centre, "services": [], "remote": [], "ask_id_number": False, "offered_at": None}
    pending = _pending(tx, link["id"], doc["through"])
    tz = ZoneInfo(doc["timezone"])
    services = []
    for svc in doc["services"]:
        days = []
        for day, places in sorted(svc["free"].items()):
            shown = [{"start": start, "end": end, "free": max(0, free - pending.get((svc["code"], day, start), 0))}
                     for (start, end), free in zip(doc["days"][day], places) if _starts_after(day, start, tz, now)]
            if any(slot["free"] for slot in shown):
                days.append({"date": day, "slots": shown})
        if days:
            services.append({"code": svc["code"], "name": svc["name"], "days": days})
    heard = tx.read_instant(link.get("last_push_at"))
    reachable = heard is not None and (now - heard).total_seconds() <= REMOTE_HEARD_SECONDS
    return {"centre": centre, "services": services, "ask_id_number": doc["ask_id_number"],
            # A number for today needs the centre's live queue: only while its link is up.
            "remote": _remote(doc) if reachable else [],
            "early_minutes": doc["early_minutes"], "late_minutes": doc["late_minutes"],
            "offered_at": tx.read_instant(link["offer_at"]).isoformat(timespec="seconds")}


def _remote(doc: dict) -> list[dict]:
    """The procedures a number for today can be asked for, {code, name} each (the offer names one
    that also has slots only there)."""
    names = {svc["code"]: svc["name"] for svc in doc["services"]}
    return [{"code": r, "name": names[r]} if isinstance(r, str) else r for r in doc.get("remote", [])]


def _pending(tx: Tx, link_id: int, through: int) -> dict:
    """Bookings made here that the centre's offer does not count yet, per (procedure, day, slot)."""
    rows = tx.rows("SELECT service_code, local_day, start, count(*) AS n FROM province_booking WHERE link_id = :l "
                   "AND seq > :through AND status = :booked AND kind = 'slot' GROUP BY service_code, local_day, start",
                   l=link_id, through=through, booked=BOOKED)
    return {(r["service_code"], tx.read_day(r["local_day"]).isoformat(), r["start"]): r["n"] for r in rows}


# -- booking, cancelling, reading ------------------------------------------------------------------
def book(db, data_dir: Path, link_id: int, service: str, day: date, start: str, phone: str, full_name: str,
         id_number_raw: str | None = None) -> dict:
    with db.write() as session:
        tx = Tx(session)
        link = _live_link(tx, link_id, lock=True)      # a centre's bookings are made one after the other
        view = _offer_view(tx, link, db.clock.now())
        svc = next((s for s in view["services"] if s["code"] == service), None)
        slots = next((d["slots"] for d in svc["days"] if d["date"] == day.isoformat()), None) if svc else None
        slot = next((s for s in slots if s["start"] == start), None) if slots else None
        if slot is None or slot["free"] <= 0:
            _refuse(json.loads(link["offer"]) if link["offer"] else {}, db.clock.now(), service, day, start)
        contact = {"phone": mobile(phone), "full_name": person_name(full_name),
                   "id_number": id_number(id_number_raw, view["ask_id_number"])}
        _check_person(tx, link_id, service, day, contact)
        taken = {r["code"] for r in tx.rows("SELECT code FROM province_booking WHERE link_id = :l", l=link_id)}
        code = _new_code(taken)
        booking = {"link_id": link_id, "seq": _next_seq(tx, link_id), "public_id": secrets.token_urlsafe(12),
                   "code": code, "service_code": service, "local_day": day, "start": start, "end": slot["end"],
                   "status": BOOKED, "created_at": db.clock.now(), **contact}
        tx.execute("INSERT INTO province_booking (link_id, seq, public_id, code, service_code, local_day, start, "
                   "\"end\", status, phone, full_name, id_number, created_at) VALUES (:link_id, :seq, :public_id, "
                   ":code, :service_code, :day, :start, :end, :status, :phone, :full_name, :id_number, :at)",
                   **{k: v for k, v in booking.items() if k not in ("local_day", "created_at")},
                   day=tx.day(day), at=tx.instant(booking["created_at"]))
        return _view(booking, link, svc["name"], (view["early_minutes"], view["late_minutes"]), data_dir, tx)


def take_remote(db, data_dir: Path, link_id: int, service: str, phone: str, full_name: str,
                id_number_raw: str | None = None) -> dict:
    """Ask a centre for a number for today; the centre issues it (or refuses) at its next pull."""
    with db.write() as session:
        tx = Tx(session)
        link = _live_link(tx, link_id, lock=True)
        now = db.clock.now()
        view = _offer_view(tx, link, now)
        svc = next((r for r in view["remote"] if r["code"] == service), None)
        if svc is None:
            offered = json.loads(link["offer"]) if link["offer"] else {}
            raise Conflict("province_remote_unreachable" if offered and any(r["code"] == service for r in _remote(offered))
                           else "province_remote_none", service=service[:32])
        contact = {"phone": mobile(phone), "full_name": person_name(full_name),
                   "id_number": id_number(id_number_raw, view["ask_id_number"])}
        today = local_day(now, json.loads(link["offer"])["timezone"])
        _check_person(tx, link_id, service, today, contact)
        taken = {r["code"] for r in tx.rows("SELECT code FROM province_booking WHERE link_id = :l", l=link_id)}
        booking = {"link_id": link_id, "seq": _next_seq(tx, link_id), "public_id": secrets.token_urlsafe(12),
                   "code": _new_code(taken), "service_code": service, "local_day": today, "start": "", "end": "",
                   "status": ASKED, "kind": REMOTE, "created_at": now, "ticket_number": None,
                   "ticket_remote_id": None, "refusal": None, **contact}
        tx.execute("INSERT INTO province_booking (link_id, seq, public_id, code, service_code, local_day, start, "
                   "\"end\", status, kind, phone, full_name, id_number, created_at) VALUES (:link_id, :seq, "
                   ":public_id, :code, :service_code, :day, '', '', :status, :kind, :phone, :full_name, :id_number, :at)",
                   **{k: booking[k] for k in ("link_id", "seq", "public_id", "code", "service_code", "status", "kind",
                                              "phone", "full_name", "id_number")},
                   day=tx.day(today), at=tx.instant(now))
        return _view(booking, link, svc["name"], (view["early_minutes"], view["late_minutes"]), data_dir, tx)


def _refuse(offered: dict, now: datetime, service: str, day: date, start: str) -> None:
    """Why a slot cannot be booked, in the citizen's terms. The page lists only what has places left,
    so a procedure or a day whose places are all taken is full, not unknown."""
    known = any(s["code"] == service for s in offered.get("services", []))
    times = [begin for begin, _end in offered.get("days", {}).get(day.isoformat(), [])]
    if known and start in times and _starts_after(day.isoformat(), start, ZoneInfo(offered["timezone"]), now):
        raise Conflict("booking_slot_full", start=start)
    if not known:
        raise Conflict("booking_service_unknown", service=service[:32])
    if not times:
        raise Conflict("booking_day_closed")
    raise Invalid("booking_slot_unknown", start=start[:5])


def _check_person(tx: Tx, link_id: int, service: str, day: date, contact: dict) -> None:
    same = "(phone = :phone OR id_number = :id_number)"
    args = {"l": link_id, "phone": contact["phone"], "id_number": contact["id_number"],
            "booked": BOOKED, "asked": ASKED, "issued": ISSUED}
    # A day's bookings and numbers count whether or not their citizen has come yet.
    if tx.value(f"SELECT count(*) FROM province_booking WHERE link_id = :l AND {same} AND local_day = :d "
                "AND status IN (:booked, :asked, :issued, :came)", d=tx.day(day), came=CHECKED_IN,
                **args) >= PER_PERSON_PER_DAY:
        raise Conflict("booking_person_limit", n=PER_PERSON_PER_DAY)
    if tx.value(f"SELECT count(*) FROM province_booking WHERE link_id = :l AND {same} AND service_code = :s "
                "AND local_day >= :d AND status IN (:booked, :asked, :issued)", s=service, d=tx.day(day), **args):
        raise Conflict("booking_already_open")


def _new_code(taken: set) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if code not in taken:
            return code


def _next_seq(tx: Tx, link_id: int) -> int:
    return (tx.value("SELECT max(seq) FROM province_booking WHERE link_id = :l", l=link_id) or 0) + 1


def status(db, data_dir: Path, public_id: str) -> dict:
    with db.read() as session:
        tx = Tx(session)
        return _view(*_find(tx, public_id), data_dir, tx)


def cancel(db, data_dir: Path, public_id: str) -> dict:
    """The citizen gives the place back; the centre hears of it at its next pull."""
    with db.write() as session:
        tx = Tx(session)
        booking, link, name, minutes = _find(tx, public_id)
        _live_link(tx, link["id"], lock=True)
        if booking["status"] == CHECKED_IN:
            raise Conflict("booking_already_checked_in")
        if booking["status"] not in OPEN:
            raise Conflict("booking_not_open", state=booking["status"])
        booking.update(status=CANCELLED, seq=_next_seq(tx, link["id"]))
        tx.execute("UPDATE province_booking SET status = :s, seq = :seq WHERE id = :id",
                   s=CANCELLED, seq=booking["seq"], id=booking["id"])
        return _view(booking, link, name, minutes, data_dir, tx)


def _find(tx: Tx, public_id: str) -> tuple[dict, dict, str, tuple]:
    """A booking, its centre's link, its procedure's name and the check-in window's minutes, the
    centre's offer read once."""
    booking = tx.row("SELECT * FROM province_booking WHERE public_id = :p", p=public_id[:32])
    if booking is None:
        raise NotFound("booking_not_found")
    booking["local_day"] = tx.read_day(booking["local_day"])
    link = tx.row("SELECT id, name, area FROM centre_link WHERE id = :id", id=booking["link_id"])
    offered = json.loads(tx.value("SELECT offer FROM centre_link WHERE id = :id", id=link["id"]) or "{}")
    names = {s["code"]: s["name"] for s in [*offered.get("services", []), *(_remote(offered) if offered else [])]}
    return (booking, link, names.get(booking["service_code"], booking["service_code"]),
            (offered.get("early_minutes"), offered.get("late_minutes")))


def _view(booking: dict, link: dict, service_name: str, minutes: tuple, data_dir: Path, tx: Tx) -> dict:
    """What the citizen's page and the API show; `qr` is the signed text the QR code holds: a slot's
    from the start, a number's once the centre has issued it."""
    remote = booking.get("kind") == REMOTE
    claims = {"l": link["id"], "b": booking["public_id"], "k": booking["code"], "s": booking["service_code"],
              "d": booking["local_day"].isoformat(), "t": booking["start"], "e": booking["end"],
              "n": booking["full_name"], **({"r": 1} if remote else {})}
    signed = booking["status"] == (ISSUED if remote else BOOKED)
    number = {"number": booking.get("ticket_number")} if booking["status"] in (CHECKED_IN, ISSUED) else None
    if number and booking["status"] == ISSUED:
        number["ahead"] = _ahead(tx, booking)
    return {"public_id": booking["public_id"], "code": booking["code"], "status": booking["status"],
            "kind": booking.get("kind") or "slot", "refusal": booking.get("refusal"),
            "centre": {"id": link["id"], "name": link["name"], "area": link["area"]},
            "service": {"code": booking["service_code"], "name": service_name},
            "date": booking["local_day"].isoformat(), "start": booking["start"], "end": booking["end"],
            "full_name": booking["full_name"], "phone": mask(booking["phone"]),
            "early_minutes": minutes[0], "late_minutes": minutes[1],
            # Issued or checked in at the centre, as its pushed timeline told: the number given.
            "ticket": number,
            "qr": signatures.seal(claims, signatures.signing_key(data_dir)) if signed else None}


def _ahead(tx: Tx, booking: dict) -> int | None:
    """About how many are before an issued number: its centre's tickets of the same procedure still
    waiting (or held from a phone) that were issued before it, as the pushed timeline has them. The
    centre's own page knows the order better (priorities, counters); this is what the province sees."""
    mine = tx.row("SELECT local_day, service FROM replica_ticket WHERE link_id = :l AND remote_id = :t",
                  l=booking["link_id"], t=booking.get("ticket_remote_id"))
    if mine is None:
        return None
    # The centre's ticket ids grow as they are issued.
    return tx.value("SELECT count(*) FROM replica_ticket WHERE link_id = :l AND local_day = :d AND service = :s "
                    "AND status IN ('waiting', 'remote') AND remote_id < :t", l=booking["link_id"],
                    d=mine["local_day"], s=mine["service"], t=booking["ticket_remote_id"])


# -- what the centre pulls -----------------------------------------------------------------------
def changes_after(db, link_id: int, after: int) -> dict:
    with db.read() as session:
        tx = Tx(session)
        rows = tx.rows("SELECT seq, public_id, code, service_code, local_day, start, \"end\", full_name, phone, "
                       "id_number, status, kind FROM province_booking WHERE link_id = :l AND seq > :after ORDER BY seq "
                       f"LIMIT {PULL_LIMIT + 1}", l=link_id, after=after)
        through = tx.value("SELECT max(seq) FROM province_booking WHERE link_id = :l", l=link_id) or 0
    items = [{"seq": r["seq"], "public_id": r["public_id"], "code": r["code"], "service": r["service_code"],
              "date": tx.read_day(r["local_day"]).isoformat(), "start": r["start"], "end": r["end"],
              "full_name": r["full_name"], "phone": r["phone"], "id_number": r["id_number"],
              # What the centre did (issued, checked in, refused) is its own news: to it, booked or not.
              "status": CANCELLED if r["status"] in (CANCELLED, REFUSED, EXPIRED) else BOOKED,
              **({"kind": REMOTE} if r["kind"] == REMOTE else {})}
             for r in rows[:PULL_LIMIT]]
    more = len(rows) > PULL_LIMIT
    return {"items": items, "through": items[-1]["seq"] if more else max(through, after), "more": more}


def public_key(data_dir: Path) -> str:
    return signatures.public_text(signatures.signing_key(data_dir))


# -- helpers -------------------------------------------------------------------------------------
def _live_link(tx: Tx, link_id: int, lock: bool = False) -> dict:
    link = tx.row("SELECT id, name, area, offer, offer_at, last_push_at FROM centre_link WHERE id = :id "
                  "AND revoked_at IS NULL"
                  + (" FOR UPDATE" if lock else ""), id=link_id)
    if link is None:
        raise NotFound("centre_not_found")
    return link


def _starts_after(day: str, start: str, tz: ZoneInfo, now: datetime) -> bool:
    return datetime.combine(date.fromisoformat(day), datetime.strptime(start, "%H:%M").time(), tzinfo=tz) > now


def _is_day(text) -> bool:
    try:
        return isinstance(text, str) and len(text) == 10 and bool(date.fromisoformat(text))
    except ValueError:
        return False


def _is_hhmm(text) -> bool:
    try:
        return isinstance(text, str) and len(text) == 5 and bool(datetime.strptime(text, "%H:%M"))
    except ValueError:
        return False


def _text(value, most: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= most
