"""A 1-bit ticket image → ESC/POS bytes, small enough for a 115200-baud serial printer.

The image is cut into bands at its blank rows; blank rows become paper feeds (ESC J) and each band
is sent as one raster image (GS v 0) no wider than its ink, centred by the printer (ESC a 1) when
the ink sits on the centre line. A band whose pixels come in 2×2 blocks is sent at half resolution
in quadruple mode. The bytes decode back to exactly the image (escpos_parse proves it in tests).
"""
from __future__ import annotations

from PIL import Image, ImageChops

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
ALIGN_LEFT, ALIGN_CENTRE = ESC + b"a\x00", ESC + b"a\x01"
FEED_AND_CUT = GS + b"VB\x03"   # feed to the cutter, then a partial cut
NORMAL, QUADRUPLE = 0, 3
MAX_FEED = 255
INVERT = bytes(255 - b for b in range(256))


def encode(image: Image.Image, cut: bool = True) -> bytes:
    image = image.convert("1")
    out = bytearray(INIT)
    pending_feed = 0
    for start, end, blank in _row_runs(image):
        if blank:
            pending_feed += end - start
            continue
        out += _feed(pending_feed)
        pending_feed = 0
        out += _band(image.crop((0, start, image.width, end)))
    out += _feed(pending_feed)
    if cut:
        out += FEED_AND_CUT
    return bytes(out)


def _row_runs(image: Image.Image):
    """(start, end, blank) runs of rows, top to bottom."""
    ink = ImageChops.invert(image.convert("L"))
    # Averaging each row over buckets of at most 64 dots keeps even one lone dot above zero.
    buckets = -(-image.width // 64)
    profile = ink.resize((buckets, image.height), Image.BOX).tobytes()
    inked = [any(profile[y * buckets:(y + 1) * buckets]) for y in range(image.height)]
    runs, start = [], 0
    for y in range(1, image.height + 1):
        if y == image.height or inked[y] != inked[start]:
            runs.append((start, y, not inked[start]))
            start = y
    return runs


def _feed(dots: int) -> bytes:
    out = bytearray()
    while dots > 0:
        step = min(dots, MAX_FEED)
        out += ESC + b"J" + bytes([step])
        dots -= step
    return bytes(out)


def _band(band: Image.Image) -> bytes:
    left, _, right, _ = ImageChops.invert(band.convert("L")).getbbox()
    width = band.width
    # Centred window: symmetric about the middle, a multiple of 16 dots so halves stay whole bytes.
    half = max(width // 2 - left, right - width // 2)
    half = min(-(-half // 8) * 8, width // 2)
    centred = (width // 2 - half, width // 2 + half)
    flush_left = (0, min(width, -(-right // 8) * 8))
    x0, x1 = centred if centred[1] - centred[0] <= flush_left[1] else flush_left
    align = ALIGN_CENTRE if (x0, x1) == centred and x0 > 0 else ALIGN_LEFT
    window = band.crop((x0, 0, x1, band.height))
    if x0 % 2 == 0 and _is_doubled(window):
        half_image = window.resize((window.width // 2, window.height // 2), Image.NEAREST)
        return align + _raster(half_image, QUADRUPLE)
    return align + _raster(window, NORMAL)


def _is_doubled(window: Image.Image) -> bool:
    if window.width % 16 or window.height % 2:
        return False
    half = window.resize((window.width // 2, window.height // 2), Image.NEAREST)
    again = half.resize(window.size, Image.NEAREST)
    return ImageChops.difference(window.convert("L"), again.convert("L")).getbbox() is None


def _raster(image: Image.Image, mode: int) -> bytes:
    width_bytes = -(-image.width // 8)
    if image.width % 8:
        padded = Image.new("1", (width_bytes * 8, image.height), 1)
        padded.paste(image, (0, 0))
        image = padded
    # PIL packs 1 = white; the printer wants 1 = burn.
    data = image.tobytes().translate(INVERT)
    return (GS + b"v0" + bytes([mode]) + width_bytes.to_bytes(2, "little")
            + image.height.to_bytes(2, "little") + data)
