"""Reports across a province's centres, from the timelines they pushed (hangdoi/services/replication).

The rows a centre pushed are folded into visits by the very code that makes the centre's own
reports (hangdoi/services/reports/timeline.py: fold), and summed by the same `summarise`: a
province figure is the centre figures' sum by construction, not a second definition that could
drift. Each ticket's wait is held to its own centre's target.

Across centres a procedure or a field is known by its code (the national procedure code the
centres' catalogues share), named as the first centre in the list names it. Ids are the centres'
own, so a row is always read with its link.

Times are whole milliseconds, cut (not rounded) as SQLite reads a centre's instants: a centre's
report and the province's agree to the millisecond.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hangdoi.engine import state
from hangdoi.engine.errors import Invalid
from hangdoi.engine.ratings import REASONS, common_level
from hangdoi.engine.sql import Tx
from hangdoi.messages import text
from hangdoi.services.reports.export import vn_date
from hangdoi.services.reports.figures import MAX_DAYS, booking_figures, summarise
from hangdoi.services.reports.timeline import Visit, fold

GROUPINGS = ("centre", "area", "domain", "service", "day", "week", "month")
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# The events a visit's figures are made of: the issue time comes with the ticket, and a recall
# changes no figure (as at the centre: hangdoi/services/reports/timeline.py, EVENTS_SQL).
SKIPPED = ("issued", "recalled")


@dataclass(frozen=True)
class CentreNames:
    """One linked centre and what its ids stand for (the reference it sent; empty until it has)."""
    link: int
    name: str
    area: str
    timezone: str
    sla_minutes: int
    domains: dict       # id → {code, name, position}
    services: dict      # id → {code, name, domain, position}

    @classmethod
    def of(cls, row: dict) -> "CentreNames":
        doc = json.loads(row["reference"]) if row["reference"] else {}
        centre = doc.get("centre", {})
        return cls(row["id"], row["name"], row["area"], centre.get("timezone", DEFAULT_TIMEZONE),
                   int(centre.get("sla_minutes", state.SLA_MINUTES)),
                   {d["id"]: d for d in doc.get("domains", [])}, {s["id"]: s for s in doc.get("services", [])})


def province_report(db, first: date, last: date, by: str = "centre", area: str | None = None) -> dict:
    """Figures for the local days first..last over every centre linked (or one area's), grouped
    `by` one of GROUPINGS."""
    return province_reports(db, first, last, (by,), area)[by]


def province_reports(db, first: date, last: date, groupings: tuple[str, ...], area: str | None = None) -> dict:
    """The report grouped each of these ways ({grouping: report}), from one read of the rows: a page
    that shows its table by procedure and its chart by centre reads a month once, not twice."""
    for by in groupings:
        if by not in GROUPINGS:
            raise Invalid("report_bad_grouping", choices=", ".join(GROUPINGS))
    if last < first:
        raise Invalid("report_dates_reversed")
    if (last - first).days >= MAX_DAYS:
        raise Invalid("report_range_too_long", days=MAX_DAYS)
    with db.read() as session:
        tx = Tx(session)
        centres = [CentreNames.of(r) for r in tx.rows(
            "SELECT id, name, area, reference FROM centre_link ORDER BY area, name, id")
            if area is None or r["area"] == area]
        found = {c.link: centre_visits(tx, c, first, last) for c in centres}
        booked = province_bookings(tx, [c.link for c in centres], first, last)
    pairs = [(c, v) for c in centres for v in found[c.link]]
    targets = Counter(c.sla_minutes for c in centres)
    sla = targets.most_common(1)[0][0] if targets else state.SLA_MINUTES
    totals = {**_summary(pairs), "bookings": booked}
    reports = {}
    for by in dict.fromkeys(groupings):
        rows = _rows(by, pairs, centres, first, last)
        if by == "centre":
            named = {c.link: c for c in centres}
            for row in rows:
                row["area"], row["sla_minutes"] = named[row["key"]].area, named[row["key"]].sla_minutes
        # "centre" names the whole of what the report covers, as a centre's report names its centre
        # (the exports' and the pages' titles read it).
        reports[by] = {"province": True,
                       "centre": {"name": text("province_report_scope") + (f" — {area}" if area else ""),
                                  "timezone": DEFAULT_TIMEZONE},
                       "area": area, "from": first.isoformat(), "to": last.isoformat(), "by": by,
                       "sla_minutes": sla, "centres": len(centres), "totals": totals, "rows": rows,
                       "reasons": REASONS}
    return reports


def province_bookings(tx: Tx, links: list[int], first: date, last: date) -> dict:
    """The bookings' figures of these centres over the days, from the counts each sent per day
    (hangdoi/services/replication/booking_days.py), as each centre's report gives its own."""
    counts: Counter = Counter()
    wanted = set(links)
    for r in tx.rows("SELECT link_id, counts FROM replica_booking_day WHERE local_day >= :first AND local_day <= :last",
                     first=tx.day(first), last=tx.day(last)):
        if r["link_id"] in wanted:
            for kind, status, late, n in json.loads(r["counts"]):
                counts[(kind, status, late)] += n
    return booking_figures(counts)


def centre_visits(tx: Tx, centre: CentreNames, first: date, last: date) -> list[Visit]:
    """One centre's visits of the days, from the rows it pushed, folded as the centre folds its own."""
    tz = ZoneInfo(centre.timezone)
    found: dict[int, Visit] = {}
    events = []
    for r in tx.rows("SELECT stream, body FROM replica_row WHERE link_id = :link AND local_day >= :first "
                     "AND local_day <= :last AND stream IN ('ticket', 'ticket_event')",
                     link=centre.link, first=tx.day(first), last=tx.day(last)):
        row = json.loads(r["body"])
        if r["stream"] == "ticket":
            issued = _ms(row["issued_at"])
            local = datetime.fromtimestamp(issued / 1000, tz)
            found[row["id"]] = Visit(row["id"], date.fromisoformat(row["day"]), local.hour, row.get("priority"),
                                     row["service"], issued_at=issued, origin=row.get("origin"),
                                     due_at=_ms(row["due_at"]) if row.get("due_at") else None)
        elif row["kind"] not in SKIPPED:
            data = row.get("data") if isinstance(row.get("data"), dict) else {}
            level = common_level(data.get("level"), data.get("scale")) if row["kind"] == "rated" else None
            # As the centre reads them: a rating's reasons only with an unhappy one, a message's outcome.
            data = data if (level == 1 or row["kind"] == "notified") else None
            events.append((row["ticket"], row["id"], row["kind"], _ms(row["at"]), row["status"], row["service"],
                           row.get("counter"), row.get("officer"), level, data))
    events.sort(key=lambda e: (e[0], e[1]))
    fold(found, ((e[0], *e[2:]) for e in events))
    return list(found.values())


def _ms(instant: str) -> int:
    at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return int(at.timestamp()) * 1000 + at.microsecond // 1000


def _summary(pairs: list[tuple[CentreNames, Visit]]) -> dict:
    figures = summarise([v for _, v in pairs], state.SLA_MINUTES)
    waits = [(v.wait_ms, c.sla_minutes) for c, v in pairs if v.called]
    within = sum(1 for ms, sla in waits if ms <= sla * 60_000)
    figures["within_target"] = round(within / len(waits), 4) if waits else None
    figures["called"], figures["within_target_count"] = len(waits), within
    return figures


def _rows(by: str, pairs, centres: list[CentreNames], first: date, last: date) -> list[dict]:
    """A row per group; every centre (or area, or period of the range) has one, even with no ticket."""
    groups: dict = {}
    labels: dict = {}
    if by in ("centre", "area"):
        for c in centres:
            key, label = _key(by, c, None)
            groups.setdefault(key, []), labels.setdefault(key, label)
    elif by in ("day", "week", "month"):
        day = first
        while day <= last:
            key = _period(by, day)
            groups.setdefault(key, []), labels.setdefault(key, _period_label(by, key))
            day += timedelta(days=1)
    for c, v in pairs:
        key, label = _key(by, c, v)
        groups.setdefault(key, []).append((c, v))
        labels.setdefault(key, label)
    # Centres in the list's order (by area, then name), periods in time, codes in order, "—" last.
    keys = list(groups) if by in ("centre", "day", "week", "month") else sorted(
        groups, key=lambda k: (k is None, str(k)))
    return [{"key": k.isoformat() if isinstance(k, date) else k, "label": labels[k], **_summary(groups[k])}
            for k in keys]


def _key(by: str, c: CentreNames, v: Visit | None) -> tuple:
    if by == "centre":
        return c.link, c.name
    if by == "area":
        return c.area, c.area or "—"
    if by in ("day", "week", "month"):
        key = _period(by, v.local_day)
        return key, _period_label(by, key)
    service = c.services.get(v.service_id)
    if by == "service":
        return (None, "—") if service is None else (service["code"], f"{service['code']} — {service['name']}")
    domain = c.domains.get(service["domain"]) if service else None
    return (None, "—") if domain is None else (domain["code"], domain["name"])


def _period(by: str, day: date) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    return day


def _period_label(by: str, key: date) -> str:
    if by == "week":
        return f"{key.strftime('%d/%m')}–{(key + timedelta(days=6)).strftime('%d/%m/%Y')}"
    if by == "month":
        return key.strftime("%m/%Y")
    return key.strftime("%d/%m/%Y")


# -- the Decision 766 table ---------------------------------------------------------------------
# Decision 766/QĐ-TTg scores each centre's service to citizens; two of its components rest on what
# a queue sees: citizens' satisfaction, and timeliness. The table gives, per centre, the counts and
# shares a province officer enters in the index's forms; it does not invent the index's points.
INDEX_766_COLUMNS = [
    ("Lượt đánh giá", lambda f: f["ratings"]["total"]),
    ("Rất hài lòng", lambda f: f["ratings"]["3"]),
    ("Hài lòng", lambda f: f["ratings"]["2"]),
    ("Bình thường (thang 5 mức)", lambda f: f["ratings"]["neutral"]),
    ("Không hài lòng", lambda f: f["ratings"]["1"]),
    ("Tỷ lệ hài lòng trở lên (%)", lambda f: None if not f["ratings"]["total"]
     else round((f["ratings"]["2"] + f["ratings"]["3"]) * 100 / f["ratings"]["total"], 1)),
    ("Lượt được gọi", lambda f: f["called"]),
    ("Chờ trong mục tiêu", lambda f: f["within_target_count"]),
    ("Tỷ lệ chờ trong mục tiêu (%)", lambda f: None if f["within_target"] is None else round(f["within_target"] * 100, 1)),
    ("Đã phục vụ", lambda f: f["served"]),
    ("Vắng mặt", lambda f: f["no_show"]),
]


def index_766_table(report: dict) -> list[list]:
    """A by-centre report as the Decision 766 table: a heading, the columns, a row per centre, the totals, the notes."""
    if report["by"] != "centre":
        raise Invalid("report_bad_grouping", choices="centre")
    scope = f"{report['centre']['name']}, từ {vn_date(report['from'])} đến {vn_date(report['to'])}"
    header = ["Trung tâm", "Khu vực", "Mục tiêu chờ (phút)", *(name for name, _ in INDEX_766_COLUMNS)]
    body = [[row["label"], row["area"], row["sla_minutes"], *(value(row) for _, value in INDEX_766_COLUMNS)]
            for row in report["rows"]]
    total = [text("report_total"), "", "", *(value(report["totals"]) for _, value in INDEX_766_COLUMNS)]
    return [["Số liệu cho Bộ chỉ số 766/QĐ-TTg: mức độ hài lòng và thời gian chờ tại bộ phận một cửa"], [scope], [],
            header, *body, total, [],
            ["Hài lòng: đánh giá của người dân trên thiết bị tại quầy sau khi được phục vụ, theo thang tỉnh chọn "
             "(3 hoặc 5 mức)."],
            ["Thang 5 mức quy về các cột trên: \"Rất không hài lòng\" và \"Không hài lòng\" vào \"Không hài lòng\"; "
             "\"Bình thường\" giữ riêng và không tính là hài lòng."],
            ["Thời gian chờ: từ khi lấy số (hoặc xác nhận có mặt) đến khi được gọi; chưa phải tiến độ giải quyết hồ sơ."]]
