"""What protects the pages in a browser.

- Security headers on every answer: the pages run only our own scripts from files (data travels in
  `<script type="application/json">`, which no browser runs), load nothing from elsewhere (the centre
  has no internet anyway), and may not be framed by another site.
- Session cookies: HttpOnly, SameSite=Lax, Secure over TLS, expiring after the token lifetime.
- CSRF (Flask-WTF's CSRFProtect): every state-changing request that a browser authenticates by
  its session cookie carries the session's token, in a form field (`csrf_token`) or, from the
  pages' scripts, in the X-CSRFToken header (hangdoi/static/dom.js: jsonHeaders). SameSite=Lax
  alone did not do: a page on another port of the same host is the same site, and its plain form
  post closed a service for a signed-in manager. Requests that prove themselves otherwise (a
  bearer token, a device's key header) carry no cookie authority and need no token; so does the
  sign-in form, which is checked too (no one may sign a browser in as someone else).
"""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

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


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Headers by which a request proves who sends it without the cookie (README "REST API").
OWN_CREDENTIALS = ("Authorization", "X-Hangdoi-Kiosk-Key", "X-Hangdoi-Tablet-Key", "X-Hangdoi-Hardware-Key",
                   "X-Hangdoi-Display-Key")
# Form posts checked even before anyone is signed in.
ALWAYS_CHECKED = frozenset({"counter.login"})

csrf = CSRFProtect()


def needs_csrf_token() -> bool:
    """A state-changing request that the session cookie would authenticate, or the sign-in form."""
    if request.method in SAFE_METHODS:
        return False
    if request.endpoint in ALWAYS_CHECKED:
        return True
    if any(name in request.headers for name in OWN_CREDENTIALS):
        return False
    return "officer_id" in session


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
    # A token lives as long as its session (the session itself expires after the token lifetime);
    # the check is ours to call, for cookie-authenticated requests only.
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None)
    csrf.init_app(app)
    app.session_interface = SessionCookies()

    @app.before_request
    def _csrf_check():
        if needs_csrf_token():
            csrf.protect()

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
