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

from ..models import BACKUP, PRIMARY
from .sql import Tx
from .views import select_ticket, select_tickets


class CallPolicy(Protocol):
    def choose(self, tx: Tx, counter: dict, today: date, settings: dict) -> dict | None: ...

    def waiting_in_order(self, tx: Tx, counter: dict, today: date, settings: dict) -> list[dict]: ...


class PriorityThenLongestWait:
    def choose(self, tx, counter, today, settings):
        for where, params in self.tiers(tx, counter):
            ticket = select_ticket(tx, where, self.order(counter, settings) + " LIMIT 1 FOR UPDATE SKIP LOCKED",
                                   **params, **self.common(counter, today, tx))
            if ticket is not None:
                return ticket
        return None

    def waiting_in_order(self, tx, counter, today, settings):
        """Every ticket this counter would call, in the order it would call them."""
        ordered: list[dict] = []
        for where, params in self.tiers(tx, counter):
            ordered += select_tickets(tx, where, self.order(counter, settings),
                                      **params, **self.common(counter, today, tx))
        return ordered

    def tiers(self, tx: Tx, counter: dict):
        base = "centre_id = :centre AND local_day = :day AND status = 'waiting' AND "
        yield base + "target_counter_id = :counter", {}
        roles = tx.rows("SELECT service_id, role FROM counter_service WHERE counter_id = :counter "
                        "ORDER BY service_id", counter=counter["id"])
        for role in (PRIMARY, BACKUP):
            services = [r["service_id"] for r in roles if r["role"] == role]
            if services:
                names = [f"s{i}" for i in range(len(services))]
                in_list = ", ".join(f":{n}" for n in names)
                yield (base + f"target_counter_id IS NULL AND service_id IN ({in_list})",
                       dict(zip(names, services, strict=True)))

    @staticmethod
    def common(counter: dict, today: date, tx: Tx) -> dict:
        return {"centre": counter["centre_id"], "day": tx.day(today), "counter": counter["id"]}

    @staticmethod
    def order(counter: dict, settings: dict) -> str:
        limit = int(settings.get("priority_streak_limit") or 0)
        prefer_normal = limit > 0 and counter["priority_streak"] >= limit
        return ("ORDER BY CASE WHEN priority_id IS NULL THEN 0 ELSE 1 END "
                f"{'ASC' if prefer_normal else 'DESC'}, queued_at, id")


POLICIES: dict[str, CallPolicy] = {"priority_then_longest": PriorityThenLongestWait()}
DEFAULT_POLICY = "priority_then_longest"


def policy_for(settings: dict) -> CallPolicy:
    return POLICIES.get(settings.get("call_policy") or DEFAULT_POLICY, POLICIES[DEFAULT_POLICY])
