"""Written Korean as it is said, in Hangul: numbers, units, symbols and Latin letters.

espeak-ng reads every digit run as Sino-Korean ("3개" -> "삼 개"), which is wrong before
native counters ("세 개"), so numbers are spelled out here before phonemization. Ranges
("3~5개") are read with their counter on both ends ("세 개에서 다섯 개"). Latin words take
the Korean reading of a loanword table ("meeting" -> "미팅"); acronyms in capitals are
spelled letter by letter ("AI" -> "에이아이"); other Latin words are left to the English
phonemizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from importlib.resources import files

from num2words import num2words

MAX_CARDINAL_DIGITS = 15
MAX_NATIVE_NUMBER = 99
"""Native Korean numbers are used up to 99; from 100 on counters take Sino-Korean ("백 개")."""

SINO_DIGITS = ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
PHONE_DIGITS = ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
"""Digit-by-digit reading of numbers with a leading zero (phone numbers): 0 is "공"."""


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Attributive (before a counter) forms: 1 -> 한, 2 -> 두, 3 -> 세, 4 -> 네, 20 -> 스무.
NATIVE_UNITS = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
NATIVE_TWENTY_BEFORE_COUNTER = "스무"

NATIVE_COUNTERS = _word_set(
    "개 명 살 시 시간 번 번째 마리 권 잔 병 장 그릇 대 벌 켤레 송이 채 가지 군데 곳 달 사람 "
    "자루 알 통 줄 쌍 판 접시 박스 봉지"
)
# Words that start like a native counter but take Sino-Korean numbers ("3개월", "3달러").
SINO_COUNTERS = _word_set(
    "개월 달러 번지 번호 시즌 대학 년 월 일 분 초 원 층 주 회 호 도 등 위 쪽 세 점 페이지"
)
# What "N번" can label rather than count ("3번 출구" is 삼 번 출구, "3번 봤다" 세 번 봤다).
NUMBERED_NOUNS = _word_set(
    "출구 입구 버스 마을버스 선 노선 홈 승강장 플랫폼 게이트 창구 좌석 자리 테이블 방 칸 "
    "문제 질문 항목 답 문항 채널 트랙 타자 타석 선수 국도 도로 레인 라인 코스 부스 "
    "카운터 사물함 손님 고객 환자 차량 버튼 키"
)
PARTICLES = _word_set(
    "은 는 이 가 을 를 에 에서 에는 에게 께 께서 한테 으로 로 의 도 만 까지 부터 와 과 이나 나"
) | {""}
_IRREGULAR_MONTHS = {6: "유월", 10: "시월"}
_SCALE_WORDS = ("만", "억", "조", "천", "백")
_SCALES_READ_WITHOUT_ONE = frozenset({"만", "천", "백"})
"""'1만' is read '만', but '1억' is '일억'."""

_UNITS: dict[str, str] = {
    "km": "킬로미터",
    "cm": "센티미터",
    "mm": "밀리미터",
    "m": "미터",
    "kg": "킬로그램",
    "mg": "밀리그램",
    "g": "그램",
    "ml": "밀리리터",
    "mL": "밀리리터",
    "L": "리터",
    "kcal": "킬로칼로리",
    "ms": "밀리초",
    "KB": "킬로바이트",
    "MB": "메가바이트",
    "GB": "기가바이트",
    "TB": "테라바이트",
    "°C": "도",
    "°": "도",
}
_UNITS_WITH_PREFIX: dict[str, tuple[str, str]] = {
    "km/h": ("시속", "킬로미터"),
    "°F": ("화씨", "도"),
}
LOANWORDS_FILE = "korean_loanwords.json"
_CURRENCY_SYMBOLS = {"₩": "원", "$": "달러", "€": "유로", "£": "파운드", "¥": "엔"}

_NUMBER = r"(?<![0-9A-Za-z.])(?P<sign>-)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
_NUMBER_END = r"(?![\d,]\d)"


# -- number words ----------------------------------------------------------------------------


def sino(number: int) -> str:
    """2024 -> "이천이십사", 10000 -> "만", 15000 -> "만 오천"."""
    result: str = num2words(number, lang="ko")
    return result


def native(number: int) -> str:
    """Native Korean number in the form used before a counter: 3 -> "세", 20 -> "스무"."""
    if not 1 <= number <= MAX_NATIVE_NUMBER:
        raise ValueError(f"native Korean numbers go from 1 to {MAX_NATIVE_NUMBER}: {number}")
    tens, units = divmod(number, 10)
    if tens == 2 and units == 0:
        return NATIVE_TWENTY_BEFORE_COUNTER
    return NATIVE_TENS[tens] + NATIVE_UNITS[units]


def decimal(integer: str, fraction: str | None, negative: bool) -> str:
    """Reads "3", "14" as "삼 점 일사"; with a leading zero, digit by digit ("010" as "공일공")."""
    plain = integer.replace(",", "")
    if len(plain) > 1 and plain.startswith("0") and not fraction:
        words = "".join(PHONE_DIGITS[int(char)] for char in plain)
    elif len(plain) > MAX_CARDINAL_DIGITS:
        words = "".join(SINO_DIGITS[int(char)] for char in plain)
    else:
        words = sino(int(plain))
    if fraction:
        words = f"{words} 점 {''.join(SINO_DIGITS[int(char)] for char in fraction)}"
    return f"마이너스 {words}" if negative else words


def _amount(match: re.Match[str]) -> str:
    return decimal(match["int"], match["frac"], bool(match["sign"]))


def _whole_number(match: re.Match[str]) -> int | None:
    """The match's integer value, or None for decimals, negatives and grouped numbers."""
    if match["frac"] or match["sign"] or "," in match["int"]:
        return None
    return int(match["int"])


# -- readers ---------------------------------------------------------------------------------


def _spoken_date(year_number: int, month: int, day: int) -> str:
    return f"{sino(year_number)} 년 {_month(month)} {sino(day)} 일"


def _month(month: int) -> str:
    return _IRREGULAR_MONTHS.get(month, f"{sino(month)}월")


def _read_date(match: re.Match[str]) -> str:
    year_number, month, day = (int(part) for part in match.groups())
    try:
        date(year_number, month, day)
    except ValueError:
        return match.group(0)
    return _spoken_date(year_number, month, day)


def _read_phone_number(match: re.Match[str]) -> str:
    """Reads "010-1234-5678" as "공일공 일이삼사 오육칠팔"."""
    return " ".join(
        "".join(PHONE_DIGITS[int(char)] for char in group) for group in match.group(0).split("-")
    )


def _read_clock_time(match: re.Match[str]) -> str:
    """Reads "3:30" as "세 시 삼십 분"."""
    hour, minute = int(match["hour"]), int(match["minute"])
    if not 1 <= hour <= 24 or minute > 59:
        return match.group(0)
    spoken = f"{native(hour)} 시"
    return f"{spoken} {sino(minute)} 분" if minute else spoken


def _read_currency_symbol(match: re.Match[str]) -> str:
    return f"{_amount(match)} {_CURRENCY_SYMBOLS[match['symbol']]}"


def _read_percent(match: re.Match[str]) -> str:
    return f"{_amount(match)} 퍼센트"


def _read_unit(match: re.Match[str]) -> str:
    unit = match["unit"]
    if unit in _UNITS_WITH_PREFIX:
        prefix, name = _UNITS_WITH_PREFIX[unit]
        return f"{prefix} {_amount(match)} {name}"
    return f"{_amount(match)} {_UNITS[unit]}"


def _read_scale(match: re.Match[str]) -> str:
    """Reads "5만" as "오만", "1만" as "만", "3억" as "삼억"."""
    scale = match["scale"]
    if _whole_number(match) == 1 and scale in _SCALES_READ_WITHOUT_ONE:
        return scale
    return f"{_amount(match)}{scale}"


def _is_numbered_noun(word: str | None) -> bool:
    """Whether ``word`` is one of :data:`NUMBERED_NOUNS`, bare or with a particle."""
    if not word:
        return False
    return any(word.startswith(noun) and word[len(noun) :] in PARTICLES for noun in NUMBERED_NOUNS)


def _read_counter(match: re.Match[str]) -> str:
    """Reads "3개" as "세 개", "6월" as "유월", "20대" (twenties) as "이십 대", "3번 출구" as
    "삼 번 출구" (a label, not a count), else Sino-Korean."""
    counter = match["counter"]
    number = _whole_number(match)
    if counter == "월" and number is not None and 1 <= number <= 12:
        return _month(number)
    if counter == "번" and _is_numbered_noun(match["next"]):
        return f"{_amount(match)} {counter}"
    if counter in NATIVE_COUNTERS and number is not None and 1 <= number <= MAX_NATIVE_NUMBER:
        if counter == "대" and number % 10 == 0:
            return f"{sino(number)} 대"
        if counter == "번째" and number == 1:
            return "첫 번째"
        return f"{native(number)} {counter}"
    return f"{_amount(match)} {counter}"


def _read_number(match: re.Match[str]) -> str:
    return _amount(match)


@cache
def _loanwords() -> tuple[dict[str, str], dict[str, str]]:
    """(words, letter names) from the packaged table, keys lower case."""
    table = json.loads(files("voiceclone.text").joinpath(LOANWORDS_FILE).read_text("utf-8"))
    return table["words"], table["letters"]


def read_latin_word(word: str) -> str:
    """A Latin word as a Korean speaker says it: the loanword table's reading, the letters'
    names for an acronym in capitals (or a single letter), else the word unchanged."""
    words, letters = _loanwords()
    reading = words.get(word.lower())
    if reading is not None:
        return reading
    if "-" in word:
        return "".join(read_latin_word(part) for part in word.split("-"))
    if word.isupper() or len(word) == 1:
        return "".join(letters[char] for char in word.lower())
    return word


def _read_latin(match: re.Match[str]) -> str:
    return read_latin_word(match.group(0))


def _spell_range(match: re.Match[str]) -> str:
    """ "3~5개" -> "3개에서 5개": the counter, unit or % goes on both ends."""
    suffix = match["suffix"] or ""
    return f"{match['low']}{suffix}에서 {match['high']}{suffix}"


def _spell_time_range(match: re.Match[str]) -> str:
    return f"{match['low']}에서 {match['high']}"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_COUNTER_PATTERN = _alternation(NATIVE_COUNTERS | SINO_COUNTERS)
_UNIT_PATTERN = _alternation(_UNITS.keys() | _UNITS_WITH_PREFIX.keys())
_PLAIN_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_TILDE = r"\s?[~∼〜～]\s?"
_RANGE_SUFFIX = rf"%|(?:{_UNIT_PATTERN})(?![A-Za-z/])|{'|'.join(_SCALE_WORDS)}|{_COUNTER_PATTERN}"
_SYMBOLS = {"&": "앤", "+": " 플러스 ", "·": " "}
_LATIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]+(?:-[A-Za-z]+)*(?![A-Za-z])")

_READERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(rf"(?P<low>\d{{1,2}}:\d{{2}}){_TILDE}(?P<high>\d{{1,2}}:\d{{2}})"),
        _spell_time_range,
    ),
    (
        re.compile(
            rf"(?<![\d.])(?P<low>{_PLAIN_NUMBER}){_TILDE}(?P<high>{_PLAIN_NUMBER})"
            rf"(?P<suffix>\s?(?:{_RANGE_SUFFIX}))?"
        ),
        _spell_range,
    ),
    (re.compile(r"(?<![\d-])0\d{1,2}-\d{3,4}-\d{4}(?![\d-])"), _read_phone_number),
    (re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"), _read_date),
    (re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)"), _read_date),
    (re.compile(r"(?<!\d)(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})(?:\.(?!\d))?"), _read_date),
    (re.compile(r"(?<!\d)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d)"), _read_clock_time),
    (re.compile(rf"(?P<symbol>[₩$€£¥])\s?{_NUMBER}{_NUMBER_END}"), _read_currency_symbol),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}\s?%"), _read_percent),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}\s?(?P<unit>{_UNIT_PATTERN})(?![A-Za-z/])"), _read_unit),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}(?P<scale>{'|'.join(_SCALE_WORDS)})"), _read_scale),
    (
        re.compile(
            rf"{_NUMBER}{_NUMBER_END}(?P<counter>{_COUNTER_PATTERN})(?=(?:\s(?P<next>[가-힣]+))?)"
        ),
        _read_counter,
    ),
    (_LATIN_WORD, _read_latin),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}"), _read_number),
)


def read_korean(text: str) -> str:
    """Digits, symbols and Latin letters in Korean text read out in Hangul.

    >>> read_korean("오후 3~5시에 AI 미팅")
    '오후 세 시에서 다섯 시에 에이아이 미팅'
    """
    for pattern, reader in _READERS:
        text = pattern.sub(reader, text)
    for symbol, reading in _SYMBOLS.items():
        text = text.replace(symbol, reading)
    return text
