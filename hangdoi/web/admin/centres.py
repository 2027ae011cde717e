"""/admin/centres: a province admin's list of every centre with today's figures, each a way into
that centre's live view, reports and settings."""
from __future__ import annotations

from flask import render_template

from hangdoi.engine import scope, state
from hangdoi.messages import text, texts
from hangdoi.web.admin.blueprint import bp, province_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import PROVINCE, allow


@bp.get("/admin/centres")
@allow(PROVINCE)
def centres_page():
    officer, refusal = province_or_sign_in("/admin/centres", "centres_title")
    if refusal is not None:
        return refusal
    db = hangdoi().db
    centres = [state.centre_summary(db, centre_id) for centre_id in scope.centre_ids(db)]
    return render_template("admin/centres.html", t=text, officer=officer, centres=centres, labels=texts("centres_"))
