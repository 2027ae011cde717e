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


WAITING_HERE = "centre_id = :centre AND local_day = :day AND status = 'waiting'"


class PriorityThenLongestWait:
    def choose(self, tx, counter, today, settings):
        # The first two tiers in one statement, the first tier's tickets sorted first: a call is a
        # dozen round trips to the database, and nothing is sent to a counter most of the time.
        (sent, _), *services = self.tiers(tx, counter)
        if services:
            (second, params), later = services[0], services[1:]
            tiers = [(f"({sent} OR {second})", params, "target_counter_id IS NULL, "),
                     *((where, params, "") for where, params in later)]
        else:
            tiers = [(sent, {}, "")]
        for where, params, first in tiers:
            ticket = select_ticket(tx, f"{WAITING_HERE} AND {where}",
                                   self.order(counter, settings, first) + " LIMIT 1 FOR UPDATE SKIP LOCKED",
                                   **params, **self.common(counter, today, tx))
            if ticket is not None:
                return ticket
        return None

    def waiting_in_order(self, tx, counter, today, settings):
        """Every ticket this counter would call, in the order it would call them."""
        ordered: list[dict] = []
        for where, params in self.tiers(tx, counter):
            ordered += select_tickets(tx, f"{WAITING_HERE} AND {where}", self.order(counter, settings),
                                      **params, **self.common(counter, today, tx))
        return ordered

    def tiers(self, tx: Tx, counter: dict) -> list[tuple[str, dict]]:
        """What each tier adds to WAITING_HERE: tickets sent to this counter, then its primary
        services, then its backup services."""
        tiers = [("target_counter_id = :counter", {})]
        roles = tx.rows("SELECT service_id, role FROM counter_service WHERE counter_id = :counter "
                        "ORDER BY service_id", counter=counter["id"])
        for role in (PRIMARY, BACKUP):
            services = [r["service_id"] for r in roles if r["role"] == role]
            if services:
                names = [f"s{i}" for i in range(len(services))]
                in_list = ", ".join(f":{n}" for n in names)
                tiers.append((f"target_counter_id IS NULL AND service_id IN ({in_list})",
                              dict(zip(names, services, strict=True))))
        return tiers

    @staticmethod
    def common(counter: dict, today: date, tx: Tx) -> dict:
        return {"centre": counter["centre_id"], "day": tx.day(today), "counter": counter["id"]}

    @staticmethod
    def order(counter: dict, settings: dict, first: str = "") -> str:
        """`first`: an expression to sort by before anything else (which tier a ticket is in)."""
        limit = int(settings.get("priority_streak_limit") or 0)
        prefer_normal = limit > 0 and counter["priority_streak"] >= limit
        return (f"ORDER BY {first}CASE WHEN priority_id IS NULL THEN 0 ELSE 1 END "
                f"{'ASC' if prefer_normal else 'DESC'}, queued_at, id")


POLICIES: dict[str, CallPolicy] = {"priority_then_longest": PriorityThenLongestWait()}
DEFAULT_POLICY = "priority_then_longest"


def policy_for(settings: dict) -> CallPolicy:
    return POLICIES.get(settings.get("call_policy") or DEFAULT_POLICY, POLICIES[DEFAULT_POLICY])
