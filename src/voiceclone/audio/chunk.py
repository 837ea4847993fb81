"""The unit that flows end to end: engines yield chunks, encoders and streams consume them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AudioChunk:
    """A piece of mono float32 audio in [-1, 1], made from one span of the input text."""

    samples: np.ndarray
    sample_rate: int
    text: str = ""
    index: int = 0

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate
