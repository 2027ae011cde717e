"""What the lobby says: ticket numbers read as Vietnamese words, and the call sentence.

The rules (a TTS engine is never fed digits):
- mười for 10–19, mươi for the tens from 20; after mươi, 1 is "mốt", 4 may be "tư", 5 is "lăm";
  after mười, 5 is "lăm"; after linh/lẻ, 5 stays "năm";
- a zero tens digit after hundreds is "linh" (North) or "lẻ" (South): 105 = một trăm linh năm;
- inside a larger number a zero hundreds digit is said: 1005 = một nghìn không trăm linh năm;
- thousands are "nghìn" (North) or "ngàn" (South); millions "triệu".
"""
from __future__ import annotations

from dataclasses import dataclass

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép",
    "X": "ích xì", "Y": "i dài", "Z": "dét",
}
DEFAULT_TEMPLATE = "Mời công dân có số thứ tự {number} đến quầy số {counter}"


@dataclass(frozen=True)
class Style:
    region: str = "north"        # "north": linh, nghìn; "south": lẻ, ngàn
    tu: bool = True              # 24 = "hai mươi tư" (True) or "hai mươi bốn"
    padding: str = "spoken"      # A012: "spoken" = A không mười hai; "dropped" = A mười hai;
                                 #       "digits" = A không một hai

    @property
    def linh(self) -> str:
        return "lẻ" if self.region == "south" else "linh"

    @property
    def thousand(self) -> str:
        return "ngàn" if self.region == "south" else "nghìn"


def number_words(n: int, style: Style = Style()) -> str:
    if n < 0:
        raise ValueError("ticket numbers are not negative")
    if n == 0:
        return DIGITS[0]
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    scales = ["", style.thousand, "triệu", "tỷ"]
    words: list[str] = []
    top = len(groups) - 1
    for index in range(top, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        # Every group below the first is read in full: 1005 = một nghìn *không trăm linh* năm.
        words += _hundreds(group, full=index != top, style=style)
        if scales[index]:
            words.append(scales[index])
    return " ".join(words)


def _hundreds(n: int, full: bool, style: Style) -> list[str]:
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or full:
                words.append(style.linh)
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 4:
            words.append("tư" if style.tu else "bốn")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGITS[units])
    return words


def ticket_words(display_number: str, style: Style = Style()) -> str:
    """A ticket number as shown ("1005", "A012") in words."""
    prefix = ""
    while display_number and not display_number[0].isdigit():
        letter = display_number[0].upper()
        prefix += (LETTERS.get(letter, letter.lower())) + " "
        display_number = display_number[1:]
    if not display_number:
        return prefix.strip()
    if style.padding == "digits" and prefix:
        return (prefix + " ".join(DIGITS[int(d)] for d in display_number)).strip()
    zeros = len(display_number) - len(display_number.lstrip("0"))
    rest = display_number[zeros:]
    leading = [DIGITS[0]] * zeros if style.padding == "spoken" and rest else []
    return " ".join([prefix.strip(), *leading, number_words(int(rest or "0"), style)]).strip()


def call_sentence(display_number: str, counter_number: int, counter_name: str | None = None,
                  template: str = DEFAULT_TEMPLATE, style: Style = Style()) -> str:
    """The sentence announced for a call, with every number in words."""
    return template.format(number=ticket_words(display_number, style),
                           counter=number_words(counter_number, style),
                           counter_name=counter_name or "").strip()
