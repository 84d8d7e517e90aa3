"""The pronunciation lexicon: a site's fixes for names and words the voices get wrong.

A lexicon is a small TOML file (named by `[speech] lexicon` in listen.toml; an article can add
its own beside the page, `<page>.lexicon.toml`, whose entries win):

    IDF = "I D F"                  # a respelling, read by every voice
    "Al-Qassam" = "al kassam"
    [Sinwar]                       # or phonemes, per engine family
    say = "sin war"                # fallback for voices that take no phonemes
    ipa = "sɪnwˈɑːɹ"               # Piper (espeak-ng's IPA); hibari converts it to misaki's
    espeak = "sInw'A@"             # espeak-ng's phoneme mnemonics
    misaki = "sɪnwˈɑɹ"             # hibari (Kokoro's alphabet), when the converted IPA is off
    [US]
    say = "U S"
    case_sensitive = true          # so that "us" is left alone

Matching is whole-word; a key with a capital letter matches that case only (so "US" leaves "us"
alone), an all-lowercase key matches any case, and `case_sensitive` overrides either way.
Longer keys are tried first, so a phrase wins over a word inside it. Phonemes reach the
engines as `[[...]]`, which both Piper and espeak-ng read as phoneme input (hibari's engine
turns them into its inline `[word](/phonemes/)` links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from listen.config import read_toml
from listen.errors import ListenError


@dataclass(frozen=True)
class Entry:
    word: str
    say: str | None = None
    ipa: str | None = None
    espeak: str | None = None
    misaki: str | None = None
    case_sensitive: bool = False

    def replacement(self, phonemes: str | None) -> str | None:
        if phonemes == "ipa" and self.ipa:
            return f"[[{self.ipa}]]"
        if phonemes == "espeak" and self.espeak:
            return f"[[{self.espeak}]]"
        if phonemes == "misaki" and (self.misaki or self.ipa):
            return f"[[{self.misaki or ipa_to_misaki(self.ipa or '')}]]"
        return self.say


#: espeak-ng's IPA -> misaki's US alphabet (what Kokoro and hibari read): diphthongs and
#: affricates are one letter, the flap is T, r-coloured vowels are spelled out, and US English
#: marks no vowel length. Longer sequences first.
IPA_TO_MISAKI = (
    ("eɪ", "A"), ("aɪ", "I"), ("oʊ", "O"), ("əʊ", "O"), ("aʊ", "W"), ("ɔɪ", "Y"),
    ("dʒ", "ʤ"), ("tʃ", "ʧ"), ("ɝ", "ɜɹ"), ("ɚ", "əɹ"), ("ɾ", "T"), ("ʔ", "t"),
    ("ɐ", "ə"), ("ᵻ", "ɪ"), ("r", "ɹ"), ("g", "ɡ"), ("ː", ""), ("ˑ", ""),
)  # fmt: skip


def ipa_to_misaki(ipa: str) -> str:
    for source, target in IPA_TO_MISAKI:
        ipa = ipa.replace(source, target)
    return ipa


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...] = ()

    def merged(self, overrides: Lexicon) -> Lexicon:
        words = {e.word for e in overrides.entries}
        return Lexicon((*overrides.entries, *(e for e in self.entries if e.word not in words)))

    def apply(self, text: str, phonemes: str | None) -> str:
        """`text` with every entry's word replaced, for an engine reading `phonemes`."""
        for entry in sorted(self.entries, key=lambda e: len(e.word), reverse=True):
            replacement = entry.replacement(phonemes)
            if replacement is None:
                continue
            flags = 0 if entry.case_sensitive else re.IGNORECASE
            pattern = rf"(?<![\w\[]){re.escape(entry.word)}(?![\w\]])"
            text = re.sub(pattern, lambda _m, r=replacement: r, text, flags=flags)
        return text


NOTATIONS = ("say", "ipa", "espeak", "misaki")


def parse_lexicon(data: dict, source: str) -> Lexicon:
    entries = []
    for word, value in data.items():
        if isinstance(value, str):
            entries.append(Entry(word, say=value, case_sensitive=word != word.lower()))
        elif isinstance(value, dict):
            unknown = set(value) - {*NOTATIONS, "case_sensitive"}
            if unknown or not (set(NOTATIONS) & set(value)):
                raise ListenError(f"{source}: entry {word!r} needs say, ipa, espeak or misaki "
                                  f"(and nothing else but case_sensitive)")  # fmt: skip
            entries.append(Entry(
                word, say=value.get("say"), ipa=value.get("ipa"), espeak=value.get("espeak"),
                misaki=value.get("misaki"),
                case_sensitive=bool(value.get("case_sensitive", word != word.lower())),
            ))  # fmt: skip
        else:
            raise ListenError(f"{source}: entry {word!r} must be a string or a table")
    return Lexicon(tuple(entries))


def load_lexicon(path: Path) -> Lexicon:
    return parse_lexicon(read_toml(path, "lexicon"), str(path))


def article_lexicon(page: Path) -> Lexicon:
    """The per-article overrides beside a page (`story.html` -> `story.lexicon.toml`)."""
    sidecar = page.with_suffix(".lexicon.toml")
    return load_lexicon(sidecar) if sidecar.is_file() else Lexicon()
