"""/admin/linked: at a province server, every commune and ward centre linked to it: its link, how
fresh its figures are, today's queue and satisfaction, and what needs attention first
(hangdoi/services/replication/overview.py)."""
from __future__ import annotations

from flask import render_template, request

from hangdoi.messages import text
from hangdoi.services.replication import overview
from hangdoi.web.admin.blueprint import bp, province_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import PROVINCE, allow

SORTS = {
    "attention": lambda c: (-len(c["alerts"]), c["state"] != "down", -(c["longest_wait_minutes"] or 0), c["name"]),
    "name": lambda c: c["name"],
    "waiting": lambda c: (-c["waiting"], c["name"]),
    "longest": lambda c: (-(c["longest_wait_minutes"] or 0), c["name"]),
}


@bp.get("/admin/linked")
@allow(PROVINCE)
def linked_page():
    officer, refusal = province_or_sign_in("/admin/linked", "linked_title")
    if refusal is not None:
        return refusal
    db = hangdoi().db
    every = overview.overview(db, db.clock.now())
    area = request.args.get("area") or None
    state = request.args.get("state") if request.args.get("state") in overview.STATES else None
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "attention"
    shown = sorted((c for c in every if (area is None or c["area"] == area) and (state is None or c["state"] == state)),
                   key=SORTS[sort])
    return render_template("admin/linked.html", t=text, officer=officer, centres=shown,
                           areas=sorted({c["area"] for c in every if c["area"]}), area=area, state=state, sort=sort,
                           states=overview.STATES, sorts=list(SORTS), total=len(every),
                           attention=sum(bool(c["alerts"]) for c in every),
                           down_minutes=overview.LINK_DOWN_MINUTES, wait_minutes=overview.WAIT_TARGET_MINUTES)
