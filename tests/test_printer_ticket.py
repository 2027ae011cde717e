"""The printed ticket: its picture, its ESC/POS bytes, and every Vietnamese letter on it."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageChops, ImageDraw

from drivers.printer.escpos_parse import ParseError, decode
from drivers.printer.raster import encode
from drivers.printer.ticket import Canvas, PrintedTicket, render, wait_lines, word, wrap

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HANGDOI_UPDATE_GOLDEN") == "1"

TICKET = PrintedTicket(
    centre="Trung tâm Phục vụ hành chính công xã Tân Hòa", domain="Tư pháp – Hộ tịch",
    service="Cấp giấy xác nhận tình trạng hôn nhân", number="1005", issued_at="09:12 · Thứ Hai, 23/11/2026",
    status_url="http://192.168.1.10:8000/t/AbCdEfGhIjKlMnOp", people_ahead=12, wait="khoảng 25 phút",
    priority="Người cao tuổi", counters=(1, 2))

BASES = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")   # huyền, sắc, hỏi, ngã, nặng
LETTERS = [unicodedata.normalize("NFC", base + tone) for base in BASES + BASES.upper() for tone in TONES] + ["đ", "Đ"]


def differing_share(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    return sum(1 for v in diff.tobytes() if v) / (a.width * a.height)


@pytest.mark.parametrize("width", [384, 512, 576])
def test_the_ticket_looks_like_its_golden_image(width):
    image = render(TICKET, width)
    golden = GOLDEN / f"ticket-{width}.png"
    if UPDATE or not golden.exists():
        image.save(golden)
    # A newer FreeType may move a few dots; a changed layout moves thousands.
    assert differing_share(image, Image.open(golden)) < 0.01


@pytest.mark.parametrize("width, limit", [(384, 12_000), (512, 20_000), (576, 20_000)])
def test_the_bytes_print_exactly_the_picture_and_stay_small(width, limit):
    image = render(TICKET, width)
    data = encode(image)
    assert len(data) <= limit
    printed = decode(data, width)
    assert len(printed.tickets) == 1 and printed.paper.cuts == 1
    assert ImageChops.difference(printed.tickets[0].convert("L"), image.convert("L")).getbbox() is None


def synthetic(width=64):
    image = Image.new("1", (width, 12), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 2, 39, 5), fill=0)      # centred, 2×2 blocks: sent at half size
    draw.rectangle((0, 8, 4, 9), fill=0)        # flush left, odd width: sent as is
    return image


def test_golden_bytes_through_python_escpos_dummy():
    printer = Dummy()
    printer._raw(encode(synthetic()))
    assert printer.output == bytes.fromhex(
        "1b40"                          # ESC @ initialise
        "1b4a02"                        # feed the 2 blank rows
        "1b6101" "1d763003" "0100" "0200" "ffff"    # centred, quadruple: 1 byte × 2 rows
        "1b4a02"                        # rows 6-7 blank
        "1b6100" "1d763000" "0100" "0200" "f8f8"    # flush left, 8 dots × 2 rows
        "1b4a02"                        # the last 2 blank rows
        "1d564203")                     # feed to the cutter, partial cut


def test_a_blank_ticket_is_just_feed_and_cut():
    assert encode(Image.new("1", (576, 300), 1)) == bytes.fromhex("1b40" "1b4aff" "1b4a2d" "1d564203")


def test_a_lone_dot_in_a_wide_row_is_not_lost():
    image = Image.new("1", (576, 3), 1)
    image.putpixel((300, 1), 0)
    assert ImageChops.difference(decode(encode(image)).tickets[0].convert("L"), image.convert("L")).getbbox() is None


def test_the_parser_refuses_what_no_printer_would_understand():
    with pytest.raises(ParseError):
        decode(b"\x1b@\x1bZ\x00")
    with pytest.raises(ParseError):
        decode(b"\x1b@\x1dv0\x00\x01\x00\x05\x00\xff")   # five rows announced, one sent


@pytest.mark.parametrize("weight", ["Regular", "Medium", "SemiBold", "Bold"])
def test_every_vietnamese_letter_has_a_real_glyph(weight):
    missing = word("\uE000", weight, 28).mask           # a private-use code point: the font's tofu box
    for letter in LETTERS:
        glyph = word(letter, weight, 28).mask
        assert glyph.getbbox() is not None, f"{letter!r} draws nothing"
        assert list(glyph.tobytes()) != list(missing.tobytes()) or glyph.size != missing.size, f"{letter!r} is tofu"
    for base in BASES + BASES.upper():
        plain = word(base, weight, 28).mask
        for tone in TONES[1:]:
            toned = word(unicodedata.normalize("NFC", base + tone), weight, 28).mask
            assert toned.size != plain.size or toned.tobytes() != plain.tobytes(), f"{base}{tone!r} lost its mark"


def test_decomposed_text_prints_like_precomposed():
    nfd = PrintedTicket(**{**TICKET.__dict__, "service": unicodedata.normalize("NFD", TICKET.service)})
    assert ImageChops.difference(render(nfd).convert("L"), render(TICKET).convert("L")).getbbox() is None


def test_long_names_wrap_into_at_most_three_lines():
    long_name = " ".join(["Thủ tục đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"] * 3)
    lines = wrap(long_name, "Bold", 26, 560)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert render(PrintedTicket(**{**TICKET.__dict__, "service": long_name})).height < 1200


def test_a_long_number_still_fits_the_narrow_paper():
    image = render(PrintedTicket(**{**TICKET.__dict__, "number": "A123456"}), 384)
    assert image.width == 384
    assert len(encode(image)) <= 12_000


class LineRecorder(Canvas):
    """A page that keeps the lines it is given (each is wrapped to the paper when drawn)."""

    def __init__(self, width: int):
        super().__init__(width)
        self.lines: list[str] = []

    def text(self, line: str, weight: str = "Medium", points: int = 24) -> None:
        self.lines.append(line)
        super().text(line, weight, points)


@pytest.mark.parametrize("width", [384, 512, 576])
@pytest.mark.parametrize("wait, figure, note", [
    ("khoảng 1 giờ 45 phút — có thể sang buổi chiều", "khoảng 1 giờ 45 phút", "(có thể sang buổi chiều)"),
    ("hơn 3 giờ — có thể quay lại vào buổi chiều", "hơn 3 giờ", "(có thể quay lại vào buổi chiều)"),
    ("khoảng 25 phút", "khoảng 25 phút", None)])
def test_a_wait_is_printed_with_its_figure_whole_and_its_note_apart(width, wait, figure, note):
    page = LineRecorder(width)
    wait_lines(page, wait)
    assert page.lines[0] in (f"Thời gian chờ dự kiến: {figure}", "Thời gian chờ dự kiến:")
    assert figure in page.lines[0] or page.lines[1] == figure
    assert all(page.fits(line, "Medium", 22) for line in page.lines)     # no line is cut when drawn
    assert (page.lines[-1] == note) if note else (page.lines[-1].endswith(figure))
