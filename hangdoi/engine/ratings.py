"""Satisfaction ratings (đánh giá mức độ hài lòng): one per finished ticket, on the timeline.

A rating is a `rated` ticket event carrying the level and reasons, with the officer who served the
ticket, so reports read it like everything else. It is taken at the counter that finished the
ticket, within RATING_MINUTES, once.
"""
from __future__ import annotations

from datetime import timedelta

from hangdoi.engine import views
from hangdoi.engine.errors import Conflict, NotFound
from hangdoi.engine.work import Work, transact
from hangdoi.models import DONE

LEVELS = {1: "Không hài lòng", 2: "Hài lòng", 3: "Rất hài lòng"}
# Why not satisfied: codes stored, words shown.
REASONS = {"cho_lau": "Chờ lâu", "thai_do": "Thái độ phục vụ", "huong_dan": "Hướng dẫn chưa rõ",
           "thu_tuc": "Thủ tục phức tạp", "khac": "Lý do khác"}
RATING_MINUTES = 10


def rate(db, counter_id: int, public_id: str, level: int, reasons: list[str]) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        ticket = views.select_ticket(tx, "public_id = :public_id", "FOR UPDATE", public_id=public_id)
        if ticket is None:
            raise NotFound("ticket_not_found")
        if ticket["status"] != DONE or ticket["counter_id"] != counter_id:
            raise Conflict("not_rateable")
        events = tx.rows("SELECT kind, at FROM ticket_event WHERE ticket_id = :id AND kind IN ('finished', 'rated')",
                         id=ticket["id"])
        if any(e["kind"] == "rated" for e in events):
            raise Conflict("already_rated")
        finished = max(tx.read_instant(e["at"]) for e in events if e["kind"] == "finished")
        if work.now - finished > timedelta(minutes=RATING_MINUTES):
            raise Conflict("rating_too_late")
        work.ticket_event(ticket, "rated", officer_id=ticket["officer_id"], counter_id=counter_id,
                          level=level, reasons=reasons)
        return {"ticket": ticket["display_number"], "level": level, "reasons": reasons}

    return transact(db, body)
