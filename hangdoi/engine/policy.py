"""Who is called next. The default policy, and the registry a centre's `call_policy` setting names.

Default ("priority_then_longest"): first the tickets transferred to this very counter; then the
counter's primary services; only when nothing waits there, its backup services. Within each tier
priority tickets come first, then the longest-waiting ticket across the tier's services. With the
centre option `priority_streak_limit` = N > 0, after N priority calls in a row at a counter a
waiting normal ticket goes first, so normal tickets are never starved.
"""
from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import case, select

from ..models import BACKUP, PRIMARY, WAITING, Counter, CounterService, Ticket


class CallPolicy(Protocol):
    def choose(self, session, counter: Counter, today: date, settings: dict,
               lock: bool) -> Ticket | None: ...


class PriorityThenLongestWait:
    def choose(self, session, counter, today, settings, lock):
        limit = int(settings.get("priority_streak_limit") or 0)
        prefer_normal = limit > 0 and counter.priority_streak >= limit
        for tier in self.tiers(session, counter):
            query = self.ordered(tier, counter.centre_id, today, prefer_normal)
            if lock:
                query = query.with_for_update(skip_locked=True, of=Ticket)
            ticket = session.scalars(query.limit(1)).first()
            if ticket is not None:
                return ticket
        return None

    def tiers(self, session, counter):
        roles = dict(session.execute(select(CounterService.service_id, CounterService.role)
                                     .where(CounterService.counter_id == counter.id)).all())
        yield Ticket.target_counter_id == counter.id
        for role in (PRIMARY, BACKUP):
            services = [sid for sid, r in roles.items() if r == role]
            if services:
                yield (Ticket.target_counter_id.is_(None)) & Ticket.service_id.in_(services)

    def ordered(self, tier, centre_id, today, prefer_normal):
        is_priority = case((Ticket.priority_id.is_(None), 0), else_=1)
        first = is_priority.asc() if prefer_normal else is_priority.desc()
        return (select(Ticket)
                .where(Ticket.centre_id == centre_id, Ticket.local_day == today,
                       Ticket.status == WAITING, tier)
                .order_by(first, Ticket.queued_at, Ticket.id))

    def waiting_in_order(self, session, counter, today, settings) -> list[Ticket]:
        """Every ticket this counter would call, in the order it would call them."""
        limit = int(settings.get("priority_streak_limit") or 0)
        prefer_normal = limit > 0 and counter.priority_streak >= limit
        seen, ordered = set(), []
        for tier in self.tiers(session, counter):
            for ticket in session.scalars(self.ordered(tier, counter.centre_id, today, prefer_normal)):
                if ticket.id not in seen:
                    seen.add(ticket.id)
                    ordered.append(ticket)
        return ordered


POLICIES: dict[str, CallPolicy] = {"priority_then_longest": PriorityThenLongestWait()}
DEFAULT_POLICY = "priority_then_longest"


def policy_for(settings: dict) -> CallPolicy:
    return POLICIES.get(settings.get("call_policy") or DEFAULT_POLICY, POLICIES[DEFAULT_POLICY])
