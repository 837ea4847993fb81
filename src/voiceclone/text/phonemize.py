"""Text to IPA phonemes with espeak-ng, one cached backend per language.

Building an espeak backend loads a private copy of the library and a voice, which is most
of the cost of ``phonemizer.phonemize()``; reusing the backend makes a call several times
cheaper. espeak-ng keeps global state, so calls are serialized with a lock.

Korean is the exception: espeak's ``ko`` voice reads Hangul nearly letter by letter, so
Hangul goes through :mod:`voiceclone.text.korean_g2p` and only the Latin words in it reach
espeak (``en-us``).
"""

from __future__ import annotations

import logging
import os
import threading

import espeakng_loader
from phonemizer.backend import EspeakBackend
from phonemizer.backend.espeak.wrapper import EspeakWrapper

from voiceclone.text import korean_g2p
from voiceclone.text.language import LANGUAGES, resolve_language

LIBRARY_ENV = "PHONEMIZER_ESPEAK_LIBRARY"
"""Set to use another espeak-ng shared library than the one espeakng-loader ships."""

# Punctuation espeak drops or ignores, as the marks phonemizer keeps (pauses for Kokoro).
_ESPEAK_PUNCTUATION = str.maketrans(
    {
        "。": ". ", "｡": ". ", "．": ". ", "、": ", ", "，": ", ", "；": "; ", "：": ": ",
        "！": "! ", "？": "? ", "।": ". ", "॥": ". ", "「": ' "', "」": '" ', "『": ' "',
        "』": '" ', "\n": " ", "\r": " ", "\t": " ",
    }
)  # fmt: skip

_espeak_lock = threading.Lock()
_logger = logging.getLogger(__name__)
_espeak_logger = logging.getLogger(f"{__name__}.espeak")
_espeak_logger.setLevel(logging.ERROR)  # language-switch notices on every Latin word in ja/ko


def _use_bundled_espeak() -> None:
    EspeakWrapper.set_library(os.environ.get(LIBRARY_ENV) or espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())


KOREAN = "ko"
FALLBACK_LANGUAGE = "en-us"
"""espeak voice for the non-Hangul runs (Latin words) of Korean text."""


class Phonemizer:
    """``phonemize(text, language)`` with one espeak backend per language, built on first
    use and reused. Safe to share between threads.

    Korean goes through :mod:`voiceclone.text.korean_g2p` (pronunciation rules, then IPA in
    Kokoro's symbols, rendered as ``korean_options`` say) unless ``korean_rules`` is false,
    which gives espeak-ng's ``ko`` voice.
    """

    def __init__(
        self, korean_rules: bool = True, korean_options: korean_g2p.G2POptions | None = None
    ) -> None:
        self._backends: dict[str, EspeakBackend] = {}
        self.korean_rules = korean_rules
        self.korean_options = korean_options or korean_g2p.DEFAULT_OPTIONS

    def phonemize(self, text: str, language: str) -> str:
        """IPA with stress marks and punctuation kept; ``language`` is a code or alias."""
        code = resolve_language(text, language)
        text = text.translate(_ESPEAK_PUNCTUATION).strip()
        if not text:
            return ""
        if code == KOREAN and self.korean_rules:
            return korean_g2p.to_ipa(
                text, lambda span: self._espeak(span, FALLBACK_LANGUAGE), self.korean_options
            )
        return self._espeak(text, code)

    def _espeak(self, text: str, code: str) -> str:
        with _espeak_lock:
            backend = self._backend(code)
            (phonemes,) = backend.phonemize([text], strip=True)
        return " ".join(phonemes.split())

    def warm_up(self, *languages: str) -> None:
        """Build the backends now rather than on the first request."""
        with _espeak_lock:
            for language in languages:
                self._backend(resolve_language("", language))

    def _backend(self, code: str) -> EspeakBackend:
        backend = self._backends.get(code)
        if backend is None:
            if not self._backends:
                _use_bundled_espeak()
            voice = LANGUAGES[code].espeak_voice
            _logger.debug("loading espeak-ng voice %s", voice)
            backend = EspeakBackend(
                voice,
                preserve_punctuation=True,
                with_stress=True,
                language_switch="remove-flags",
                words_mismatch="ignore",
                logger=_espeak_logger,
            )
            self._backends[code] = backend
        return backend
