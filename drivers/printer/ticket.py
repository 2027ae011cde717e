"""The printed ticket, laid out for 58 mm (384 dots) and 80 mm (512 or 576 dots) paper.

Everything is drawn with Be Vietnam Pro into a 1-bit image, so every Vietnamese letter prints on
every ESC/POS printer whatever code pages it has. The big number and the QR code are drawn at half
resolution and doubled: the raster encoder sends such parts at a quarter of the bytes (ESC/POS
quadruple mode), which keeps an 80 mm ticket under 20 KB.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import fontpkg_be_vietnam_pro
import qrcode
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(fontpkg_be_vietnam_pro.__file__).parent / "files"
WIDTHS = (384, 512, 576)
BLACK, WHITE = 0, 1


@dataclass(frozen=True)
class PrintedTicket:
    centre: str
    domain: str
    service: str
    number: str
    issued_at: str                      # local time as printed, e.g. "09:12 · 23/11/2026"
    status_url: str
    people_ahead: int
    wait: str | None = None             # the estimated wait in words ("khoảng 25 phút"); None: no line
    priority: str | None = None         # the category's name
    counters: tuple[int, ...] = ()
    footer: tuple[str, ...] = field(default=("Vui lòng chờ gọi số. Xin cảm ơn!",))


@lru_cache(maxsize=64)
def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    # Basic layout is enough for precomposed (NFC) Vietnamese and much faster than raqm.
    return ImageFont.truetype(str(FONT_DIR / f"BeVietnamPro-{weight}.ttf"), size,
                              layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class Word:
    mask: Image.Image     # "L": 255 where ink
    left: int             # where the mask starts, from the pen position
    top: int              # where the mask starts, from the baseline (negative: above it)
    advance: int


@lru_cache(maxsize=4096)
def word(text: str, weight: str, size: int) -> Word:
    """One word, drawn once: most words of a ticket (centre, services, labels) repeat all day, and
    FreeType is the slow part of printing."""
    face = font(weight, size)
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"     # crisp glyphs, no grey to threshold away
    draw.text((-left, -top), text, font=face, fill=255, anchor="ls")
    return Word(mask, left, top, round(face.getlength(text)))


class Canvas:
    """A tall white 1-bit page that blocks are stacked on, centred, top to bottom."""

    def __init__(self, width: int, height: int = 1600):
        self.width = width
        self.image = Image.new("1", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.draw.fontmode = "1"     # crisp glyphs, no grey to threshold away
        self.y = 0
        self.scale = width / 576

    def size(self, points: int) -> int:
        return max(12, round(points * self.scale))

    def fits(self, line: str, weight: str, points: int) -> bool:
        return line_length(line, weight, self.size(points)) <= self.width - 16

    def gap(self, points: int) -> None:
        self.y += round(points * self.scale)

    def text(self, line: str, weight: str = "Medium", points: int = 24) -> None:
        size = self.size(points)
        ascent, descent = font(weight, size).getmetrics()
        line = unicodedata.normalize("NFC", line)
        for part in wrap(line, weight, size, self.width - 16):
            baseline = self.y + ascent
            self.words(part, weight, size, (self.width - line_length(part, weight, size)) // 2, baseline)
            self.y = baseline + descent + round(4 * self.scale)

    def words(self, line: str, weight: str, size: int, x: int, baseline: int) -> None:
        space = space_width(weight, size)
        for text in line.split():
            w = word(text, weight, size)
            self.image.paste(BLACK, (x + w.left, baseline + w.top), w.mask)
            x += w.advance + space

    def boxed(self, line: str, points: int = 24) -> None:
        """A line in a rectangle: how the priority mark stands out without a costly black band."""
        size = self.size(points)
        ascent, descent = font("Bold", size).getmetrics()
        line = unicodedata.normalize("NFC", line)
        pad = round(10 * self.scale)
        box_w = line_length(line, "Bold", size) + 2 * pad
        x0 = (self.width - box_w) // 2
        box_h = ascent + descent + pad
        self.draw.rectangle((x0, self.y, x0 + box_w - 1, self.y + box_h), outline=BLACK, width=3)
        self.words(line, "Bold", size, x0 + pad, self.y + pad // 2 + ascent)
        self.y += box_h + round(12 * self.scale)

    def doubled(self, half: Image.Image) -> None:
        """Paste a half-resolution picture at twice its size, on even coordinates."""
        big = half.resize((half.width * 2, half.height * 2), Image.NEAREST)
        x = ((self.width - big.width) // 2) & ~1
        self.y += self.y & 1
        self.image.paste(big, (x, self.y))
        self.y += big.height

    def rule(self) -> None:
        self.y += round(6 * self.scale)
        self.draw.line((16, self.y, self.width - 17, self.y), fill=BLACK, width=2)
        self.y += round(10 * self.scale)

    def finish(self) -> Image.Image:
        return self.image.crop((0, 0, self.width, self.y + 8))


@lru_cache(maxsize=64)
def space_width(weight: str, size: int) -> int:
    return round(font(weight, size).getlength(" "))


def line_length(line: str, weight: str, size: int) -> int:
    words = line.split()
    return sum(word(w, weight, size).advance for w in words) + space_width(weight, size) * max(0, len(words) - 1)


def wrap(line: str, weight: str, size: int, width: int, max_lines: int = 3) -> list[str]:
    """Break into lines that fit, with balanced lengths: a long centre name reads better as two
    even lines than as a full line and an orphan word."""
    words = line.split()
    lines = _greedy(words, weight, size, width)
    if len(lines) == 2:
        best = lines
        for cut in range(1, len(words)):
            first, second = " ".join(words[:cut]), " ".join(words[cut:])
            widest = max(line_length(first, weight, size), line_length(second, weight, size))
            if widest <= width and widest < max(line_length(x, weight, size) for x in best):
                best = [first, second]
        lines = best
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" ,.;") + "…"
    return lines


def _greedy(words: list[str], weight: str, size: int, width: int) -> list[str]:
    lines, current = [], ""
    for w in words:
        trial = f"{current} {w}".strip()
        if line_length(trial, weight, size) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = w
    if current:
        lines.append(current)
    return lines


def big_number(number: str, width: int) -> Image.Image:
    """The number at half resolution, as large as fits: it is what the citizen looks for."""
    points = width // 6
    while True:
        face = font("Bold", points)
        left, top, right, bottom = face.getbbox(number)
        if right - left <= width // 2 - 12 or points <= 20:
            break
        points -= 4
    half = Image.new("1", (right - left + 2, bottom - top + 2), WHITE)
    draw = ImageDraw.Draw(half)
    draw.fontmode = "1"
    draw.text((1 - left, 1 - top), number, font=face, fill=BLACK)
    return half


def qr_half(url: str, module: int = 3) -> Image.Image:
    # A fixed mask skips trying all eight, which is most of qrcode's time; any mask scans well.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1,
                         mask_pattern=4)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    cells = Image.frombytes("1", (n, n), _pack_rows(matrix))
    return cells.resize((n * module, n * module), Image.NEAREST)


def _pack_rows(matrix: list[list[bool]]) -> bytes:
    out = bytearray()
    for row in matrix:
        bits = 0
        padded = row + [False] * (-len(row) % 8)
        for i, dark in enumerate(padded):
            bits = (bits << 1) | (0 if dark else 1)
            if i % 8 == 7:
                out.append(bits)
                bits = 0
    return bytes(out)


def wait_lines(page: Canvas, wait: str) -> None:
    """The figure is never cut in two ("khoảng 1 giờ" | "45 phút" would read as an hour): the label
    goes on a line of its own when both do not fit, and a note after the figure ("— có thể sang
    buổi chiều") on the next line, in brackets."""
    figure, _, note = wait.partition(" — ")
    label = "Thời gian chờ dự kiến:"
    if page.fits(f"{label} {figure}", "Medium", 22):
        page.text(f"{label} {figure}", "Medium", 22)
    else:
        page.text(label, "Medium", 22)
        page.text(figure, "SemiBold", 22)
    if note:
        page.text(f"({note})", "Medium", 22)


def render(ticket: PrintedTicket, width: int = 576) -> Image.Image:
    if width not in WIDTHS:
        raise ValueError(f"paper width must be one of {WIDTHS} dots")
    page = Canvas(width)
    page.gap(6)
    page.text(ticket.centre.upper(), "SemiBold", 22)
    page.rule()
    page.text("SỐ THỨ TỰ CỦA QUÝ VỊ", "Medium", 20)
    page.gap(4)
    page.doubled(big_number(ticket.number, width))
    page.gap(10)
    if ticket.priority:
        page.boxed(f"ƯU TIÊN · {ticket.priority}", 22)
    page.text(ticket.service, "Bold", 26)
    page.text(ticket.domain, "Regular", 20)
    page.gap(6)
    if ticket.counters:
        page.text("Quầy phục vụ: " + ", ".join(str(n) for n in ticket.counters), "SemiBold", 22)
    page.text(f"Số người đang chờ trước quý vị: {ticket.people_ahead}", "Medium", 22)
    if ticket.wait:
        wait_lines(page, ticket.wait)
    page.text(f"Giờ lấy số: {ticket.issued_at}", "Regular", 20)
    page.gap(8)
    page.doubled(qr_half(ticket.status_url, 3 if width > 384 else 2))
    page.gap(4)
    page.text("Quét mã để theo dõi số của quý vị", "Regular", 18)
    page.rule()
    for line in ticket.footer:
        page.text(line, "Medium", 20)
    return page.finish()


def warm_up() -> None:
    """Load the fonts and draw the words every ticket has, so the first citizen of the day waits no
    longer than the others (the first ticket otherwise costs four times as much)."""
    sample = PrintedTicket(centre="Trung tâm", domain="Lĩnh vực", service="Thủ tục", number="1000",
                           issued_at="00:00 · Thứ Hai, 01/01/2026", status_url="http://hangdoi/t/0",
                           people_ahead=0, wait="khoảng 25 phút", priority="Ưu tiên", counters=(1,))
    for width in WIDTHS:
        render(sample, width)
