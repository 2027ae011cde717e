"""What heads and closes a report on paper as a Vietnamese administrative document does (Decree
30/2020/NĐ-CP): the issuing body under its superior body, the national heading, the place and date
line, and the signatures of the person who compiled it and of the head of the centre."""
from __future__ import annotations

import re
from datetime import date

# "Trung tâm Phục vụ hành chính công xã Tân Hòa" → the commune, ward or town it serves; a province's own
# centre ("… tỉnh Phú Thọ", "… thành phố Hà Nội") → the province.
LOCALITY = re.compile(r"\b(xã|phường|thị trấn|đặc khu|tỉnh|thành phố)\s+(.+)$", re.IGNORECASE)


def letterhead(centre_name: str, day: date) -> dict:
    """The parts of the heading: `parent` (the People's Committee it answers to, when its name says
    where it is), `body` (the centre), `place`, and the date line."""
    found = LOCALITY.search(centre_name.strip())
    parent = f"Ủy ban nhân dân {found[1].lower()} {found[2]}".upper() if found else None
    place = found[2] if found else ""
    date_line = f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    return {"parent": parent, "body": centre_name.upper(), "place": place,
            "date_line": f"{place}, {date_line}" if place else date_line.capitalize()}
