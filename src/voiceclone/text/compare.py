"""How far a transcript is from the text it should say: word and character error rates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_PUNCTUATION = re.compile(r"[^\w\s']", re.UNICODE)


def normalise_words(text: str) -> list[str]:
    """Lower-cased words, punctuation dropped (NFKC first, so full-width forms match)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("-", " ")
    return _PUNCTUATION.sub(" ", text).split()


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (words or characters)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def error_rate(pairs: Sequence[tuple[str, str]], unit: str) -> float:
    """Corpus WER (``unit="word"``) or CER (``"char"``, spaces and punctuation dropped)."""
    errors = total = 0
    for reference, hypothesis in pairs:
        ref, hyp = normalise_words(reference), normalise_words(hypothesis)
        if unit == "char":
            ref, hyp = list("".join(ref)), list("".join(hyp))
        errors += edit_distance(ref, hyp)
        total += len(ref)
    return errors / max(1, total)
