"""A GSM modem on a serial port, in text mode (AT+CMGF=1), as ETSI TS 127 005 describes it.

    AT            → OK                   is anyone there
    AT+CMGF=1     → OK                   text mode
    AT+CSCS="GSM" or "UCS2"              plain text, or Vietnamese with its diacritics (hex UCS-2)
    AT+CMGS="0912345678"<CR>  → "> "     then the text and Ctrl-Z
                  → +CMGS: <ref> … OK    sent
                  → +CMS ERROR: <n>      refused (no credit, no network, a bad number, …)

Each message opens the port, sends, and closes it again: a modem unplugged between two messages is
found at the next one, and a send that fails says why in the modem's own words.
"""
from __future__ import annotations

import logging
import threading
import time

import serial

from drivers.sms import Sent
from drivers.sms.text import is_plain, parts

log = logging.getLogger(__name__)
CTRL_Z = b"\x1a"


class ModemError(Exception):
    pass


class GsmModem:
    name = "gsm"

    def __init__(self, url: str, baudrate: int = 115200, timeout: float = 10.0):
        self.url, self.baudrate, self.timeout = url, baudrate, timeout
        self._lock = threading.Lock()        # one conversation with the modem at a time

    def send(self, phone: str, text: str) -> Sent:
        with self._lock:
            try:
                port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.2, write_timeout=2.0)
            except (serial.SerialException, OSError) as exc:
                return Sent(False, f"port: {exc}"[:200])
            try:
                self._command(port, "AT")
                self._command(port, "AT+CMGF=1")
                pieces = parts(text)
                ucs2 = not is_plain(text)
                self._command(port, f'AT+CSCS="{"UCS2" if ucs2 else "GSM"}"')
                references = [self._message(port, phone, piece, ucs2) for piece in pieces]
                return Sent(True, f"{len(references)} message(s): {', '.join(references)}")
            except ModemError as exc:
                return Sent(False, str(exc)[:200])
            except (serial.SerialException, OSError) as exc:
                return Sent(False, f"port: {exc}"[:200])
            finally:
                port.close()

    def _message(self, port, phone: str, text: str, ucs2: bool) -> str:
        number = _ucs2(phone) if ucs2 else phone
        port.write(f'AT+CMGS="{number}"\r'.encode())
        self._read_until(port, (b"> ",), "prompt")
        body = _ucs2(text) if ucs2 else text
        port.write(body.encode("ascii") + CTRL_Z)
        answer = self._read_until(port, (b"\r\nOK\r\n",), "send")
        for line in answer.splitlines():
            if line.startswith("+CMGS:"):
                return line.split(":", 1)[1].strip()
        return "?"

    def _command(self, port, command: str) -> str:
        port.write(f"{command}\r".encode())
        return self._read_until(port, (b"\r\nOK\r\n",), command)

    def _read_until(self, port, endings: tuple[bytes, ...], what: str) -> str:
        """What the modem says up to one of `endings`; ModemError on ERROR, +CMS ERROR or silence."""
        seen = b""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            seen += port.read(256)
            if any(ending in seen for ending in endings):
                return seen.decode("ascii", "replace")
            for line in seen.split(b"\r\n")[:-1]:          # whole lines only
                if line.startswith((b"+CMS ERROR", b"+CME ERROR")) or line == b"ERROR":
                    raise ModemError(f"{what}: {line.decode('ascii', 'replace')}")
        raise ModemError(f"{what}: no answer from the modem in {self.timeout:g} s")


def _ucs2(text: str) -> str:
    """Text as the modem takes it in UCS2 mode: four hex digits a character."""
    return text.encode("utf-16-be").hex().upper()
