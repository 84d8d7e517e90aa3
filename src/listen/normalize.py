"""Text normalization for speech: what the engine should say for what the page writes.

English rules; other languages pass through with whitespace and symbol clean-up only, since both
engines (espeak-ng, and Piper through espeak-ng's phonemizer) read plain numbers themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

CURRENCIES = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}
CURRENCY_SINGULAR = {"$": "dollar", "€": "euro", "£": "pound", "¥": "yen"}
CURRENCY_CENTS = {"$": "cents", "€": "cents", "£": "pence", "¥": ""}
SCALES = {
    "k": "thousand", "thousand": "thousand", "m": "million", "mn": "million", "mln": "million",
    "million": "million", "b": "billion", "bn": "billion", "billion": "billion",
    "t": "trillion", "tn": "trillion", "trillion": "trillion",
}  # fmt: skip
ABBREVIATION_WORDS = {
    "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Prof.": "Professor", "St.": "Saint",
    "Gen.": "General", "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative",
    "Lt.": "Lieutenant", "Col.": "Colonel", "Sgt.": "Sergeant", "Capt.": "Captain",
    "Jan.": "January", "Feb.": "February", "Mar.": "March", "Apr.": "April", "Jun.": "June",
    "Jul.": "July", "Aug.": "August", "Sep.": "September", "Sept.": "September",
    "Oct.": "October", "Nov.": "November", "Dec.": "December",
    "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus",
    "approx.": "approximately", "No.": "number",
}  # fmt: skip
SYMBOLS = {
    "&": " and ",
    "%": " percent",
    "°C": " degrees Celsius",
    "°F": " degrees Fahrenheit",
    "°": " degrees",
    "+": " plus ",
    "=": " equals ",
    "@": " at ",
    "#": " number ",
}


def _words(number: str, **kwargs: str) -> str:
    value = float(number) if "." in number else int(number)
    return num2words(value, **kwargs).replace(",", "")


def _currency(match: re.Match[str]) -> str:
    symbol, amount, scale = match.group("sym"), match.group("amount"), match.group("scale")
    amount = amount.replace(",", "")
    unit = CURRENCIES[symbol]
    if scale:
        return f"{_words(amount)} {SCALES[scale.lower()]} {unit}"
    whole, _, cents = amount.partition(".")
    if whole == "1" and not cents:
        unit = CURRENCY_SINGULAR[symbol]
    spoken = f"{_words(whole)} {unit}"
    if cents and int(cents) and CURRENCY_CENTS[symbol]:
        spoken += f" and {_words(str(int(cents.ljust(2, '0')[:2])))} {CURRENCY_CENTS[symbol]}"
    return spoken


def _year_range(match: re.Match[str]) -> str:
    return f"{_words(match.group(1), to='year')} to {_words(match.group(2), to='year')}"


def _number(match: re.Match[str]) -> str:
    return _words(match.group(0).replace(",", ""))


def _ordinal(match: re.Match[str]) -> str:
    return _words(match.group(1), to="ordinal")


def _decade(match: re.Match[str]) -> str:
    year = _words(match.group(1), to="year")
    return re.sub(r"y$", "ies", year) if year.endswith("y") else year + "s"


def _abbreviation(match: re.Match[str]) -> str:
    return ABBREVIATION_WORDS[match.group(0)]


_ABBREVIATIONS = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATION_WORDS, key=len, reverse=True))
    + r")(?=\s|$)"
)

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

ENGLISH_RULES: list[Rule] = [
    (re.compile(r"[\u2018\u2019]"), "'"),
    (re.compile(r"[\u201c\u201d]"), '"'),
    (_ABBREVIATIONS, _abbreviation),
    (re.compile(r"\bU\.S\.(?=\s+[a-z])|\bU\.S\.(?!\w)"), "U S "),
    (re.compile(r"\bU\.K\.(?!\w)"), "U K "),
    (re.compile(r"\bU\.N\.(?!\w)"), "U N "),
    (
        re.compile(
            r"(?P<sym>[$€£¥])\s?(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
            r"(?:\s?(?P<scale>thousand|million|billion|trillion|mln|mn|bn|tn|[kmbt])\b)?",
            re.IGNORECASE,
        ),
        _currency,
    ),
    (re.compile(r"\b((?:1[5-9]|20)\d\d)\s?[-–]\s?((?:1[5-9]|20)\d\d)\b"), _year_range),
    (re.compile(r"\b((?:1[5-9]|20)\d0)'?s\b"), _decade),
    (re.compile(r"(\d+)\s?[-–]\s?(\d+)\s?%"), r"\1 to \2 percent"),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), _ordinal),
    (re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b"), _number),
    (re.compile(r"(?<=\d)\s?%"), " percent"),
    (re.compile(r"\s*[—–]\s*"), ", "),
    (re.compile(r"(?<=\s)&(?=\s)"), "and"),
]


def normalize_for_speech(text: str, language: str = "en") -> str:
    if language.lower().startswith("en"):
        for pattern, replacement in ENGLISH_RULES:
            text = pattern.sub(replacement, text)
    for symbol in ("°C", "°F", "°"):
        text = text.replace(symbol, SYMBOLS[symbol])
    text = re.sub(r"[*_~^|\\<>{}]", " ", text)
    return re.sub(r"\s+", " ", text).strip()
