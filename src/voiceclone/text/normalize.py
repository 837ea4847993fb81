"""Clean text up and spell numbers out, so the phonemizer reads it as a person would."""

from __future__ import annotations

import re
import unicodedata

from voiceclone.text.english import read_english
from voiceclone.text.korean import read_korean
from voiceclone.text.language import resolve_language

ENGLISH = frozenset({"en-us", "en-gb"})
KOREAN = "ko"

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("“”„‟«»〝〞″", '"'),
        **dict.fromkeys("‘’‚‛′`", "'"),
        **dict.fromkeys("‐‑‒−", "-"),
        **dict.fromkeys("—―", "—"),
    }
)
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
"""Control, format (zero-width, BOM, soft hyphen), private-use and unassigned characters."""

_EN_DASH_BETWEEN_DIGITS = re.compile(r"(?<=\d)\s?–\s?(?=\d)")
_SPACED_HYPHEN = re.compile(r"(?<=\S)\s+-{1,2}\s+(?=\D)|\s*--\s*|\s*–\s*")
_ELLIPSIS = re.compile(r"\.(?:\s?\.){2,}")
_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str, language: str) -> str:
    """Text ready for :class:`~voiceclone.text.phonemize.Phonemizer`.

    Every language: NFKC (which also composes Hangul), control and zero-width characters
    dropped, one space between words, plain quotes and dashes, "…" for "...".
    English (``en-us``, ``en-gb``) and Korean (``ko``) also get numbers, dates, times,
    money, percentages and units read out as words; other languages leave digits to espeak.
    """
    code = resolve_language(text, language)
    text = clean_text(text)
    if code in ENGLISH:
        text = read_english(text, code)
    elif code == KOREAN:
        text = read_korean(text)
    return collapse_whitespace(text)


def clean_text(text: str) -> str:
    """Unicode, whitespace and punctuation clean-up shared by every language."""
    text = unicodedata.normalize("NFKC", text)
    text = _drop_invisible_characters(text)
    text = text.translate(_PUNCTUATION)
    text = _EN_DASH_BETWEEN_DIGITS.sub("-", text)
    text = _SPACED_HYPHEN.sub(" — ", text)
    text = _ELLIPSIS.sub("…", text)
    return collapse_whitespace(text)


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _drop_invisible_characters(text: str) -> str:
    return "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
