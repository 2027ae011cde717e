"""What both spreadsheet exports (reports, the service catalogue) need: cells Excel accepts."""
from __future__ import annotations

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def cells(row) -> list:
    """The row with characters a worksheet refuses (control characters) taken out of its texts;
    such a name may come from before input was checked, and must not make the export fail."""
    return [ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in row]
