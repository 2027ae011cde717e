"""What every spreadsheet export (reports, the service catalogue) needs: cells that Excel and
LibreOffice take as the text they are.

A text starting with = + - @ (or a tab or carriage return) is read as a formula when the file is
opened: a name an admin typed as `=HYPERLINK(...)` would run in the manager's spreadsheet. Such a
text leaves with a leading apostrophe, the spreadsheet's own mark of "this is text" (OWASP's advice
for CSV injection); the catalogue import takes the apostrophe off again (`restored`).
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A text a spreadsheet shows as text, never evaluates; other values as they are."""
    if not isinstance(value, str):
        return value
    # openpyxl is imported where a spreadsheet is made, not at start: it is ~15 MB in every worker
    # of a centre's modest machine, which makes a spreadsheet a few times a month.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cells(row) -> list:
    """The row ready for a worksheet or a CSV line: texts made inert, control characters (which a
    worksheet refuses, and which may come from before input was checked) taken out, None empty."""
    return ["" if value is None else inert(value) for value in row]


def restored(value: str) -> str:
    """A cell read back from an exported file: the apostrophe `inert` added is taken off."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value
