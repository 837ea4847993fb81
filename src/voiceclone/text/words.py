"""Word timings for captions: the words of a text span placed on the span's audio.

Engines know when their *spoken* units (phoneme words) start and end; captions show the
words as written. :func:`align_words` maps one onto the other: one to one when the counts
agree, otherwise by each written word's share of the letters (numbers read out as several
words, or words the phonemizer joined, still land where they are spoken).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from voiceclone.audio.chunk import AudioChunk, WordTiming

_SPOKEN = re.compile(r"\w")


def _ms(seconds: float) -> float:
    """Whole milliseconds, rounded down so no word ends after its audio."""
    return math.floor(seconds * 1000 + 1e-6) / 1000


def written_words(text: str) -> list[str]:
    """The words of ``text`` as a caption shows them (punctuation stays on its word)."""
    return [word for word in text.split() if _SPOKEN.search(word)]


def align_words(text: str, spoken: Sequence[tuple[float, float]]) -> tuple[WordTiming, ...]:
    """``text``'s written words timed by ``spoken`` (start, end) spans, in order."""
    words = written_words(text)
    if not words or not spoken:
        return ()
    if len(words) == len(spoken):
        return tuple(
            WordTiming(word, _ms(start), _ms(end))
            for word, (start, end) in zip(words, spoken, strict=True)
        )
    return _by_letter_share(words, spoken)


def spread_words(text: str, start: float, end: float) -> tuple[WordTiming, ...]:
    """``text``'s words spread over [start, end] by their length (no spoken timings)."""
    return align_words(text, [(start, end)]) if written_words(text) else ()


def _by_letter_share(
    words: list[str], spoken: Sequence[tuple[float, float]]
) -> tuple[WordTiming, ...]:
    # A piecewise-linear clock: position (0..1 through the spoken units, by count) -> time.
    edges = np.linspace(0.0, 1.0, len(spoken) + 1)
    starts = np.array([start for start, _ in spoken])
    ends = np.array([end for _, end in spoken])
    positions = np.concatenate([edges[:-1], edges[1:] - 1e-9])
    times = np.concatenate([starts, ends])
    order = np.argsort(positions, kind="stable")
    positions, times = positions[order], times[order]
    letters = np.array([len(_SPOKEN.findall(word)) or 1 for word in words], dtype=float)
    bounds = np.concatenate([[0.0], np.cumsum(letters) / letters.sum()])
    at = np.interp(bounds, positions, times)
    return tuple(
        WordTiming(word, _ms(float(at[i])), _ms(float(max(at[i + 1], at[i]))))
        for i, word in enumerate(words)
    )


class WordClock:
    """Collects the words of a chunk stream on one timeline (seconds from its start).

    Chunks without timings (an engine that gives none) have their span's words spread over
    the audio of the consecutive chunks that carry that span's text.
    """

    def __init__(self) -> None:
        self.words: list[WordTiming] = []
        self._elapsed = 0.0
        self._untimed_text = ""
        self._untimed_start = 0.0

    def add(self, chunk: AudioChunk) -> list[WordTiming]:
        """Place ``chunk``'s words; returns those placed now (times on the timeline)."""
        placed: list[WordTiming] = []
        if chunk.words or chunk.text != self._untimed_text:
            placed += self._flush_untimed()
        if chunk.words:
            placed += [word.shifted(self._elapsed) for word in chunk.words]
        elif chunk.text and not self._untimed_text:
            self._untimed_text, self._untimed_start = chunk.text, self._elapsed
        self._elapsed += chunk.duration
        self.words += placed
        return placed

    def finish(self) -> list[WordTiming]:
        """Place what is still pending; returns those words."""
        placed = self._flush_untimed()
        self.words += placed
        return placed

    @property
    def elapsed(self) -> float:
        return self._elapsed

    def _flush_untimed(self) -> list[WordTiming]:
        if not self._untimed_text:
            return []
        text, self._untimed_text = self._untimed_text, ""
        return list(spread_words(text, self._untimed_start, self._elapsed))


#: Receives words as their chunks pass (times from the start of the stream's audio).
WordSink = Callable[[list[WordTiming]], None]


def collect_word_timings(chunks: Iterable[AudioChunk], on_words: WordSink) -> Iterator[AudioChunk]:
    """The chunks unchanged; each one's words, on the stream's timeline, go to ``on_words``
    as it passes (the last untimed span's when the stream ends)."""
    clock = WordClock()
    for chunk in chunks:
        placed = clock.add(chunk)
        if placed:
            on_words(placed)
        yield chunk
    rest = clock.finish()
    if rest:
        on_words(rest)
