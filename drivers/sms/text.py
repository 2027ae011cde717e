"""What an SMS can carry. Plain GSM characters: 160 to a message. With Vietnamese diacritics the
message is UCS-2: 70 to a message. A longer text goes as several messages, each marked (1/2)."""
from __future__ import annotations

import unicodedata

GSM_SINGLE, UCS2_SINGLE = 160, 70
PART_MARK = " (9/9)"


def without_diacritics(text: str) -> str:
    """"Mời quý vị đến quầy 3" → "Moi quy vi den quay 3": fits 160 characters a message."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in folded if unicodedata.category(c) != "Mn")


def is_plain(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def parts(text: str) -> list[str]:
    """The text cut into messages at spaces, each with room for its "(n/m)" mark when there are several."""
    limit = GSM_SINGLE if is_plain(text) else UCS2_SINGLE
    if len(text) <= limit:
        return [text]
    room = limit - len(PART_MARK)
    pieces, current = [], ""
    for word in text.split(" "):
        while len(word) > room:                     # a word longer than a message: cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:room])
            word = word[room:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > room:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [f"{piece} ({i}/{len(pieces)})" for i, piece in enumerate(pieces, 1)]
