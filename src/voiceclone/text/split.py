"""Streaming sentence splitting for Latin, Korean, Japanese, Chinese and Hindi text.

Text arrives in pieces of any size (64 KB file reads, words from a websocket) and
sentences leave as soon as they are complete. The splitter holds at most about
``2 * max_chars`` characters, however long the text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import chain
from os import PathLike

from voiceclone.errors import InvalidText

LATIN_TERMINATORS = ".!?…"
CJK_TERMINATORS = "。！？．｡；।॥"
"""Full stops that end a sentence even with no space after them (Hindi danda included)."""
CLOSERS = "\"'”’»)]}」』）】〕〉》"
"""Quotes and brackets that belong to the sentence whose full stop they follow."""
LATIN_CLAUSE_MARKS = ",;:—"
CJK_CLAUSE_MARKS = "、，；："

# Never a sentence end before a following word: "Dr. Smith", "e.g. apples".
ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "e.g", "i.e", "cf"}
    | {"approx", "ca", "gen", "col", "lt", "sgt", "capt", "rev", "hon"}
)
# Not a sentence end before a number: "No. 5", "Fig. 3", "Vol. 2".
NUMBER_ABBREVIATIONS = frozenset({"no", "nr", "fig", "vol", "pp", "p", "art", "ch", "sec"})

DEFAULT_PIECE_SIZE = 65_536
SHORT_SENTENCE_CHARS = 24
# The first chunk is not cut off a sentence when that would strand fewer characters.
MIN_TAIL_CHARS = 12
"""Chunks shorter than this ("Yes.", "Thank you.") are joined with the next sentence."""
ABBREVIATION_LOOKBACK_CHARS = 16

_CJK_CHAR = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]"
)
_SENTENCE_END_CANDIDATE = re.compile(
    rf"(?P<terminators>[{re.escape(LATIN_TERMINATORS + CJK_TERMINATORS)}]+)"
    rf"[{re.escape(CLOSERS)}]*"
    r"|(?P<paragraph>\n[^\S\n]*\n)"
)
_CUT_AFTER = re.compile(
    rf"[{re.escape(LATIN_TERMINATORS + LATIN_CLAUSE_MARKS)}][{re.escape(CLOSERS)}]*(?=\s)"
    rf"|[{re.escape(CJK_TERMINATORS + CJK_CLAUSE_MARKS)}][{re.escape(CLOSERS)}]*"
)
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_TOKEN_OPENERS = "\"'“‘([{«"
_UNDECIDED_TAIL_CHARS = frozenset(LATIN_TERMINATORS + CJK_TERMINATORS + CLOSERS)


# -- deciding where a sentence ends ----------------------------------------------------------


def _is_abbreviation(text: str, dot: int, following: str) -> bool:
    """Whether the "." at ``dot`` closes an abbreviation or initial rather than a sentence."""
    window = text[max(0, dot - ABBREVIATION_LOOKBACK_CHARS) : dot]
    token = window.split()[-1].lstrip(_TOKEN_OPENERS) if window.strip() else ""
    lowered = token.lower()
    if lowered in ABBREVIATIONS:
        return True
    if lowered in NUMBER_ABBREVIATIONS and following.isdigit():
        return True
    is_initial = len(token) == 1 and token.isupper()
    return is_initial or bool(_INITIALISM.fullmatch(token))


def _first_non_space(text: str, start: int) -> int | None:
    for index in range(start, len(text)):
        if not text[index].isspace():
            return index
    return None


def _ends_sentence(text: str, match: re.Match[str], final: bool) -> bool | None:
    """True/False once decidable; None while the text after ``match`` has not arrived yet."""
    terminators, end = match["terminators"], match.end()
    at_end = end == len(text)
    if at_end:
        return True if final else None
    if any(char in CJK_TERMINATORS for char in terminators):
        return True
    next_char = text[end]
    if _CJK_CHAR.match(next_char):
        return True  # "했다.그리고", "好!今天"
    if not next_char.isspace():
        return False  # "3.5", "e.g.,", "example.com"
    following = _first_non_space(text, end)
    if following is None:
        return True if final else None
    if text[following].islower():
        return False  # "approx. ten", "Wait... what", "\"Why?\" she asked"
    return not (terminators == "." and _is_abbreviation(text, match.start(), text[following]))


def _find_sentence_end(text: str, start: int, final: bool) -> int | None:
    """Index just past the first complete sentence found from ``start``, else None."""
    for match in _SENTENCE_END_CANDIDATE.finditer(text, start):
        if match["paragraph"]:
            return match.end()
        decision = _ends_sentence(text, match, final)
        if decision is None:
            return None
        if decision:
            return match.end()
    return None


def _undecided_tail_start(text: str) -> int:
    """Start of the trailing terminators, closers and spaces that more text may change."""
    index = len(text)
    while index > 0 and (text[index - 1].isspace() or text[index - 1] in _UNDECIDED_TAIL_CHARS):
        index -= 1
    return index


# -- cutting sentences that are too long -----------------------------------------------------


def _has_words(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _is_combining(char: str) -> bool:
    return unicodedata.category(char) in {"Mn", "Mc", "Me"}


def _cut_position(text: str, limit: int) -> int:
    """Where to cut ``text`` so the head is at most ``limit`` chars: after the last clause
    mark that fits, else at the last space, else hard (never before a combining mark)."""
    first_word = next((i for i, char in enumerate(text) if char.isalnum()), len(text))
    clause_ends = [
        match.end()
        for match in _CUT_AFTER.finditer(text, 0, limit + 1)
        if first_word < match.end() <= limit
    ]
    if clause_ends:
        return clause_ends[-1]
    space = max((i for i in range(1, limit + 1) if text[i].isspace()), default=0)
    if space > first_word:
        return space
    cut = limit
    while cut > 1 and _is_combining(text[cut]):
        cut -= 1
    return cut


def split_first_clause(
    sentence: str, max_chars: int, *, min_tail_chars: int = 0
) -> tuple[str, str | None]:
    """Cut ``sentence`` at the clause boundary (comma etc., else a space) nearest to but
    not over ``max_chars``; a sentence that already fits comes back whole, with None.

    With ``min_tail_chars``, a sentence that would leave a shorter tail stays whole: a
    stranded last word spoken on its own sounds broken, and costs as much as it saves.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    sentence = sentence.strip()
    if len(sentence) <= max_chars:
        return sentence, None
    cut = _cut_position(sentence, max_chars)
    head, rest = sentence[:cut].rstrip(), sentence[cut:].strip()
    if len(rest) < min_tail_chars:
        return sentence, None
    return head, rest or None


def _pieces_of_at_most(sentence: str, max_chars: int) -> Iterator[str]:
    rest: str | None = sentence
    while rest:
        head, rest = split_first_clause(rest, max_chars)
        if _has_words(head):
            yield head


# -- streaming -------------------------------------------------------------------------------


class _SentenceBuffer:
    """Holds the unfinished end of the text; ``feed`` it pieces, then ``finish``."""

    def __init__(self, max_chars: int) -> None:
        self._max_chars = max_chars
        self._text = ""
        self._scan_from = 0

    def feed(self, piece: str) -> Iterator[str]:
        self._text += piece
        yield from self._complete_sentences(final=False)
        while len(self._text) > self._max_chars:
            cut = _cut_position(self._text, self._max_chars)
            head, self._text = self._text[:cut], self._text[cut:]
            self._scan_from = max(0, self._scan_from - cut)
            yield from self._emit(head)

    def finish(self) -> Iterator[str]:
        yield from self._complete_sentences(final=True)
        rest, self._text = self._text, ""
        yield from self._emit(rest)

    def _complete_sentences(self, final: bool) -> Iterator[str]:
        while (end := _find_sentence_end(self._text, self._scan_from, final)) is not None:
            sentence, self._text = self._text[:end], self._text[end:]
            self._scan_from = 0
            yield from self._emit(sentence)
        self._scan_from = _undecided_tail_start(self._text)

    def _emit(self, text: str) -> Iterator[str]:
        text = text.strip()
        if _has_words(text):
            yield from _pieces_of_at_most(text, self._max_chars)


def iter_sentences(pieces: Iterable[str], max_chars: int) -> Iterator[str]:
    """Sentences of the text made of ``pieces``, each yielded as soon as it is complete.

    Sentence ends: . ! ? … (followed by a space, or by Hangul/CJK), 。！？．；, the Hindi
    danda, and blank lines; not after abbreviations ("Dr.", "e.g."), initials, or inside
    numbers ("3.5"). Sentences longer than ``max_chars`` are cut at clause marks, then
    spaces, then anywhere. Memory stays around ``2 * max_chars``, whatever the text length.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    buffer = _SentenceBuffer(max_chars)
    for piece in pieces:
        for start in range(0, len(piece), max_chars):
            yield from buffer.feed(piece[start : start + max_chars])
    yield from buffer.finish()


def _join(first: str, second: str) -> str:
    separator = "" if first.endswith(tuple(CJK_TERMINATORS)) else " "
    return f"{first}{separator}{second}"


def iter_text_chunks(
    pieces: Iterable[str],
    first_max_chars: int,
    max_chars: int,
    *,
    merge_below_chars: int = SHORT_SENTENCE_CHARS,
) -> Iterator[str]:
    """Chunks to synthesize one at a time: first a short clause (at most
    ``first_max_chars``) so audio starts quickly, then one chunk under the same limit, then
    chunks whose limit doubles each time up to ``max_chars`` (whole sentences, cut at a
    clause while they are over the limit), so each chunk is made while the ones before it
    play. A chunk shorter than
    ``merge_below_chars`` is joined with the next sentence, within the limit, to cut
    per-chunk overhead (0 turns merging off)."""
    sentences = iter_sentences(pieces, max_chars)
    first = next(sentences, None)
    if first is None:
        return
    limits = _chunk_limits(min(first_max_chars, max_chars), max_chars)
    head, rest = split_first_clause(first, next(limits), min_tail_chars=MIN_TAIL_CHARS)
    yield head
    limit = next(limits)
    pending = ""
    for sentence in chain([rest] if rest else [], sentences):
        if pending and len(pending) + 1 + len(sentence) > limit:
            yield pending
            pending, limit = "", next(limits)
        while not pending and len(sentence) > limit:
            piece, tail = split_first_clause(sentence, limit, min_tail_chars=MIN_TAIL_CHARS)
            if tail is None:
                break
            yield piece
            sentence, limit = tail, next(limits)
        pending = _join(pending, sentence) if pending else sentence
        if len(pending) >= merge_below_chars:
            yield pending
            pending, limit = "", next(limits)
    if pending:
        yield pending


def _chunk_limits(first: int, most: int) -> Iterator[int]:
    """``first`` twice, then doubling up to ``most``. The second chunk is made while only
    the first one plays, and perhaps after another stream's first chunk: were it twice as
    long, its making could outlast the audio in hand."""
    yield first
    limit = first
    while True:
        yield limit
        limit = min(limit * 2, most)


# -- files -----------------------------------------------------------------------------------


def read_text_file(
    path: str | PathLike[str], piece_size: int = DEFAULT_PIECE_SIZE
) -> Iterator[str]:
    """The file's text in pieces of about ``piece_size`` bytes, decoded as UTF-8 (a BOM is
    dropped) without ever holding the whole file. Raises InvalidText when the file cannot
    be read or is not UTF-8 (as it is iterated: this is a generator)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    offset = 0
    try:
        with open(path, "rb") as file:
            while chunk := file.read(piece_size):
                buffered = len(decoder.getstate()[0])
                text = _decode(decoder, chunk, offset - buffered, path)
                offset += len(chunk)
                if text:
                    yield text
            buffered = len(decoder.getstate()[0])
            tail = _decode(decoder, b"", offset - buffered, path, final=True)
            if tail:
                yield tail
    except OSError as error:
        raise InvalidText(
            f"Cannot read the text file {str(path)!r}: {error.strerror or error}.",
            code="unreadable_text_file",
        ) from error


def _decode(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    offset: int,
    path: str | PathLike[str],
    final: bool = False,
) -> str:
    try:
        return decoder.decode(chunk, final=final)
    except UnicodeDecodeError as error:
        byte_offset = offset + error.start
        bad = error.object[error.start : error.start + 1].hex() if error.object else "?"
        raise InvalidText(
            f"The text file {str(path)!r} is not UTF-8 (byte 0x{bad} at offset {byte_offset} "
            "cannot be decoded). Save it as UTF-8 and try again.",
            code="invalid_encoding",
        ) from error
