"""/admin: queues and oldest waits per service, every counter, kiosks and printers, alerts; end a
counter's session, close a service for the day, reprint, close the day."""
from __future__ import annotations

from flask import render_template, request

from hangdoi.messages import text, texts
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.permissions import MANAGER, allow


@bp.get("/admin")
@allow(MANAGER)
def dashboard():
    officer, _centre, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    labels = {**texts("admin_"), **texts("device_state_"), **texts("counter_status_")}
    return render_template("admin/dashboard.html", t=text, officer=officer, labels=labels)
