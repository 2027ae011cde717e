"""The database schema. Alembic migrations in hangdoi/migrations must match these tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hangdoi.clock import UTC

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores instants in UTC and always gives back aware datetimes, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        # SQLite keeps text; without an offset every stored instant sorts correctly as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Ticket states. "Open" ones still need something from an officer.
WAITING, CALLED, SERVING = "waiting", "called", "serving"
DONE, NO_SHOW, CANCELLED, CLOSED = "done", "no_show", "cancelled", "closed"
# A number taken from a phone, holding its place in the queue until its citizen checks in: the
# calling policy sees only "waiting" tickets, so it passes over these without a rule of its own.
REMOTE = "remote"
TICKET_STATES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED, CLOSED, REMOTE)
AT_COUNTER_STATES = (CALLED, SERVING)
OPEN_STATES = (WAITING, CALLED, SERVING)

PRIMARY, BACKUP = "primary", "backup"
OFFICER, MANAGER, ADMIN = "officer", "manager", "admin"
ROLES = (OFFICER, MANAGER, ADMIN)   # a centre's own staff, as its admin may make them
# A province admin looks after every centre of the installation (hangdoi/engine/scope.py). Its account
# hangs on a home centre only because every officer row needs one; only the CLI creates one.
PROVINCE = "province"


class Centre(Base):
    __tablename__ = "centre"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    # {"sessions": [["07:30", "11:30"], ["13:30", "17:00"]], "weekdays": [0, 1, 2, 3, 4]}
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_days: Mapped[list] = mapped_column(JSON, default=list)
    # Free-form options: call_policy, priority_streak_limit, accept_outside_hours, ...
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # The realtime sequence: bumped once by every committed change, so clients can spot gaps.
    seq: Mapped[int] = mapped_column(Integer, default=0)


class Domain(Base):
    __tablename__ = "domain"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class TicketSeries(Base):
    __tablename__ = "ticket_series"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    code: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(8), default="")
    first_number: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"))
    series_id: Mapped[int] = mapped_column(ForeignKey("ticket_series.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    instant: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Closed by a manager for the rest of this local day.
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Counter(Base):
    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("centre_id", "number"),
                      Index("ux_counter_rating_key", "rating_key", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Priority tickets called in a row here, for the priority/normal interleave.
    priority_streak: Mapped[int] = mapped_column(Integer, default=0)
    # {"serial_port", "keypad_address", "led_protocol": "ascii"|"modbus", "led_address"}: shown to
    # the hardware bridge (drivers/bridge.py) and the admin pages.
    hardware: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The key in the address of the rating tablet facing this counter's citizens (hangdoi/services/auth.py).
    rating_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CounterService(Base):
    __tablename__ = "counter_service"
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=PRIMARY)


class Officer(Base):
    __tablename__ = "officer"
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=OFFICER)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # No longer used: wrong passwords are throttled per address (hangdoi/web/throttle.py), never by
    # locking the account, which let anyone lock anyone out. Kept so older databases still match.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Moves on at every sign-out, password change, deactivation: older session cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PriorityCategory(Base):
    __tablename__ = "priority_category"
    __table_args__ = (UniqueConstraint("centre_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CounterSession(Base):
    """An officer signed in at a counter. At most one open session per counter and per officer."""

    __tablename__ = "counter_session"
    __table_args__ = (
        Index("uq_counter_session_open_counter", "counter_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("uq_counter_session_open_officer", "officer_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SeriesDay(Base):
    """The last number handed out in a series on a local day: the one place numbers come from."""

    __tablename__ = "series_day"
    series_id: Mapped[int] = mapped_column(ForeignKey("ticket_series.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_issued: Mapped[int] = mapped_column(Integer)


class ServiceDay(Base):
    """How many tickets a service has issued on a local day, for the daily cap."""

    __tablename__ = "service_day"
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    issued: Mapped[int] = mapped_column(Integer)


class QueueLength(Base):
    """How many tickets wait in a service on a local day, and how many of those wait for any counter
    (not one named counter). Kept by database triggers on `ticket` (migration 0007), whatever code
    path changes a ticket, so counting a queue costs the same with five tickets waiting or five
    thousand."""

    __tablename__ = "queue_length"
    __table_args__ = (Index("ix_queue_length_centre_id_local_day", "centre_id", "local_day"),)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    waiting: Mapped[int] = mapped_column(Integer)
    untargeted: Mapped[int] = mapped_column(Integer)


PRIORITY_WAITING_SQL = "status = 'waiting' AND priority_id IS NOT NULL AND target_counter_id IS NULL"
SENT_WAITING_SQL = "status = 'waiting' AND target_counter_id IS NOT NULL"
DUE_WAITING_SQL = "status = 'waiting' AND due_at IS NOT NULL AND target_counter_id IS NULL"
REMOTE_SQL = "status = 'remote'"

# Where a ticket came from (ticket.origin; NULL is a walk-in at the kiosk).
ORIGIN_REMOTE, ORIGIN_BOOKED = "remote", "booked"


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("series_id", "local_day", "number"),
        # A counter holds at most one ticket at a time, whatever the code above tries.
        Index("uq_ticket_one_per_counter", "counter_id", unique=True,
              sqlite_where=text("status IN ('called', 'serving')"),
              postgresql_where=text("status IN ('called', 'serving')")),
        Index("ix_ticket_queue", "centre_id", "local_day", "status", "service_id", "queued_at"),
        # The heads of the other queues "call next" looks at (hangdoi/engine/policy.py, migration 0008).
        Index("ix_ticket_priority_queue", "centre_id", "local_day", "service_id", "queued_at",
              sqlite_where=text(PRIORITY_WAITING_SQL), postgresql_where=text(PRIORITY_WAITING_SQL)),
        Index("ix_ticket_sent_queue", "target_counter_id", "local_day", "queued_at",
              sqlite_where=text(SENT_WAITING_SQL), postgresql_where=text(SENT_WAITING_SQL)),
        # Checked-in appointments, called before walk-ins from their slot on (migration 0011).
        Index("ix_ticket_due_queue", "centre_id", "local_day", "service_id", "queued_at",
              sqlite_where=text(DUE_WAITING_SQL), postgresql_where=text(DUE_WAITING_SQL)),
        # Remote numbers not checked in yet, which a call may pass over.
        Index("ix_ticket_remote", "centre_id", "local_day", "service_id", "queued_at",
              sqlite_where=text(REMOTE_SQL), postgresql_where=text(REMOTE_SQL)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("ticket_series.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    local_day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(16))
    priority_id: Mapped[int | None] = mapped_column(ForeignKey("priority_category.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Place in the queue; kept on transfer and requeue so nobody is sent to the back.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), nullable=True)
    # Set when a ticket was transferred to one counter: only that counter may call it.
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    kiosk: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # NULL for a walk-in, else ORIGIN_REMOTE or ORIGIN_BOOKED.
    origin: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # A checked-in appointment's slot start: from then on it is called before walk-ins.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TicketEvent(Base):
    """The append-only timeline. Every report, estimate and replay is derived from it."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_id", "id"),
                      # The changes after a mark, which a centre pushes to its province (migration 0012).
                      Index("ix_ticket_event_centre_id_seq", "centre_id", "seq"))
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class CounterEvent(Base):
    """Sign-ins, sign-outs, pauses and resumes: the counter's own timeline."""

    __tablename__ = "counter_event"
    __table_args__ = (Index("ix_counter_event_centre_id_seq", "centre_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), nullable=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Display(Base):
    """A lobby screen. Its URL carries `key` instead of a login; `counters` (numbers) filters the
    board, empty meaning every counter; `options` holds layout choices."""

    __tablename__ = "display"
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    counters: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Kiosk(Base):
    """A ticket kiosk. Its page address carries `key`; tickets it issues carry its `name` and print
    on its `printer` (transport settings, see drivers/printer/transports.py), or on the centre's
    default printer (`centre.settings["printer"]`) when it has none. `options`: idle_seconds, ..."""

    __tablename__ = "kiosk"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    printer: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditLog(Base):
    """Every administrative change: who, when, what it was before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_centre_id_at", "centre_id", "at"),
                      Index("ix_audit_log_centre_id_seq", "centre_id", "seq"))
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    # The change it was part of (the centre's seq): the timeline a linked centre sends carries it.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class DeviceState(Base):
    """The last state a hardware bridge reported for one of its devices (a keypad or LED line by its
    port, or the bridge itself by its host), so that a manager who opens the dashboard after a fault
    still sees it."""

    __tablename__ = "device_state"
    __table_args__ = (UniqueConstraint("centre_id", "device", "port"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    device: Mapped[str] = mapped_column(String(20))
    port: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CitizenDetail(Base):
    """Who a ticket was for (name, phone, ID number), recorded by the officer at the counter, only
    where the centre turned it on (`centre.settings["personal_data"]`). Kept nowhere else, not even in
    the timeline, so that deleting a row after `personal_data_days` forgets the person completely."""

    __tablename__ = "citizen_detail"
    __table_args__ = (Index("ix_citizen_detail_centre_id_recorded_at", "centre_id", "recorded_at"),)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    full_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True)
    id_number: Mapped[str | None] = mapped_column(String(12), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: read from the chip ID card the citizen scanned at the kiosk.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), nullable=True)


# Booking states. A slot booking is "booked" until its citizen checks in ("checked_in"), cancels
# ("cancelled"), or its window passes ("expired": a no-show for the reports). A remote number's
# booking row is "checked_in" once its ticket is, and "cancelled" or "expired" with it.
BOOKED, CHECKED_IN, EXPIRED = "booked", "checked_in", "expired"
BOOKING_STATES = (BOOKED, CHECKED_IN, CANCELLED, EXPIRED)
SLOT, REMOTE_NUMBER = "slot", "remote"


class Booking(Base):
    """A visit that began on a phone: a slot on a day ("slot"), or a number in today's queue
    ("remote", whose ticket exists from the start in the state REMOTE). It holds the contact the
    citizen gave, for the messages it asked for and for nothing else; `code` is what the citizen
    shows or types at check-in, `public_id` the address of its page."""

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("centre_id", "code"),
        Index("ix_booking_slot", "service_id", "local_day", "start"),
        Index("ix_booking_centre_id_local_day_status", "centre_id", "local_day", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    local_day: Mapped[date] = mapped_column(Date)
    start: Mapped[str | None] = mapped_column(String(5), nullable=True)     # "HH:MM", local
    end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(12), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Checked in after its window: its ticket is an ordinary walk-in's.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a remote number's turn came while its citizen was not there (a call passed it over).
    turn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # How long the holder of a remote number said it takes them to come: told that much earlier.
    travel_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Which messages were claimed for sending ("near", "called", "cancelled"): each goes once.
    notices: Mapped[dict] = mapped_column(JSON, default=dict)
    # Booked on the province's page (hangdoi/engine/bookings_from_province.py): the person's limits
    # were counted there, not here.
    from_province: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())


class BookingCount(Base):
    """Counts that bound what anyone can book, bumped atomically like the ticket numbers: per slot
    ("slot:<service>:<HH:MM>") and per person ("phone:<digest>", "id:<digest>") on a local day."""

    __tablename__ = "booking_count"
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    what: Mapped[str] = mapped_column(String(80), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class CentreLink(Base):
    """At a province server: a commune or ward centre that pushes its timeline here
    (hangdoi/services/replication). Its key is shown once when the link is made; only a digest of it
    is kept."""

    __tablename__ = "centre_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The district-era area the province sorts its centres by ("Huyện Ba Vì (cũ)").
    area: Mapped[str] = mapped_column(String(100), default="")
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The centre's own id in its installation, fixed by its first push: rows naming another are refused.
    remote_centre: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The centre's last change (its realtime seq) stored here: its next push starts after it.
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The latest instant among the rows it pushed: how fresh the province's picture of it is.
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the centre's figures are named by (hangdoi/services/replication/reference.py), as last sent.
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The slots the centre last said it has free for booking (hangdoi/engine/bookings.py: offer_document).
    offer: Mapped[str | None] = mapped_column(Text, nullable=True)
    offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReplicaBookingDay(Base):
    """At a province server: a linked centre's bookings of one local day, counted by kind, state and
    lateness ([[kind, status, late, n], …] as JSON), as the centre last sent them."""

    __tablename__ = "replica_booking_day"
    link_id: Mapped[int] = mapped_column(ForeignKey("centre_link.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    counts: Mapped[str] = mapped_column(Text)


class ProvinceBooking(Base):
    """At a province server: a slot booked on the province's booking page at one of its linked
    centres (hangdoi/services/replication/province_bookings.py). `seq` orders what the centre pulls:
    it is set when the booking is made and set again when it is cancelled."""

    __tablename__ = "province_booking"
    __table_args__ = (UniqueConstraint("link_id", "seq"), UniqueConstraint("link_id", "code"),
                      Index("ix_province_booking_slot", "link_id", "local_day", "service_code", "start"),
                      Index("ix_province_booking_phone", "link_id", "phone", "local_day"))
    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("centre_link.id"))
    seq: Mapped[int] = mapped_column(Integer)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(12))
    service_code: Mapped[str] = mapped_column(String(32))
    local_day: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(12), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the citizen checked in at the centre and the number they were given, as the centre's
    # pushed timeline told (hangdoi/services/replication/ingest.py).
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # "slot", or "remote": a number for today, which the centre issues at its next pull (its ticket's
    # id there once its timeline says so) or refuses (why, from its audit entry).
    kind: Mapped[str] = mapped_column(String(8), default="slot", server_default="slot")
    ticket_remote_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refusal: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ProvincePeer(Base):
    """At a centre linked to a province: the province's public key, which signs the bookings made
    there, and this centre's link id at the province, as the link last said
    (hangdoi/engine/province_bookings.py)."""

    __tablename__ = "province_peer"
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    link_id: Mapped[int] = mapped_column(Integer)
    signing_key: Mapped[str] = mapped_column(String(64))
    # The province's mark of the last booking that came down the link: the next pull starts after it.
    bookings_through: Mapped[int] = mapped_column(Integer, default=0)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The province's procedure catalogue as the link last brought it
    # (hangdoi/services/administration/province_catalogue.py), and its SHA-256.
    catalogue: Mapped[str | None] = mapped_column(Text, nullable=True)
    catalogue_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The province's settings template as the link last brought it
    # (hangdoi/services/administration/province_settings.py), and its SHA-256.
    settings_template: Mapped[str | None] = mapped_column(Text, nullable=True)
    settings_template_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ProvinceCatalogue(Base):
    """At a province server: its procedure catalogue, one list for all its centres
    (hangdoi/services/replication/catalogue_at_province.py); one row."""

    __tablename__ = "province_catalogue"
    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProvinceSettingsTemplate(Base):
    """At a province server: the settings it suggests to all its centres (opening hours, holidays,
    the waiting target, booking rules: hangdoi/services/replication/settings_at_province.py); one row."""

    __tablename__ = "province_settings_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReplicaRow(Base):
    """At a province server: one row of a linked centre's timeline, exactly as the centre sent it
    (its canonical JSON), so both sides compute the same digest of a day."""

    __tablename__ = "replica_row"
    __table_args__ = (UniqueConstraint("link_id", "stream", "remote_id"),
                      Index("ix_replica_row_link_id_local_day", "link_id", "local_day"))
    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("centre_link.id"))
    # "ticket" (a ticket as issued), "ticket_event" or "counter_event"
    stream: Mapped[str] = mapped_column(String(16))
    remote_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    local_day: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)


class ReplicaTicket(Base):
    """At a province server: each ticket of a linked centre as its pushed events leave it, kept as
    they are stored, so the overview counts a centre's queue without reading its rows again."""

    __tablename__ = "replica_ticket"
    __table_args__ = (UniqueConstraint("link_id", "remote_id"),
                      Index("ix_replica_ticket_link_id_local_day_status", "link_id", "local_day", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("centre_link.id"))
    remote_id: Mapped[int] = mapped_column(Integer)
    local_day: Mapped[date] = mapped_column(Date)
    service: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
