"""Stage 2, script: `Article` -> `Script`, the narration: chapters of sentences, each with the
text as written (for the transcript), the text the engine is given (normalized for speech, in
the page's language) and the voice that reads it (the narrator's, or the quotation voice's)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from listen.config import SpeechConfig
from listen.extract import Article, Block, Section
from listen.lexicon import Lexicon
from listen.normalize import Language, language_for, normalize_for_speech

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
    #: The voice preset that reads it.
    voice: str = ""
    #: Which of `Script.blocks` this sentence reads; None for words that are not on the page
    #: (the intro, the outro, "Chapter 2.").
    block: int | None = None

    def __post_init__(self) -> None:
        if not self.units:
            object.__setattr__(self, "units", tuple(bound_length(self.spoken)))


@dataclass(frozen=True)
class Chapter:
    title: str
    paragraphs: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    #: Its section's pictures (`Section.images`): the chapter's art is the first readable one.
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageBlock:
    """A block of the page that the narration reads (the title, a heading, a paragraph, a list
    item...): what the player's on-page read-along finds in the article by its fingerprint."""

    kind: str
    fingerprint: str

    @classmethod
    def of(cls, kind: str, text: str) -> PageBlock:
        return cls(kind, text_fingerprint(text))


@dataclass(frozen=True)
class Script:
    article: Article
    chapters: tuple[Chapter, ...]
    #: The narrator's voice preset (a quotation voice may read some sentences).
    voice: str = ""
    #: The page's blocks in reading order; `Sentence.block` indexes into them.
    blocks: tuple[PageBlock, ...] = ()

    @property
    def sentences(self) -> list[Sentence]:
        return [s for c in self.chapters for s in c.sentences]

    @property
    def units(self) -> list[str]:
        """Every synthesis unit of the episode, in order."""
        return [u for s in self.sentences for u in s.units]

    @property
    def voiced_units(self) -> list[tuple[str, str]]:
        """(voice, unit) for every synthesis unit of the episode, in order."""
        return [(s.voice, u) for s in self.sentences for u in s.units]


# --- sentence splitting ----------------------------------------------------------------------

#: A sentence may end at a run of . ! ? … and any closing quotes or brackets (French puts a space
#: before its »), before whitespace and a capital, a digit, or an opening quote or bracket.
_CANDIDATE = re.compile(
    r"([.!?…]+)((?:\s?[\"'”’“»)\]])*)(\s+)(?=[\"'“‘„«(\[]?\s?[A-Z0-9À-ÖØ-Þ])"
)


def split_sentences(text: str, language: str = "en") -> list[str]:
    """Split at sentence ends, not at the language's abbreviations ("Dr. Smith", "z. B. Die"),
    initials ("J. R. Tolkien"), decimals ("17.6") or, in German, ordinals ("am 3. Oktober")."""
    rules = language_for(language)
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end(2)
        before = text[start : match.start(1)]
        word = re.search(r"([\w.]+)$", before)
        token = word.group(1).lower() if word else ""
        if match.group(1) == ".":
            if token.rstrip(".") in rules.abbreviations and not _ends_sentence_anyway(
                token, text, end, rules
            ):
                continue
            if re.fullmatch(r"[^\W\d_]", token):  # an initial: "J. Smith"
                continue
            is_acronym = re.fullmatch(r"(?:[a-z]\.)+[a-z]", token)  # "U.S." style
            if is_acronym and token.rstrip(".") not in rules.sentence_final_abbreviations:
                continue
            if rules.ordinal_dot and re.fullmatch(r"\d{1,3}", token) and match.group(2) == "":
                continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end(3)
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ends_sentence_anyway(token: str, text: str, end: int, rules: Language) -> bool:
    if token.rstrip(".") not in rules.sentence_final_abbreviations:
        return False
    # "... Inc. The company" ends; "... Inc. shares" would not have matched (lowercase).
    following = re.match(r"[\"'“‘„«(\[]?\s?(\w+)", text[end:].lstrip())
    return bool(following and following.group(1) in rules.sentence_openers)


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



# --- read-along fingerprints -----------------------------------------------------------------


def match_key(text: str) -> str:
    """Text reduced to what survives any markup of it: compatibility-decomposed, lowercased,
    letters and digits only (no spaces, punctuation, quotes, dashes or accents). The player's
    `key()` in listen-player.js computes the same from the page's text; both work code point by
    code point, so a block's key is the concatenation of its characters' keys."""
    lowered = unicodedata.normalize("NFKD", text).lower().replace("ς", "σ")
    return "".join(c for c in lowered if c.isalnum())


def text_fingerprint(text: str) -> str:
    """`<length>-<FNV-1a>` of the text's match key, over its UTF-16 code units (as JavaScript
    strings hold it), both in hex: what the player compares with the blocks of its page."""
    units = memoryview(match_key(text).encode("utf-16-le")).cast("H")
    digest = 0x811C9DC5
    for unit in units:
        digest = ((digest ^ unit) * 0x01000193) & 0xFFFFFFFF
    return f"{len(units):x}-{digest:08x}"


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
    #: The voice preset this voicing is for.
    voice: str = ""

    def speak(self, text: str) -> str:
        text = self.lexicon.apply(text, self.phonemes)
        if self.normalize:
            return normalize_for_speech(text, self.language)
        return re.sub(r"\s+", " ", text).strip()


#: Quotation marks: "..." (straight, toggling), “...”, «...», „...“ and their closing forms.
_QUOTE_OPEN, _QUOTE_CLOSE = "“«„", "”»"


def quoted_share(sentence: str) -> float:
    """The share of a sentence's letters inside quotation marks. A sentence that starts inside
    a quotation (its first mark closes one: the second sentence of a multi-sentence quote)
    counts from its start; one whose quotation runs on past its end counts to its end."""
    inside = False
    quoted = letters = 0
    seen_mark = opened_by = ""
    for index, char in enumerate(sentence):
        # A straight quote closes after a word or punctuation and before a space or the end.
        closes = char == '"' and index > 0 and not sentence[index - 1].isspace() and (
            index + 1 == len(sentence) or not sentence[index + 1].isalnum())
        german_close = char == "“" and opened_by == "„" and inside  # „so“
        if (char == '"' and not closes) or (char in _QUOTE_OPEN and not german_close):
            inside, opened_by = True, char
        elif char in _QUOTE_CLOSE or char in "“\"":
            if not seen_mark and not inside:
                quoted = letters  # it began inside a quotation
            inside = False
        else:
            if char.isalpha():
                letters += 1
                quoted += inside
            continue
        seen_mark = seen_mark or char
    return quoted / letters if letters else 0.0


#: A sentence is "mostly a direct quotation" when at least this share of its letters is quoted.
INLINE_QUOTE_SHARE = 0.6

#: A paragraph to be read: its text, whether it is a block quotation (read in the quotation
#: voice), and the page block it reads (an index into `Script.blocks`; None: not on the page).
Paragraph = tuple[str, bool, int | None]


def _sentences(paragraphs: list[Paragraph], narrator: Voicing, quote: Voicing | None,
               inline_quotes: bool) -> tuple[Sentence, ...]:  # fmt: skip
    out: list[Sentence] = []
    for paragraph, is_quote, block in paragraphs:
        sentences = split_sentences(paragraph, narrator.language)
        for i, sentence in enumerate(sentences):
            voicing = narrator
            if quote and (is_quote or (inline_quotes
                                       and quoted_share(sentence) >= INLINE_QUOTE_SHARE)):
                voicing = quote  # fmt: skip
            spoken = voicing.speak(sentence)
            if spoken.strip():
                last = i == len(sentences) - 1
                out.append(Sentence(text=sentence, spoken=spoken, voice=voicing.voice,
                                    block=block, ends_paragraph=last))  # fmt: skip
    return tuple(out)


def _chapter(title: str, paragraphs: list[Paragraph], narrator: Voicing, quote: Voicing | None,
             inline_quotes: bool, images: tuple[str, ...] = ()) -> Chapter:  # fmt: skip
    return Chapter(title=title, paragraphs=tuple(text for text, *_ in paragraphs),
                   sentences=_sentences(paragraphs, narrator, quote, inline_quotes),
                   images=images)  # fmt: skip


def announce_title(title: str) -> str:
    return title if re.search(r"[.!?…]['\"”’)]*$", title) else f"{title}."


def build_script(
    article: Article,
    speech: SpeechConfig | None = None,
    voicing: Voicing | None = None,
    show_title: str = "",
    quote_voicing: Voicing | None = None,
) -> Script:
    """One chapter for the lead (the title announced, then any text before the first heading),
    then one per section, titled with its heading; the optional intro opens the first chapter
    and the outro closes the last. With `quote_voicing`, block quotations (and, with
    `speech.quote_voice_inline`, sentences that are mostly a direct quotation) are read in that
    voice."""
    speech = speech or SpeechConfig()
    voicing = voicing or Voicing(language=article.language)
    chapter_word = language_for(voicing.language).chapter_word
    fields = {"title": article.title, "show": show_title, "byline": article.byline or ""}

    page_blocks: list[PageBlock] = []

    def on_page(kind: str, text: str, spoken: str) -> Paragraph:
        """A paragraph that reads the page's `text` (which becomes one of the blocks)."""
        page_blocks.append(PageBlock.of(kind, text))
        return spoken, kind == "quote", len(page_blocks) - 1

    def blocks(section: Section) -> list[Paragraph]:
        return [on_page(b.kind, b.text, _as_spoken_paragraph(b)) for b in section.blocks]

    lead, rest = article.sections[0], article.sections[1:]
    title = on_page("title", article.title, announce_title(article.title))
    paragraphs = [[title, *blocks(lead)]]
    titles = [article.title]
    for number, section in enumerate(rest, start=2):
        heading = section.heading or ""
        announced: list[Paragraph] = []
        if speech.chapter_numbers and chapter_word:
            announced.append((f"{chapter_word} {number}.", False, None))
        announced.append(on_page("heading", heading, announce_title(heading)))
        paragraphs.append([*announced, *blocks(section)])
        titles.append(heading)
    if speech.intro:
        paragraphs[0].insert(0, (speech.intro.format(**fields), False, None))
    if speech.outro:
        paragraphs[-1].append((speech.outro.format(**fields), False, None))
    chapters = (_chapter(t, p, voicing, quote_voicing, speech.quote_voice_inline, s.images)
                for t, p, s in zip(titles, paragraphs, article.sections, strict=True))  # fmt: skip
    return Script(article=article, chapters=tuple(c for c in chapters if c.sentences),
                  voice=voicing.voice, blocks=tuple(page_blocks))  # fmt: skip
