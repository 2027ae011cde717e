"""Every error leaves as `{"error": {"code", "message"}}` with a 4xx status; never an HTML page."""
from __future__ import annotations

import logging

from flask import jsonify, redirect, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hangdoi.engine.errors import DomainError
from hangdoi.messages import MESSAGES, bilingual
from hangdoi.validation import BadInput

log = logging.getLogger(__name__)

STATUS_BY_KIND = {"not_found": 404, "conflict": 409, "forbidden": 403, "invalid": 422}
CODE_BY_HTTP_STATUS = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed",
                       413: "body_too_large", 415: "wrong_content_type", 429: "rate_limited"}


class ApiError(Exception):
    def __init__(self, code: str, status: int, **params):
        self.code, self.status, self.params = code, status, params
        super().__init__(code)


def error_body(code: str, **params) -> dict:
    return {"error": {"code": code, "message": bilingual(code, **params)}}


def error_response(code: str, status: int, **params):
    return jsonify(error_body(code, **params)), status


def register(app) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.code, exc.status, **exc.params)

    @app.errorhandler(BadInput)
    def _bad_input(exc: BadInput):
        return error_response(exc.code, exc.status, **exc.params)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return error_response(exc.code, STATUS_BY_KIND[exc.kind], **exc.params)

    @app.errorhandler(CSRFError)
    def _csrf_failed(_exc: CSRFError):
        # A page's form goes back to where the officer signs in, which says the page had expired.
        if request.path.startswith("/api/"):
            return error_response("csrf_failed", 403)
        return redirect("/counter?error=form_expired")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = CODE_BY_HTTP_STATUS.get(exc.code)
        if code is None or code not in MESSAGES:
            return jsonify({"error": {"code": f"http_{exc.code}", "message": exc.description}}), exc.code
        return error_response(code, exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify({"error": {"code": "internal_error",
                                  "message": "Lỗi hệ thống, vui lòng thử lại / Internal error, please retry"}}), 500
