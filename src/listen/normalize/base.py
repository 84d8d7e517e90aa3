"""What every language's normalization shares: the rule shape, the `Language` a script is made
with, number words from num2words, and the typography and pause rules no language reads aloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from num2words import CONVERTER_CLASSES, num2words

#: A rule: a pattern and what each match becomes (a template or a function of the match).
Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


@dataclass(frozen=True)
class Language:
    """How one language's text is split into sentences and made speakable."""

    #: The page's primary language subtag ("fr" for "fr-CA").
    code: str
    #: Normalization, applied in order.
    rules: tuple[Rule, ...] = ()
    #: Lowercase tokens, without their final dot, after which a "." does not end a sentence.
    abbreviations: frozenset[str] = frozenset()
    #: Abbreviations that often end a sentence too: a break if a typical sentence opener follows.
    sentence_final_abbreviations: frozenset[str] = frozenset()
    #: Words that typically open a sentence (after a sentence-final abbreviation).
    sentence_openers: frozenset[str] = frozenset()
    #: A number's "." before a capitalized word is an ordinal, not a sentence end ("am 3. Mai").
    ordinal_dot: bool = False
    #: Whether num2words reads numbers in this language (else digits are left to the voice).
    has_number_words: bool = True
    #: The word announcing a chapter's number ("Chapter 2."), where the language has one here.
    chapter_word: str | None = None


def num2words_code(language: str) -> str | None:
    """num2words' code for a language tag ("fr-BE" -> "fr_BE", "de-AT" -> "de"), or None."""
    tag = language.replace("-", "_")
    primary = tag.split("_")[0].lower()
    for code in (f"{primary}_{tag.split('_')[1].upper()}" if "_" in tag else "", primary):
        if code and code in CONVERTER_CLASSES:
            return code
    return None


@cache
def _converter_has_year(code: str) -> bool:
    try:
        num2words(1990, lang=code, to="year")
    except (NotImplementedError, AttributeError, TypeError):
        return False
    return True


def cardinal(number: str | int, code: str) -> str:
    """`number` (digits, a sign, optionally a "." decimal point) in words, without the commas
    num2words puts between groups (they would become pauses)."""
    try:
        value: int | Decimal = int(number)
    except ValueError:
        try:
            value = Decimal(str(number).replace("−", "-"))
        except InvalidOperation:
            return str(number)
    return num2words(value, lang=code).replace(",", "")


def ordinal(number: str | int, code: str) -> str:
    return num2words(int(number), lang=code, to="ordinal").replace(",", "")


def year(number: str | int, code: str) -> str:
    if not _converter_has_year(code):
        return cardinal(number, code)
    return num2words(int(number), lang=code, to="year").replace(",", "")


#: Curly quotes, guillemets and special spaces as plain characters, for every language.
TYPOGRAPHY_RULES: tuple[Rule, ...] = (
    (re.compile(r"[\u2018\u2019\u02bc\u201a]"), "'"),
    (re.compile(r"[\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a]"), '"'),
    (re.compile(r"\u00a0|\u2009|\u202f"), " "),
)
#: Dashes and brackets become pauses; stray markup characters are dropped.
PAUSE_RULES: tuple[Rule, ...] = (
    (re.compile(r"\s*[—–]\s*|\s-\s"), ", "),
    (re.compile(r"\s*\(\s*"), ", "),
    (re.compile(r"\s*\)\s*(?=[.,;:!?])"), ""),
    (re.compile(r"\s*\)\s*"), ", "),
    (re.compile(r",\s*,"), ","),
)


def alternatives(words) -> str:  # type: ignore[no-untyped-def]
    """A regex alternation of `words`, longest first (so "Mio." wins over "M")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_value(numeral: str) -> int:
    total, previous = 0, 0
    for letter in reversed(numeral):
        value = ROMAN_VALUES[letter]
        total, previous = (total - value, previous) if value < previous else (total + value, value)
    return total


#: A currency symbol or code, before or after the amount.
MONEY_SYMBOL = r"(?P<sym>€|\$|£|¥|EUR|USD|GBP|CHF)"


def abbreviation_rule(table: dict[str, str]) -> Rule:
    """Abbreviations (with their dots, as written) said in full, where they stand alone."""
    pattern = re.compile(rf"(?<![\w.])(?:{alternatives(table)})(?=\s|$|[,;:)])")
    return (pattern, lambda m: table[m[0]])


def symbol_rules(and_word: str, or_word: str, equals_word: str) -> tuple[Rule, ...]:
    """&, a slash between words, + and = in words."""
    return (
        (re.compile(r"\s&\s|&"), f" {and_word} "),
        (re.compile(r"(?<=\w)/(?=\w)"), f" {or_word} "),
        (re.compile(r"\+"), " plus "),
        (re.compile(r"(?<=\s)=(?=\s)"), equals_word),
    )


def plain_number_rules(code: str, decimal: str, group: str,
                       read: Callable[[str], str] | None = None) -> tuple[Rule, ...]:  # fmt: skip
    """Numbers written with this language's decimal mark and digit-group separator (a regex
    character class), read as words by `read` (given "-1250.5"; default: num2words)."""
    pattern = re.compile(
        rf"(?<![\w.,])(?P<sign>[-−])?(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d+)"
        rf"(?:{re.escape(decimal)}(?P<frac>\d+))?(?![\w])"
    )
    read = read or (lambda number: cardinal(number, code))

    def replace(m: re.Match[str]) -> str:
        whole = re.sub(r"\D", "", m["int"])
        sign = "-" if m["sign"] else ""
        return read(f"{sign}{whole}.{m['frac']}" if m["frac"] else f"{sign}{whole}")

    return ((pattern, replace),)


def generic_language(code: str) -> Language:
    """A language with no rules of its own yet: whole numbers are read in that language (when
    num2words speaks it); everything else is left as written, for the voice to read."""
    number_code = num2words_code(code)
    rules: list[Rule] = [*TYPOGRAPHY_RULES]
    if number_code:
        rules.append((re.compile(r"(?<![\w.,])\d+(?![\w]|[.,]\d)"),
                      lambda m: cardinal(m[0], number_code)))  # fmt: skip
    rules += PAUSE_RULES
    return Language(code=code, rules=tuple(rules), has_number_words=number_code is not None)
