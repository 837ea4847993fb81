"""Read English numbers, dates, money, units and abbreviations out as words.

Each reader replaces its matches with words only, so later readers never see them again;
the order in :data:`_READERS` matters (dates before times before plain numbers...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date

from num2words import num2words

BRITISH = "en-gb"
MAX_CARDINAL_DIGITS = 15
"""Longer digit runs (card and account numbers) are read one digit at a time."""
YEAR_RANGE = range(1000, 2100)
MAX_FRACTION_DENOMINATOR = 10
_FRACTION_NAMES = {2: "half", 4: "quarter"}

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_ABBREVIATIONS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8,
    "Sep": 9, "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip
_MONTH_NUMBERS = {name: index for index, name in enumerate(MONTHS, start=1)}
_MONTH_NUMBERS.update(_MONTH_ABBREVIATIONS)
_MONTH_PATTERN = "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True))

# (singular, plural) per currency: major unit, then minor unit.
_CURRENCIES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "$": (("dollar", "dollars"), ("cent", "cents")),
    "£": (("pound", "pounds"), ("penny", "pence")),
    "€": (("euro", "euros"), ("cent", "cents")),
    "¥": (("yen", "yen"), ("sen", "sen")),
}
_SCALE_WORDS = {
    "thousand": "thousand", "million": "million", "billion": "billion",
    "trillion": "trillion", "k": "thousand", "K": "thousand", "m": "million",
    "M": "million", "bn": "billion", "B": "billion",
}  # fmt: skip

# (singular, plural) in American spelling; British spelling is derived below.
_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "m": ("meter", "meters"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "ms": ("millisecond", "milliseconds"),
    "min": ("minute", "minutes"),
    "s": ("second", "seconds"),
    "h": ("hour", "hours"),
    "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
}
_UNIT_PATTERN = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))

_ABBREVIATIONS: dict[str, str] = {
    "Dr.": "Doctor",
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Prof.": "Professor",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "vs.": "versus",
    "e.g.": "for example",
    "E.g.": "For example",
    "i.e.": "that is",
    "I.e.": "That is",
    "etc.": "et cetera",
    "approx.": "approximately",
}
_TITLES = frozenset({"Dr.", "Mr.", "Mrs.", "Ms.", "Prof."})
"""Abbreviations that come before a name, so their "." never ends a sentence."""
_YEAR_CONTEXT_WORDS = (
    "in|since|from|until|till|by|year|circa|before|after|during|between|"
    "In|Since|From|Until|By|Year|Before|After|During|Between"
)
_YEAR_RANGE_JOINERS = r"\s?(?:-|–|to|and|until|through)\s?"

# A number not glued to a preceding word, dot or digit: "-1,234.5", "3", "0.25".
_NUMBER = r"(?<![\w.])(?P<sign>-)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
_NUMBER_END = r"(?![\d,]\d)"


# -- number words ----------------------------------------------------------------------------


def cardinal(number: int, language: str) -> str:
    """1234 -> "one thousand two hundred thirty-four" (British keeps "and")."""
    return _tidy(num2words(number, lang="en"), language)


def ordinal(number: int, language: str) -> str:
    return _tidy(num2words(number, lang="en", to="ordinal"), language)


def year(number: int, language: str) -> str:
    """1999 -> "nineteen ninety-nine", 2005 -> "two thousand five"."""
    return _tidy(num2words(number, lang="en", to="year"), language)


def digits(text: str) -> str:
    return " ".join(DIGIT_WORDS[int(char)] for char in text)


def decimal(integer: str, fraction: str | None, negative: bool, language: str) -> str:
    """Digits as read aloud: "3", "5" -> "three point five"; long runs digit by digit."""
    plain = integer.replace(",", "")
    if len(plain) > MAX_CARDINAL_DIGITS or (len(plain) > 1 and plain.startswith("0")):
        words = digits(plain)
    else:
        words = cardinal(int(plain), language)
    if fraction:
        words = f"{words} point {digits(fraction)}"
    return f"minus {words}" if negative else words


def _tidy(words: str, language: str) -> str:
    words = words.replace(",", "")
    if language != BRITISH:
        words = words.replace(" and ", " ")
    return words


def _is_one(integer: str, fraction: str | None) -> bool:
    return integer == "1" and not fraction


def _pluralize_number_words(words: str) -> str:
    """Plural of number words: "nineteen ninety" -> "nineteen nineties"."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _british_spelling(words: str) -> str:
    return words.replace("meter", "metre")


# -- readers: each takes a match and the language, returns words ------------------------------

_Reader = tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]


def _keeps_period(match: re.Match[str]) -> str:
    """The sentence-final "." swallowed by an abbreviation, kept when a sentence ends."""
    if not match.group(0).endswith("."):
        return ""
    rest = match.string[match.end() :]
    stripped = rest.lstrip()
    return "." if not stripped or (stripped[0].isupper() and stripped != rest) else ""


def _spoken_date(day: int, month: int, year_number: int | None, language: str) -> str:
    month_name = MONTHS[month - 1]
    year_words = f", {year(year_number, language)}" if year_number is not None else ""
    if language == BRITISH:
        return f"the {ordinal(day, language)} of {month_name}{year_words}"
    return f"{month_name} {ordinal(day, language)}{year_words}"


def _is_valid_date(year_number: int, month: int, day: int) -> bool:
    try:
        date(year_number, month, day)
    except ValueError:
        return False
    return True


def _read_iso_date(match: re.Match[str], language: str) -> str:
    year_number, month, day = (int(part) for part in match.groups())
    if not _is_valid_date(year_number, month, day):
        return match.group(0)
    return _spoken_date(day, month, year_number, language)


def _read_slash_date(match: re.Match[str], language: str) -> str:
    first, second, year_number = (int(part) for part in match.groups())
    month, day = (second, first) if language == BRITISH else (first, second)
    if not _is_valid_date(year_number, month, day):
        return match.group(0)
    return _spoken_date(day, month, year_number, language)


def _optional_year(text: str | None) -> int | None:
    return int(text) if text else None


def _read_month_day(match: re.Match[str], language: str) -> str:
    """Reads "March 5, 2024" / "March 5th"."""
    month = _MONTH_NUMBERS[match["month"]]
    day = int(match["day"])
    if not 1 <= day <= 31:
        return match.group(0)
    return _spoken_date(day, month, _optional_year(match["year"]), language)


def _read_day_month(match: re.Match[str], language: str) -> str:
    """Reads "5 March 2024" / "5th of March"."""
    month = _MONTH_NUMBERS[match["month"]]
    day = int(match["day"])
    if not 1 <= day <= 31:
        return match.group(0)
    year_words = f", {year(int(match['year']), language)}" if match["year"] else ""
    return f"the {ordinal(day, language)} of {MONTHS[month - 1]}{year_words}"


def _read_time(match: re.Match[str], language: str) -> str:
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 24 or minute > 59:
        return match.group(0)
    meridiem = f" {match['meridiem'].upper()}M" if match["meridiem"] else ""
    if minute == 0:
        spoken = cardinal(hour, language) + (meridiem or " o'clock")
    elif minute < 10:
        spoken = f"{cardinal(hour, language)} oh {cardinal(minute, language)}{meridiem}"
    else:
        spoken = f"{cardinal(hour, language)} {cardinal(minute, language)}{meridiem}"
    return spoken + _keeps_period(match)


def _read_hour_meridiem(match: re.Match[str], language: str) -> str:
    """Reads "3pm" / "11 a.m." as "three PM"."""
    hour = int(match["hour"])
    if not 1 <= hour <= 12:
        return match.group(0)
    return f"{cardinal(hour, language)} {match['meridiem'].upper()}M" + _keeps_period(match)


def _read_phone_number(match: re.Match[str], language: str) -> str:
    """Reads "555-123-4567" digit by digit, a pause between groups."""
    groups = re.findall(r"\d+", match.group(0))
    return ", ".join(digits(group) for group in groups)


def _read_year_range(match: re.Match[str], language: str) -> str:
    """Reads "1990-2000" as "nineteen ninety to two thousand"."""
    first, second = int(match["first"]), int(match["second"])
    if first not in YEAR_RANGE or second not in YEAR_RANGE:
        return match.group(0)
    return f"{year(first, language)} to {year(second, language)}"


def _read_fraction(match: re.Match[str], language: str) -> str:
    """Reads "1/2" as "one half", "3/4" as "three quarters", "2/3" as "two thirds"."""
    numerator, denominator = int(match["numerator"]), int(match["denominator"])
    if not 0 < numerator < denominator <= MAX_FRACTION_DENOMINATOR:
        return match.group(0)
    singular = _FRACTION_NAMES.get(denominator) or ordinal(denominator, language)
    name = singular if numerator == 1 else _plural_fraction(singular)
    return f"{cardinal(numerator, language)} {name}"


def _plural_fraction(name: str) -> str:
    return name[:-1] + "ves" if name == "half" else name + "s"


def _read_money(match: re.Match[str], language: str) -> str:
    (major_one, major_many), (minor_one, minor_many) = _CURRENCIES[match["symbol"]]
    integer, fraction = match["int"], match["frac"]
    if match["scale"]:
        amount = decimal(integer, fraction, False, language)
        return f"{amount} {_SCALE_WORDS[match['scale']]} {major_many}"
    if fraction and len(fraction) > 2:
        return f"{decimal(integer, fraction, False, language)} {major_many}"
    whole = int(integer.replace(",", ""))
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if whole or not cents:
        parts.append(f"{cardinal(whole, language)} {major_one if whole == 1 else major_many}")
    if cents:
        parts.append(f"{cardinal(cents, language)} {minor_one if cents == 1 else minor_many}")
    return " and ".join(parts)


def _read_percent(match: re.Match[str], language: str) -> str:
    amount = decimal(match["int"], match["frac"], bool(match["sign"]), language)
    return f"{amount} percent"


def _read_decade(match: re.Match[str], language: str) -> str:
    """Reads "1990s" as "nineteen nineties", "'80s" as "eighties"."""
    number = int(match["decade"])
    words = year(number, language) if number >= 100 else cardinal(number, language)
    return _pluralize_number_words(words)


def _read_ordinal(match: re.Match[str], language: str) -> str:
    return ordinal(int(match["number"]), language)


def _read_year(match: re.Match[str], language: str) -> str:
    """Reads "in 1999" as "in nineteen ninety-nine"; "from 1990 to 1995" reads both as years."""
    first = int(match["year"])
    second = int(match["second"]) if match["second"] else None
    if first not in YEAR_RANGE or (second is not None and second not in YEAR_RANGE):
        return match.group(0)
    words = f"{match['context']} {year(first, language)}"
    if second is not None:
        joiner = match["joiner"].strip()
        words += f" {'to' if joiner in '-–' else joiner} {year(second, language)}"
    return words + (match["era"] or "")


def _read_unit(match: re.Match[str], language: str) -> str:
    singular, plural = _UNITS[match["unit"]]
    amount = decimal(match["int"], match["frac"], bool(match["sign"]), language)
    name = singular if _is_one(match["int"], match["frac"]) else plural
    if language == BRITISH:
        name = _british_spelling(name)
    return f"{amount} {name}"


def _read_number(match: re.Match[str], language: str) -> str:
    return decimal(match["int"], match["frac"], bool(match["sign"]), language)


def _read_abbreviation(match: re.Match[str], language: str) -> str:
    abbreviation = match.group(0)
    period = "" if abbreviation in _TITLES else _keeps_period(match)
    return _ABBREVIATIONS[abbreviation] + period


def _read_saint_or_street(match: re.Match[str], language: str) -> str:
    """Reads "St. Louis" as "Saint Louis", "Baker St." as "Baker Street"."""
    before = match.string[: match.start()].rstrip()
    after_street = before and (before[-1].isdigit() or before.split()[-1][:1].isupper())
    return "Street" + _keeps_period(match) if after_street else "Saint"


def _read_number_sign(match: re.Match[str], language: str) -> str:
    return "number "


_ABBREVIATION_PATTERN = "|".join(re.escape(key) for key in _ABBREVIATIONS)

_READERS: tuple[_Reader, ...] = (
    (re.compile(rf"(?<![\w.])(?:{_ABBREVIATION_PATTERN})(?!\w)"), _read_abbreviation),
    (re.compile(r"(?<![\w.])St\.(?!\w)"), _read_saint_or_street),
    (re.compile(r"(?<![\w.])(?:No\.|#)\s?(?=\d)"), _read_number_sign),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), _read_iso_date),
    (
        re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}-)?\d{3}-\d{4}(?![\w-])"),
        _read_phone_number,
    ),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), _read_slash_date),
    (
        re.compile(r"(?<![\w.-])(?P<first>\d{4})\s?-\s?(?P<second>\d{4})(?![\w.-])"),
        _read_year_range,
    ),
    (re.compile(r"(?<=\d)\s?-\s?(?=\d)"), lambda match, language: " to "),
    (
        re.compile(
            rf"\b(?P<month>{_MONTH_PATTERN})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            r"(?:,?\s+(?P<year>\d{4})\b)?"
        ),
        _read_month_day,
    ),
    (
        re.compile(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_PATTERN})\b"
            r"\.?(?:,?\s+(?P<year>\d{4})\b)?"
        ),
        _read_day_month,
    ),
    (
        re.compile(
            r"\b(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d)"
            r"(?:\s?(?P<meridiem>[apAP])\.?[mM]\b\.?)?"
        ),
        _read_time,
    ),
    (re.compile(r"\b(?P<hour>\d{1,2})\s?(?P<meridiem>[apAP])\.?[mM]\b\.?"), _read_hour_meridiem),
    (
        re.compile(
            r"(?P<symbol>[$£€¥])\s?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
            r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|[kKmMB])\b)?"
        ),
        _read_money,
    ),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}\s?%"), _read_percent),
    (
        re.compile(r"(?<![\w./])(?P<numerator>\d+)[/⁄](?P<denominator>\d+)(?![\w/])"),
        _read_fraction,
    ),
    (re.compile(r"\b(?P<decade>1\d{2}0|20\d0)s\b"), _read_decade),
    (re.compile(r"(?:(?<=\b[Tt]he )|')(?P<decade>[1-9]0)s\b"), _read_decade),
    (re.compile(r"\b(?P<number>\d+)(?:st|nd|rd|th|ST|ND|RD|TH)\b"), _read_ordinal),
    (
        re.compile(
            rf"\b(?P<context>{_YEAR_CONTEXT_WORDS})\s+(?P<year>\d{{4}})(?![\d,.]\d)"
            rf"(?:(?P<joiner>{_YEAR_RANGE_JOINERS})(?P<second>\d{{4}})(?![\d,.]\d))?"
            r"(?P<era>\s(?:AD|BC|BCE|CE)\b)?"
        ),
        _read_year,
    ),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}\s?(?P<unit>{_UNIT_PATTERN})(?![\w/°])"), _read_unit),
    (re.compile(rf"{_NUMBER}{_NUMBER_END}"), _read_number),
    (re.compile(r"\s&\s"), lambda match, language: " and "),
)


def read_english(text: str, language: str) -> str:
    for pattern, reader in _READERS:
        text = pattern.sub(functools.partial(_apply_reader, reader, language=language), text)
    return text


def _apply_reader(
    reader: Callable[[re.Match[str], str], str], match: re.Match[str], language: str
) -> str:
    return reader(match, language)
