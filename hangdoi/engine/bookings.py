"""Visits that begin on a phone: a slot booked on a day, or a number taken for today's queue.

    slot:    booked ─check in within its window─→ checked_in (a ticket due at its slot)
                    ─check in after the window──→ checked_in, late (an ordinary walk-in's ticket)
                    ─cancel─→ cancelled      ─window over, never came─→ expired (a booked no-show)
    remote:  booked (its ticket REMOTE, holding its place) ─check in─→ checked_in (ticket waiting,
             same place) ─cancel─→ cancelled ─turn came + grace, or the day closed─→ expired

Each public function is one transaction, like the ticket lifecycle. What anyone may book is bounded
by counts bumped atomically (`booking_count`): per slot, per phone number and per ID number a day,
so sixteen clients racing for a slot's last place get one booking between them.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hangdoi.clock import local_day, local_time
from hangdoi.engine import signatures, views
from hangdoi.engine.booking_rules import (
    CODE_ALPHABET,
    BookingRules,
    bookable,
    code_of,
    day_slots,
    id_number,
    mobile,
    open_on,
    person_name,
    rules_of,
    window,
)
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.engine.hours import accepts_tickets, parse_hhmm
from hangdoi.engine.sql import Tx
from hangdoi.engine.tickets import issuable_service, issue_in
from hangdoi.engine.work import Work, transact
from hangdoi.models import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    EXPIRED,
    ORIGIN_BOOKED,
    ORIGIN_REMOTE,
    REMOTE,
    REMOTE_NUMBER,
    SLOT,
    WAITING,
)

BOOKING_COLUMNS = ("id, centre_id, public_id, code, kind, service_id, local_day, start, \"end\", status, phone, "
                   "full_name, id_number, ticket_id, created_at, checked_in_at, late, turn_at, notices, travel_minutes, "
                   "from_province")
# What the holder of a remote number may say about their way here, in minutes.
TRAVEL_CHOICES = (10, 20, 30, 45, 60)


# -- reading ----------------------------------------------------------------------------------
def _bookings(tx: Tx, where: str, suffix: str = "", **params) -> list[dict]:
    rows = tx.rows(f"SELECT {BOOKING_COLUMNS} FROM booking WHERE {where} {suffix}", **params)
    for row in rows:
        row["local_day"] = tx.read_day(row["local_day"])
        for key in ("created_at", "checked_in_at", "turn_at"):
            row[key] = tx.read_instant(row[key])
        row["late"] = bool(row["late"])
        row["from_province"] = bool(row["from_province"])
        row["notices"] = tx.read_json(row["notices"]) or {}
    return rows


def _booking(tx: Tx, where: str, lock: bool = False, **params) -> dict | None:
    found = _bookings(tx, where, "FOR UPDATE" if lock else "", **params)
    return found[0] if found else None


def booking_view(tx: Tx, booking: dict) -> dict:
    """What the citizen's page and the API show: never the phone or the ID number in full."""
    ticket = None
    if booking["ticket_id"] is not None:
        row = views.select_ticket(tx, "id = :id", id=booking["ticket_id"])
        ticket = {**views.ticket_view(tx, row), "position": views.people_ahead(tx, row)}
    return {
        "public_id": booking["public_id"], "code": booking["code"], "kind": booking["kind"],
        "service": views.service_ref(tx, booking["service_id"]),
        "date": booking["local_day"].isoformat(), "start": booking["start"], "end": booking["end"],
        "status": booking["status"], "late": booking["late"],
        "full_name": booking["full_name"], "phone": mask(booking["phone"]),
        "ticket": ticket, "centre_id": booking["centre_id"],
        "lead_minutes": (lead_minutes(rules_of(tx.centre(booking["centre_id"])["settings"]), booking)
                         if booking["kind"] == REMOTE_NUMBER else None),
    }


def mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-3:]


def status(db, public_id: str) -> dict:
    with db.read() as session:
        tx = Tx(session)
        booking = _booking(tx, "public_id = :p", p=public_id)
        if booking is None:
            raise NotFound("booking_not_found")
        return booking_view(tx, booking)


def slots(db, service_id: int, day: date) -> list[dict]:
    """The service's slots on `day` with how many places are left to book; [] on a closed day.
    Slots already begun today are left out: they can no longer be booked."""
    with db.read() as session:
        tx = Tx(session)
        svc = tx.service(service_id)
        if svc is None:
            raise NotFound("service_not_found")
        centre = tx.centre(svc["centre_id"])
        rules = rules_of(centre["settings"])
        now = db.clock.now()
        _require_bookable_day(centre, rules, day, now)
        return free_slots(tx, centre, rules, svc, day, now)


def free_slots(tx: Tx, centre: dict, rules: BookingRules, svc: dict, day: date, now: datetime) -> list[dict]:
    """The service's slots on `day` not yet begun at `now`, with the places left to book."""
    per_slot = bookable(rules, svc["code"], _counters_serving(tx, svc["id"]))
    used = {row["what"]: row["used"] for row in tx.rows(
        "SELECT what, used FROM booking_count WHERE centre_id = :c AND local_day = :d AND what LIKE :prefix",
        c=centre["id"], d=tx.day(day), prefix=f"slot:{svc['id']}:%")}
    out = []
    for slot in day_slots(centre, day, rules):
        if slot_instant(centre, day, slot.start) <= now:
            continue
        free = max(0, per_slot - used.get(f"slot:{svc['id']}:{slot.label}", 0))
        out.append({"start": slot.label, "end": slot.end.strftime("%H:%M"), "free": free})
    return out


def day_list(db, centre_id: int, day: date) -> list[dict]:
    """A day's bookings for supervision: per slot, who is booked and whether they have come."""
    with db.read() as session:
        tx = Tx(session)
        rows = _bookings(tx, "centre_id = :c AND local_day = :d", "ORDER BY start, id", c=centre_id, d=tx.day(day))
        return [{**booking_view(tx, row), "ticket": None,
                 "number": _number(tx, row["ticket_id"])} for row in rows]


def _number(tx: Tx, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    return tx.value("SELECT display_number FROM ticket WHERE id = :id", id=ticket_id)


def _counters_serving(tx: Tx, service_id: int) -> int:
    return tx.value("SELECT count(*) FROM counter_service cs JOIN counter c ON c.id = cs.counter_id "
                    "WHERE cs.service_id = :s AND c.active = :yes", s=service_id, yes=True)


def slot_instant(centre: dict, day: date, at) -> datetime:
    """The instant of a local wall-clock time on a local day at the centre."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(centre["timezone"]))


def _require_bookable_day(centre: dict, rules: BookingRules, day: date, now: datetime) -> None:
    if not rules.slots:
        raise Conflict("booking_off")
    today = local_day(now, centre["timezone"])
    if day < today:
        raise Invalid("booking_day_past")
    if day > today + timedelta(days=rules.days_ahead):
        raise Invalid("booking_day_too_far", days=rules.days_ahead)
    if not open_on(centre, day):
        raise Conflict("booking_day_closed")


# -- booking a slot, taking a remote number ---------------------------------------------------
def book(db, centre_id: int, service: int | str, day: date, start: str, phone: str, full_name: str,
         id_number_raw: str | None = None) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        svc, centre, rules, contact = _prepare(work, centre_id, service, phone, full_name, id_number_raw)
        _require_bookable_day(centre, rules, day, work.now)
        slot = next((s for s in day_slots(centre, day, rules) if s.label == start), None)
        if slot is None:
            raise Invalid("booking_slot_unknown", start=start[:5])
        if slot_instant(centre, day, slot.start) <= work.now:
            raise Conflict("booking_slot_past", start=start[:5])
        _count_person(work, centre_id, day, svc, contact, rules)
        per_slot = bookable(rules, svc["code"], _counters_serving(tx, svc["id"]))
        if _bump(tx, centre_id, day, f"slot:{svc['id']}:{slot.label}") > per_slot:
            raise Conflict("booking_slot_full", start=slot.label)
        booking = _insert(work, centre_id, SLOT, svc, day, contact, start=slot.label,
                          end=slot.end.strftime("%H:%M"))
        work.centre_changed(centre_id)       # supervision's list of today's bookings
        return booking_view(tx, booking)

    return transact(db, body)


def take_remote(db, centre_id: int, service: int | str, phone: str, full_name: str,
                id_number_raw: str | None = None, travel_minutes: int | None = None) -> dict:
    """A real place in today's queue, held until its citizen checks in. `travel_minutes`: how long
    the citizen says it takes them to come (one of TRAVEL_CHOICES): they are told that much ahead."""
    if travel_minutes is not None and travel_minutes not in TRAVEL_CHOICES:
        raise Invalid("booking_travel_invalid", choices=", ".join(map(str, TRAVEL_CHOICES)))

    def body(work: Work) -> dict:
        tx = work.tx
        svc, centre, rules, contact = _prepare(work, centre_id, service, phone, full_name, id_number_raw)
        if not rules.remote:
            raise Conflict("remote_off")
        if not accepts_tickets(centre, work.now):
            raise Conflict("centre_closed")
        today = work.today(centre_id)
        _count_person(work, centre_id, today, svc, contact, rules)
        # Numbers from phones never take more of a day than bookings may: walk-ins keep the rest,
        # however many addresses and phone numbers someone outside uses.
        if _bump(tx, centre_id, today, f"remote:{svc['id']}") > _remote_allowance(tx, centre, rules, svc, today):
            raise Conflict("remote_full")
        ticket = issue_in(work, svc, status=REMOTE, origin=ORIGIN_REMOTE)
        work.ticket_event(ticket, "issued", remote=True)
        # One address for both: the ticket's status page is the remote number's page.
        booking = _insert(work, centre_id, REMOTE_NUMBER, svc, today, contact, ticket_id=ticket["id"],
                          public_id=ticket["public_id"], travel_minutes=travel_minutes)
        return booking_view(tx, booking)

    return transact(db, body)


def lead_minutes(rules: BookingRules, booking: dict) -> int:
    """How long before the forecast call a remote number's holder is told to come: the centre's
    `near_minutes`, or their way here and five minutes to find the kiosk when that is longer."""
    travel = booking.get("travel_minutes")
    return max(rules.near_minutes, travel + 5) if travel else rules.near_minutes


def _remote_allowance(tx: Tx, centre: dict, rules: BookingRules, svc: dict, day: date) -> int:
    """Remote numbers a service may hand out on a day: the bookable share of the day's capacity
    (and of its daily cap, where it has one), less the slots already booked."""
    booked = tx.value("SELECT coalesce(sum(used), 0) FROM booking_count WHERE centre_id = :c AND local_day = :d "
                      "AND what LIKE :slots", c=centre["id"], d=tx.day(day), slots=f"slot:{svc['id']}:%")
    return _allowance(rules, svc, _counters_serving(tx, svc["id"]), len(day_slots(centre, day, rules)), booked)


def _allowance(rules: BookingRules, svc: dict, counters: int, slots: int, booked: int) -> int:
    """_remote_allowance from what it reads: the counters serving the service, the day's slots, the
    slots already booked."""
    whole_day = bookable(replace(rules, bookable_share=1.0), svc["code"], counters) * slots
    allowance = int(whole_day * rules.bookable_share + 1e-9)
    if svc["daily_cap"] is not None:
        allowance = min(allowance, int(svc["daily_cap"] * rules.bookable_share + 1e-9))
    return allowance - booked


def _prepare(work: Work, centre_id: int, service, phone, full_name, id_number_raw):
    tx = work.tx
    svc = issuable_service(work, centre_id, service)
    centre = tx.centre(centre_id)
    rules = rules_of(centre["settings"])
    contact = {"phone": mobile(phone), "full_name": person_name(full_name),
               "id_number": id_number(id_number_raw, rules.ask_id_number)}
    return svc, centre, rules, contact


def _count_person(work: Work, centre_id: int, day: date, svc: dict, contact: dict, rules: BookingRules) -> None:
    """At most `per_person_per_day` a day per phone and per ID number, and never two open at once
    for the same procedure. The count's row lock makes a person's concurrent requests take turns."""
    tx = work.tx
    for key in _person_keys(centre_id, contact):
        if _bump(tx, centre_id, day, key) > rules.per_person_per_day:
            raise Conflict("booking_person_limit", n=rules.per_person_per_day)
    still_open = tx.value(
        "SELECT count(*) FROM booking b LEFT JOIN ticket t ON t.id = b.ticket_id "
        "WHERE b.centre_id = :c AND b.service_id = :s AND (b.phone = :phone OR b.id_number = :id_number) "
        "AND (b.status = 'booked' OR (b.status = 'checked_in' AND t.status IN ('waiting', 'called', 'serving')))",
        c=centre_id, s=svc["id"], phone=contact["phone"], id_number=contact["id_number"])
    if still_open:
        raise Conflict("booking_already_open")


def _person_keys(centre_id: int, contact: dict) -> list[str]:
    # Digests, not numbers: the counts outlive the bookings and must not keep a phone number.
    keys = [f"phone:{_digest(centre_id, contact['phone'])}"]
    if contact["id_number"]:
        keys.append(f"id:{_digest(centre_id, contact['id_number'])}")
    return keys


def _digest(centre_id: int, value: str) -> str:
    return hashlib.sha256(f"{centre_id}:{value}".encode()).hexdigest()[:40]


def _bump(tx: Tx, centre_id: int, day: date, what: str, by: int = 1) -> int:
    return tx.value(
        "INSERT INTO booking_count (centre_id, local_day, what, used) VALUES (:c, :d, :what, :by) "
        "ON CONFLICT (centre_id, local_day, what) DO UPDATE SET used = booking_count.used + :by "
        "RETURNING used", c=centre_id, d=tx.day(day), what=what, by=by)


def _insert(work: Work, centre_id: int, kind: str, svc: dict, day: date, contact: dict,
            start: str | None = None, end: str | None = None, ticket_id: int | None = None,
            public_id: str | None = None, travel_minutes: int | None = None, code: str | None = None,
            from_province: bool = False) -> dict:
    tx = work.tx
    booking = {"centre_id": centre_id, "public_id": public_id or secrets.token_urlsafe(12),
               "code": code or "".join(secrets.choice(CODE_ALPHABET) for _ in range(8)), "kind": kind,
               "service_id": svc["id"], "local_day": day, "start": start, "end": end, "status": BOOKED,
               "ticket_id": ticket_id, "created_at": work.now, "checked_in_at": None, "late": False,
               "turn_at": None, "notices": {}, "travel_minutes": travel_minutes, "from_province": from_province,
               **contact}
    # A code already taken at this centre breaks the unique index; the change is run again with new ones.
    booking["id"] = tx.value(
        "INSERT INTO booking (centre_id, public_id, code, kind, service_id, local_day, start, \"end\", status, "
        "phone, full_name, id_number, ticket_id, created_at, late, notices, travel_minutes, from_province) VALUES "
        "(:centre_id, :public_id, :code, :kind, :service_id, :day, :start, :end, :status, :phone, :full_name, "
        ":id_number, :ticket_id, :at, :no, :notices, :travel_minutes, :from_province) RETURNING id",
        **{k: booking[k] for k in ("centre_id", "public_id", "code", "kind", "service_id", "start", "end",
                                   "status", "phone", "full_name", "id_number", "ticket_id", "travel_minutes",
                                   "from_province")},
        day=tx.day(day), at=tx.instant(work.now), no=False, notices=tx.json({}))
    return booking


# -- cancelling -------------------------------------------------------------------------------
def cancel(db, public_id: str) -> dict:
    """The citizen gives the place back, from the booking's page."""
    def body(work: Work) -> dict:
        tx = work.tx
        booking = _booking(tx, "public_id = :p", lock=True, p=public_id)
        if booking is None:
            raise NotFound("booking_not_found")
        if booking["status"] == CHECKED_IN:
            raise Conflict("booking_already_checked_in")
        if booking["status"] != BOOKED:
            raise Conflict("booking_not_open", state=booking["status"])
        _end(work, booking, CANCELLED, "holder")
        return booking_view(tx, booking)

    return transact(db, body)


def _end(work: Work, booking: dict, new_status: str, reason: str) -> None:
    """Cancel or expire an open booking: its place goes back to others, its ticket (a remote
    number's) is cancelled with it."""
    tx = work.tx
    tx.execute("UPDATE booking SET status = :s WHERE id = :id", s=new_status, id=booking["id"])
    booking["status"] = new_status
    contact = {"phone": booking["phone"], "id_number": booking["id_number"]}
    if new_status == CANCELLED:
        # A cancelled place is free again, and so is the person's count: a changed mind is no abuse.
        # (A province booking's person was counted at the province.)
        for key in [] if booking["from_province"] else _person_keys(booking["centre_id"], contact):
            _bump(tx, booking["centre_id"], booking["local_day"], key, by=-1)
        what = (f"slot:{booking['service_id']}:{booking['start']}" if booking["kind"] == SLOT
                else f"remote:{booking['service_id']}")
        _bump(tx, booking["centre_id"], booking["local_day"], what, by=-1)
    if booking["ticket_id"] is not None:
        ticket = views.select_ticket(tx, "id = :id", "FOR UPDATE", id=booking["ticket_id"])
        if ticket["status"] == REMOTE:
            views.update_ticket(tx, ticket, status=CANCELLED)
            work.ticket_event(ticket, "cancelled", reason=reason)
    work.centre_changed(booking["centre_id"])


# -- checking in ------------------------------------------------------------------------------
def check_in(db, centre_id: int, code: str, kiosk: str | None = None, officer_id: int | None = None) -> dict:
    """The citizen has arrived: by the code typed or scanned at a kiosk, or told at a counter.
    Returns the booking with its ticket; `late` says it became an ordinary walk-in ticket."""
    def body(work: Work) -> dict:
        tx = work.tx
        booking = (_from_sealed(work, centre_id, code) if signatures.is_sealed(code)
                   else _find_for_check_in(tx, centre_id, code))
        if booking["status"] == CHECKED_IN:
            raise Conflict("booking_already_checked_in")
        if booking["status"] != BOOKED:
            raise Conflict("booking_not_open", state=booking["status"])
        centre = tx.centre(centre_id)
        if booking["local_day"] != work.today(centre_id):
            raise Conflict("booking_other_day", day=booking["local_day"].strftime("%d/%m/%Y"))
        rules = rules_of(centre["settings"])
        how = {"kiosk": kiosk, "officer_id": officer_id}
        if booking["kind"] == REMOTE_NUMBER:
            ticket = views.select_ticket(tx, "id = :id", "FOR UPDATE", id=booking["ticket_id"])
            views.update_ticket(tx, ticket, status=WAITING)      # its queued_at keeps its place
            late = False
        else:
            slot_start = slot_instant(centre, booking["local_day"], parse_hhmm(booking["start"]))
            opens, closes = window(rules, slot_start)
            if work.now < opens:
                raise Conflict("booking_too_early", at=local_time(opens, centre["timezone"]).strftime("%H:%M"),
                               service=booking["service_id"])
            late = work.now > closes
            svc = issuable_service(work, centre_id, booking["service_id"])
            if late:     # an ordinary walk-in from now on, said plainly on the screen and the slip
                ticket = issue_in(work, svc, kiosk=kiosk, origin=ORIGIN_BOOKED)
            else:        # due at its slot: from then on called before the walk-ins
                ticket = issue_in(work, svc, kiosk=kiosk, origin=ORIGIN_BOOKED, capped=False,
                                  queued_at=slot_start, due_at=slot_start)
            work.ticket_event(ticket, "issued", kiosk=kiosk, booked=True)
        tx.execute("UPDATE booking SET status = :s, ticket_id = :t, checked_in_at = :at, late = :late "
                   "WHERE id = :id", s=CHECKED_IN, t=ticket["id"], at=tx.instant(work.now), late=late,
                   id=booking["id"])
        booking.update(status=CHECKED_IN, ticket_id=ticket["id"], late=late)
        # A province booking names itself, so that the province learns from the pushed timeline that
        # its citizen came (hangdoi/services/replication/ingest.py).
        named = {"province_booking": booking["public_id"]} if booking["from_province"] else {}
        work.ticket_event(ticket, "checked_in", officer_id=officer_id, late=late, **named,
                          **{k: v for k, v in how.items() if v is not None and k != "officer_id"})
        view = booking_view(tx, booking)
        return {**view["ticket"], "checked_in": True, "late": late, "booking": view}

    return transact(db, body)


def _find_for_check_in(tx: Tx, centre_id: int, raw: str) -> dict:
    """The booking a typed code or a scanned QR code names: its code, or the address of its page
    (/b/… for a slot, /t/… for a remote number, whose page is its ticket's)."""
    code = code_of(raw)
    page = next((p for p in ("/b/", "/t/") if p in raw), None)
    public_id = raw.rstrip("/").rsplit(page, 1)[-1] if page else None
    if code is None and public_id is None:
        raise Invalid("booking_code_invalid")
    found = (_booking(tx, "code = :code AND centre_id = :c", lock=True, code=code, c=centre_id) if code
             else _booking(tx, "public_id = :p", lock=True, p=public_id[:64]))
    if found is None:
        raise NotFound("booking_not_found")
    if found["centre_id"] != centre_id:
        raise Conflict("booking_other_centre")
    return found


# -- bookings made at the province ------------------------------------------------------------
# Their QR code holds the booking signed by the province (hangdoi/engine/signatures.py): claims
# {"l": the centre's link id at the province, "b": public id, "k": code, "s": procedure code,
#  "d": day, "t": slot start, "e": slot end, "n": full name}. A centre that knows the province's
# key takes the booking from the code alone when it has not come down the link yet (the link may
# be down for days); when it comes, it is the same booking (hangdoi/engine/bookings_from_province.py).
def province_peer(tx: Tx, centre_id: int) -> dict | None:
    return tx.row("SELECT centre_id, link_id, signing_key, bookings_through FROM province_peer WHERE centre_id = :c",
                  c=centre_id)


def _from_sealed(work: Work, centre_id: int, text: str) -> dict:
    tx = work.tx
    peer = province_peer(tx, centre_id)
    if peer is None:
        raise Conflict("booking_province_unknown")
    claims = province_claims(signatures.unseal(text, peer["signing_key"]))
    if claims["link"] != peer["link_id"]:
        raise Conflict("booking_other_centre")
    found = _booking(tx, "public_id = :p", lock=True, p=claims["public_id"])
    if found is None and claims["remote"]:
        raise NotFound("booking_not_found")         # a number exists only once the centre issued it
    if found is None:
        found = insert_from_province(work, centre_id, claims, BOOKED)
    elif found["centre_id"] != centre_id:
        raise Conflict("booking_other_centre")
    return found


CLAIMS = {"l": "link", "b": "public_id", "k": "code", "s": "service", "d": "date", "t": "start", "e": "end",
          "n": "full_name"}
# "r": 1 marks a number for today, which has no slot; its QR code is shown only once the centre has it.


def province_claims(raw: dict) -> dict:
    """A signed booking's claims by name, each checked: the province signs only what it checked,
    but a key that leaked, or an older release, must not put junk in the centre's tables."""
    try:
        claims = {name: raw[short] for short, name in CLAIMS.items()}
        claims["remote"] = raw.get("r") == 1
        if type(claims["link"]) is not int:
            raise ValueError("link")
        date.fromisoformat(claims["date"])
        if not claims["remote"]:
            parse_hhmm(claims["start"])
            parse_hhmm(claims["end"])
        if not (0 < len(claims["public_id"]) <= 32 and 0 < len(claims["code"]) <= 12
                and 0 < len(claims["service"]) <= 32 and 0 < len(claims["full_name"]) <= 100):
            raise ValueError("length")
    except (KeyError, TypeError, ValueError):
        raise Invalid("booking_signature_invalid") from None
    return claims


def insert_from_province(work: Work, centre_id: int, claims: dict, status: str, phone: str = "",
                         id_number_value: str | None = None) -> dict:
    """A province booking as a booking row here; its slot's place is taken like a booking made here
    (the province booked from what this centre said it has free)."""
    tx = work.tx
    svc = tx.service_by_code(centre_id, claims["service"])
    if svc is None:
        raise Conflict("booking_service_unknown", service=claims["service"][:32])
    day = date.fromisoformat(claims["date"])
    code = _province_code(tx, centre_id, claims["code"], claims["public_id"])
    booking = {"centre_id": centre_id, "public_id": claims["public_id"], "code": code, "kind": SLOT,
               "service_id": svc["id"], "local_day": day, "start": claims["start"], "end": claims["end"],
               "status": status, "ticket_id": None, "created_at": work.now, "checked_in_at": None, "late": False,
               "turn_at": None, "notices": {}, "travel_minutes": None, "phone": phone,
               "full_name": claims["full_name"], "id_number": id_number_value, "from_province": True}
    booking["id"] = tx.value(
        "INSERT INTO booking (centre_id, public_id, code, kind, service_id, local_day, start, \"end\", status, "
        "phone, full_name, id_number, created_at, late, notices, from_province) VALUES (:centre_id, :public_id, "
        ":code, :kind, :service_id, :day, :start, :end, :status, :phone, :full_name, :id_number, :at, :no, :notices, "
        ":yes) RETURNING id", yes=True,
        **{k: booking[k] for k in ("centre_id", "public_id", "code", "kind", "service_id", "start", "end",
                                   "status", "phone", "full_name", "id_number")},
        day=tx.day(day), at=tx.instant(work.now), no=False, notices=tx.json({}))
    if status == BOOKED:
        _bump(tx, centre_id, day, f"slot:{svc['id']}:{claims['start']}")
    work.centre_changed(centre_id)
    return booking


def remote_codes(tx: Tx, centre: dict, rules: BookingRules, now: datetime) -> list[dict]:
    """The procedures a number for today can be taken for from a phone now: {code, name} each."""
    if not rules.remote or not accepts_tickets(centre, now):
        return []
    today = local_day(now, centre["timezone"])
    # In three queries whatever the catalogue's size: the push process asks every 10 seconds.
    remote, booked = {}, {}
    for r in tx.rows("SELECT what, used FROM booking_count WHERE centre_id = :c AND local_day = :d "
                     "AND (what LIKE :remote OR what LIKE :slot)", c=centre["id"], d=tx.day(today),
                     remote="remote:%", slot="slot:%"):
        kind, service_id = r["what"].split(":")[:2]
        counts = remote if kind == "remote" else booked
        counts[int(service_id)] = counts.get(int(service_id), 0) + r["used"]
    counters = {r["service_id"]: r["n"] for r in tx.rows(
        "SELECT cs.service_id, count(*) AS n FROM counter_service cs JOIN counter c ON c.id = cs.counter_id "
        "WHERE c.centre_id = :c AND c.active = :yes GROUP BY cs.service_id", c=centre["id"], yes=True)}
    slots = len(day_slots(centre, today, rules))
    return [{"code": svc["code"], "name": svc["name"]}
            for svc in tx.rows("SELECT id, code, name, daily_cap FROM service WHERE centre_id = :c AND active = :yes "
                               "ORDER BY position, id", c=centre["id"], yes=True)
            if remote.get(svc["id"], 0) < _allowance(rules, svc, counters.get(svc["id"], 0), slots,
                                                      booked.get(svc["id"], 0))]


def remote_from_province(work: Work, centre_id: int, item: dict) -> dict:
    """A number for today asked on the province's page: a real place in the queue, as one taken here
    from a phone, held until its citizen checks in with the province's code or QR code. Refused
    (Conflict) before anything is written: the caller records why, and the province tells its citizen."""
    tx = work.tx
    svc = tx.service_by_code(centre_id, item["service"])
    if svc is None:
        raise Conflict("booking_service_unknown", service=item["service"][:32])
    centre = tx.centre(centre_id)
    rules = rules_of(centre["settings"])
    today = work.today(centre_id)
    if not rules.remote:
        raise Conflict("remote_off")
    if item["date"] != today.isoformat() or not accepts_tickets(centre, work.now):
        raise Conflict("centre_closed")
    svc = issuable_service(work, centre_id, svc["id"])
    used = tx.value("SELECT used FROM booking_count WHERE centre_id = :c AND local_day = :d AND what = :w",
                    c=centre_id, d=tx.day(today), w=f"remote:{svc['id']}") or 0
    if used >= _remote_allowance(tx, centre, rules, svc, today):
        raise Conflict("remote_full")
    _bump(tx, centre_id, today, f"remote:{svc['id']}")
    ticket = issue_in(work, svc, status=REMOTE, origin=ORIGIN_REMOTE)
    # Named in its "issued" event, so that the province learns the number from the pushed timeline.
    work.ticket_event(ticket, "issued", remote=True, province_booking=item["public_id"])
    code = _province_code(tx, centre_id, item["code"], item["public_id"])
    contact = {"phone": item["phone"], "full_name": item["full_name"], "id_number": item["id_number"]}
    return _insert(work, centre_id, REMOTE_NUMBER, svc, today, contact, ticket_id=ticket["id"],
                   public_id=item["public_id"], code=code, from_province=True)


def _province_code(tx: Tx, centre_id: int, code: str, public_id: str) -> str:
    """The province's code for a booking here, unless one of the centre's own took it first: then
    another, and its QR code (which names its public id) still works."""
    if tx.value("SELECT id FROM booking WHERE centre_id = :c AND code = :code", c=centre_id, code=code) is None:
        return code
    return "P" + public_id[:11]


def end_from_province(work: Work, booking: dict) -> None:
    """Cancelled at the province: an open booking here gives its place back."""
    _end(work, booking, CANCELLED, "province")


def locked_booking(tx: Tx, public_id: str) -> dict | None:
    return _booking(tx, "public_id = :p", lock=True, p=public_id)


# -- the passing of time ----------------------------------------------------------------------
def expire_due(db, centre_id: int) -> list[dict]:
    """Cancel what can no longer be kept: remote numbers whose turn came `remote_grace_minutes`
    ago (or of an earlier day), slot bookings whose check-in window closed. Returns the bookings
    ended now (their rows, with the contact), whose holders are to be told."""
    def body(work: Work) -> list[dict]:
        tx = work.tx
        centre = tx.centre(centre_id)
        if centre is None:
            raise NotFound("centre_not_found")
        rules = rules_of(centre["settings"])
        today = work.today(centre_id)
        ended = []
        grace = work.now - timedelta(minutes=rules.remote_grace_minutes)
        for booking in _bookings(tx, "centre_id = :c AND status = 'booked' AND local_day <= :d", "ORDER BY id FOR UPDATE",
                                 c=centre_id, d=tx.day(today)):
            if booking["kind"] == REMOTE_NUMBER:
                ticket_status = tx.value("SELECT status FROM ticket WHERE id = :id", id=booking["ticket_id"])
                over = (booking["local_day"] < today or ticket_status != REMOTE
                        or (booking["turn_at"] is not None and _kept_from(rules, booking) <= grace))
            else:
                slot_start = slot_instant(centre, booking["local_day"], parse_hhmm(booking["start"]))
                over = window(rules, slot_start)[1] < work.now
            if over:
                _end(work, booking, EXPIRED, "not_checked_in")
                ended.append(booking)
        return ended

    return transact(db, body)


def _kept_from(rules: BookingRules, booking: dict) -> datetime:
    """When a remote number's grace period starts: its turn came, but never before the holder,
    told to come, has had the time they were given to get here."""
    start = booking["turn_at"]
    told = (booking["notices"].get("near") or {}).get("at")
    if told:
        start = max(start, datetime.fromisoformat(told) + timedelta(minutes=lead_minutes(rules, booking)))
    return start


def any_open(db, centre_id: int) -> bool:
    """Whether the centre has a booking or remote number still waiting for its citizen: most
    minutes at most centres it has none, and looking costs one indexed read."""
    with db.read() as session:
        tx = Tx(session)
        return tx.value("SELECT count(*) FROM booking WHERE centre_id = :c AND status = 'booked'",
                        c=centre_id) > 0


def open_remote(db, centre_id: int) -> list[dict]:
    """Today's remote numbers still waiting for their citizens, with their ticket: whom the
    "your turn is near" message may concern."""
    with db.read() as session:
        tx = Tx(session)
        today = local_day(db.clock.now(), tx.centre(centre_id)["timezone"])
        return _bookings(tx, "centre_id = :c AND local_day = :d AND status = 'booked' AND kind = 'remote'",
                         "ORDER BY id", c=centre_id, d=tx.day(today))


def of_ticket(db, ticket_id: int) -> dict | None:
    with db.read() as session:
        return _booking(Tx(session), "ticket_id = :t", t=ticket_id)


# -- messages to the holder -------------------------------------------------------------------
def claim_notice(db, booking_id: int, what: str) -> dict | None:
    """Mark the message `what` ("near", "called", "ended") as being sent for this booking; the
    booking when this caller got it, None when another process (or an earlier round) did."""
    def body(work: Work) -> dict | None:
        tx = work.tx
        booking = _booking(tx, "id = :id", lock=True, id=booking_id)
        if booking is None or what in booking["notices"]:
            return None
        booking["notices"][what] = {"at": work.now.isoformat(timespec="seconds")}
        tx.execute("UPDATE booking SET notices = :n WHERE id = :id", n=tx.json(booking["notices"]), id=booking_id)
        return booking

    return transact(db, body)


def record_notice(db, booking_id: int, what: str, channel: str, outcome: str, detail: str | None = None) -> None:
    """How a message went; on the ticket's timeline when the booking has a ticket."""
    def body(work: Work) -> None:
        tx = work.tx
        booking = _booking(tx, "id = :id", lock=True, id=booking_id)
        booking["notices"].setdefault(what, {}).update(channel=channel, outcome=outcome)
        tx.execute("UPDATE booking SET notices = :n WHERE id = :id", n=tx.json(booking["notices"]), id=booking_id)
        if booking["ticket_id"] is not None:
            ticket = views.select_ticket(tx, "id = :id", id=booking["ticket_id"])
            work.ticket_event(ticket, "notified", what=what, channel=channel, outcome=outcome,
                              detail=(detail or "")[:200] or None)

    transact(db, body)


def centre_of_service(db, service_id: int) -> int:
    """The centre a public request about a service concerns (the province hosts several)."""
    with db.read() as session:
        found = Tx(session).service(service_id)
    if found is None:
        raise NotFound("service_not_found")
    return found["centre_id"]


def offer(db, centre_id: int) -> dict:
    """What the public booking page offers now: numbers for today, and the days open to booking."""
    with db.read() as session:
        tx = Tx(session)
        centre = tx.centre(centre_id)
        if centre is None:
            raise NotFound("centre_not_found")
        rules = rules_of(centre["settings"])
        now = db.clock.now()
        today = local_day(now, centre["timezone"])
        days = [today + timedelta(days=n) for n in range(rules.days_ahead + 1)]
        return {"centre": {"id": centre["id"], "name": centre["name"]},
                "remote": rules.remote and accepts_tickets(centre, now), "slots": rules.slots,
                "days": [d.isoformat() for d in days if rules.slots and open_on(centre, d)],
                "today": today.isoformat(), "days_ahead": rules.days_ahead, "ask_id_number": rules.ask_id_number,
                "early_minutes": rules.early_minutes, "late_minutes": rules.late_minutes,
                "near_minutes": rules.near_minutes}


def day_summary(db, centre_id: int) -> dict:
    """Today's bookings per slot (booked, come, not come, cancelled) and today's remote numbers by
    state, for the manager's dashboard."""
    with db.read() as session:
        tx = Tx(session)
        today = local_day(db.clock.now(), tx.centre(centre_id)["timezone"])
        rows = tx.rows("SELECT kind, start, \"end\", status, count(*) AS n FROM booking WHERE centre_id = :c "
                       "AND local_day = :d GROUP BY kind, start, \"end\", status ORDER BY start",
                       c=centre_id, d=tx.day(today))
    slots: dict[str, dict] = {}
    remote = {BOOKED: 0, CHECKED_IN: 0, CANCELLED: 0, EXPIRED: 0}
    for row in rows:
        if row["kind"] == REMOTE_NUMBER:
            remote[row["status"]] += row["n"]
            continue
        slot = slots.setdefault(row["start"], {"start": row["start"], "end": row["end"], BOOKED: 0, CHECKED_IN: 0,
                                               CANCELLED: 0, EXPIRED: 0})
        slot[row["status"]] += row["n"]
    return {"slots": list(slots.values()), "remote": remote}
