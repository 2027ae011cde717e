"""Announcement audio: the clip sequence, the WAV it makes, and a pack with clips missing."""
from __future__ import annotations

import array
import shutil
import wave

import pytest

from display.speech import Style
from display.voice import RATE, VoicePack, build_call_wav, call_segments, clip_plan, slug

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def write_clip(folder, text, seconds=0.3, rate=RATE, freq=300):
    folder.mkdir(parents=True, exist_ok=True)
    n = int(rate * seconds)
    samples = array.array("h", [0] * 200 + [int(8000 * ((i // 20) % 2 * 2 - 1)) for i in range(n)] + [0] * 200)
    with wave.open(str(folder / f"{slug(text)}.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_clip_names_keep_the_tones_apart():
    assert slug("Đến quầy số") == "đến-quầy-số"
    assert slug("mười lăm") == "mười-lăm"
    assert len({slug(w) for w in ("mười", "mươi", "một", "mốt", "năm", "lăm", "tư", "bốn")}) == 8


def test_segments_keep_the_template_phrases_whole_and_numbers_as_words():
    assert call_segments("1005", 3) == [
        ("mời công dân có số thứ tự", True), ("một nghìn không trăm linh năm", False),
        ("đến quầy số", True), ("ba", False)]
    assert call_segments("A012", 12, style=Style(region="south"))[1] == ("a không mười hai", False)


def test_a_recorded_voice_is_used_and_a_missing_word_is_left_out(tmp_path, monkeypatch):
    pack = VoicePack(tmp_path)
    monkeypatch.setattr(pack, "espeak", None)  # only what is recorded
    for text in ("mời công dân có số thứ tự", "đến quầy số", "một", "nghìn", "không", "trăm", "ba"):
        write_clip(pack.custom, text, rate=44100)
    plan = clip_plan(pack, call_segments("1005", 3))
    names = [[p.stem for p in clips] for clips in plan]
    # "linh" and "năm" have no clip: left out, the rest is still said.
    assert names == [["mời-công-dân-có-số-thứ-tự"], ["một", "nghìn", "không", "trăm"], ["đến-quầy-số"], ["ba"]]
    wav = build_call_wav(pack, "1005", 3)
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        seconds = w.getnframes() / RATE
        samples = array.array("h", w.readframes(w.getnframes()))
    assert 2.0 < seconds < 6.0
    assert max(abs(s) for s in samples) > 20000  # normalised, not silent


def test_with_no_voice_at_all_the_pack_says_so(tmp_path, monkeypatch):
    pack = VoicePack(tmp_path)
    monkeypatch.setattr(pack, "espeak", None)
    assert pack.available is False


@needs_espeak
def test_espeak_builds_a_real_announcement_and_caches_it(tmp_path):
    pack = VoicePack(tmp_path)
    assert pack.available
    first = build_call_wav(pack, "1005", 3)
    with wave.open(str(first)) as w:
        assert w.getframerate() == RATE
        seconds = w.getnframes() / RATE
        samples = array.array("h", w.readframes(w.getnframes()))
    assert 3.0 < seconds < 12.0
    loud = sum(1 for s in samples if abs(s) > 2000) / len(samples)
    assert loud > 0.2  # mostly speech, not silence
    stamp = first.stat().st_mtime_ns
    assert build_call_wav(pack, "1005", 3) == first and first.stat().st_mtime_ns == stamp
    assert build_call_wav(pack, "1006", 3) != first
    # Word clips were generated once each and are reused.
    assert (pack.generated / "một.wav").is_file() and (pack.generated / "đến-quầy-số.wav").is_file()


def test_the_counter_name_can_replace_its_number():
    segments = call_segments("1005", 3, "Mời số {number} đến {counter_name}", counter_name="Quầy Hộ tịch")
    assert segments == [("mời số", True), ("một nghìn không trăm linh năm", False), ("đến", True),
                        ("quầy hộ tịch", True)]
