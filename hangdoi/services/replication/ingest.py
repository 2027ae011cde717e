"""At a province server: the centres linked to it, and storing the timeline they push.

A centre proves itself with the key `hangdoi province add-centre` printed once (`<link id>.<secret>`;
only its SHA-256 is kept; revoking it refuses the centre from then on). A push carries the changes
after A through B (hangdoi/services/replication/timeline.py). It is stored in one transaction with
the link's row locked, so pushes from one centre, even the same one twice at once on two workers,
go one after the other:
- A equal to what is acknowledged: stored, and B becomes the acknowledged mark;
- A below it (a push the centre sent again because it never heard the answer): the rows already
  here are skipped, the rest stored, and the answer is the same;
- A above it: a gap. Nothing is stored and the answer says where to start again.
A batch is checked whole before anything is written: nothing is stored half.

Reconciliation repairs a day whose digests differ (the centre restored from a backup, rows lost or
changed at the province): the centre reads the province's index of the day (each row's stream, id
and body hash), then sends the rows that are missing or differ and names the ones to drop; the
province applies each repair in one transaction and rebuilds the tickets it touched.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from hangdoi.clock import UTC
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.engine.ratings import common_level
from hangdoi.engine.sql import Tx
from hangdoi.models import BOOKED, CANCELLED, CHECKED_IN, EXPIRED
from hangdoi.services.replication import booking_days
from hangdoi.services.replication.bookings_at_province import ASKED, ISSUED, REFUSED
from hangdoi.services.replication.timeline import STREAMS, body_hash, canonical, day_digest

MAX_ROWS = 20_000                 # a centre sends about 2,000 a push; more is a broken client
MAX_SEQ = 2**31 - 1
REQUIRED = {"ticket": ("public_id", "service", "number", "display_number", "issued_at"),
            "ticket_event": ("ticket", "kind", "at", "status", "service"),
            "counter_event": ("counter", "kind", "at"),
            "audit": ("at", "entity", "action")}


@dataclass(frozen=True)
class Link:
    id: int
    name: str
    area: str
    acknowledged: int
    remote_centre: int | None


class PushGap(Conflict):
    """The push starts after a change the province does not have: resend from `acknowledged`."""

    def __init__(self, acknowledged: int):
        self.acknowledged = acknowledged
        super().__init__("push_gap", acknowledged=acknowledged)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_centre(db, name: str, area: str = "") -> tuple[int, str]:
    """A new link; returns its id and the key to give the centre (shown this once)."""
    secret = secrets.token_urlsafe(32)
    with db.write() as session:
        tx = Tx(session)
        link_id = tx.value("INSERT INTO centre_link (name, area, key_digest, created_at, acknowledged) "
                           "VALUES (:name, :area, :digest, :now, 0) RETURNING id", name=name, area=area,
                           digest=key_digest(secrets.token_hex(16)), now=tx.instant(db.clock.now()))
        key = f"{link_id}.{secret}"
        tx.execute("UPDATE centre_link SET key_digest = :d WHERE id = :id", d=key_digest(key), id=link_id)
    return link_id, key


def revoke_centre(db, link_id: int) -> bool:
    with db.write() as session:
        tx = Tx(session)
        return tx.value("UPDATE centre_link SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL RETURNING id",
                        now=tx.instant(db.clock.now()), id=link_id) is not None


def links(db) -> list[dict]:
    with db.read() as session:
        tx = Tx(session)
        return [{**r, "revoked": r["revoked_at"] is not None,
                 "last_push_at": tx.read_instant(r["last_push_at"])}
                for r in tx.rows("SELECT id, name, area, acknowledged, remote_centre, revoked_at, last_push_at "
                                 "FROM centre_link ORDER BY id")]


def link_of_key(db, key: str | None) -> Link | None:
    """The live link the key belongs to; None for a wrong, unknown or revoked key."""
    if not key or len(key) > 100 or "." not in key:
        return None
    raw_id = key.split(".", 1)[0]
    if not raw_id.isdigit() or len(raw_id) > 9:
        return None
    with db.read() as session:
        row = Tx(session).row("SELECT id, name, area, acknowledged, remote_centre, key_digest FROM centre_link "
                              "WHERE id = :id AND revoked_at IS NULL", id=int(raw_id))
    if row is None or not hmac.compare_digest(row["key_digest"], key_digest(key)):
        return None
    return Link(row["id"], row["name"], row["area"], row["acknowledged"], row["remote_centre"])


def store(db, link_id: int, batch: dict) -> dict:
    """Store one push (already shaped by `check_batch`); returns what is acknowledged now."""
    with db.write() as session:
        tx = Tx(session)
        link = _locked_link(tx, link_id, batch["centre"])
        acknowledged = link["acknowledged"]
        if batch["after"] > acknowledged:
            raise PushGap(acknowledged)
        fresh = [r for r in batch["rows"] if r["seq"] > acknowledged]
        latest, inserted = None, 0
        for r in fresh:
            stored = tx.value("INSERT INTO replica_row (link_id, stream, remote_id, seq, local_day, body) "
                              "VALUES (:link, :stream, :id, :seq, :day, :body) ON CONFLICT DO NOTHING RETURNING id",
                              link=link_id, stream=r["stream"], id=r["id"], seq=r["seq"], day=tx.day(r["_day"]),
                              body=r["_body"])
            if stored is not None:
                inserted += 1
                _apply(tx, link_id, r)
                at = _read_instant(r.get("at") or r.get("issued_at"))
                latest = at if latest is None or at > latest else latest
        acknowledged = max(acknowledged, batch["through"])
        tx.execute("UPDATE centre_link SET acknowledged = :ack, remote_centre = :centre, last_push_at = :now "
                   "WHERE id = :id", ack=acknowledged, centre=batch["centre"], now=tx.instant(db.clock.now()),
                   id=link_id)
        if latest is not None:
            tx.execute("UPDATE centre_link SET last_event_at = :at WHERE id = :id "
                       "AND (last_event_at IS NULL OR last_event_at < :at)", at=tx.instant(latest), id=link_id)
    return {"acknowledged": acknowledged, "stored": inserted}


def _locked_link(tx: Tx, link_id: int, centre: int) -> dict:
    """The live link's row, locked to the end of the transaction (a centre's writes go one after the
    other); 422 when the data names another centre than the one the key first pushed for."""
    link = tx.row("SELECT id, acknowledged, remote_centre FROM centre_link WHERE id = :id AND revoked_at IS NULL "
                  "FOR UPDATE", id=link_id)
    if link is None:
        raise NotFound("invalid_centre_key")
    if link["remote_centre"] is not None and link["remote_centre"] != centre:
        raise Invalid("event_for_another_centre", centre=centre)
    return link


def store_reference(db, link_id: int, document: dict) -> dict:
    """Keep what the centre's figures are named by (checked by reference.check), replacing the last."""
    with db.write() as session:
        tx = Tx(session)
        _locked_link(tx, link_id, document["centre"]["id"])
        tx.execute("UPDATE centre_link SET reference = :doc, reference_at = :now WHERE id = :id",
                   doc=canonical(document), now=tx.instant(db.clock.now()), id=link_id)
    return {"stored": True}


def store_booking_days(db, link_id: int, doc: dict) -> dict:
    """Keep the centre's bookings per day (checked by booking_days.check), each day replacing the last."""
    with db.write() as session:
        tx = Tx(session)
        _locked_link(tx, link_id, doc["centre"])
        booking_days.store(tx, link_id, doc)
    return {"stored": len(doc["days"])}


def reference_fingerprint(db, link_id: int) -> str | None:
    """The SHA-256 of the reference document stored for the link (None: none yet)."""
    with db.read() as session:
        stored = Tx(session).value("SELECT reference FROM centre_link WHERE id = :id", id=link_id)
    return None if stored is None else hashlib.sha256(stored.encode()).hexdigest()


def _apply(tx: Tx, link_id: int, row: dict) -> None:
    """Keep the centre's ticket as the row leaves it (replica_ticket), for the overview."""
    if row["stream"] == "ticket":
        tx.execute("INSERT INTO replica_ticket (link_id, remote_id, local_day, service, issued_at, status) "
                   "VALUES (:link, :id, :day, :service, :issued, 'waiting') ON CONFLICT DO NOTHING",
                   link=link_id, id=row["id"], day=tx.day(row["_day"]), service=row["service"],
                   issued=tx.instant(_read_instant(row["issued_at"])))
    elif row["stream"] == "ticket_event":
        data = row.get("data") if isinstance(row.get("data"), dict) else {}
        # On the common scale (hangdoi/engine/ratings.py): 0 neutral, 1 not satisfied, 2 and 3 satisfied.
        level = (common_level(data.get("level"), data.get("scale"))
                 if row["kind"] == "rated" and type(data.get("level")) is int else None)
        called = tx.instant(_read_instant(row["at"])) if row["kind"] == "called" else None
        tx.execute("UPDATE replica_ticket SET status = :status, called_at = COALESCE(called_at, :called), "
                   "rating = COALESCE(:level, rating) WHERE link_id = :link AND remote_id = :ticket",
                   status=str(row["status"])[:16], called=called, level=level, link=link_id, ticket=row["ticket"])
        if row["kind"] == "checked_in" and isinstance(data.get("province_booking"), str):
            _checked_in(tx, link_id, row, data["province_booking"][:32])
        elif row["kind"] == "issued" and isinstance(data.get("province_booking"), str):
            _issued(tx, link_id, row, data["province_booking"][:32])
        elif row["kind"] == "cancelled" and data.get("reason") != "province":
            # A number for today its citizen never came for (or an officer cancelled): it ended there.
            tx.execute("UPDATE province_booking SET status = :expired WHERE link_id = :link "
                       "AND ticket_remote_id = :ticket AND status = :issued",
                       expired=EXPIRED, link=link_id, ticket=row["ticket"], issued=ISSUED)
    elif row["stream"] == "audit" and row.get("entity") == "province_booking" and row.get("action") == "refused":
        after = row.get("after") if isinstance(row.get("after"), dict) else {}
        if isinstance(after.get("public_id"), str):
            tx.execute("UPDATE province_booking SET status = :refused, refusal = :why WHERE link_id = :link "
                       "AND public_id = :p AND status = :asked", refused=REFUSED, why=str(after.get("reason"))[:40],
                       link=link_id, p=after["public_id"][:32], asked=ASKED)


def _issued(tx: Tx, link_id: int, row: dict, public_id: str) -> None:
    """A number for today asked at the province was issued at its centre: its page shows the number."""
    tx.execute("UPDATE province_booking SET status = :issued, ticket_number = :number, ticket_remote_id = :ticket "
               "WHERE link_id = :link AND public_id = :p AND status = :asked",
               issued=ISSUED, number=_ticket_number(tx, link_id, row["ticket"]), ticket=row["ticket"],
               link=link_id, p=public_id, asked=ASKED)


def _ticket_number(tx: Tx, link_id: int, ticket_id) -> str | None:
    body = tx.value("SELECT body FROM replica_row WHERE link_id = :link AND stream = 'ticket' AND remote_id = :id",
                    link=link_id, id=ticket_id)
    number = json.loads(body).get("display_number") if body else None
    return None if number is None else str(number)[:16]


def _checked_in(tx: Tx, link_id: int, row: dict, public_id: str) -> None:
    """A booking made at the province was checked in at its centre: its page says so, with the
    number, and it can no longer be cancelled. Only this link's own booking; one cancelled at the
    province while the line was down, whose QR code the centre still honoured, came all the same."""
    tx.execute("UPDATE province_booking SET status = :came, checked_in_at = :at, ticket_number = :number "
               "WHERE link_id = :link AND public_id = :p AND status IN (:booked, :cancelled, :asked, :issued)",
               came=CHECKED_IN, at=tx.instant(_read_instant(row["at"])),
               number=_ticket_number(tx, link_id, row["ticket"]), link=link_id, p=public_id,
               booked=BOOKED, cancelled=CANCELLED, asked=ASKED, issued=ISSUED)


def _read_instant(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def check_batch(payload) -> dict:
    """The push's shape, checked whole: 422 naming the first thing wrong."""
    if not isinstance(payload, dict):
        raise Invalid("invalid_batch", reason="an object with centre, after, through, rows")
    unknown = set(payload) - {"centre", "after", "through", "rows"}
    if unknown:
        raise Invalid("invalid_batch", reason=f"unknown field {sorted(unknown)[0]}")
    centre, after, through, rows = (payload.get(k) for k in ("centre", "after", "through", "rows"))
    for name, value in (("centre", centre), ("after", after), ("through", through)):
        if type(value) is not int or not 0 <= value <= MAX_SEQ:
            raise Invalid("invalid_batch", reason=f"{name}: an integer from 0 to {MAX_SEQ}")
    if through < after:
        raise Invalid("invalid_batch", reason="through is before after")
    if not isinstance(rows, list):
        raise Invalid("invalid_batch", reason="rows: a list")
    if len(rows) > MAX_ROWS:
        raise Invalid("invalid_batch", reason=f"more than {MAX_ROWS} rows")
    previous = after
    seen = set()
    for i, row in enumerate(rows):
        _check_row(i, row, centre, after, through)
        if row["seq"] < previous:
            raise Invalid("batch_out_of_order", row=i)
        if (row["stream"], row["id"]) in seen:
            raise Invalid("invalid_batch", reason=f"row {i}: sent twice")
        seen.add((row["stream"], row["id"]))
        previous = row["seq"]
        row["_day"] = date.fromisoformat(row["day"])
        row["_body"] = canonical({k: v for k, v in row.items() if not k.startswith("_")})
    return {"centre": centre, "after": after, "through": through, "rows": rows}


def _check_row(i: int, row, centre: int, after: int, through: int) -> None:
    if not isinstance(row, dict):
        raise Invalid("invalid_batch", reason=f"row {i}: an object")
    stream = row.get("stream")
    if stream not in STREAMS:
        raise Invalid("invalid_batch", reason=f"row {i}: stream is one of {', '.join(STREAMS)}")
    for name in ("id", "seq", "centre"):
        if type(row.get(name)) is not int or not 0 < row[name] <= MAX_SEQ:
            raise Invalid("invalid_batch", reason=f"row {i}: {name}: a positive integer")
    if row["centre"] != centre:
        raise Invalid("event_for_another_centre", centre=row["centre"])
    if not after < row["seq"] <= through:
        raise Invalid("invalid_batch", reason=f"row {i}: seq outside the batch's changes")
    if not _is_day(row.get("day")):
        raise Invalid("invalid_batch", reason=f"row {i}: day: YYYY-MM-DD")
    missing = [name for name in REQUIRED[stream] if row.get(name) is None]
    if missing:
        raise Invalid("invalid_batch", reason=f"row {i}: {missing[0]} is missing")
    for name in ("at", "issued_at", "due_at"):
        if row.get(name) is not None and not _is_instant(row[name]):
            raise Invalid("invalid_batch", reason=f"row {i}: {name}: an ISO instant")


def _is_day(value) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and date.fromisoformat(value) is not None
    except ValueError:
        return False


def _is_instant(value) -> bool:
    try:
        return isinstance(value, str) and len(value) <= 40 and datetime.fromisoformat(value) is not None
    except ValueError:
        return False


def stored_digest(db, link_id: int, day: date) -> dict:
    """The digest of one day of a centre's rows as stored here (the centre computes its own)."""
    with db.read() as session:
        tx = Tx(session)
        rows = tx.rows("SELECT stream, remote_id, body FROM replica_row WHERE link_id = :link AND local_day = :day",
                       link=link_id, day=tx.day(day))
    rows.sort(key=lambda r: (STREAMS.index(r["stream"]), r["remote_id"]))
    return {"day": day.isoformat(), "rows": len(rows), "digest": day_digest([r["body"] for r in rows])}


def day_index(db, link_id: int, day: date) -> list[list]:
    """Each stored row of a local day: [stream, id, the SHA-256 of its body]."""
    with db.read() as session:
        tx = Tx(session)
        rows = tx.rows("SELECT stream, remote_id, body FROM replica_row WHERE link_id = :link AND local_day = :day",
                       link=link_id, day=tx.day(day))
    return sorted([[r["stream"], r["remote_id"], body_hash(r["body"])] for r in rows],
                  key=lambda r: (STREAMS.index(r[0]), r[1]))


def check_repair(payload) -> dict:
    """A repair of one day: rows to put (as the centre has them) and [stream, id] pairs to drop."""
    if not isinstance(payload, dict) or set(payload) - {"centre", "day", "put", "drop"}:
        raise Invalid("invalid_batch", reason="an object with centre, day, put, drop")
    centre, day, put, drop = (payload.get(k) for k in ("centre", "day", "put", "drop"))
    if type(centre) is not int or not 0 <= centre <= MAX_SEQ:
        raise Invalid("invalid_batch", reason=f"centre: an integer from 0 to {MAX_SEQ}")
    if not _is_day(day):
        raise Invalid("invalid_batch", reason="day: YYYY-MM-DD")
    if not isinstance(put, list) or not isinstance(drop, list) or len(put) + len(drop) > MAX_ROWS:
        raise Invalid("invalid_batch", reason=f"put and drop: lists of at most {MAX_ROWS} in all")
    for i, row in enumerate(put):
        _check_row(i, row, centre, 0, MAX_SEQ)
        if row["day"] != day:
            raise Invalid("invalid_batch", reason=f"row {i}: day is not the day repaired")
        row["_day"] = date.fromisoformat(day)
        row["_body"] = canonical({k: v for k, v in row.items() if not k.startswith("_")})
    for i, pair in enumerate(drop):
        if not (isinstance(pair, list) and len(pair) == 2 and pair[0] in STREAMS and type(pair[1]) is int
                and 0 < pair[1] <= MAX_SEQ):
            raise Invalid("invalid_batch", reason=f"drop {i}: [stream, id]")
    return {"centre": centre, "day": date.fromisoformat(day), "put": put, "drop": drop}


def repair(db, link_id: int, fix: dict) -> dict:
    """Apply a repair (shaped by `check_repair`) in one transaction; rebuild the tickets it touched."""
    with db.write() as session:
        tx = Tx(session)
        _locked_link(tx, link_id, fix["centre"])
        touched: set[int] = set()
        for stream, remote_id in fix["drop"]:
            gone = tx.row("SELECT body FROM replica_row WHERE link_id = :link AND stream = :stream AND remote_id = :id "
                          "AND local_day = :day", link=link_id, stream=stream, id=remote_id, day=tx.day(fix["day"]))
            if gone is not None:
                touched.add(_ticket_of(stream, remote_id, json.loads(gone["body"])))
                tx.execute("DELETE FROM replica_row WHERE link_id = :link AND stream = :stream AND remote_id = :id",
                           link=link_id, stream=stream, id=remote_id)
        for r in fix["put"]:
            tx.execute("INSERT INTO replica_row (link_id, stream, remote_id, seq, local_day, body) "
                       "VALUES (:link, :stream, :id, :seq, :day, :body) ON CONFLICT (link_id, stream, remote_id) "
                       "DO UPDATE SET seq = excluded.seq, local_day = excluded.local_day, body = excluded.body",
                       link=link_id, stream=r["stream"], id=r["id"], seq=r["seq"], day=tx.day(r["_day"]), body=r["_body"])
            touched.add(_ticket_of(r["stream"], r["id"], r))
        touched.discard(None)
        _rebuild_tickets(tx, link_id, fix["day"], touched)
    return {"put": len(fix["put"]), "dropped": len(fix["drop"])}


def _ticket_of(stream: str, remote_id: int, body: dict) -> int | None:
    return remote_id if stream == "ticket" else body.get("ticket") if stream == "ticket_event" else None


def _rebuild_tickets(tx: Tx, link_id: int, day: date, tickets: set[int]) -> None:
    """Each ticket's overview row again from its stored rows, in the order they happened."""
    for ticket in sorted(tickets):
        tx.execute("DELETE FROM replica_ticket WHERE link_id = :link AND remote_id = :id", link=link_id, id=ticket)
        # A ticket's events share its day; in canonical JSON "ticket" is an event's last key.
        rows = [json.loads(r["body"]) for r in tx.rows(
            "SELECT body FROM replica_row WHERE link_id = :link AND local_day = :day AND "
            "((stream = 'ticket' AND remote_id = :id) OR (stream = 'ticket_event' AND body LIKE :pattern))",
            link=link_id, day=tx.day(day), id=ticket, pattern=f'%"ticket":{ticket}}}')]
        rows = [r for r in rows if r["stream"] == "ticket" or r.get("ticket") == ticket]
        for r in sorted(rows, key=lambda r: (r["seq"], STREAMS.index(r["stream"]), r["id"])):
            _apply(tx, link_id, {**r, "_day": date.fromisoformat(r["day"])})
