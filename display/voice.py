"""Announcements as WAV files, built offline from a voice pack of short clips.

A voice pack is a folder of WAV clips named after what they say, in Vietnamese with its tone marks
(`đến-quầy-số.wav` says "đến quầy số", `mười.wav` "mười", `mươi.wav` "mươi"): mono, 16-bit, any
sample rate. A centre can record a real human voice
into `<data dir>/voice/custom/`; any clip missing there comes from the default pack, which espeak-ng
generates into `<data dir>/voice/espeak-<voice>/` the first time a clip is needed (fed words, never
digits). Phrases are looked up whole first and word by word otherwise; a word with no clip at all is
logged and left out, so a call is never silent because one clip is missing.

A call becomes: chime, then the sentence: clips trimmed of silence and normalised (once per clip),
joined with short natural gaps, cached under `<data dir>/voice/cache/` by the sentence it says.
"""
from __future__ import annotations

import array
import functools
import hashlib
import logging
import math
import os
import re
import shutil
import subprocess
import threading
import time
import unicodedata
import wave
from pathlib import Path

from .speech import DEFAULT_TEMPLATE, Style, number_words, ticket_words

log = logging.getLogger(__name__)

RATE = 22050
WORD_GAP_S = 0.06
PHRASE_GAP_S = 0.22
SILENCE_THRESHOLD = 400
PEAK = 0.89 * 32767


def slug(text: str) -> str:
    """`Đến quầy số` → `đến-quầy-số`: a clip's file name is what it says, tone marks kept, because
    words that differ only by tone are different clips (mười / mươi, một / mốt)."""
    words = unicodedata.normalize("NFC", text.lower()).split()
    return "-".join("".join(ch for ch in word if ch.isalnum()) for word in words).strip("-")


class VoicePack:
    def __init__(self, data_dir: Path, voice: str = "vi"):
        root = Path(data_dir) / "voice"
        self.custom = root / "custom"
        self.generated = root / f"espeak-{voice}"
        self.cache = root / "cache"
        self.voice = voice
        self.espeak = shutil.which("espeak-ng")
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether calls can be spoken from this pack (espeak-ng or a recorded voice)."""
        return self.espeak is not None or any(self.custom.glob("*.wav"))

    def clip(self, text: str) -> Path | None:
        name = slug(text) + ".wav"
        for folder in (self.custom, self.generated):
            if (folder / name).is_file():
                return folder / name
        return self._generate(text, name)

    def _generate(self, text: str, name: str) -> Path | None:
        if self.espeak is None:
            return None
        with self._lock:
            self.generated.mkdir(parents=True, exist_ok=True)
            target = self.generated / name
            partial = target.with_suffix(".part")
            result = subprocess.run([self.espeak, "-v", self.voice, "-s", "150", "-w", str(partial), text],
                                    capture_output=True, timeout=20)
            if result.returncode != 0 or not partial.exists():
                log.warning("espeak-ng could not say %r: %s", text, result.stderr[-200:])
                return None
            partial.replace(target)
            return target


# -- what to say -------------------------------------------------------------------------------
def call_segments(number: str, counter: int, template: str = DEFAULT_TEMPLATE,
                  style: Style = Style(), counter_name: str = "") -> list[tuple[str, bool]]:
    """(text, is_fixed_phrase) pieces of the call sentence: the template's own words and the
    counter's name are phrases (one clip each when the pack has it), numbers are words."""
    values = {"{number}": (ticket_words(number, style), False),
              "{counter}": (number_words(counter, style), False),
              "{counter_name}": (counter_name.lower(), True)}
    segments: list[tuple[str, bool]] = []
    for piece in re.split(r"(\{number\}|\{counter\}|\{counter_name\})", template):
        if piece in values:
            segments.append(values[piece])
        elif piece.strip():
            segments.append((piece.strip().lower(), True))
    return [segment for segment in segments if segment[0]]


def clip_plan(pack: VoicePack, segments: list[tuple[str, bool]]) -> list[list[Path]]:
    """The clips to play, one list per segment; what the pack cannot say is left out, logged."""
    plan = []
    for text, phrase in segments:
        whole = pack.clip(text) if phrase else None
        if whole is not None:
            plan.append([whole])
            continue
        clips = []
        for word in text.split():
            found = pack.clip(word)
            if found is None:
                log.warning("voice pack has no clip for %r", word)
            else:
                clips.append(found)
        plan.append(clips)
    return plan


# -- sound -------------------------------------------------------------------------------------
def read_clip(path: Path) -> array.array:
    with wave.open(str(path), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width != 2 or channels != 1:
        raise ValueError(f"{path.name}: voice clips must be mono 16-bit WAV")
    samples = array.array("h", frames)
    return resample(samples, rate) if rate != RATE else samples


def resample(samples: array.array, rate: int) -> array.array:
    """Linear resampling to RATE (clips are short; recorded ones may come at 44.1 or 48 kHz)."""
    count = int(len(samples) * RATE / rate)
    step = rate / RATE
    out = array.array("h", bytes(2 * count))
    for i in range(count):
        pos = i * step
        j = int(pos)
        nxt = samples[j + 1] if j + 1 < len(samples) else samples[j]
        out[i] = int(samples[j] + (nxt - samples[j]) * (pos - j))
    return out


def trim(samples: array.array) -> array.array:
    start, end = 0, len(samples)
    while start < end and abs(samples[start]) < SILENCE_THRESHOLD:
        start += 1
    while end > start and abs(samples[end - 1]) < SILENCE_THRESHOLD:
        end -= 1
    return samples[start:end]


def silence(seconds: float) -> array.array:
    return array.array("h", bytes(2 * int(RATE * seconds)))


@functools.lru_cache(maxsize=1)
def chime() -> array.array:
    """Two soft bell tones, the sound that makes a waiting hall look up."""
    out = array.array("h")
    for freq, seconds in ((880.0, 0.35), (660.0, 0.55)):
        n = int(RATE * seconds)
        out.extend(int(9000 * math.exp(-4 * i / n) * (math.sin(2 * math.pi * freq * i / RATE)
                                                       + 0.3 * math.sin(4 * math.pi * freq * i / RATE)))
                   for i in range(n))
    return out


def normalise(samples: array.array) -> array.array:
    """Every clip to the same peak, so a recorded voice and generated words sound equally loud."""
    peak = max((abs(s) for s in samples), default=0)
    if peak == 0:
        return samples
    factor = PEAK / peak
    return array.array("h", (int(s * factor) for s in samples))


@functools.lru_cache(maxsize=1024)
def _prepared(path: str, mtime_ns: int) -> array.array:
    return normalise(trim(read_clip(Path(path))))


def prepared_clip(path: Path) -> array.array:
    """A clip read, trimmed and normalised: done once per clip file (a changed file is redone)."""
    return _prepared(str(path), path.stat().st_mtime_ns)


def build_call_wav(pack: VoicePack, number: str, counter: int, template: str = DEFAULT_TEMPLATE,
                   style: Style = Style(), counter_name: str = "") -> Path:
    """The announcement for one call, from the cache when it was built before."""
    segments = call_segments(number, counter, template, style, counter_name)
    sentence = " ".join(text for text, _ in segments)
    key = hashlib.sha1(f"{pack.voice}|{sentence}".encode()).hexdigest()[:20]
    target = pack.cache / f"{key}.wav"
    if target.is_file():
        return target
    # Every board asks for a new call's announcement at once: one of them builds it, the others
    # wait and get the same file.
    with _building_lock:
        lock = _building.setdefault(key, threading.Lock())
    with lock:
        if target.is_file():
            return target
        built = _build(pack, segments, target)
    with _building_lock:
        _building.pop(key, None)
    return built


_building: dict[str, threading.Lock] = {}
_building_lock = threading.Lock()


def _build(pack: VoicePack, segments, target: Path) -> Path:
    speech = array.array("h")
    for index, clips in enumerate(clip_plan(pack, segments)):
        if index:
            speech.extend(silence(PHRASE_GAP_S))
        for position, clip in enumerate(clips):
            if position:
                speech.extend(silence(WORD_GAP_S))
            speech.extend(prepared_clip(clip))
    written = write_wav(target, chime() + silence(0.3) + speech + silence(0.2))
    prune_cache(pack.cache)
    return written


# The announcement cache holds at most this many files, none older than this: a new call's
# announcement is built once and replayed by every board, and yesterday's numbers are not needed.
CACHE_FILES = 400
CACHE_SECONDS = 2 * 24 * 3600


def prune_cache(cache: Path, now: float | None = None) -> None:
    """Drop announcements past CACHE_SECONDS, then the oldest beyond CACHE_FILES."""
    now = time.time() if now is None else now
    entries = []
    for path in cache.glob("*.wav"):
        try:
            entries.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            continue            # pruned meanwhile by another worker
    entries.sort(reverse=True)
    for position, (mtime, path) in enumerate(entries):
        if position >= CACHE_FILES or now - mtime > CACHE_SECONDS:
            path.unlink(missing_ok=True)


def write_wav(target: Path, samples: array.array) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two boards asking for the same new announcement at once each write theirs,
    # and the last rename wins with the same bytes.
    partial = target.with_name(f"{target.stem}.{os.getpid()}.{threading.get_ident()}.part")
    with wave.open(str(partial), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    partial.replace(target)
    return target


def chime_wav(pack: VoicePack) -> Path:
    """The chime alone: what the display plays before the browser's own voice speaks."""
    target = pack.cache / "chime.wav"
    return target if target.is_file() else write_wav(target, chime() + silence(0.2))
