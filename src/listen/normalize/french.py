"""French: numbers with the decimal comma and spaced digit groups, ordinals (1er, 2e, XXIe),
dates, times (14 h 30), currencies (5,50 €, 3 millions d'euros), percentages, units,
abbreviations (M., Mme, p. ex.), symbols; and where French sentences end."""

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
)

CODE = "fr"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")  # fmt: skip
#: Written before a capitalized name only ("M. Dupont", "Dr Martin").
TITLES = {"M.": "Monsieur", "MM.": "Messieurs", "Mme": "Madame", "Mmes": "Mesdames",
          "Mlle": "Mademoiselle", "Mlles": "Mesdemoiselles", "Dr": "Docteur", "Dr.": "Docteur",
          "Pr": "Professeur", "Pr.": "Professeur", "St": "Saint", "Ste": "Sainte"}  # fmt: skip
ABBREVIATIONS = {
    "p. ex.": "par exemple", "c.-à-d.": "c'est-à-dire", "c-à-d": "c'est-à-dire",
    "av. J.-C.": "avant Jésus-Christ", "apr. J.-C.": "après Jésus-Christ",
    "J.-C.": "Jésus-Christ", "etc.": "et cetera", "env.": "environ", "cf.": "voir",
    "chap.": "chapitre", "vol.": "volume", "hab.": "habitants", "tél.": "téléphone",
}  # fmt: skip
CURRENCIES = {"€": "euro", "EUR": "euro", "$": "dollar", "USD": "dollar", "£": "livre",
              "GBP": "livre", "CHF": "franc", "¥": "yen"}  # fmt: skip
SCALES = {"mille": "mille", "million": "million", "millions": "millions",
          "milliard": "milliard", "milliards": "milliards", "M": "millions", "Md": "milliards",
          "Mds": "milliards", "k": "mille"}  # fmt: skip
UNITS = {"km/h": ("kilomètre heure", "kilomètres heure"), "km²": ("kilomètre carré",
         "kilomètres carrés"), "km": ("kilomètre", "kilomètres"), "m": ("mètre", "mètres"),
         "cm": ("centimètre", "centimètres"), "mm": ("millimètre", "millimètres"),
         "kg": ("kilo", "kilos"), "g": ("gramme", "grammes"), "l": ("litre", "litres"),
         "ha": ("hectare", "hectares"), "°C": ("degré", "degrés"), "°": ("degré", "degrés"),
         "kWh": ("kilowattheure", "kilowattheures"), "MW": ("mégawatt", "mégawatts"),
         "Go": ("gigaoctet", "gigaoctets"), "min": ("minute", "minutes")}  # fmt: skip

_NUMBER = r"\d{1,3}(?: \d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_SIGNED = rf"[-−]?(?:{_NUMBER})"


def number(text: str) -> str:
    """A French-written number ("1 250,5") in words; decimals are read as a number after
    "virgule" ("3,25": trois virgule vingt-cinq), with each leading zero said."""
    whole, _, fraction = text.replace(" ", "").partition(",")
    spoken = cardinal(whole, CODE)
    if fraction:
        zeros = len(fraction) - len(fraction.lstrip("0"))
        rest = fraction.lstrip("0")
        spoken += " virgule" + " zéro" * zeros + (f" {cardinal(rest, CODE)}" if rest else "")
    return spoken


def _is_plural(text: str) -> bool:
    """French puts a noun in the plural from two on ("1,5 kilomètre", "2 kilomètres")."""
    return abs(float(text.replace(" ", "").replace(",", ".").replace("−", "-"))) >= 2


def _ordinal(m: re.Match[str]) -> str:
    value = roman_value(m["roman"]) if m["roman"] else int(m["digits"])
    if value == 1:
        return "première" if m["suffix"] in ("re", "ère") else "premier"
    return ordinal(value, CODE)


def _time(m: re.Match[str]) -> str:
    hours = int(m["hour"])
    spoken = "une heure" if hours == 1 else f"{cardinal(hours, CODE)} heures"
    if m["minute"] and int(m["minute"]):
        spoken += f" {cardinal(int(m['minute']), CODE)}"
    return spoken


def _numeric_date(m: re.Match[str]) -> str:
    day, month = int(m["day"]), int(m["month"])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m[0]
    day_words = "premier" if day == 1 else cardinal(day, CODE)
    return f"{day_words} {MONTHS[month - 1]} {cardinal(m['year'], CODE)}"


def _money(m: re.Match[str]) -> str:
    amount, scale, unit = m["amount"], m["scale"], CURRENCIES[m["sym"]]
    if scale:
        scale_word = SCALES[scale]
        if scale_word == "mille":
            return f"{number(amount)} mille {unit}s"
        if not _is_plural(amount):
            scale_word = scale_word.rstrip("s")
        elif not scale_word.endswith("s"):
            scale_word += "s"
        linker = "d'" if unit[0] in "aeiouy" else "de "
        return f"{number(amount)} {scale_word} {linker}{unit}s"
    whole, _, cents = amount.replace(" ", "").partition(",")
    spoken = f"{cardinal(whole, CODE)} {unit}{'s' if int(whole) >= 2 else ''}"
    if cents and int(cents[:2].ljust(2, "0")):
        spoken += f" {cardinal(int(cents[:2].ljust(2, '0')), CODE)}"
    return spoken


def _unit(m: re.Match[str]) -> str:
    singular, plural = UNITS[m["unit"]]
    return f"{number(m['amount'])} {plural if _is_plural(m['amount']) else singular}"


_SCALE = rf"(?:\s?(?P<scale>{alternatives(SCALES)})\b\.?)?"

RULES: tuple[Rule, ...] = (
    *TYPOGRAPHY_RULES,
    abbreviation_rule(ABBREVIATIONS),
    (re.compile(rf"(?<![\w.])({alternatives(TITLES)})(?=[\s-][A-ZÀ-Ý])"), lambda m: TITLES[m[1]]),
    (re.compile(r"\b(?:n°|nº|N°)\s?(?=\d)"), "numéro "),
    # Dates and times, before plain numbers.
    (re.compile(r"\b(?P<day>\d{1,2})[/.](?P<month>\d{1,2})[/.](?P<year>\d{4})\b"), _numeric_date),
    (re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"), _numeric_date),
    (re.compile(r"\b(\d+)\s?[-–]\s?(\d+)\b"), r"\1 à \2"),
    (re.compile(r"\b(?P<hour>[01]?\d|2[0-3])\s?(?:h|:)\s?(?P<minute>[0-5]\d)?(?![\w:])"), _time),
    # Ordinals: 1er, 1re, 2e, 3ème, XXIe siècle, François Ier (no C or L: "Ce", "Le").
    (re.compile(r"\b(?:(?P<digits>\d+)|(?P<roman>[IVX]+))(?P<suffix>er|re|ère|e|ème|è)\b"),
     _ordinal),
    # Money, percentages, units.
    (re.compile(rf"(?P<amount>{_NUMBER}){_SCALE}\s?(?:d'|de\s)?{MONEY_SYMBOL}(?![\w])"), _money),
    (re.compile(rf"{MONEY_SYMBOL}\s?(?P<amount>{_NUMBER}){_SCALE}"), _money),
    (re.compile(r"(?<=\d)\s?%"), " pour cent"),
    (re.compile(rf"(?<![\w-])(?P<amount>{_SIGNED})\s?(?P<unit>{alternatives(UNITS)})(?![\w²])"),
     _unit),
    # Roman numerals after a name (Louis XIV, Jean-Paul II), then plain numbers.
    (re.compile(r"\b(?P<name>[A-ZÀ-Ý][\w-]+) (?P<numeral>[IVXL]{2,})\b"),
     lambda m: f"{m['name']} {cardinal(roman_value(m['numeral']), CODE)}"),
    *plain_number_rules(CODE, ",", " ", read=lambda n: number(n.replace(".", ","))),
    *symbol_rules("et", "ou", "égale"),
    *PAUSE_RULES,
)  # fmt: skip

FRENCH = Language(
    code=CODE,
    rules=RULES,
    abbreviations=frozenset({
        "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "etc", "env", "av", "apr",
        "p", "ex", "cf", "vol", "chap", "n", "no", "hab", "tél", "bd", "boul", "éd", "coll",
        "fig", "janv", "févr", "fév", "avr", "juil", "sept", "oct", "nov", "déc", "min", "max",
    }),
    sentence_final_abbreviations=frozenset({"etc"}),
    chapter_word="Chapitre",
    sentence_openers=frozenset({"Le", "La", "Les", "Il", "Elle", "Ils", "Elles", "On", "Nous",
                                "Mais", "Et", "Ce", "Cette", "Un", "Une", "En", "Pour", "Dans"}),
)  # fmt: skip
