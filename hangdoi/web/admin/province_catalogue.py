"""/admin/province-catalogue: at a centre linked to its province, the province's procedure catalogue
and the admin's choice of which of them the centre serves
(hangdoi/services/administration/province_catalogue.py; saved through the API)."""
from __future__ import annotations

from flask import render_template, request

from hangdoi.engine.scope import administers
from hangdoi.messages import text, texts
from hangdoi.services.administration import province_catalogue
from hangdoi.services.administration.change import inspect
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ADMIN, allow


@bp.get("/admin/province-catalogue")
@allow(ADMIN)
def province_catalogue_page():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    if not administers(officer, centre_id):
        return render_template("counter/sign_in.html", t=text, title="catalogue_title",
                               next="/admin/province-catalogue", error="forbidden"), 403
    db = hangdoi().db
    offered = inspect(db, officer["id"], lambda reading: province_catalogue.offered(reading, db.clock.now()),
                      centre_id=centre_id)
    return render_template("admin/province_catalogue.html", t=text, officer=officer, offered=offered,
                           labels=texts("catalogue_"))
