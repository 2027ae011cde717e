"""Satisfaction ratings (đánh giá mức độ hài lòng): one per finished ticket, on the timeline.

A rating is a `rated` ticket event carrying the level and reasons, with the officer who served the
ticket, so reports read it like everything else. It is taken at the counter that finished the
ticket, within RATING_MINUTES, once.

The scale is the centre's setting `rating_scale`, which a province sets for all its centres: 3
levels (the default) or 5, as government rating forms use; a rating on 5 levels says so
(`scale: 5`). Reports read every rating on one common scale, converted without inventing anything
(COMMON): "Rất không hài lòng" and "Không hài lòng" are both not satisfied, "Hài lòng" and "Rất
hài lòng" keep their names, and the 5-level "Bình thường" stays neutral (0), which the 3-level
scale has no word for: it is counted, and never as satisfied.
"""
from __future__ import annotations

from datetime import timedelta

from hangdoi.engine import views
from hangdoi.engine.errors import Conflict, Invalid, NotFound
from hangdoi.engine.sql import Tx
from hangdoi.engine.work import Work, transact
from hangdoi.models import DONE

SCALES = {3: {1: "Không hài lòng", 2: "Hài lòng", 3: "Rất hài lòng"},
          5: {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường", 4: "Hài lòng", 5: "Rất hài lòng"}}
LEVELS = SCALES[3]
NEUTRAL = 0
# Each scale's level on the common one: 1 not satisfied, 0 neutral, 2 satisfied, 3 very satisfied.
COMMON = {3: {1: 1, 2: 2, 3: 3}, 5: {1: 1, 2: 1, 3: NEUTRAL, 4: 2, 5: 3}}
# Why not satisfied: codes stored, words shown.
REASONS = {"cho_lau": "Chờ lâu", "thai_do": "Thái độ phục vụ", "huong_dan": "Hướng dẫn chưa rõ",
           "thu_tuc": "Thủ tục phức tạp", "khac": "Lý do khác"}
RATING_MINUTES = 10


def scale_of(settings: dict) -> int:
    return settings.get("rating_scale") if settings.get("rating_scale") in SCALES else 3


def scale_at(db, centre_id: int) -> int:
    with db.read() as session:
        return scale_of(Tx(session).centre(centre_id)["settings"])


def common_level(level, scale) -> int | None:
    """A rating's level on the common scale (None for one no scale has)."""
    return COMMON.get(scale if scale in SCALES else 3, {}).get(level)


def unhappy(level: int, scale: int) -> bool:
    """Whether the citizen is asked why: not satisfied, on either scale."""
    return common_level(level, scale) == 1


def rate(db, counter_id: int, public_id: str, level: int, reasons: list[str]) -> dict:
    def body(work: Work) -> dict:
        tx = work.tx
        ticket = views.select_ticket(tx, "public_id = :public_id", "FOR UPDATE", public_id=public_id)
        if ticket is None:
            raise NotFound("ticket_not_found")
        scale = scale_of(tx.centre(ticket["centre_id"])["settings"])
        if level not in SCALES[scale]:
            raise Invalid("rating_level_invalid", most=scale)
        if ticket["status"] != DONE or ticket["counter_id"] != counter_id:
            raise Conflict("not_rateable")
        events = tx.rows("SELECT kind, at FROM ticket_event WHERE ticket_id = :id AND kind IN ('finished', 'rated')",
                         id=ticket["id"])
        if any(e["kind"] == "rated" for e in events):
            raise Conflict("already_rated")
        finished = max(tx.read_instant(e["at"]) for e in events if e["kind"] == "finished")
        if work.now - finished > timedelta(minutes=RATING_MINUTES):
            raise Conflict("rating_too_late")
        # A 3-level rating carries no scale, as every rating did before there was a choice.
        on_scale = {"scale": scale} if scale != 3 else {}
        work.ticket_event(ticket, "rated", officer_id=ticket["officer_id"], counter_id=counter_id,
                          level=level, reasons=reasons, **on_scale)
        return {"ticket": ticket["display_number"], "level": level, "reasons": reasons, **on_scale}

    return transact(db, body)


def set_scale(db, centre_id: int, scale: int) -> bool:
    """The province's choice of scale for its centres, as its link brings it; returns whether it changed."""
    if scale not in SCALES:
        raise Invalid("rating_level_invalid", most=max(SCALES))

    def body(work: Work) -> bool:
        tx = work.tx
        settings = tx.centre(centre_id)["settings"]
        if scale_of(settings) == scale:
            return False
        tx.execute("UPDATE centre SET settings = :s WHERE id = :id", s=tx.json({**settings, "rating_scale": scale}),
                   id=centre_id)
        work.centre_changed(centre_id)
        return True

    return transact(db, body)
