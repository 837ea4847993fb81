"""The unit that flows end to end: engines yield chunks, encoders and streams consume them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WordTiming:
    """One spoken word of a chunk's text, in seconds from the start of that chunk."""

    text: str
    start: float
    end: float

    def shifted(self, seconds: float) -> WordTiming:
        return WordTiming(self.text, self.start + seconds, self.end + seconds)


@dataclass(frozen=True)
class AudioChunk:
    """A piece of mono float32 audio in [-1, 1], made from one span of the input text.

    ``words`` time the span's words from the first sample of this chunk. A stage that holds
    audio back (the watermark) shifts them, so a word may end after the chunk does: its
    audio comes in the next chunk. Adding up chunk durations always gives the timeline.
    """

    samples: np.ndarray
    sample_rate: int
    text: str = ""
    index: int = 0
    words: tuple[WordTiming, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def with_samples(self, samples: np.ndarray, words_shift: float = 0.0) -> AudioChunk:
        """The same chunk with other samples; its words moved by ``words_shift`` seconds."""
        words = tuple(word.shifted(words_shift) for word in self.words)
        return dataclasses.replace(self, samples=samples, words=words)
