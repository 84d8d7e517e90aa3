"""Text normalization for speech, in the page's language: what the voice should say for what
the page writes ("$17.6 billion", "3,5 Mio. €", "le 1er mars"), and where sentences end.

One module per language with rules of its own (`english`, `french`, `german`), each a
`Language`: its normalization rules, applied in order, and the abbreviations its sentence
splitter must not break at. Any other language gets `base.generic_language`: whole numbers read
in that language by num2words (it speaks about fifty), everything else left as written for the
voice of that language to read.
"""

from __future__ import annotations

import re
from functools import cache

from listen.normalize.base import Language, generic_language
from listen.normalize.english import ENGLISH
from listen.normalize.french import FRENCH
from listen.normalize.german import GERMAN

LANGUAGES = {language.code: language for language in (ENGLISH, FRENCH, GERMAN)}

_PHONEME_INPUT = re.compile(r"(\[\[.*?\]\])")
#: Characters of markup and formatting that no voice should read.
_STRAY_MARKUP = re.compile(r"[*_~^|\\<>{}]")


def primary_language(tag: str) -> str:
    """The primary subtag of a language tag: "fr-CA" -> "fr"."""
    return re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0] or "en"


@cache
def language_for(tag: str) -> Language:
    """The rules for a page's language tag ("de-AT" uses German's)."""
    code = primary_language(tag)
    return LANGUAGES.get(code) or generic_language(code)


def normalize_for_speech(text: str, language: str = "en") -> str:
    """What the voice should say for `text`; phoneme input (`[[...]]`) passes untouched."""
    rules = language_for(language).rules
    parts = _PHONEME_INPUT.split(text)
    spoken = "".join(
        part if _PHONEME_INPUT.fullmatch(part) else _normalize_words(part, rules) for part in parts
    )
    spoken = re.sub(r"\s+([,.;:!?])", r"\1", spoken)
    return re.sub(r"\s+", " ", spoken).strip().strip(",").strip()


def _normalize_words(text: str, rules: tuple) -> str:  # type: ignore[type-arg]
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", _STRAY_MARKUP.sub(" ", text))


__all__ = ["LANGUAGES", "Language", "language_for", "normalize_for_speech", "primary_language"]
