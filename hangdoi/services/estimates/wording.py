"""An estimate in the words a citizen reads: rounded, human, never falsely precise.

    under 5 min          → "dưới 5 phút"
    5–59 min             → "khoảng 25 phút" (to the nearest 5)
    1–2 h                → "khoảng 1 giờ 15 phút" (to the nearest 15)
    2 h and more         → "hơn 2 giờ"
    called after the lunch break → "… — có thể quay lại vào buổi chiều"
    the range reaches past it    → "… — có thể sang buổi chiều"
    not before closing   → "có thể không kịp trong hôm nay"
"""
from __future__ import annotations

from hangdoi.messages import text
from hangdoi.services.estimates.forecast import Estimate


def wait_text(estimate: Estimate | None, lang: str = "vi") -> str | None:
    """None when there is nothing honest to say (no counter open for the service)."""
    if estimate is None:
        return None
    if estimate.beyond_closing:
        return text("wait_not_today", lang)
    if estimate.minutes is None:
        return None
    minutes = estimate.minutes
    if minutes < 5:
        words = text("wait_under_5", lang)
    elif minutes < 60:
        words = text("wait_about_minutes", lang, m=max(5, 5 * round(minutes / 5)))
    elif minutes < 120:
        quarters = 15 * round(minutes / 15)
        hours, rest = divmod(quarters, 60)
        words = (text("wait_about_hours_minutes", lang, h=hours, m=rest) if rest
                 else text("wait_about_hours", lang, h=hours))
    else:
        words = text("wait_over_hours", lang, h=int(minutes // 60))
    if estimate.after_break:
        words += text("wait_after_break", lang)
    elif estimate.maybe_after_break:
        words += text("wait_maybe_after_break", lang)
    return words


def wait_view(estimate: Estimate | None) -> dict | None:
    """What the API and the screens get: the figures and the words in both languages."""
    if estimate is None:
        return None
    def whole(value):
        return None if value is None else int(round(value))
    return {"minutes": whole(estimate.minutes), "low": whole(estimate.low), "high": whole(estimate.high),
            "beyond_closing": estimate.beyond_closing, "after_break": estimate.after_break,
            "maybe_after_break": estimate.maybe_after_break,
            "text": {"vi": wait_text(estimate, "vi"), "en": wait_text(estimate, "en")}}
