"""Calling keypads on a serial line. A keypad press runs the same engine action as the web button.

The built-in protocol (`LineKeypad`) is one ASCII line per press; several keypads may share one
RS-485 line, each with the address of its counter:

    #<counter>:<KEY>[:<argument>]\\r\\n      e.g. "#3:NEXT", "#12:TRANSFER:5" (to counter 5)

KEY is NEXT, RECALL, START, FINISH, NOSHOW or TRANSFER. Bytes before a '#' are noise and skipped;
a malformed line is reported and dropped, never guessed at. A vendor's protocol is one class with
a `feed(bytes) -> list[KeyPress | BadFrame]` method, registered in PROTOCOLS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Keypad key → counter action (hangdoi/services/actions.py).
KEY_ACTIONS = {"NEXT": "call-next", "RECALL": "recall", "START": "start", "FINISH": "finish",
               "NOSHOW": "no-show", "TRANSFER": "transfer"}
MAX_LINE = 32
LINE = re.compile(rb"^#(\d{1,3}):([A-Z]{3,10})(?::(\d{1,3}))?$")


@dataclass(frozen=True)
class KeyPress:
    counter: int          # the counter number the keypad is addressed as
    key: str
    argument: int | None = None

    @property
    def action(self) -> str:
        return KEY_ACTIONS[self.key]


@dataclass(frozen=True)
class BadFrame:
    data: bytes
    reason: str


class LineKeypad:
    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[KeyPress | BadFrame]:
        self.buffer += data
        out: list[KeyPress | BadFrame] = []
        while True:
            start = self.buffer.find(b"#")
            if start < 0:
                if self.buffer:
                    out.append(BadFrame(bytes(self.buffer[-MAX_LINE:]), "noise"))
                self.buffer.clear()
                return out
            if start:
                out.append(BadFrame(bytes(self.buffer[:start][-MAX_LINE:]), "noise"))
                del self.buffer[:start]
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > MAX_LINE:
                    out.append(BadFrame(bytes(self.buffer[:MAX_LINE]), "too long"))
                    del self.buffer[:1]    # look for the next '#'
                    continue
                return out
            last = self.buffer.rfind(b"#", 0, end)
            if last > 0:       # a press cut short by a newer one: only the newest counts
                out.append(BadFrame(bytes(self.buffer[:last][:MAX_LINE]), "cut short"))
            line = bytes(self.buffer[last:end]).rstrip(b"\r")
            del self.buffer[:end + 1]
            out.append(self._press(line))

    @staticmethod
    def _press(line: bytes) -> KeyPress | BadFrame:
        match = LINE.match(line)
        if not match:
            return BadFrame(line, "not #<counter>:<KEY>[:<n>]")
        counter, key, argument = int(match[1]), match[2].decode(), match[3]
        if key not in KEY_ACTIONS:
            return BadFrame(line, f"unknown key {key}")
        if not 1 <= counter <= 999:
            return BadFrame(line, "counter out of range")
        if (key == "TRANSFER") != (argument is not None):
            return BadFrame(line, "TRANSFER needs a counter, other keys none")
        return KeyPress(counter, key, int(argument) if argument else None)


def line_frame(counter: int, key: str, argument: int | None = None) -> bytes:
    """What a keypad sends (for fakes, tests and benchmarks)."""
    return f"#{counter}:{key}{'' if argument is None else f':{argument}'}\r\n".encode()


PROTOCOLS = {"line": LineKeypad}
