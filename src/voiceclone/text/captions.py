"""Captions from word timings: WebVTT, SubRip (SRT) and JSON.

Words are grouped into cues of at most ``max_chars`` characters that end at a sentence
end or a pause, as subtitle guidelines ask (two short lines' worth, read comfortably).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from voiceclone.audio.chunk import WordTiming
from voiceclone.errors import InvalidRequest

CaptionFormat = Literal["vtt", "srt", "json"]
CAPTION_FORMATS: tuple[CaptionFormat, ...] = ("vtt", "srt", "json")
CONTENT_TYPES: dict[CaptionFormat, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "json": "application/json",
}
MAX_CUE_CHARS = 42
PAUSE_SECONDS = 0.6
_SENTENCE_END = tuple(".!?。！？…")


def check_caption_format(value: str) -> CaptionFormat:
    for known in CAPTION_FORMATS:
        if value == known:
            return known
    raise InvalidRequest(
        f"Unsupported caption format {value[:20]!r}. Supported formats: "
        f"{', '.join(CAPTION_FORMATS)}.",
        code="unsupported_format",
    )


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def cues(words: Sequence[WordTiming], max_chars: int = MAX_CUE_CHARS) -> list[Cue]:
    """Consecutive words joined into cues."""
    grouped: list[list[WordTiming]] = []
    for word in words:
        current = grouped[-1] if grouped else None
        if current is None or _starts_new_cue(current, word, max_chars):
            grouped.append([word])
        else:
            current.append(word)
    return [
        Cue(group[0].start, group[-1].end, " ".join(w.text for w in group)) for group in grouped
    ]


def _starts_new_cue(current: list[WordTiming], word: WordTiming, max_chars: int) -> bool:
    last = current[-1]
    length = sum(len(w.text) + 1 for w in current) + len(word.text)
    return (
        length > max_chars
        or last.text.endswith(_SENTENCE_END)
        or word.start - last.end >= PAUSE_SECONDS
    )


def _clock(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def to_vtt(words: Sequence[WordTiming]) -> str:
    blocks = ["WEBVTT"]
    for cue in cues(words):
        blocks.append(f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{cue.text}")
    return "\n\n".join(blocks) + "\n"


def to_srt(words: Sequence[WordTiming]) -> str:
    blocks = [
        f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.text}"
        for number, cue in enumerate(cues(words), start=1)
    ]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def words_json(words: Iterable[WordTiming], duration: float | None = None) -> str:
    return json.dumps(
        {
            "duration_seconds": duration,
            "words": [{"text": w.text, "start": w.start, "end": w.end} for w in words],
        },
        ensure_ascii=False,
    )


def words_from_json(text: str) -> tuple[list[WordTiming], float | None]:
    data = json.loads(text)
    words = [WordTiming(w["text"], float(w["start"]), float(w["end"])) for w in data["words"]]
    return words, data.get("duration_seconds")


def render(words: Sequence[WordTiming], fmt: CaptionFormat, duration: float | None) -> str:
    if fmt == "vtt":
        return to_vtt(words)
    if fmt == "srt":
        return to_srt(words)
    return words_json(words, duration)
