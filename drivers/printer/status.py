"""Printer status over DLE EOT (real-time status transmission), the part every ESC/POS printer has.

    DLE EOT 1  printer status      bit 3: offline
    DLE EOT 2  offline cause       bit 2: cover open, bit 5: stopped by paper end, bit 6: error
    DLE EOT 4  roll paper sensor   bits 2-3: near end, bits 5-6: paper end

Each answer is one byte with bits 1 and 4 set and bits 0 and 7 clear; anything else is not an answer.
"""
from __future__ import annotations

from dataclasses import dataclass

DLE_EOT = b"\x10\x04"
READY, PAPER_LOW, PAPER_OUT, COVER_OPEN, OFFLINE, ERROR, NO_ANSWER, UNKNOWN = (
    "ready", "paper_low", "paper_out", "cover_open", "offline", "error", "no_answer", "unknown")
# What still prints: a printer that cannot tell us its status gets the job and we hope.
PRINTABLE = (READY, PAPER_LOW, UNKNOWN)


@dataclass(frozen=True)
class PrinterStatus:
    state: str
    detail: str = ""

    @property
    def printable(self) -> bool:
        return self.state in PRINTABLE


def is_status_byte(value: int) -> bool:
    return value & 0x93 == 0x12


def interpret(printer: int, offline_cause: int | None, paper: int) -> PrinterStatus:
    if paper & 0x60:
        return PrinterStatus(PAPER_OUT)
    if printer & 0x08:
        cause = offline_cause or 0
        if cause & 0x04:
            return PrinterStatus(COVER_OPEN)
        if cause & 0x20:
            return PrinterStatus(PAPER_OUT)
        if cause & 0x40:
            return PrinterStatus(ERROR)
        return PrinterStatus(OFFLINE)
    if paper & 0x0C:
        return PrinterStatus(PAPER_LOW)
    return PrinterStatus(READY)


def query(transport, timeout: float = 0.8) -> PrinterStatus:
    """Ask the printer how it is. A transport that cannot read answers UNKNOWN."""
    if not transport.can_read:
        return PrinterStatus(UNKNOWN)
    transport.drain_input()
    printer = _ask(transport, 1, timeout)
    if printer is None:
        return PrinterStatus(NO_ANSWER)
    cause = _ask(transport, 2, timeout) if printer & 0x08 else None
    paper = _ask(transport, 4, timeout)
    if paper is None:
        return PrinterStatus(NO_ANSWER)
    return interpret(printer, cause, paper)


def _ask(transport, n: int, timeout: float) -> int | None:
    transport.write(DLE_EOT + bytes([n]))
    answer = transport.read(1, timeout)
    if len(answer) != 1 or not is_status_byte(answer[0]):
        return None
    return answer[0]
