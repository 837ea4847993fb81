"""The languages we speak, their aliases, and cheap script-based detection."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from voiceclone.errors import InvalidText

AUTO = "auto"
DEFAULT_LANGUAGE = "en-us"
DETECTION_PREFIX_CHARS = 2_000
"""Detection reads at most this many characters, so it costs the same on any text."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    espeak_voice: str
    """The espeak-ng voice used for phonemization."""
    stock_voice_prefix: str | None
    """First letter of Kokoro's stock voices for this language (``af_heart`` -> ``a``)."""
    rising_questions: bool = False
    """Questions end on a rise (Korean -요? and -까?), which engines trained without the
    language do not make by themselves."""


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en-us", "English (American)", "en-us", "a"),
        Language("en-gb", "English (British)", "en-gb", "b"),
        Language("ko", "Korean", "ko", None, rising_questions=True),
        Language("ja", "Japanese", "ja", "j"),
        Language("zh", "Mandarin Chinese", "cmn", "z"),
        Language("es", "Spanish", "es", "e"),
        Language("fr", "French", "fr-fr", "f"),
        Language("it", "Italian", "it", "i"),
        Language("pt", "Portuguese (Brazilian)", "pt-br", "p"),
        Language("hi", "Hindi", "hi", "h"),
    )
}

_ALIASES: dict[str, str] = {
    **{alias: "en-us" for alias in ("en", "eng", "english", "us", "american", "en-us")},
    **{alias: "en-gb" for alias in ("en-uk", "uk", "gb", "british", "en-gb")},
    **{alias: "ko" for alias in ("ko-kr", "kr", "kor", "korean", "한국어")},
    **{alias: "ja" for alias in ("ja-jp", "jp", "jpn", "japanese", "日本語")},
    **{
        alias: "zh"
        for alias in ("zh-cn", "zh-hans", "zh-sg", "cmn", "zho", "chi", "chinese", "mandarin")
    },
    **{alias: "zh" for alias in ("中文", "普通话")},
    **{alias: "es" for alias in ("es-es", "es-mx", "es-419", "spa", "spanish", "español")},
    **{alias: "fr" for alias in ("fr-fr", "fr-ca", "fra", "fre", "french", "français")},
    **{alias: "it" for alias in ("it-it", "ita", "italian", "italiano")},
    **{alias: "pt" for alias in ("pt-br", "por", "portuguese", "brazilian", "português")},
    **{alias: "hi" for alias in ("hi-in", "hin", "hindi", "हिन्दी", "हिंदी")},
}


def language_names() -> tuple[str, ...]:
    """Every code and alias :func:`resolve_language` takes, lower case."""
    return tuple(dict.fromkeys([*LANGUAGES, *_ALIASES]))


def supported_codes() -> str:
    return ", ".join(LANGUAGES)


def resolve_language(text: str, language: str | None) -> str:
    """The supported language code for ``language``, or the one detected from ``text``.

    ``language`` may be a code, a common alias (``en``, ``EN_US``, ``ko-KR``, ``pt-BR``,
    ``zh-CN``, ``cmn``, ``english``...), or ``None``/``"auto"`` to detect by script.
    """
    if language is None or language.strip().lower() == AUTO:
        return detect_language(text)
    key = language.strip().lower().replace("_", "-")
    code = key if key in LANGUAGES else _ALIASES.get(key)
    if code is None:
        raise InvalidText(
            f"Unsupported language {language!r}. Use one of: {supported_codes()} "
            f"(or '{AUTO}' to detect it from the text).",
            code="unsupported_language",
        )
    return code


def get_language(code: str) -> Language:
    """The :class:`Language` for a code or alias (not ``auto``)."""
    return LANGUAGES[resolve_language("", code)]


# -- detection -------------------------------------------------------------------------------

_HANGUL = "hangul"
_KANA = "kana"
_HAN = "han"
_DEVANAGARI = "devanagari"
_LATIN = "latin"

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0xAC00, 0xD7A3, _HANGUL),
    (0x1100, 0x11FF, _HANGUL),
    (0x3130, 0x318F, _HANGUL),
    (0x3040, 0x30FF, _KANA),
    (0x31F0, 0x31FF, _KANA),
    (0xFF66, 0xFF9F, _KANA),
    (0x4E00, 0x9FFF, _HAN),
    (0x3400, 0x4DBF, _HAN),
    (0xF900, 0xFAFF, _HAN),
    (0x0900, 0x097F, _DEVANAGARI),
)

# One Hangul syllable or Han character carries about as much as a few Latin letters.
_SCRIPT_WEIGHTS = {_HANGUL: 3, _KANA: 2, _HAN: 3, _DEVANAGARI: 1, _LATIN: 1}
_MIN_KANA_SHARE = 0.1
"""Japanese prose is mostly kana; a stray kana in Chinese text does not make it Japanese."""


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LATIN_STOPWORDS: dict[str, frozenset[str]] = {
    "en-us": _word_set("the and is are of to in that it with for was you this have be not on at"),
    "es": _word_set("el los las del que y es en por con una para está pero muy como más se lo"),
    "fr": _word_set(
        "le les des et est une dans pour pas que qui avec sur ce il je vous nous au du"
    ),
    "it": _word_set("il gli della che è non per una sono con del di questo anche come ma nel"),
    "pt": _word_set("o os as da do não que é uma para com em por mais como mas você está"),
}
_LATIN_LETTER_CUES: dict[str, str] = {"es": "ñ¿¡", "fr": "çœêèùûëîïâ", "it": "òì", "pt": "ãõ"}
_LETTER_CUE_WEIGHT = 2
_MIN_LATIN_EVIDENCE = 2
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """Guess the language from the first DETECTION_PREFIX_CHARS characters of ``text``."""
    prefix = text[:DETECTION_PREFIX_CHARS]
    counts = _count_scripts(prefix)
    if not counts:
        return DEFAULT_LANGUAGE
    weighted = {script: n * _SCRIPT_WEIGHTS[script] for script, n in counts.items()}
    cjk = counts[_KANA] + counts[_HAN]
    weighted["cjk"] = weighted.pop(_KANA, 0) + weighted.pop(_HAN, 0)
    dominant = max(weighted, key=lambda script: weighted[script])
    if dominant == _HANGUL:
        return "ko"
    if dominant == "cjk":
        return "ja" if counts[_KANA] >= _MIN_KANA_SHARE * cjk else "zh"
    if dominant == _DEVANAGARI:
        return "hi"
    return _detect_latin_language(prefix)


def _script_of(char: str) -> str | None:
    point = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= point <= high:
            return script
    if char.isalpha() and point < 0x0250:
        return _LATIN
    return None


def _count_scripts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for char in text:
        script = _script_of(char)
        if script is not None:
            counts[script] += 1
    return counts


def _detect_latin_language(text: str) -> str:
    """en-us unless stopwords and letters clearly point at es, fr, it or pt."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    scores = {
        code: sum(word in stopwords for word in words)
        for code, stopwords in _LATIN_STOPWORDS.items()
    }
    for code, letters in _LATIN_LETTER_CUES.items():
        scores[code] += _LETTER_CUE_WEIGHT * sum(lowered.count(letter) for letter in letters)
    best = max(scores, key=lambda code: scores[code])
    clear_winner = scores[best] >= _MIN_LATIN_EVIDENCE and scores[best] > scores[DEFAULT_LANGUAGE]
    return best if clear_winner else DEFAULT_LANGUAGE
