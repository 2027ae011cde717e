"""Vietnamese number reading, checked against how people say the numbers."""
from __future__ import annotations

import pytest

from display.speech import Style, call_sentence, number_words, ticket_words

SOUTH = Style(region="south")
NO_TU = Style(tu=False)

ONE_TO_THIRTY = {
    1: "một", 2: "hai", 3: "ba", 4: "bốn", 5: "năm", 6: "sáu", 7: "bảy", 8: "tám", 9: "chín",
    10: "mười", 11: "mười một", 12: "mười hai", 13: "mười ba", 14: "mười bốn", 15: "mười lăm",
    16: "mười sáu", 17: "mười bảy", 18: "mười tám", 19: "mười chín", 20: "hai mươi",
    21: "hai mươi mốt", 22: "hai mươi hai", 23: "hai mươi ba", 24: "hai mươi tư", 25: "hai mươi lăm",
    26: "hai mươi sáu", 27: "hai mươi bảy", 28: "hai mươi tám", 29: "hai mươi chín", 30: "ba mươi",
}


@pytest.mark.parametrize("n, words", ONE_TO_THIRTY.items())
def test_one_to_thirty(n, words):
    assert number_words(n) == words


@pytest.mark.parametrize("n, words", [
    (0, "không"), (31, "ba mươi mốt"), (41, "bốn mươi mốt"), (44, "bốn mươi tư"), (55, "năm mươi lăm"),
    (99, "chín mươi chín"),
    (100, "một trăm"), (101, "một trăm linh một"), (102, "một trăm linh hai"), (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"), (109, "một trăm linh chín"), (110, "một trăm mười"),
    (111, "một trăm mười một"), (114, "một trăm mười bốn"), (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"), (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"), (1001, "một nghìn không trăm linh một"), (1005, "một nghìn không trăm linh năm"),
    (1009, "một nghìn không trăm linh chín"), (1010, "một nghìn không trăm mười"),
    (1011, "một nghìn không trăm mười một"), (1015, "một nghìn không trăm mười lăm"),
    (1024, "một nghìn không trăm hai mươi tư"), (1100, "một nghìn một trăm"),
    (1999, "một nghìn chín trăm chín mươi chín"), (2001, "hai nghìn không trăm linh một"),
    (2024, "hai nghìn không trăm hai mươi tư"), (10000, "mười nghìn"),
    (10005, "mười nghìn không trăm linh năm"), (21000, "hai mươi mốt nghìn"),
    (100000, "một trăm nghìn"), (1000000, "một triệu"), (1000005, "một triệu không trăm linh năm"),
])
def test_numbers_as_people_say_them_in_the_north(n, words):
    assert number_words(n) == words


@pytest.mark.parametrize("n, words", [
    (101, "một trăm lẻ một"), (1005, "một ngàn không trăm lẻ năm"), (2024, "hai ngàn không trăm hai mươi tư"),
    (10000, "mười ngàn"),
])
def test_southern_variant(n, words):
    assert number_words(n, SOUTH) == words


def test_tu_is_optional():
    assert number_words(24, NO_TU) == "hai mươi bốn"
    assert number_words(1024, NO_TU) == "một nghìn không trăm hai mươi bốn"
    assert number_words(14, NO_TU) == number_words(14) == "mười bốn"


@pytest.mark.parametrize("shown, words", [
    ("1001", "một nghìn không trăm linh một"), ("1999", "một nghìn chín trăm chín mươi chín"),
    ("2001", "hai nghìn không trăm linh một"), ("9999", "chín nghìn chín trăm chín mươi chín"),
    ("A001", "a không không một"), ("A012", "a không mười hai"), ("A100", "a một trăm"),
    ("A999", "a chín trăm chín mươi chín"), ("B050", "bê không năm mươi"), ("Đ007", "đê không không bảy"),
])
def test_ticket_numbers_at_every_series_boundary(shown, words):
    assert ticket_words(shown) == words


def test_padding_styles():
    assert ticket_words("A012", Style(padding="dropped")) == "a mười hai"
    assert ticket_words("A012", Style(padding="digits")) == "a không một hai"
    assert ticket_words("1005", Style(padding="digits")) == "một nghìn không trăm linh năm"


def test_no_digit_is_ever_left_for_the_speech_engine():
    for n in range(0, 12000, 7):
        assert not any(ch.isdigit() for ch in number_words(n))
    for shown in ("A001", "C123", "1005", "0000"):
        assert not any(ch.isdigit() for ch in ticket_words(shown))


def test_call_sentence():
    assert call_sentence("1005", 3) == (
        "Mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba")
    assert call_sentence("A012", 12, "Quầy Đất đai", template="Mời số {number} đến {counter_name}") == (
        "Mời số a không mười hai đến Quầy Đất đai")
