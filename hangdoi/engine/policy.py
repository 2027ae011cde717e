"""Who is called next. The default policy, and the registry a centre's `call_policy` setting names.

Default ("priority_then_longest"): first the tickets transferred to this very counter; then the
counter's primary services; only when nothing waits there, its backup services. Within each tier
priority tickets come first, then checked-in appointments whose slot has begun (`due_at`), then the
longest-waiting ticket across the tier's services. With the centre option `priority_streak_limit`
= N > 0, after N priority calls in a row at a counter a waiting normal ticket (an appointment first)
goes first, so normal tickets are never starved. Remote numbers not checked in are not "waiting"
(hangdoi/models.py, REMOTE): no tier sees them.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from hangdoi.engine.sql import Tx
from hangdoi.engine.views import TICKET_COLUMNS, select_ticket, select_tickets, tickets_from
from hangdoi.models import BACKUP, PRIMARY


class CallPolicy(Protocol):
    def choose(self, tx: Tx, counter: dict, today: date, settings: dict, now: datetime) -> dict | None: ...

    def waiting_in_order(self, tx: Tx, counter: dict, today: date, settings: dict,
                         now: datetime) -> list[dict]: ...


WAITING_HERE = "centre_id = :centre AND local_day = :day AND status = 'waiting'"
# The heads SQLite's call looks at; each condition implies its index's (hangdoi/models.py, Ticket).
SENT_HEAD = "target_counter_id = :counter AND local_day = :day AND status = 'waiting' AND centre_id = :centre"
SERVICE_HEAD = f"{WAITING_HERE} AND service_id = :s{{}} AND target_counter_id IS NULL"


class PriorityThenLongestWait:
    def choose(self, tx, counter, today, settings, now):
        if not tx.postgres:
            return self._first_of_the_heads(tx, counter, today, settings, now)
        # PostgreSQL: one statement that also locks the row it returns, skipping rows other calls
        # hold, so that concurrent calls never take the same ticket.
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
                                   **params, **self.common(counter, today, tx, now))
            if ticket is not None:
                return ticket
        return None

    def _first_of_the_heads(self, tx, counter, today, settings, now):
        """SQLite, where one writer runs at a time and nothing needs locking: the head of every queue
        the counter may call from (tickets sent to it, and each service's priority and normal
        tickets), each found through an index (migration 0008) in one statement, and the first of
        them in call order. Sorting the queues themselves cost a call more the longer they were."""
        primary, backup = self.services(tx, counter)
        services = primary + backup
        heads = [("", f"{SENT_HEAD} AND priority_id IS NULL"), ("", f"{SENT_HEAD} AND priority_id IS NOT NULL")]
        for i in range(len(services)):
            heads += [("", f"{SERVICE_HEAD.format(i)} AND priority_id IS NULL"),
                      # Left to itself, the planner walks the whole queue for its few priority tickets.
                      (" INDEXED BY ix_ticket_priority_queue", f"{SERVICE_HEAD.format(i)} AND priority_id IS NOT NULL"),
                      # The earliest appointment: its slot may have begun while walk-ins queued earlier.
                      (" INDEXED BY ix_ticket_due_queue",
                       f"{SERVICE_HEAD.format(i)} AND due_at IS NOT NULL AND priority_id IS NULL")]
        statement = " UNION ALL ".join(
            f"SELECT * FROM (SELECT {TICKET_COLUMNS} FROM ticket{index} WHERE {where} ORDER BY queued_at, id LIMIT 1)"
            for index, where in heads)
        found = tickets_from(tx, statement, **{f"s{i}": s for i, s in enumerate(services)},
                             **self.common(counter, today, tx, now))
        primary_set = set(primary)
        prefer_normal = self.prefers_normal(counter, settings)

        def call_order(ticket: dict):
            tier = 0 if ticket["target_counter_id"] is not None else 1 if ticket["service_id"] in primary_set else 2
            return tier, self.call_class(ticket, prefer_normal, now), ticket["queued_at"], ticket["id"]

        return min(found, key=call_order, default=None)

    def waiting_in_order(self, tx, counter, today, settings, now):
        """Every ticket this counter would call, in the order it would call them."""
        ordered: list[dict] = []
        for where, params in self.tiers(tx, counter):
            ordered += select_tickets(tx, f"{WAITING_HERE} AND {where}", self.order(counter, settings),
                                      **params, **self.common(counter, today, tx, now))
        return ordered

    def tiers(self, tx: Tx, counter: dict) -> list[tuple[str, dict]]:
        """What each tier adds to WAITING_HERE: tickets sent to this counter, then its primary
        services, then its backup services."""
        tiers = [("target_counter_id = :counter", {})]
        for services in self.services(tx, counter):
            if services:
                names = [f"s{i}" for i in range(len(services))]
                in_list = ", ".join(f":{n}" for n in names)
                tiers.append((f"target_counter_id IS NULL AND service_id IN ({in_list})",
                              dict(zip(names, services, strict=True))))
        return tiers

    @staticmethod
    def services(tx: Tx, counter: dict) -> tuple[list[int], list[int]]:
        """The counter's primary services and its backup services."""
        roles = tx.rows("SELECT service_id, role FROM counter_service WHERE counter_id = :counter "
                        "ORDER BY service_id", counter=counter["id"])
        return tuple([r["service_id"] for r in roles if r["role"] == role] for role in (PRIMARY, BACKUP))

    @staticmethod
    def common(counter: dict, today: date, tx: Tx, now: datetime) -> dict:
        return {"centre": counter["centre_id"], "day": tx.day(today), "counter": counter["id"],
                "now": tx.instant(now)}

    @staticmethod
    def call_class(ticket: dict, prefer_normal: bool, now: datetime) -> int:
        """Within a tier: statutory priority (0; last, 3, when normal tickets are owed a turn), an
        appointment whose slot has begun (1), everyone else (2). The same as `order` in SQL."""
        if ticket["priority_id"] is not None:
            return 3 if prefer_normal else 0
        return 1 if ticket["due_at"] is not None and ticket["due_at"] <= now else 2

    @staticmethod
    def order(counter: dict, settings: dict, first: str = "") -> str:
        """`first`: an expression to sort by before anything else (which tier a ticket is in)."""
        priority = 3 if PriorityThenLongestWait.prefers_normal(counter, settings) else 0
        return (f"ORDER BY {first}CASE WHEN priority_id IS NOT NULL THEN {priority} "
                "WHEN due_at <= :now THEN 1 ELSE 2 END, queued_at, id")

    @staticmethod
    def prefers_normal(counter: dict, settings: dict) -> bool:
        """Whether a normal ticket goes before priority ones now: the counter has made
        `priority_streak_limit` priority calls in a row."""
        limit = int(settings.get("priority_streak_limit") or 0)
        return limit > 0 and counter["priority_streak"] >= limit


POLICIES: dict[str, CallPolicy] = {"priority_then_longest": PriorityThenLongestWait()}
DEFAULT_POLICY = "priority_then_longest"


def policy_for(settings: dict) -> CallPolicy:
    return POLICIES.get(settings.get("call_policy") or DEFAULT_POLICY, POLICIES[DEFAULT_POLICY])
