"""What protects the pages in a browser.

- Security headers on every answer: the pages run only our own scripts from files (data travels in
  `<script type="application/json">`, which no browser runs), load nothing from elsewhere (the centre
  has no internet anyway), and may not be framed by another site.
- Session cookies: HttpOnly, SameSite=Lax, Secure over TLS, expiring after the token lifetime.
- A CSRF token in every HTML form that changes something (sign in, choose a counter, sign out): a
  page elsewhere cannot post them for an officer. The JSON API needs no token: it accepts only
  `application/json` bodies, which no other site's page can send here without a CORS preflight we
  never grant, and the session cookie is SameSite=Lax.
"""
from __future__ import annotations

import hmac
import secrets
from functools import lru_cache

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

# Chromium does not count the socket's ws:// address as 'self' when it reconnects: it is named.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "media-src 'self'", "font-src 'self'", "connect-src 'self' ws://{host} wss://{host}", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
])
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's form token (made on first use); templates put it in a hidden field."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok() -> bool:
    expected, sent = session.get("csrf"), request.form.get(CSRF_FIELD, "")
    return bool(expected) and isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the page came over TLS (directly, or through a proxy
    that says so and that the deployment trusts), so it never travels in clear afterwards."""

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified:
            # Nothing to write or delete (an API call without a cookie); Flask would still work
            # out every cookie attribute first.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app):
        # Flask builds a new serializer for every request, cookie or not (a kiosk's call has none);
        # one per key is enough.
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if getattr(self, "_serializer_keys", None) != keys:
            self._serializer, self._serializer_keys = super().get_signing_serializer(app), keys
        return self._serializer


def register(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.session_interface = SessionCookies()

    @app.after_request
    def _security_headers(response):
        # One look at the headers already set, not one per header added (Headers.setdefault scans
        # them all each time, and this runs on every answer).
        present = {name.lower() for name in response.headers.keys()}
        for name, value in HEADERS.items():
            if name.lower() not in present:
                response.headers.add(name, value)
        if "content-security-policy" not in present:
            response.headers.add("Content-Security-Policy", content_policy(request.host))
        return response


@lru_cache(maxsize=64)
def content_policy(host: str) -> str:
    return CONTENT_SECURITY_POLICY.format(host="".join(c for c in host if c.isalnum() or c in ".-:[]"))
