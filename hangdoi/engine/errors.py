"""Domain errors. Each carries a catalogue code; the web layer maps the kind to an HTTP status."""
from __future__ import annotations

from hangdoi.messages import bilingual


class DomainError(Exception):
    kind = "conflict"

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(bilingual(code, **params))

    @property
    def message(self) -> str:
        return str(self)


class NotFound(DomainError):
    kind = "not_found"


class Conflict(DomainError):
    """The request is well formed but the current state does not allow it (HTTP 409)."""
    kind = "conflict"


class Forbidden(DomainError):
    kind = "forbidden"


class Invalid(DomainError):
    kind = "invalid"
