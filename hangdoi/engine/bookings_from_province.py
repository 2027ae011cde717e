"""At a centre linked to a province: the slots booked on the province's booking page come down the
link and become this centre's bookings (the province's side: hangdoi/services/replication/
bookings_at_province.py; the pusher carries both ways: hangdoi/services/replication/pusher.py).

- `learn`: the province's public key, which signs its bookings' QR codes, and this centre's link id
  there, as the link says. With them a kiosk takes a province booking from its QR code alone while
  the link is down (hangdoi/engine/bookings.py: check_in).
- `offer_document`: what this centre offers the province's page: each open day's slots not yet
  begun, for each procedure that can be booked the places left in each, and `through`, the last
  province booking already counted in them (the province subtracts the ones after it); and
  `remote`, the procedures a number for today can be asked for now.
- `accept`: one pull of the province's bookings, in its order, in one transaction: new ones take
  their place, cancelled ones give it back, one already taken by its QR code is the same booking.
  A number for today asked at the province is issued here as one asked on this centre's own page,
  or refused with its reason in an audit entry; both go up with the timeline, and the province's
  page tells its citizen.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from hangdoi.clock import local_day
from hangdoi.engine import audit, signatures
from hangdoi.engine.booking_rules import bookable, day_slots, rules_of
from hangdoi.engine.bookings import (
    end_from_province,
    insert_from_province,
    locked_booking,
    province_claims,
    province_peer,
    remote_codes,
    remote_from_province,
    slot_instant,
)
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.engine.sql import Tx
from hangdoi.engine.work import Work, transact
from hangdoi.models import BOOKED, CANCELLED

log = logging.getLogger(__name__)

ITEM_KEYS = {"seq", "public_id", "code", "service", "date", "start", "end", "full_name", "phone", "id_number",
             "status"}
KINDS = ("slot", "remote")


def learn(db, centre_id: int, link_id: int, signing_key: str) -> bool:
    """Keep what the link says of the province; returns whether it changed. A new link id (the centre
    linked again) starts the bookings' pull from the beginning."""
    if not signatures.valid_public(signing_key) or type(link_id) is not int:
        raise Invalid("invalid_field", field="signing_key", reason="Ed25519 public key, base64url")

    def body(work: Work) -> bool:
        tx = work.tx
        peer = province_peer(tx, centre_id)
        if peer is not None and (peer["link_id"], peer["signing_key"]) == (link_id, signing_key):
            return False
        if peer is None:
            tx.execute("INSERT INTO province_peer (centre_id, link_id, signing_key, bookings_through, learned_at) "
                       "VALUES (:c, :link, :key, 0, :now)", c=centre_id, link=link_id, key=signing_key,
                       now=tx.instant(work.now))
        else:
            if peer["signing_key"] != signing_key:
                log.warning("the province's signing key changed: QR codes signed with the old one are refused now")
            tx.execute("UPDATE province_peer SET link_id = :link, signing_key = :key, learned_at = :now, "
                       "bookings_through = CASE WHEN link_id = :link THEN bookings_through ELSE 0 END "
                       "WHERE centre_id = :c", c=centre_id, link=link_id, key=signing_key, now=tx.instant(work.now))
        return True

    return transact(db, body)


def offer_document(db, centre_id: int) -> dict:
    """What this centre offers the province's page, read in a few queries whatever the catalogue's
    size (a ward's 400 procedures × 7 days), and compact: each day's slots once, then per
    procedure the places left in each, in the same order (0: full)."""
    with db.read() as session:
        tx = Tx(session)
        centre = tx.centre(centre_id)
        rules = rules_of(centre["settings"])
        now = db.clock.now()
        peer = province_peer(tx, centre_id)
        today = local_day(now, centre["timezone"])
        days = {}
        for ahead in range(rules.days_ahead + 1 if rules.slots else 0):
            day = today + timedelta(days=ahead)
            slots = [s for s in day_slots(centre, day, rules) if slot_instant(centre, day, s.start) > now]
            if slots:
                days[day] = slots
        counters = {r["service_id"]: r["n"] for r in tx.rows(
            "SELECT cs.service_id, count(*) AS n FROM counter_service cs JOIN counter c ON c.id = cs.counter_id "
            "WHERE c.centre_id = :c AND c.active = :yes GROUP BY cs.service_id", c=centre_id, yes=True)}
        used = {(tx.read_day(r["local_day"]), r["what"]): r["used"] for r in tx.rows(
            "SELECT local_day, what, used FROM booking_count WHERE centre_id = :c AND local_day >= :first "
            "AND local_day <= :last AND what LIKE :slots", c=centre_id, first=tx.day(today),
            last=tx.day(today + timedelta(days=rules.days_ahead)), slots="slot:%")} if days else {}
        services = []
        for svc in tx.rows("SELECT id, code, name FROM service WHERE centre_id = :c AND active = :yes "
                           "ORDER BY position, id", c=centre_id, yes=True) if days else []:
            per_slot = bookable(rules, svc["code"], counters.get(svc["id"], 0))
            if per_slot <= 0:
                continue
            free = {}
            for day, slots in days.items():
                places = [max(0, per_slot - used.get((day, f"slot:{svc['id']}:{s.label}"), 0)) for s in slots]
                if any(places):
                    free[day.isoformat()] = places
            if free:
                services.append({"code": svc["code"], "name": svc["name"], "free": free})
        # A procedure that also has slots is named once, there: its code alone here.
        slotted = {svc["code"] for svc in services}
        remote = [r["code"] if r["code"] in slotted else r for r in remote_codes(tx, centre, rules, now)]
        return {"through": peer["bookings_through"] if peer else 0, "timezone": centre["timezone"],
                "ask_id_number": rules.ask_id_number, "early_minutes": rules.early_minutes,
                "late_minutes": rules.late_minutes,
                "days": {day.isoformat(): [[s.label, s.end.strftime("%H:%M")] for s in slots]
                         for day, slots in days.items()},
                "services": services, "remote": remote}


def accept(db, centre_id: int, items: list, through: int) -> int:
    """Apply the province's bookings after this centre's mark, up to `through`; returns how many
    were new here. Items at or below the mark (a pull repeated) change nothing."""
    checked = [_item(item) for item in items]

    def body(work: Work) -> int:
        tx = work.tx
        peer = tx.row("SELECT bookings_through FROM province_peer WHERE centre_id = :c FOR UPDATE", c=centre_id)
        if peer is None:
            raise Conflict("booking_province_unknown")
        new = 0
        for item in checked:
            if item["seq"] <= peer["bookings_through"]:
                continue
            found = locked_booking(tx, item["public_id"])
            if found is None:
                if item["status"] == BOOKED and item["kind"] == "remote":
                    new += _take_remote(work, centre_id, item)
                elif item["status"] == BOOKED:
                    new += _take(work, centre_id, item)
            elif found["centre_id"] != centre_id or not found["from_province"]:
                log.warning("province booking %s names a booking that is not the province's here: left alone",
                            item["public_id"])
            elif item["status"] == CANCELLED and found["status"] == BOOKED:
                end_from_province(work, found)
            elif item["status"] == BOOKED and not found["phone"]:
                # Taken by its QR code while the link was down: now its contact has come too.
                tx.execute("UPDATE booking SET phone = :phone, id_number = :id_number WHERE id = :id",
                           phone=item["phone"], id_number=item["id_number"], id=found["id"])
        mark = max([peer["bookings_through"], through, *(item["seq"] for item in checked)])
        tx.execute("UPDATE province_peer SET bookings_through = :m WHERE centre_id = :c", m=mark, c=centre_id)
        return new

    return transact(db, body)


def _take(work: Work, centre_id: int, item: dict) -> int:
    try:
        insert_from_province(work, centre_id, item, BOOKED, item["phone"], item["id_number"])
        return 1
    except Conflict as exc:
        # A procedure taken off since the province booked it: its citizen hears so at the kiosk.
        log.warning("province booking %s not taken: %s", item["public_id"], exc.code)
        return 0


def _take_remote(work: Work, centre_id: int, item: dict) -> int:
    """A number for today asked at the province: issued here, or refused with the reason, which the
    audit entry carries up the timeline to the province (hangdoi/services/replication/ingest.py)."""
    tx = work.tx
    tx.execute("SAVEPOINT remote_number")      # a refusal found half-way (a daily cap) leaves nothing
    try:
        remote_from_province(work, centre_id, item)
    except (Conflict, NotFound) as exc:
        tx.execute("ROLLBACK TO SAVEPOINT remote_number")
        log.info("province number %s refused: %s", item["public_id"], exc.code)
        audit.record(work, centre_id, None, "province_booking", None, "refused", None,
                     {"code": item["code"], "public_id": item["public_id"], "service": item["service"],
                      "reason": exc.code})
        return 0
    tx.execute("RELEASE SAVEPOINT remote_number")
    return 1


def _item(raw) -> dict:
    # "kind": "remote" for a number for today; a province of the release before sends slots without it.
    if not isinstance(raw, dict) or set(raw) - {"kind"} != ITEM_KEYS or raw.get("kind", "slot") not in KINDS \
            or type(raw["seq"]) is not int \
            or raw["status"] not in (BOOKED, CANCELLED) or not isinstance(raw["phone"], str) \
            or len(raw["phone"]) > 16 or not (raw["id_number"] is None or
                                              (isinstance(raw["id_number"], str) and len(raw["id_number"]) <= 12)):
        raise Invalid("invalid_field", field="bookings", reason="province booking items")
    remote = raw.get("kind") == "remote"
    claims = province_claims({"l": 0, "b": raw["public_id"], "k": raw["code"], "s": raw["service"],
                              "d": raw["date"], "t": raw["start"], "e": raw["end"], "n": raw["full_name"],
                              **({"r": 1} if remote else {})})
    return {**raw, **claims, "kind": "remote" if remote else "slot"}
