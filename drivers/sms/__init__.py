"""Text messages to citizens' phones: one small class per way of sending, behind one interface.

    modem.py     a GSM modem on a serial port (AT commands): works with no internet at all
    gateway.py   an HTTP SMS gateway (the brand-name SMS APIs of Vietnamese providers)
    text.py      what fits in one SMS, with or without diacritics
    fake.py      a GSM modem on a pty that answers like a real one, for tests and demos

`send(phone, text)` never raises: it returns a `Sent` saying how it went, so that a failed channel
is recorded and never blocks the queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sent:
    ok: bool
    detail: str = ""          # the modem's or gateway's own words when it failed; parts sent when not


class SmsChannel(Protocol):
    name: str

    def send(self, phone: str, text: str) -> Sent: ...
