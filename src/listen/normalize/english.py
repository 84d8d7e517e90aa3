"""English: what the voice should say for what the page writes, and where sentences end.

Currency with scales, numbers with separators and decimals, percentages, ordinals, years and
decades, dates, times, ranges, units, fractions, phone-like numbers, abbreviations, acronyms,
URLs and e-mail addresses, symbols, and dashes and brackets as pauses. Every rule is one
(pattern, replacement) pair in `ENGLISH_RULES`, applied in order; number words come from
num2words.
"""

from __future__ import annotations

import re

from num2words import num2words

from listen.normalize.base import PAUSE_RULES, TYPOGRAPHY_RULES, Language, Rule

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
MONTH_ABBREVIATIONS = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October",
    "Nov": "November", "Dec": "December",
}  # fmt: skip
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", "")}  # fmt: skip
SCALES = {
    "k": "thousand", "thousand": "thousand", "m": "million", "mn": "million", "mln": "million",
    "million": "million", "b": "billion", "bn": "billion", "billion": "billion",
    "t": "trillion", "tn": "trillion", "trillion": "trillion",
}  # fmt: skip
ABBREVIATIONS = {
    "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor",
    "Gen.": "General", "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative",
    "Lt.": "Lieutenant", "Col.": "Colonel", "Sgt.": "Sergeant", "Capt.": "Captain",
    "Jr.": "Junior", "Sr.": "Senior", "Mt.": "Mount", "Ave.": "Avenue", "Blvd.": "Boulevard",
    "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus",
    "approx.": "approximately", "a.m.": "a m", "p.m.": "p m", "U.S.": "U S", "U.K.": "U K",
    "U.N.": "U N", "E.U.": "E U", "Inc.": "Incorporated", "Ltd.": "Limited", "Co.": "Company",
    "Corp.": "Corporation", "Dept.": "Department", "Fig.": "Figure", "Vol.": "Volume",
}  # fmt: skip
UNITS = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter",
    "centimeters"), "mm": ("millimeter", "millimeters"), "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"), "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"), "mi": ("mile", "miles"),
    "ft": ("foot", "feet"), "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "kWh": ("kilowatt hour",
    "kilowatt hours"), "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "GB": ("gigabyte", "gigabytes"), "MB": ("megabyte",
    "megabytes"), "TB": ("terabyte", "terabytes"), "ml": ("milliliter", "milliliters"),
    "l": ("liter", "liters"), "ha": ("hectare", "hectares"), "sq km": ("square kilometer",
    "square kilometers"), "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree "
    "Fahrenheit", "degrees Fahrenheit"), "°": ("degree", "degrees"),
}  # fmt: skip
FRACTIONS = {"1/2": "one half", "1/3": "one third", "2/3": "two thirds", "1/4": "one quarter",
             "3/4": "three quarters", "½": "one half", "¼": "one quarter", "¾": "three quarters",
             "⅓": "one third", "⅔": "two thirds"}  # fmt: skip
#: Capitalized abbreviations said as words, not letter by letter.
WORD_ACRONYMS = {"NATO", "NASA", "UNESCO", "UNICEF", "OPEC", "FIFA", "AIDS", "COVID", "SWAT",
                 "LASER", "RADAR", "SCUBA", "OSHA", "FEMA", "ASEAN", "NAFTA", "UEFA",
                 "INTERPOL", "HAMAS", "ISIS", "GIF", "JPEG", "PIN", "CAPTCHA"}  # fmt: skip
DIGIT_WORDS = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DECIMAL_DIGITS = ("zero", *DIGIT_WORDS[1:])
#: Words after which a Roman numeral is a number ("World War II"), not a regnal ordinal
#: ("Henry VIII" is "Henry the eighth").
ROMAN_CARDINAL_AFTER = {
    "War",
    "Part",
    "Chapter",
    "Phase",
    "Act",
    "Volume",
    "Title",
    "Article",
    "Level",
    "Stage",
    "Type",
    "Class",
    "Round",
    "Vatican",
    "Book",
    "Section",
}
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def words(number: str | int | float, **kwargs: str) -> str:
    """num2words, without the commas it puts between groups (they would become pauses).
    Decimals are read digit by digit after "point", trailing zeros included ("2.0")."""
    if isinstance(number, str) and "." in number and not kwargs:
        whole, fraction = number.split(".", 1)
        decimals = " ".join(DECIMAL_DIGITS[int(d)] for d in fraction)
        return f"{words(whole or '0')} point {decimals}"
    if isinstance(number, str):
        number = int(number)
    return num2words(number, **kwargs).replace(",", "")


def year_words(year: str) -> str:
    return words(year, to="year")


def ordinal(number: str) -> str:
    return words(number, to="ordinal")


def digits(text: str) -> str:
    return " ".join(DIGIT_WORDS[int(d)] for d in text if d.isdigit())


# --- rules -----------------------------------------------------------------------------------


def _currency(m: re.Match[str]) -> str:
    one, many, cent, cents = CURRENCIES[m["sym"]]
    amount, scale = m["amount"].replace(",", ""), m["scale"]
    if scale:
        return f"{words(amount)} {SCALES[scale.lower()]} {many}"
    whole, _, fraction = amount.partition(".")
    value = int(fraction.ljust(2, "0")[:2]) if fraction and cents else 0
    change = f"{words(value)} {cent if value == 1 else cents}"
    if int(whole) == 0 and value:
        return change
    spoken = f"{words(whole)} {one if whole == '1' else many}"
    return spoken + (f" and {change}" if value else "")


def _unit(m: re.Match[str]) -> str:
    number, unit = m["number"], m["unit"]
    singular, plural = UNITS[unit]
    return f"{number} {singular if number in ('1', 'one') else plural}"


def _date_month_day(m: re.Match[str]) -> str:
    month = MONTH_ABBREVIATIONS.get(m["month"].rstrip("."), m["month"].rstrip("."))
    spoken = f"{month} {ordinal(m['day'])}"
    return spoken + (f", {year_words(m['year'])}" if m["year"] else "")


def _date_day_month(m: re.Match[str]) -> str:
    month = MONTH_ABBREVIATIONS.get(m["month"].rstrip("."), m["month"].rstrip("."))
    spoken = f"the {ordinal(m['day'])} of {month}"
    return spoken + (f" {year_words(m['year'])}" if m["year"] else "")


def _iso_date(m: re.Match[str]) -> str:
    month = int(m["month"])
    if not 1 <= month <= 12 or not 1 <= int(m["day"]) <= 31:
        return m[0]
    return f"{MONTHS[month - 1]} {ordinal(m['day'])}, {year_words(m['year'])}"


def _time(m: re.Match[str]) -> str:
    hour, minute, suffix = int(m["hour"]), m["minute"], m["suffix"]
    if minute in (None, "00"):
        spoken = words(hour) + ("" if suffix else " o'clock")
    elif minute.startswith("0"):
        spoken = f"{words(hour)} oh {words(int(minute))}"
    else:
        spoken = f"{words(hour)} {words(int(minute))}"
    if suffix:
        spoken += " a m" if suffix.lower().startswith("a") else " p m"
    return spoken


def _phone(m: re.Match[str]) -> str:
    groups = re.findall(r"\d+", m[0])
    return (", ".join(digits(g) for g in groups)) + (" " if m[0].endswith(" ") else "")


def _url(m: re.Match[str]) -> str:
    url = re.sub(r"^(https?://)?(www\.)?", "", m[0]).rstrip("/")
    return url.replace(".", " dot ").replace("/", " slash ").replace("-", " dash ")


def _email(m: re.Match[str]) -> str:
    user, domain = m[0].split("@")
    return f"{user.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def _acronym(m: re.Match[str]) -> str:
    word = m[0]
    if word in WORD_ACRONYMS:
        return word.capitalize()
    return " ".join(word)


def _roman(m: re.Match[str]) -> str:
    total, previous = 0, 0
    for letter in reversed(m["numeral"]):
        value = ROMAN_VALUES[letter]
        total, previous = (total - value, previous) if value < previous else (total + value, value)
    if m["word"] in ROMAN_CARDINAL_AFTER:
        return f"{m['word']} {words(total)}"
    return f"{m['word']} the {ordinal(str(total))}"


def _number(m: re.Match[str]) -> str:
    text = m[0].replace(",", "")
    sign = "minus " if text.startswith(("-", "−")) else ""
    return sign + words(text.lstrip("-−"))


def _year_or_count(m: re.Match[str]) -> str:
    return year_words(m["year"]) + m["after"]


_MONTH = r"(?P<month>" + "|".join([*MONTHS, *(f"{a}\\." for a in MONTH_ABBREVIATIONS)]) + r")"
_ABBREVIATION = "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))

ENGLISH_RULES: list[Rule] = [
    # Typography first, so later patterns see plain characters.
    *TYPOGRAPHY_RULES,
    (re.compile(r"\bUS\$"), "$"),
    (re.compile(r"\band/or\b"), "and or"),
    # Addresses before anything splits them at dots.
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), _email),
    (re.compile(r"\b(?:https?://|www\.)[^\s,;)]*[^\s,;).!?:]"), _url),
    # Dates and times, before plain numbers.
    (re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"), _iso_date),
    (re.compile(_MONTH + r"\s(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s(?P<year>\d{4})\b)?"),
     _date_month_day),
    (re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s" + _MONTH + r"(?:,?\s(?P<year>\d{4})\b)?"),
     _date_day_month),
    (re.compile(r"\b(?P<hour>[01]?\d|2[0-3])(?::(?P<minute>[0-5]\d))?\s?"
                r"(?P<suffix>[ap]\.m\.|[ap]m\b)", re.IGNORECASE), _time),
    (re.compile(r"\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?P<suffix>)\b(?!:)"), _time),
    # Money, then abbreviations ("St." needs its neighbours), then the rest of the symbols.
    (re.compile(r"(?P<sym>[$€£¥])\s?(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
                r"(?:\s?(?P<scale>thousand|million|billion|trillion|mln|mn|bn|tn|[kmbt])\b)?",
                re.IGNORECASE), _currency),
    (re.compile(r"\bSt\.(?=\s[A-Z])"), "Saint"),
    (re.compile(r"\bSt\."), "Street"),
    (re.compile(r"\bNo\.(?=\s?\d)"), "number"),
    (re.compile(r"(?<![\w.])(?:" + _ABBREVIATION + r")(?=\s|$|[,;:)])"),
     lambda m: ABBREVIATIONS[m[0]]),
    # Phone-like numbers are read digit by digit.
    (re.compile(r"(?:\+\d{1,3}[\s-])?\(?\b\d{3}\)?[\s-]\d{3}[\s-]\d{4}\b"), _phone),
    (re.compile(r"\b\d{3}-\d{4}\b"), _phone),
    # Ranges, decades, percentages, fractions, units, ordinals.
    (re.compile(r"\b(?P<a>(?:1[1-9]|20)\d\d)\s?[-–]\s?(?P<b>(?:1[1-9]|20)\d\d)\b"),
     lambda m: f"{year_words(m['a'])} to {year_words(m['b'])}"),
    (re.compile(r"\b(?P<a>\d+(?:\.\d+)?)\s?[-–]\s?(?P<b>\d+(?:\.\d+)?)\s?%"),
     lambda m: f"{m['a']} to {m['b']} percent"),
    (re.compile(r"\b(?P<a>\d+)\s?[-–]\s?(?P<b>\d+)\b(?!\s?[-–]\s?\d)"), r"\g<a> to \g<b>"),
    (re.compile(r"\b((?:1[1-9]|20)\d0)'?s\b"),
     lambda m: re.sub(r"y$", "ies", year_words(m[1])) if year_words(m[1]).endswith("y")
     else year_words(m[1]) + "s"),
    (re.compile(r"'(\d0)s\b"), lambda m: words(m[1]).removesuffix("y") + "ies"),
    (re.compile(r"(?<=\d)\s?%"), " percent"),
    (re.compile(r"\b(\d+)\s(1/2|1/3|2/3|1/4|3/4)\b"), lambda m: f"{m[1]} and {FRACTIONS[m[2]]}"
     .replace("and one half", "and a half").replace("and one quarter", "and a quarter")),
    (re.compile(r"(?<![\d/])(1/2|1/3|2/3|1/4|3/4)(?![\d/])|[½¼¾⅓⅔]"), lambda m: FRACTIONS[m[0]]),
    (re.compile(r"\b(?P<number>\d+(?:\.\d+)?)\s?(?P<unit>" + _UNIT + r")(?![\w])"), _unit),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal(m[1])),
    (re.compile(r"#\s?(?=\d)"), "number "),
    # Years: a four-digit number from 1100 to 2099 is a year unless a plural noun follows.
    (re.compile(r"\b(?P<year>1[1-9]\d\d|20\d\d)\b(?P<after>(?!\s(?!is\b|was\b|has\b|as\b|this\b|"
                r"its\b|his\b|us\b)[a-z]+s\b)(?![.,]\d))"), _year_or_count),
    # Roman numerals after a name or a "War", then letter-digit names ("G7", "F-16").
    (re.compile(r"\b(?P<word>[A-Z][a-z]+)\s(?P<numeral>(?=[IVX]{2,}\b)X{0,2}(?:IX|IV|V?I{0,3}))\b"),
     _roman),
    (re.compile(r"\b([A-Z]{1,5})-?(?=\d)"), r"\1 "),
    # Acronyms of two to six capitals are spelled out, unless said as a word.
    (re.compile(r"\b(?<!\[)[A-Z]{2,6}s?\b(?![\]'])"), lambda m: _acronym(re.match(r"[A-Z]+", m[0]))
     + ("s" if m[0].endswith("s") and not m[0].isupper() else "")),
    # Plain numbers.
    (re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|(?<![\w.])[-−]?\d+(?:\.\d+)?\b"),
     _number),
    # Symbols and punctuation that mean a pause.
    (re.compile(r"\s&\s|&"), " and "),
    (re.compile(r"(?<=\d)/(?=\d)"), " "),
    (re.compile(r"(?<=\w)/(?=\w)"), " or "),
    (re.compile(r"\+"), " plus "),
    (re.compile(r"(?<=\s)=(?=\s)"), "equals"),
    *PAUSE_RULES,
]  # fmt: skip


#: Tokens (lowercase, no final dot) after which a "." does not end a sentence.
SENTENCE_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt",
    "capt", "cmdr", "adm", "gov", "sen", "rep", "rev", "hon", "pres", "supt", "insp", "det",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "no", "nos", "vs", "etc", "e.g", "i.e", "cf", "al", "approx", "dept", "est", "fig", "inc",
    "ltd", "co", "corp", "vol", "ed", "eds", "p", "pp", "ch", "op", "u.s", "u.k", "u.n", "e.u",
    "a.m", "p.m", "ave", "blvd", "rd", "mln", "bn", "govt", "intl",
})  # fmt: skip
# An abbreviation that often ends a sentence too: only a break if a capital follows AND the
# word before is not a title-like token. Kept small on purpose.
SENTENCE_FINAL_ABBREVIATIONS = frozenset({"etc", "inc", "ltd", "co", "corp", "a.m", "p.m", "u.s",
                                          "u.k"})  # fmt: skip
SENTENCE_OPENERS = frozenset({"The", "A", "An", "It", "He", "She", "They", "We", "I", "This",
                              "That", "But", "And"})  # fmt: skip

ENGLISH = Language(
    code="en",
    rules=tuple(ENGLISH_RULES),
    abbreviations=SENTENCE_ABBREVIATIONS,
    sentence_final_abbreviations=SENTENCE_FINAL_ABBREVIATIONS,
    sentence_openers=SENTENCE_OPENERS,
    chapter_word="Chapter",
)
