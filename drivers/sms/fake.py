"""A GSM modem on a pty that answers AT commands as a real one does: for tests, and for a demo
with no modem plugged in. Its path works with pyserial like a USB modem's /dev/ttyUSB0.

`credit`: messages it will send before answering as a SIM with no credit does (+CMS ERROR: 21,
"short message transfer rejected"); `network=False`: +CMS ERROR: 331 ("no network service").
"""
from __future__ import annotations

import os
import select
import threading
import tty

CTRL_Z, ESC = b"\x1a", b"\x1b"


class FakeModem:
    def __init__(self, credit: int | None = None, network: bool = True, silent: bool = False):
        self.credit, self.network, self.silent = credit, network, silent
        self.sent: list[tuple[str, str]] = []          # (number, text), decoded from UCS-2 where used
        self.commands: list[str] = []
        self._charset = "GSM"
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._buffer = b""
        self._recipient: str | None = None
        self._reference = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-gsm-modem")
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                self._buffer += os.read(self._master, 4096)
            except OSError:
                return
            self._answer()

    def _reply(self, data: bytes) -> None:
        if not self.silent:
            os.write(self._master, data)

    def _answer(self) -> None:
        while True:
            if self._recipient is not None:              # the message's text, up to Ctrl-Z
                end = self._buffer.find(CTRL_Z)
                if end < 0:
                    return
                body, self._buffer = self._buffer[:end], self._buffer[end + 1:]
                self._deliver(body.decode("ascii", "replace"))
                continue
            end = self._buffer.find(b"\r")
            if end < 0:
                return
            line, self._buffer = self._buffer[:end].strip().decode("ascii", "replace"), self._buffer[end + 1:]
            if line:
                self._command(line)

    def _command(self, line: str) -> None:
        self.commands.append(line)
        upper = line.upper()
        if upper in ("AT", "AT+CMGF=1", "ATE0"):
            self._reply(b"\r\nOK\r\n")
        elif upper.startswith("AT+CSCS="):
            self._charset = line.split("=", 1)[1].strip('"').upper()
            self._reply(b"\r\nOK\r\n")
        elif upper.startswith("AT+CMGS="):
            number = line.split("=", 1)[1].strip('"')
            self._recipient = _from_ucs2(number) if self._charset == "UCS2" else number
            self._reply(b"\r\n> ")
        else:
            self._reply(b"\r\nERROR\r\n")

    def _deliver(self, body: str) -> None:
        number, self._recipient = self._recipient, None
        if not self.network:
            self._reply(b"\r\n+CMS ERROR: 331\r\n")
            return
        if self.credit is not None and self.credit <= 0:
            self._reply(b"\r\n+CMS ERROR: 21\r\n")
            return
        if self.credit is not None:
            self.credit -= 1
        self.sent.append((number, _from_ucs2(body) if self._charset == "UCS2" else body))
        self._reference += 1
        self._reply(f"\r\n+CMGS: {self._reference}\r\n\r\nOK\r\n".encode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def _from_ucs2(hex_text: str) -> str:
    try:
        return bytes.fromhex(hex_text).decode("utf-16-be")
    except ValueError:
        return hex_text
