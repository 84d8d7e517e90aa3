"""German: numbers with the decimal comma and dotted digit groups, ordinals declined after
"am", "im", "zum"... (am 3. Oktober: am dritten Oktober), dates (03.10.2024), times (14:30 Uhr),
years (1989, but "1989 Menschen" is a count), currencies (3,5 Mio. €), percentages, units,
abbreviations (z. B., usw., Nr.), symbols; and where German sentences end (not after "3." before
a noun)."""

from __future__ import annotations

import re

from listen.normalize.base import (
    MONEY_SYMBOL,
    PAUSE_RULES,
    TYPOGRAPHY_RULES,
    Language,
    Rule,
    abbreviation_rule,
    alternatives,
    cardinal,
    ordinal,
    plain_number_rules,
    roman_value,
    symbol_rules,
    year,
)

CODE = "de"
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")  # fmt: skip
MONTH_ABBREVIATIONS = {"Jan.": "Januar", "Febr.": "Februar", "Feb.": "Februar",
                       "Apr.": "April", "Aug.": "August", "Sept.": "September",
                       "Sep.": "September", "Okt.": "Oktober", "Nov.": "November",
                       "Dez.": "Dezember"}  # fmt: skip
ABBREVIATIONS = {
    "z. B.": "zum Beispiel", "z.B.": "zum Beispiel", "d. h.": "das heißt", "d.h.": "das heißt",
    "u. a.": "unter anderem", "u.a.": "unter anderem", "v. a.": "vor allem",
    "o. Ä.": "oder Ähnliches", "u. U.": "unter Umständen", "i. d. R.": "in der Regel",
    "v. Chr.": "vor Christus", "n. Chr.": "nach Christus", "usw.": "und so weiter",
    "bzw.": "beziehungsweise", "ca.": "circa", "ggf.": "gegebenenfalls", "inkl.": "inklusive",
    "evtl.": "eventuell", "bzgl.": "bezüglich", "sog.": "sogenannte", "vgl.": "vergleiche",
    "zzgl.": "zuzüglich", "bspw.": "beispielsweise", "Nr.": "Nummer", "Str.": "Straße",
    "Jh.": "Jahrhundert", "Abs.": "Absatz", "Tel.": "Telefon", "Dr.": "Doktor",
    "Prof.": "Professor", "Hr.": "Herr", "Fr.": "Frau", "St.": "Sankt", "Tsd.": "Tausend",
    "etc.": "et cetera", "Std.": "Stunden", "Min.": "Minuten",
}  # fmt: skip
CURRENCIES = {"€": "Euro", "EUR": "Euro", "$": "Dollar", "USD": "Dollar", "£": "Pfund",
              "GBP": "Pfund", "CHF": "Franken", "¥": "Yen"}  # fmt: skip
#: Large numbers: (singular, plural); the singular takes "eine" (eine Million).
SCALES = {"Mio.": ("Million", "Millionen"), "Million": ("Million", "Millionen"),
          "Millionen": ("Million", "Millionen"), "Mrd.": ("Milliarde", "Milliarden"),
          "Milliarde": ("Milliarde", "Milliarden"), "Milliarden": ("Milliarde", "Milliarden"),
          "Bio.": ("Billion", "Billionen"), "Billionen": ("Billion", "Billionen")}  # fmt: skip
UNITS = {"km/h": "Kilometer pro Stunde", "km²": "Quadratkilometer", "km": "Kilometer",
         "m": "Meter", "cm": "Zentimeter", "mm": "Millimeter", "kg": "Kilogramm",
         "g": "Gramm", "t": "Tonnen", "l": "Liter", "ha": "Hektar", "°C": "Grad Celsius",
         "°": "Grad", "kWh": "Kilowattstunden", "MW": "Megawatt", "GB": "Gigabyte"}  # fmt: skip
#: After these, an ordinal is declined ("am dritten", "im neunzehnten Jahrhundert").
DATIVE_BEFORE = ("am", "im", "vom", "zum", "beim", "dem", "den", "des", "ab dem", "bis zum",
                 "seit dem")  # fmt: skip

_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"


def number(text: str) -> str:
    """A German-written number ("1.250,5") in words: "tausendzweihundertfünfzig Komma fünf"."""
    return cardinal(text.replace(".", "").replace(",", "."), CODE)


def before_noun(words: str) -> str:
    """A number said before a noun: "eins" becomes "ein" (ein Euro, einundzwanzig stays)."""
    return words[:-1] if words.endswith("eins") else words


def declined_ordinal(value: int, dative: bool) -> str:
    """ "dritte" (der dritte Oktober), or "dritten" after a dative ("am dritten Oktober")."""
    word = ordinal(value, CODE)
    return word + "n" if dative else word


_DATIVE = rf"(?P<pre>\b(?i:{alternatives(DATIVE_BEFORE)})\s)?"


def _date(m: re.Match[str]) -> str:
    day = int(m["day"])
    month = m["month"]
    if month.isdigit():
        if not 1 <= int(month) <= 12:
            return m[0]
        month = MONTHS[int(month) - 1]
    month = MONTH_ABBREVIATIONS.get(month, month)
    if not 1 <= day <= 31:
        return m[0]
    spoken = f"{m['pre'] or ''}{declined_ordinal(day, bool(m['pre']))} {month}"
    return spoken + (f" {year(m['year'], CODE)}" if m["year"] else "")


def _time(m: re.Match[str]) -> str:
    spoken = f"{before_noun(cardinal(int(m['hour']), CODE))} Uhr"
    if m["minute"] and int(m["minute"]):
        spoken += f" {cardinal(int(m['minute']), CODE)}"
    return spoken


def _scaled(amount: str, scale: str) -> str:
    singular, plural = SCALES[scale]
    if amount == "1":
        return f"eine {singular}"
    return f"{number(amount)} {plural}"


def _money(m: re.Match[str]) -> str:
    amount, scale, unit = m["amount"], m["scale"], CURRENCIES[m["sym"]]
    if scale:
        return f"{_scaled(amount, scale)} {unit}"
    whole, _, cents = amount.replace(".", "").partition(",")
    spoken = f"{before_noun(cardinal(whole, CODE))} {unit}"
    if cents and int(cents[:2].ljust(2, "0")):
        spoken += f" {cardinal(int(cents[:2].ljust(2, '0')), CODE)}"
    return spoken


def _ordinal(m: re.Match[str]) -> str:
    return f"{m['pre'] or ''}{declined_ordinal(int(m['number']), bool(m['pre']))}"


_SCALE = rf"(?:\s?(?P<scale>{alternatives(SCALES)})(?!\w))?"
_MONTH = rf"(?P<month>{alternatives([*MONTHS, *MONTH_ABBREVIATIONS])})"

RULES: tuple[Rule, ...] = (
    *TYPOGRAPHY_RULES,
    abbreviation_rule(ABBREVIATIONS),
    # Dates and times, before plain numbers.
    (re.compile(rf"{_DATIVE}\b(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}})\b"),
     _date),
    (re.compile(rf"{_DATIVE}\b(?P<year>\d{{4}})-(?P<month>\d{{2}})-(?P<day>\d{{2}})\b"), _date),
    (re.compile(rf"{_DATIVE}\b(?P<day>\d{{1,2}})\.\s?{_MONTH}(?:\s(?P<year>\d{{4}})\b)?"), _date),
    (re.compile(r"\b(\d+)\s?[-–]\s?(\d+)\b"), r"\1 bis \2"),
    (re.compile(r"\b(?P<hour>[01]?\d|2[0-3])(?:[:.](?P<minute>[0-5]\d))?\s?Uhr\b"), _time),
    (re.compile(r"\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\b(?!:)"), _time),
    # Money and large numbers, percentages, units.
    (re.compile(rf"(?P<amount>{_NUMBER}){_SCALE}\s?{MONEY_SYMBOL}(?![\w])"), _money),
    (re.compile(rf"{MONEY_SYMBOL}\s?(?P<amount>{_NUMBER}){_SCALE}"), _money),
    (re.compile(rf"(?P<amount>{_NUMBER})\s?(?P<scale>{alternatives(SCALES)})(?!\w)"),
     lambda m: _scaled(m["amount"], m["scale"])),
    (re.compile(r"(?<=\d)\s?%"), " Prozent"),
    (re.compile(rf"(?<![\w-])(?P<amount>[-−]?(?:{_NUMBER}))\s?(?P<unit>{alternatives(UNITS)})"
                r"(?![\w²])"),
     lambda m: f"{number(m['amount'])} {UNITS[m['unit']]}"),
    # Years: 1100 to 1999 is a year ("neunzehnhundert...") unless a noun follows, which it
    # counts ("1990 Menschen"); German capitalizes every noun. Decades: die 1990er.
    (re.compile(r"\b(?P<year>1[1-9]\d\d)\b(?![.,]\d)(?!\s+[A-ZÄÖÜ][a-zäöüß])"),
     lambda m: year(m["year"], CODE)),
    (re.compile(r"\b(?P<year>1[1-9]\d0|20[0-9]0)er"), lambda m: year(m["year"], CODE) + "er"),
    # Ordinals: a number's dot before a capitalized word (der 2. Weltkrieg, im 19. Jahrhundert),
    # and regnal numbers (Ludwig XIV.: Ludwig der Vierzehnte).
    (re.compile(rf"{_DATIVE}\b(?P<number>\d{{1,3}})\.(?=\s+[A-ZÄÖÜ])"), _ordinal),
    (re.compile(r"\b(?P<name>[A-ZÄÖÜ][a-zäöüß]+) (?P<numeral>[IVXL]+)\.(?=\s|$)"),
     lambda m: f"{m['name']} der {ordinal(roman_value(m['numeral']), CODE).capitalize()}"),
    # Plain numbers; "eins" before a noun is "ein".
    *plain_number_rules(CODE, ",", r"\.", read=lambda n: cardinal(n, CODE)),
    (re.compile(r"\beins(?=\s+[A-ZÄÖÜ][a-zäöüß])"), "ein"),
    (re.compile(r"§\s?"), "Paragraf "),
    *symbol_rules("und", "oder", "gleich"),
    *PAUSE_RULES,
)  # fmt: skip

GERMAN = Language(
    code=CODE,
    rules=RULES,
    abbreviations=frozenset({
        "z.b", "b", "d.h", "h", "u.a", "a", "v.a", "usw", "bzw", "ca", "dr", "prof", "nr",
        "str", "ggf", "inkl", "evtl", "bzgl", "sog", "jh", "abs", "vgl", "hr", "fr", "st", "chr",
        "mio", "mrd", "bio", "tsd", "tel", "zzgl", "bspw", "std", "min", "max", "mind", "geb",
        "gest", "jan", "febr", "feb", "apr", "aug", "sept", "sep", "okt", "nov", "dez", "etc",
        "ä", "u", "r", "dt", "engl", "ehem", "allg", "bes", "ff", "f", "stv", "lt",
    }),
    sentence_final_abbreviations=frozenset({"usw", "etc"}),
    sentence_openers=frozenset({"Der", "Die", "Das", "Er", "Sie", "Es", "Wir", "Ich", "Aber",
                                "Und", "Ein", "Eine", "Dies", "Diese", "Dann", "Doch", "Auch",
                                "Im", "In", "Am"}),
    ordinal_dot=True,
    chapter_word="Kapitel",
)  # fmt: skip
