"""Past working days written straight into the tables, shaped as the engine writes them: tickets
with their timelines (issued, called, started, finished or no-show, some rated, a few transferred
or cancelled). The demo gets a month of it so its reports are worth opening; the report benchmark
gets 30 000 tickets in seconds instead of replaying them through the engine for minutes.

Never used on a real centre's database: `write_history` refuses days that already have tickets.
"""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .engine.sql import Tx

from .models import (
    PRIMARY,
    Centre,
    Counter,
    CounterService,
    Officer,
    PriorityCategory,
    Service,
    Ticket,
    TicketSeries,
)

SESSIONS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
PRIORITY_SHARE, NO_SHOW_SHARE, CANCEL_SHARE, TRANSFER_SHARE, RATED_SHARE = 0.08, 0.05, 0.02, 0.03, 0.6


def write_history(db, centre_id: int, first: date, last: date, tickets_per_day: int, seed: int = 1) -> int:
    """Fill the working days first..last with about `tickets_per_day` tickets each; returns how many."""
    rng = random.Random(seed)
    with db.write() as s:
        centre = s.get(Centre, centre_id)
        tz = ZoneInfo(centre.timezone)
        if s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.centre_id == centre_id, Ticket.local_day.between(first, last))):
            raise ValueError("these days already have tickets")
        plan = _Plan(s, centre_id)
        ticket_id = (s.scalar(select(func.max(Ticket.id))) or 0) + 1
        tickets, events = [], []
        day = first
        while day <= last:
            if day.weekday() < 5:
                made = plan.day(rng, day, tz, tickets_per_day, ticket_id)
                for ticket, timeline in made:
                    tickets.append(ticket)
                    events.extend(timeline)
                ticket_id += len(made)
            day += timedelta(days=1)
        _insert(Tx(s), tickets, events, plan)
    analyse(db)
    db.settled_days = None      # these days were empty when a report last looked
    return len(tickets)


def _insert(tx: Tx, tickets: list[dict], events: list[dict], plan: "_Plan") -> None:
    """Straight to the driver, as the engine writes (hangdoi/engine/sql.py): the ORM would take
    most of a minute over a month of a busy centre."""
    for ticket in tickets:
        ticket.update(local_day=tx.day(ticket["local_day"]), issued_at=tx.instant(ticket["issued_at"]),
                      queued_at=tx.instant(ticket["queued_at"]), called_at=tx.instant(ticket["called_at"]))
    for event in events:
        event.update(at=tx.instant(event["at"]), data=tx.json(event["data"]))
    tx.execute_many(
        "INSERT INTO ticket (id, centre_id, public_id, series_id, service_id, local_day, number, display_number, "
        "priority_id, status, issued_at, queued_at, counter_id, officer_id, target_counter_id, called_at, "
        "call_count, kiosk) VALUES (:id, :centre_id, :public_id, :series_id, :service_id, :local_day, :number, "
        ":display_number, :priority_id, :status, :issued_at, :queued_at, :counter_id, :officer_id, "
        ":target_counter_id, :called_at, :call_count, :kiosk)", tickets)
    tx.execute_many(
        "INSERT INTO ticket_event (centre_id, ticket_id, seq, kind, at, status, service_id, counter_id, "
        "officer_id, data) VALUES (:centre_id, :ticket_id, :seq, :kind, :at, :status, :service_id, "
        ":counter_id, :officer_id, :data)", events)
    tx.execute_many("INSERT INTO series_day (series_id, local_day, last_issued) VALUES (:series_id, :day, :n)",
                    [{"series_id": sid, "day": tx.day(day), "n": n} for (sid, day), n in plan.last_number.items()])
    tx.execute_many("INSERT INTO service_day (service_id, local_day, issued) VALUES (:service_id, :day, :n)",
                    [{"service_id": sid, "day": tx.day(day), "n": n} for (sid, day), n in plan.issued.items()])
    if tx.postgres:  # explicit ids above: move the sequence past them
        tx.execute("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")


def analyse(db) -> None:
    """After a bulk load PostgreSQL's planner still thinks the tables are empty until autovacuum
    gets round to them; tell it now."""
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE ticket")
            connection.exec_driver_sql("ANALYZE ticket_event")
            connection.commit()


class _Plan:
    def __init__(self, s, centre_id: int):
        self.centre_id = centre_id
        self.services = list(s.scalars(select(Service).where(Service.centre_id == centre_id,
                                                             Service.active.is_(True))))
        self.series = {r.id: r for r in s.scalars(select(TicketSeries).where(TicketSeries.centre_id == centre_id))}
        counters = list(s.scalars(select(Counter).where(Counter.centre_id == centre_id).order_by(Counter.number)))
        officers = list(s.scalars(select(Officer).where(Officer.centre_id == centre_id,
                                                        Officer.role == "officer").order_by(Officer.id)))
        self.officer_of = {c.id: officers[i % len(officers)].id for i, c in enumerate(counters)} if officers else {}
        links = s.execute(select(CounterService.counter_id, CounterService.service_id, CounterService.role)).all()
        self.counters_for = {sv.id: [c for c, sid, role in links if sid == sv.id and role == PRIMARY]
                             or [c for c, sid, _ in links if sid == sv.id] for sv in self.services}
        self.services = [sv for sv in self.services if self.counters_for[sv.id]]
        self.priorities = list(s.scalars(select(PriorityCategory.id).where(PriorityCategory.centre_id == centre_id)))
        # Some procedures are far more common than others, as in any centre.
        self.weights = [1 / (1 + i) for i in range(len(self.services))]
        self.last_number: dict[tuple[int, date], int] = {}
        self.issued: dict[tuple[int, date], int] = {}

    def day(self, rng, day: date, tz, how_many: int, first_id: int) -> list[tuple[dict, list[dict]]]:
        made = []
        count = max(0, int(rng.gauss(how_many, how_many * 0.1)))
        arrivals = sorted(self._arrival(rng, day, tz) for _ in range(count))
        free_at: dict[int, datetime] = {}
        for offset, issued_at in enumerate(arrivals):
            service = rng.choices(self.services, self.weights)[0]
            made.append(self._ticket(rng, first_id + offset, service, day, issued_at, free_at))
        return made

    def _arrival(self, rng, day: date, tz) -> datetime:
        start, end = SESSIONS[0] if rng.random() < 0.62 else SESSIONS[1]
        opens = datetime.combine(day, start, tz)
        span = (datetime.combine(day, end, tz) - opens).total_seconds() - 900
        return (opens + timedelta(seconds=rng.triangular(0, span, span * 0.3))).astimezone(ZoneInfo("UTC"))

    def _ticket(self, rng, ticket_id: int, service, day: date, issued_at: datetime, free_at: dict):
        series = self.series[service.series_id]
        number = self.last_number.get((series.id, day), series.first_number - 1) + 1
        self.last_number[(series.id, day)] = number
        self.issued[(service.id, day)] = self.issued.get((service.id, day), 0) + 1
        counter = min(self.counters_for[service.id], key=lambda c: free_at.get(c, issued_at))
        officer = self.officer_of.get(counter)
        called_at = max(issued_at + timedelta(seconds=30), free_at.get(counter, issued_at))
        priority = rng.choice(self.priorities) if self.priorities and rng.random() < PRIORITY_SHARE else None
        ticket = {"id": ticket_id, "centre_id": self.centre_id, "public_id": secrets.token_urlsafe(12),
                  "series_id": series.id, "service_id": service.id, "local_day": day, "number": number,
                  "display_number": f"{series.prefix}{number:03d}" if series.prefix else str(number),
                  "priority_id": priority, "issued_at": issued_at, "queued_at": issued_at,
                  "counter_id": counter, "officer_id": officer, "target_counter_id": None,
                  "called_at": called_at, "call_count": 1, "kiosk": None}
        timeline = [self._event(ticket, "issued", issued_at, "waiting", None, None)]
        roll = rng.random()
        if roll < CANCEL_SHARE:
            ticket.update(status="cancelled", counter_id=None, officer_id=None, called_at=None, call_count=0)
            timeline.append(self._event(ticket, "cancelled", issued_at + timedelta(minutes=3), "cancelled", None, None))
            return ticket, timeline
        timeline.append(self._event(ticket, "called", called_at, "called", counter, officer))
        if roll < CANCEL_SHARE + NO_SHOW_SHARE:
            ticket["status"] = "no_show"
            timeline.append(self._event(ticket, "no_show", called_at + timedelta(minutes=2), "no_show", counter, officer))
            free_at[counter] = called_at + timedelta(minutes=2)
            return ticket, timeline
        started = called_at + timedelta(seconds=rng.uniform(20, 90))
        finished = started + timedelta(minutes=min(60.0, rng.lognormvariate(1.9, 0.5)))
        timeline.append(self._event(ticket, "started", started, "serving", counter, officer))
        if roll < CANCEL_SHARE + NO_SHOW_SHARE + TRANSFER_SHARE:
            timeline.append(self._event(ticket, "transferred", finished, "waiting", counter, officer))
            called_again = finished + timedelta(minutes=rng.uniform(2, 12))
            timeline.append(self._event(ticket, "called", called_again, "called", counter, officer))
            ticket["call_count"] = 2
            finished = called_again + timedelta(minutes=rng.uniform(3, 10))
        ticket["status"] = "done"
        timeline.append(self._event(ticket, "finished", finished, "done", counter, officer))
        free_at[counter] = finished
        if rng.random() < RATED_SHARE:
            level = rng.choices((1, 2, 3), (0.06, 0.34, 0.6))[0]
            reasons = [rng.choice(("cho_lau", "thai_do", "huong_dan", "thu_tuc"))] if level == 1 else []
            timeline.append(self._event(ticket, "rated", finished + timedelta(seconds=20), "done", counter,
                                        officer, level=level, reasons=reasons))
        return ticket, timeline

    def _event(self, ticket: dict, kind: str, at: datetime, status: str, counter, officer, **data) -> dict:
        return {"centre_id": self.centre_id, "ticket_id": ticket["id"], "seq": 0, "kind": kind, "at": at,
                "status": status, "service_id": ticket["service_id"], "counter_id": counter,
                "officer_id": officer, "data": data}
