"""Reads the ESC/POS bytes this project sends back into what a printer would do with them.

It knows the commands we use (ESC @, ESC a, ESC J, GS v 0, GS V, DLE EOT) and refuses anything
else, so the fake printers can answer status queries in the middle of a stream and tests can turn
bytes back into the printed picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

DLE, ESC, GS = 0x10, 0x1B, 0x1D
INVERT = bytes(255 - b for b in range(256))


class ParseError(ValueError):
    pass


@dataclass
class Paper:
    """What has come out of the printer so far: raster rows placed on a strip of paper."""

    width: int
    rows: list[tuple[int, Image.Image]] = field(default_factory=list)   # (y, band)
    y: int = 0
    align: int = 0
    cuts: int = 0

    def place(self, band: Image.Image) -> None:
        x = 0 if self.align == 0 else (self.width - band.width) // (2 if self.align == 1 else 1)
        sheet = Image.new("1", (self.width, band.height), 1)
        sheet.paste(band, (x, 0))
        self.rows.append((self.y, sheet))
        self.y += band.height

    def image(self) -> Image.Image:
        page = Image.new("1", (self.width, max(1, self.y)), 1)
        for y, band in self.rows:
            page.paste(band, (0, y))
        return page


class Parser:
    """Feed bytes in any chunks; commands are acted on as soon as they are whole."""

    def __init__(self, width: int = 576, on_status_query=None):
        self.paper = Paper(width)
        self.buffer = bytearray()
        self.on_status_query = on_status_query or (lambda n: None)
        self.tickets: list[Image.Image] = []

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            used = self._step()
            if used == 0:
                return
            del self.buffer[:used]

    def _step(self) -> int:
        b = self.buffer
        if b[0] == DLE:
            if len(b) < 3:
                return 0
            if b[1] != 0x04 or b[2] not in (1, 2, 3, 4):
                raise ParseError(f"unknown DLE command {bytes(b[:3])!r}")
            self.on_status_query(b[2])
            return 3
        if b[0] == ESC:
            if len(b) < 2:
                return 0
            if b[1] == ord("@"):
                self.paper.align = 0
                return 2
            if len(b) < 3:
                return 0
            if b[1] == ord("a"):
                self.paper.align = b[2] % 48 if b[2] >= 48 else b[2]
                return 3
            if b[1] == ord("J"):
                self.paper.y += b[2]
                return 3
            raise ParseError(f"unknown ESC command {bytes(b[:2])!r}")
        if b[0] == GS:
            if len(b) < 2:
                return 0
            if b[1] == ord("v"):
                return self._raster()
            if b[1] == ord("V"):
                if len(b) < 3:
                    return 0
                size = 4 if b[2] in (65, 66, 97, 98) else 3
                if len(b) < size:
                    return 0
                self._cut()
                return size
            raise ParseError(f"unknown GS command {bytes(b[:2])!r}")
        raise ParseError(f"unexpected byte 0x{b[0]:02x} outside a command")

    def _raster(self) -> int:
        b = self.buffer
        if len(b) < 8:
            return 0
        if b[2] != ord("0"):
            raise ParseError("GS v: only raster format 0 is known")
        mode = b[3] % 48 if b[3] >= 48 else b[3]
        width_bytes = b[4] | b[5] << 8
        height = b[6] | b[7] << 8
        size = 8 + width_bytes * height
        if width_bytes == 0 or height == 0:
            raise ParseError("GS v 0 with an empty image")
        if len(b) < size:
            return 0
        data = bytes(b[8:size]).translate(INVERT)
        band = Image.frombytes("1", (width_bytes * 8, height), data)
        scale_x = 2 if mode in (1, 3) else 1
        scale_y = 2 if mode in (2, 3) else 1
        if (scale_x, scale_y) != (1, 1):
            band = band.resize((band.width * scale_x, band.height * scale_y), Image.NEAREST)
        self.paper.place(band)
        return size

    def _cut(self) -> None:
        self.paper.cuts += 1
        self.tickets.append(self.paper.image())
        self.paper = Paper(self.paper.width, cuts=self.paper.cuts)


def decode(data: bytes, width: int = 576) -> Parser:
    parser = Parser(width)
    parser.feed(data)
    if parser.buffer:
        raise ParseError(f"{len(parser.buffer)} bytes left over: a command was cut short")
    return parser
