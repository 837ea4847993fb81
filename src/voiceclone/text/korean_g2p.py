"""Hangul to IPA with the standard Korean pronunciation rules, in symbols Kokoro knows.

espeak-ng's Korean voice reads jamo nearly letter by letter (``q`` for a final ㄱ, no
nasalisation, symbols outside Kokoro's vocabulary), which Kokoro, trained without Korean,
turns into barely intelligible speech. Here each word (eojeol) is decomposed into jamo and
rewritten as it is pronounced (표준 발음법), then mapped to IPA:

- ㅎ: aspiration with a neighbouring ㄱ/ㄷ/ㅈ/ㅂ (좋다 -> 조타, 축하 -> 추카), deletion before a
  vowel (좋아 -> 조아) and after ㄴ/ㅁ/ㄹ/ㅇ (전화 -> 저놔);
- liaison (연음): a final consonant moves onto a following ㅇ (음악 -> 으막, 닭이 -> 달기);
- palatalisation (구개음화): final ㄷ/ㅌ before 이 (같이 -> 가치, 굳이 -> 구지);
- complex finals simplified and finals neutralised to the seven codas ㄱㄴㄷㄹㅁㅂㅇ;
- tensification (경음화) after obstruent finals (학교 -> 학꾜, 앉다 -> 안따);
- nasalisation (비음화): ㄱ/ㄷ/ㅂ before ㄴ/ㅁ (국물 -> 궁물), ㄹ after other consonants
  (심리 -> 심니, 국립 -> 궁닙);
- liquidisation (유음화): ㄴ+ㄹ and ㄹ+ㄴ -> ㄹㄹ (신라 -> 실라, 설날 -> 설랄).

Then ㄹ is [ɾ] between vowels and [l] in a coda, lax stops are voiced between voiced sounds
(ㄱ ㄷ ㅂ ㅈ -> ɡ d b ʥ), aspirated consonants carry ``ʰ`` and tense ones are plain
unaspirated stops (doubled after an obstruent final, as they are pronounced).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from voiceclone.text.korean_phrasing import mark_phrase_breaks

_FIRST_SYLLABLE, _LAST_SYLLABLE = 0xAC00, 0xD7A3
ONSETS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
CODAS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")

# -- pronunciation rules (on jamo) -------------------------------------------------------

_NEUTRAL_CODA = {
    **dict.fromkeys("ㄱㄲㅋㄳㄺ", "ㄱ"),
    **dict.fromkeys("ㄷㅅㅆㅈㅊㅌㅎ", "ㄷ"),
    **dict.fromkeys("ㅂㅍㅄㄿ", "ㅂ"),
    **dict.fromkeys("ㄴㄵㄶ", "ㄴ"),
    **dict.fromkeys("ㄹㄼㄽㄾㅀ", "ㄹ"),
    **dict.fromkeys("ㅁㄻ", "ㅁ"),
    "ㅇ": "ㅇ",
    "": "",
}
_SPLIT_CODA = {
    "ㄳ": ("ㄱ", "ㅆ"), "ㄵ": ("ㄴ", "ㅈ"), "ㄶ": ("ㄴ", "ㅎ"), "ㄺ": ("ㄹ", "ㄱ"),
    "ㄻ": ("ㄹ", "ㅁ"), "ㄼ": ("ㄹ", "ㅂ"), "ㄽ": ("ㄹ", "ㅆ"), "ㄾ": ("ㄹ", "ㅌ"),
    "ㄿ": ("ㄹ", "ㅍ"), "ㅀ": ("ㄹ", "ㅎ"), "ㅄ": ("ㅂ", "ㅆ"),
}  # fmt: skip
"""Complex finals before a vowel: the first letter stays, the second moves on (ㅅ tensed)."""
_ASPIRATED = {"ㄱ": "ㅋ", "ㄷ": "ㅌ", "ㅈ": "ㅊ", "ㅂ": "ㅍ", "ㅅ": "ㅆ"}
_TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
_NASAL = {"ㄱ": "ㅇ", "ㄷ": "ㄴ", "ㅂ": "ㅁ"}
_STEM_TENSING_CODAS = frozenset("ㄵㄻㄼㄾㄺ")
"""Verb-stem finals that tense a following consonant though they sound as sonorants."""
_SONORANT_CODAS = frozenset("ㄴㅁㄹㅇ")


def _before_h(coda: str) -> tuple[str, str]:
    """A final before an onset ㅎ: aspiration, or ㅎ dropped after a sonorant."""
    if coda in _SPLIT_CODA and coda not in ("ㄶ", "ㅀ"):
        first, second = _SPLIT_CODA[coda]
        if second in "ㄱㅈㅂ":  # 밝히다 -> 발키다, 앉히다 -> 안치다, 넓히다 -> 널피다
            return first, _ASPIRATED[second]
        coda = _NEUTRAL_CODA[coda]
    if coda in ("ㄴ", "ㅁ", "ㄹ"):  # 전화 -> 저놔, 결혼 -> 겨론
        return "", coda
    if coda == "ㅇ":
        return coda, "ㅇ"
    neutral = _NEUTRAL_CODA[coda]
    if coda in ("ㅈ", "ㅊ"):
        return "", "ㅊ"
    return "", _ASPIRATED[neutral]


def _join(coda: str, onset: str, vowel: str) -> tuple[str, str]:
    """The (final, next initial) pair as pronounced, inside one word."""
    if not coda:
        return coda, onset
    if coda in ("ㅎ", "ㄶ", "ㅀ"):
        rest = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}[coda]
        if onset in _ASPIRATED:  # 좋다 -> 조타, 많고 -> 만코, 좋소 -> 조쏘
            return rest, _ASPIRATED[onset]
        if onset == "ㅇ":  # 좋아 -> 조아, 많이 -> 마니, 싫어 -> 시러
            return "", rest or "ㅇ"
        if onset == "ㄴ":  # 놓는 -> 논는, 뚫는 -> 뚤른
            return (rest, "ㄹ") if rest == "ㄹ" else ("ㄴ", "ㄴ")
        coda = rest or "ㄷ"
    if onset == "ㅎ":
        coda, onset = _before_h(coda)
        if coda == "" and onset == "ㅌ" and vowel == "ㅣ":  # 닫히다 -> 다치다
            onset = "ㅊ"
        return coda, onset
    if onset == "ㅇ":
        if coda == "ㅇ":
            return coda, onset
        if coda in _SPLIT_CODA:
            first, second = _SPLIT_CODA[coda]
            if second == "ㅌ" and vowel == "ㅣ":  # 핥이다 -> 할치다
                second = "ㅊ"
            return first, second
        if vowel == "ㅣ" and coda in ("ㄷ", "ㅌ"):  # 굳이 -> 구지, 같이 -> 가치
            return "", "ㅈ" if coda == "ㄷ" else "ㅊ"
        return "", coda
    if coda == "ㄺ" and onset == "ㄱ":  # 맑게 -> 말께
        return "ㄹ", "ㄲ"
    neutral = _NEUTRAL_CODA[coda]
    if onset in _TENSE and (neutral in _NASAL or coda in _STEM_TENSING_CODAS):
        onset = _TENSE[onset]
    if neutral == "ㄴ" and onset == "ㄹ":  # 신라 -> 실라
        neutral = "ㄹ"
    elif neutral == "ㄹ" and onset == "ㄴ":  # 설날 -> 설랄
        onset = "ㄹ"
    elif onset == "ㄹ" and neutral not in ("", "ㄹ"):  # 심리 -> 심니, 국립 -> 궁닙
        onset = "ㄴ"
    if onset in ("ㄴ", "ㅁ") and neutral in _NASAL:  # 국물 -> 궁물
        neutral = _NASAL[neutral]
    return neutral, onset


def pronounce(word: str) -> list[tuple[str, str, str]]:
    """A Hangul word as pronounced: (initial, vowel, final) jamo per syllable.

    >>> pronounce("국물")
    [('ㄱ', 'ㅜ', 'ㅇ'), ('ㅁ', 'ㅜ', 'ㄹ')]
    """
    syllables = []
    for char in word:
        index = ord(char) - _FIRST_SYLLABLE
        syllables.append([ONSETS[index // 588], VOWELS[index % 588 // 28], CODAS[index % 28]])
    for left, right in pairwise(syllables):
        left[2], right[0] = _join(left[2], right[0], right[1])
    if syllables:
        syllables[-1][2] = _NEUTRAL_CODA[syllables[-1][2]]
    return [(onset, vowel, coda) for onset, vowel, coda in syllables]


# -- IPA -------------------------------------------------------------------------------------

_VOWEL_IPA = dict(
    zip(
        VOWELS,
        ("a", "ɛ", "ja", "jɛ", "ʌ", "e", "jʌ", "je", "o", "wa", "wɛ", "we", "jo", "u", "wʌ",
         "we", "wi", "ju", "ɯ", "ɯi", "i"),
        strict=True,
    )
)  # fmt: skip
_ONSET_IPA = {
    "ㄱ": "k", "ㄲ": "k", "ㅋ": "kʰ", "ㄷ": "t", "ㄸ": "t", "ㅌ": "tʰ", "ㅂ": "p", "ㅃ": "p",
    "ㅍ": "pʰ", "ㅈ": "ʨ", "ㅉ": "ʨ", "ㅊ": "ʨʰ", "ㅅ": "s", "ㅆ": "s", "ㅎ": "h", "ㄴ": "n",
    "ㅁ": "m", "ㄹ": "ɾ", "ㅇ": "",
}  # fmt: skip
_VOICED = {"ㄱ": "ɡ", "ㄷ": "d", "ㅂ": "b", "ㅈ": "ʥ"}
_CODA_IPA = {"ㄱ": "k", "ㄴ": "n", "ㄷ": "t", "ㄹ": "l", "ㅁ": "m", "ㅂ": "p", "ㅇ": "ŋ", "": ""}
_PALATAL_VOWELS = frozenset("ㅣㅑㅕㅛㅠㅒㅖㅟ")
_TENSE_ONSETS = frozenset("ㄲㄸㅃㅆㅉ")

STRESS = "ˈ"


@dataclass(frozen=True)
class G2POptions:
    """Renderings of Korean sounds in Kokoro's symbols, compared by listening back with two
    speech recognisers (``bench/korean.py --search``; the numbers are in the docs'
    performance page)."""

    stress: bool = False
    """A primary stress mark before the first syllable of each word, as espeak writes."""
    tense_geminate: bool = False
    """Write a tense consonant doubled after a vowel (아빠 -> appa) rather than plain."""
    link_words: bool = False
    """Voice a word's first lax stop after a word ending in a vowel or sonorant, as inside
    a phrase (바다에 가요 -> padae ɡajo); words after punctuation start afresh."""
    voice_lax_stops: bool = False
    """Write ㄱ ㄷ ㅂ ㅈ voiced (ɡ d b ʥ) at the start of a word too: Kokoro says a plain
    ``k`` aspirated, as English does, which a Korean listener hears as ㅋ."""
    tense_mark: str = ""
    """Written before a tense consonant that starts a word or follows a vowel (``ʔ``: 까 ->
    ʔka), to keep it apart from the lax one."""
    eo: str = "ʌ"
    """The vowel ㅓ (Seoul speech has it rounder than English ʌ: ``ɔ``)."""
    eu: str = "ɯ"
    """The vowel ㅡ (``ɨ`` is the nearest one Kokoro's other languages use)."""
    question_rise: str = ""
    """Written before a question mark (``↗``) so the last syllable rises."""
    long_vowel_before_tense: bool = False
    """Lengthen a vowel before a tense consonant (``ː``), which is how Kokoro hears a
    closure."""
    phrase_breaks: bool = False
    """Pause between groups of eojeol in a long sentence, after a clause's connective
    ending (:mod:`voiceclone.text.korean_phrasing`)."""


PLAIN_OPTIONS = G2POptions()
"""Each sound in its textbook IPA: what the pronunciation rules' tests read."""
SEARCHED_OPTIONS = G2POptions(voice_lax_stops=True, tense_mark="ʔ", eo="ɔ", eu="ɨ")
"""The renderings ``bench/korean.py --search`` kept on the dev sentences; on held-out ones
Whisper heard them worse than the plain ones, so they are not the default."""
DEFAULT_OPTIONS = G2POptions(phrase_breaks=True)
"""What the service speaks: textbook sounds, and pauses between groups of eojeol in long
sentences (recognisers heard them no worse on the dev sentences; see the docs' performance
page)."""


def _vowel(onset: str, vowel: str, first: bool) -> str:
    if vowel == "ㅢ":
        if onset != "ㅇ":  # 희망 -> 히망
            return "i"
        return "ɯi" if first else "i"
    if vowel == "ㅖ" and onset not in ("ㅇ", "ㄹ"):  # 시계 -> 시게
        return "e"
    return _VOWEL_IPA[vowel]


def word_to_ipa(
    word: str, options: G2POptions | None = None, previous_coda: str | None = None
) -> str:
    """IPA for one word of Hangul syllables; ``previous_coda`` is the final of the word
    before it in the same phrase ("" after a vowel), ``None`` at the start of a phrase."""
    options = options or DEFAULT_OPTIONS
    syllables = pronounce(word)
    out = [STRESS] if options.stress and syllables else []
    for position, (onset, vowel, coda) in enumerate(syllables):
        if previous_coda is None:
            voiced = options.voice_lax_stops and onset in _VOICED
            consonant = _VOICED[onset] if voiced else _ONSET_IPA[onset]
        elif onset in _VOICED and previous_coda in ("", *_SONORANT_CODAS):
            consonant = _VOICED[onset]
        elif onset == "ㄹ" and previous_coda == "ㄹ":
            consonant = "l"
        else:
            consonant = _ONSET_IPA[onset]
            if options.tense_geminate and previous_coda == "" and onset in _TENSE_ONSETS:
                consonant = consonant[0] + consonant
        if options.tense_mark and onset in _TENSE_ONSETS and previous_coda in (None, ""):
            consonant = options.tense_mark + consonant
        if (
            options.long_vowel_before_tense
            and out
            and onset in _TENSE_ONSETS
            and previous_coda == ""
        ):
            out[-1] += "ː"
        if onset in ("ㅅ", "ㅆ") and vowel in _PALATAL_VOWELS:
            consonant = "ɕ"
        vowel_ipa = _vowel(onset, vowel, position == 0).replace("ʌ", options.eo)
        vowel_ipa = vowel_ipa.replace("ɯ", options.eu)
        if consonant == "ɕ" and vowel_ipa.startswith("j"):
            vowel_ipa = vowel_ipa[1:]
        following = syllables[position + 1][0] if position + 1 < len(syllables) else ""
        final = "s" if coda == "ㄷ" and following in ("ㅅ", "ㅆ") else _CODA_IPA[coda]
        out.append(consonant + vowel_ipa + final)  # 있습니다 -> issɯmnida
        previous_coda = coda
    return "".join(out)


# -- text ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"([가-힣]+)|(\s+)|([.,?!;:…—\"“”()])|([^가-힣\s.,?!;:…—\"“”()]+)")
_SPOKEN = re.compile(r"\w")


def to_ipa(
    text: str,
    fallback: Callable[[str], str] | None = None,
    options: G2POptions | None = None,
) -> str:
    """IPA for Korean text: Hangul words by rule, punctuation kept, and any other run
    with letters or digits (Latin words, stray jamo) given to ``fallback`` (or dropped)."""
    options = options or DEFAULT_OPTIONS
    if options.phrase_breaks:
        text = mark_phrase_breaks(text)
    parts: list[str] = []
    previous_coda = None
    for hangul, space, mark, other in _TOKEN.findall(text):
        if hangul:
            linked = previous_coda if options.link_words else None
            parts.append(word_to_ipa(hangul, options, linked))
            previous_coda = pronounce(hangul[-1])[-1][2]
        elif space:
            parts.append(" ")
        elif mark:
            parts.append(options.question_rise + mark if mark == "?" else mark)
            previous_coda = None
        elif fallback is not None and _SPOKEN.search(other):
            parts.append(fallback(other))
            previous_coda = None
    return " ".join("".join(parts).split())
