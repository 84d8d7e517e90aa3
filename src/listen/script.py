"""Stage 2, script: `Article` -> `Script`, the narration: chapters of sentences, each with the
text as written (for the transcript) and the text the engine is given (normalized for speech)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from listen.config import SpeechConfig
from listen.extract import Article, Block
from listen.lexicon import Lexicon
from listen.normalize import normalize_for_speech

#: A synthesis unit is never longer than this: a neural voice needs about 20 MB of memory per
#: second of audio it makes at once, so longer sentences are spoken in parts, split at clause
#: boundaries (commas, semicolons, dashes) and joined with a clause-length pause.
MAX_UNIT_CHARS = 180


@dataclass(frozen=True)
class Sentence:
    text: str
    spoken: str
    #: The sentence ends a paragraph (a longer pause follows).
    ends_paragraph: bool = False
    #: What the engine is given, in order: `spoken`, in parts of at most MAX_UNIT_CHARS.
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.units:
            object.__setattr__(self, "units", tuple(bound_length(self.spoken)))


@dataclass(frozen=True)
class Chapter:
    title: str
    paragraphs: tuple[str, ...]
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Script:
    article: Article
    chapters: tuple[Chapter, ...]

    @property
    def sentences(self) -> list[Sentence]:
        return [s for c in self.chapters for s in c.sentences]

    @property
    def units(self) -> list[str]:
        """Every synthesis unit of the episode, in order."""
        return [u for s in self.sentences for u in s.units]


# --- sentence splitting ----------------------------------------------------------------------

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt",
    "capt", "cmdr", "adm", "gov", "sen", "rep", "rev", "hon", "pres", "supt", "insp", "det",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "no", "nos", "vs", "etc", "e.g", "i.e", "cf", "al", "approx", "dept", "est", "fig", "inc",
    "ltd", "co", "corp", "vol", "ed", "eds", "p", "pp", "ch", "op", "u.s", "u.k", "u.n", "e.u",
    "a.m", "p.m", "ave", "blvd", "rd", "mln", "bn", "govt", "intl",
}  # fmt: skip
# An abbreviation that often ends a sentence too: only a break if a capital follows AND the
# word before is not a title-like token. Kept small on purpose.
SENTENCE_FINAL_ABBREVIATIONS = {"etc", "inc", "ltd", "co", "corp", "a.m", "p.m", "u.s", "u.k"}

_CANDIDATE = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends, not at abbreviations ("Dr. Smith"), initials ("J. R. Tolkien")
    or decimals ("17.6")."""
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end(2)
        before = text[start : match.start(1)]
        word = re.search(r"([\w.]+)$", before)
        token = word.group(1).lower() if word else ""
        if match.group(1) == ".":
            if token.rstrip(".") in ABBREVIATIONS and not _ends_sentence_anyway(token, text, end):
                continue
            if re.fullmatch(r"[a-z]", token):  # an initial: "J. Smith"
                continue
            is_acronym = re.fullmatch(r"(?:[a-z]\.)+[a-z]", token)  # "U.S." style
            if is_acronym and token.rstrip(".") not in SENTENCE_FINAL_ABBREVIATIONS:
                continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end(3)
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ends_sentence_anyway(token: str, text: str, end: int) -> bool:
    if token.rstrip(".") not in SENTENCE_FINAL_ABBREVIATIONS:
        return False
    following = text[end:].lstrip()
    # "... Inc. The company" ends; "... Inc. shares" would not have matched (lowercase).
    return bool(re.match(r"(?:The|A|An|It|He|She|They|We|I|This|That|But|And)\b", following))


_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+")


def bound_length(sentence: str, limit: int = MAX_UNIT_CHARS) -> list[str]:
    """Split an over-long sentence at clause boundaries (then at spaces) into units <= limit."""
    if len(sentence) <= limit:
        return [sentence]
    units: list[str] = []
    current = ""
    for piece in _CLAUSE_BREAK.split(sentence):
        while len(piece) > limit:
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                units.append(current)
                current = ""
            units.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if current and len(current) + 1 + len(piece) > limit:
            units.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    if current:
        units.append(current)
    return units


# --- chapters --------------------------------------------------------------------------------


def _as_spoken_paragraph(block: Block) -> str:
    text = block.text
    # A heading or list item without final punctuation still needs a sentence-final pause.
    if block.kind in ("subheading", "list_item") and not re.search(r"[.!?:;…]['\"”’)]*$", text):
        text += "."
    return text


@dataclass(frozen=True)
class Voicing:
    """How written text becomes spoken text for one voice."""

    language: str = "en"
    normalize: bool = True
    lexicon: Lexicon = field(default_factory=Lexicon)
    #: The phoneme notation the voice reads ("ipa", "espeak"), or None for respellings only.
    phonemes: str | None = None

    def speak(self, text: str) -> str:
        text = self.lexicon.apply(text, self.phonemes)
        if self.normalize:
            return normalize_for_speech(text, self.language)
        return re.sub(r"\s+", " ", text).strip()


def _sentences(paragraphs: list[str], voicing: Voicing) -> tuple[Sentence, ...]:
    out: list[Sentence] = []
    for paragraph in paragraphs:
        sentences = split_sentences(paragraph)
        for i, sentence in enumerate(sentences):
            spoken = voicing.speak(sentence)
            if spoken.strip():
                out.append(Sentence(text=sentence, spoken=spoken,
                                    ends_paragraph=i == len(sentences) - 1))  # fmt: skip
    return tuple(out)


def _chapter(title: str, paragraphs: list[str], voicing: Voicing) -> Chapter:
    return Chapter(title=title, paragraphs=tuple(paragraphs),
                   sentences=_sentences(paragraphs, voicing))  # fmt: skip


def announce_title(title: str) -> str:
    return title if re.search(r"[.!?…]['\"”’)]*$", title) else f"{title}."


def build_script(
    article: Article,
    speech: SpeechConfig | None = None,
    voicing: Voicing | None = None,
    show_title: str = "",
) -> Script:
    """One chapter for the lead (the title announced, then any text before the first heading),
    then one per section, titled with its heading; the optional intro opens the first chapter
    and the outro closes the last."""
    speech = speech or SpeechConfig()
    voicing = voicing or Voicing(language=article.language)
    fields = {"title": article.title, "show": show_title, "byline": article.byline or ""}
    lead, rest = article.sections[0], article.sections[1:]
    paragraphs = [[announce_title(article.title), *map(_as_spoken_paragraph, lead.blocks)]]
    titles = [article.title]
    for number, section in enumerate(rest, start=2):
        heading = section.heading or ""
        announced = [f"Chapter {number}."] if speech.chapter_numbers else []
        paragraphs.append([*announced, announce_title(heading),
                           *map(_as_spoken_paragraph, section.blocks)])  # fmt: skip
        titles.append(heading)
    if speech.intro:
        paragraphs[0].insert(0, speech.intro.format(**fields))
    if speech.outro:
        paragraphs[-1].append(speech.outro.format(**fields))
    chapters = (_chapter(t, p, voicing) for t, p in zip(titles, paragraphs, strict=True))
    return Script(article=article, chapters=tuple(c for c in chapters if c.sentences))
