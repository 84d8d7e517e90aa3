"""Walking the body into sections: headings of the top `chapter_depth` levels present (and
live-blog entries) start sections; deeper headings stay inside as subheadings; lists,
quotations and data tables ("Header: value" sentences) become text blocks; lines that only
repeat the byline or the date, or say nothing, are left out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from listen.extract.liveblog import ENTRY_LEVEL, entry_title
from listen.extract.marks import LABEL, LINKS, MARK, WEAK
from listen.extract.metadata import BY_PREFIX
from listen.extract.model import MAX_SECTION_PICTURES, Block, Section
from listen.extract.pictures import PICTURE
from listen.extract.tables import is_data_table, table_sentences
from listen.extract.text import (
    BLOCK_TAGS,
    HEADING_TAGS,
    Element,
    clean_text,
    element_text,
    norm,
    same_text,
)

_KIND_BY_TAG = {
    "li": "list_item",
    "dt": "list_item",
    "dd": "list_item",
    "blockquote": "quote",
    "pre": "code",
    "summary": "subheading",
}

#: Which weak chrome a walk leaves out (see `Walker.skip_weak`).
SKIP_ALL_WEAK = frozenset((LABEL, LINKS))
SKIP_LINKS = frozenset((LINKS,))
SKIP_NONE: frozenset[str] = frozenset()
#: The kind of a raw block that is a picture (its text the address), not text.
PICTURE_KIND = "picture"
#: The marks of structures only listen's rules know (see `RawBlock.structured`).
STRUCTURE_MARKS = ("entry", "question", "answer")


class RawBlock(NamedTuple):
    """One block of the walk, before sections are made of them."""

    level: int  # a heading's level, else 0
    kind: str
    text: str
    #: The text another extractor would show for it, when not `text` itself: a table row reads
    #: as "Header: value", and only the table's own text is in theirs.
    evidence: str | None = None
    #: Part of a structure listen reads in its own way (an FAQ's questions and answers, a
    #: live blog's entries), which only listen's own rules know.
    structured: bool = False


@dataclass
class Walker:
    """Turns elements into raw blocks in document order. Iterative, so that a deeply nested
    page cannot exhaust Python's stack."""

    title: str
    byline: str | None = None
    #: The weak chrome left out (see marks.WEAK): all of it (listen's own reading), the links
    #: only (the page the extractors vote on), or none (a page with nothing else).
    skip_weak: frozenset[str] = SKIP_ALL_WEAK
    blocks: list[RawBlock] = field(default_factory=list)
    _inline: list[str] = field(default_factory=list)
    _structures: int = 0  # how many marked structures the walk is inside

    def flush(self, kind: str = "paragraph") -> None:
        text = clean_text("".join(self._inline))
        self._inline.clear()
        if not text:
            return
        if kind == "paragraph" and (
            is_noise_text(text) or is_dateline(text) or is_byline(text, self.byline)
        ):
            return
        self._add(0, kind, text)

    def _add(self, level: int, kind: str, text: str, evidence: str | None = None) -> None:
        self.blocks.append(RawBlock(level, kind, text, evidence, self._structures > 0))

    def walk(self, root: Element, kind: str = "paragraph") -> None:
        actions: list[tuple] = [("open", root, kind)]
        while actions:
            action = actions.pop()
            verb = action[0]
            if verb == "text":
                self._inline.append(action[1])
            elif verb == "flush":
                self.flush(action[1])
            elif verb == "heading":
                text = element_text(action[1])
                if text and not same_text(text, self.title):  # the headline, announced already
                    self._add(int(action[1].tag[1]), "heading", text)
            elif verb == "entry":
                title = entry_title(action[1])
                if title:
                    self._add(ENTRY_LEVEL, "heading", title)
            elif verb == "table":
                table = action[1]
                cells = element_text(table)
                for row in table_sentences(table):
                    self._add(0, "table_row", row, cells)
            elif verb == "picture":
                self._add(0, PICTURE_KIND, action[1])
            elif verb == "enter":
                self._structures += 1
            elif verb == "leave":
                self._structures -= 1
            else:  # "open": the element's own text, then its children in order
                el, el_kind = action[1], action[2]
                todo: list[tuple] = []
                if el.text:
                    todo.append(("text", el.text))
                for child in el:
                    todo.extend(self._plan(child, el_kind))
                    if child.tail:
                        todo.append(("text", child.tail))
                actions.extend(reversed(todo))

    def _plan(self, child: Element, kind: str) -> list[tuple]:
        """What reading `child` takes, as actions; a marked structure's blocks are flagged."""
        mark = child.get(MARK)
        if mark == "skip":
            return []
        if child.get(WEAK) in self.skip_weak:  # (not read, but its pictures are the article's)
            return [("picture", img.get(PICTURE)) for img in child.iter("img") if img.get(PICTURE)]
        plan = self._plan_element(child, kind, mark)
        if mark in STRUCTURE_MARKS:
            return [("flush", kind), ("enter",), *plan, ("leave",)]
        return plan

    @staticmethod
    def _plan_element(child: Element, kind: str, mark: str | None) -> list[tuple]:
        name = child.tag
        if mark == "entry":
            return [("flush", kind), ("entry", child), ("open", child, "paragraph"),
                    ("flush", "paragraph")]  # fmt: skip
        if name in HEADING_TAGS:
            return [("flush", kind), ("heading", child)]
        if mark == "question":
            return [("flush", kind), ("open", child, "subheading"), ("flush", "subheading")]
        if name == "br":
            return [("flush", kind)]
        if name == "img":  # (not flushed: a picture inside a paragraph does not split it)
            return [("picture", child.get(PICTURE))] if child.get(PICTURE) else []
        if name == "table" and is_data_table(child):
            return [("flush", kind), ("table", child)]
        if name in BLOCK_TAGS:
            child_kind = _KIND_BY_TAG.get(name, kind)
            return [("flush", kind), ("open", child, child_kind), ("flush", child_kind)]
        return [("open", child, kind)]


def read_blocks(
    parts: Iterable[Element],
    title: str,
    byline: str | None = None,
    skip_weak: frozenset[str] = SKIP_ALL_WEAK,
) -> list[RawBlock]:
    """The blocks of `parts`, read in order (see `Walker`)."""
    walker = Walker(title=title, byline=byline, skip_weak=skip_weak)
    for part in parts:
        walker.walk(part)
        walker.flush()
    return walker.blocks


def text_chars(blocks: Iterable[RawBlock]) -> int:
    """How much text the blocks hold (pictures are not text)."""
    return sum(len(block.text) for block in blocks if block.kind != PICTURE_KIND)


def with_standfirst(blocks: list[RawBlock], standfirst: str | None) -> list[RawBlock]:
    """The standfirst first, as a paragraph of the lead (and nowhere else: not as a heading
    that would make it a chapter of its own, not twice)."""
    if not standfirst:
        return blocks
    key = norm(standfirst)
    rest = [block for block in blocks if block.kind == PICTURE_KIND or norm(block.text) != key]
    return [RawBlock(0, "paragraph", standfirst), *rest]


_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATELINE_WORD = re.compile(
    rf"\b(?:{_MONTHS}|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?|"
    r"published|updated|posted|last|modified|on|at|am|pm|a\.m|p\.m|gmt|bst|utc|cet|et|pt|"
    r"\d{1,4}(?:st|nd|rd|th)?)\b\.?",
    re.IGNORECASE,
)


def is_dateline(text: str) -> bool:
    """A line that is only one date ("Feb 11, 2024", "Updated 9 April 2024 at 10:15"). Not a
    range of dates, opening hours or a phone number: those are information."""
    if len(text) > 60 or len(re.findall(r"\b\d{4}\b", text)) > 1:
        return False
    if not re.search(rf"\b(?:{_MONTHS}|published|updated|posted)\b", text, re.IGNORECASE):
        return False
    return not any(ch.isalnum() for ch in _DATELINE_WORD.sub("", text))


def is_byline(text: str, byline: str | None) -> bool:
    """A line that only names the author the metadata already gave ("By Jane Doe")."""
    return bool(byline) and same_text(BY_PREFIX.sub("", text), byline or "")


def is_noise_text(text: str) -> bool:
    """A paragraph that says nothing: a separator ("·", "|", "___") or a counter ("1.4K", "23")."""
    return not any(ch.isalnum() for ch in text) or bool(re.fullmatch(r"\d[\d.,]*\s*[KkM]?", text))


def build_sections(
    blocks: Iterable[RawBlock], title: str, chapter_depth: int = 1
) -> tuple[Section, ...]:
    """Headings of the `chapter_depth` top levels present start sections (1: only the top level
    used on the page); deeper ones stay inside their section as subheadings."""
    blocks = list(blocks)
    levels = sorted({block[0] for block in blocks if block[1] == "heading"})
    chapter_levels = set(levels[: max(1, chapter_depth)])
    top = levels[0] if levels else 2
    sections: list[Section] = []
    heading: str | None = None
    current: list[Block] = []
    pictures: list[str] = []
    level = top

    def close() -> None:
        if heading is None or current:
            images = tuple(dict.fromkeys(pictures))[:MAX_SECTION_PICTURES]
            sections.append(Section(heading=heading, blocks=tuple(current), level=level,
                                    images=images))  # fmt: skip

    for block_level, kind, text, *_ in blocks:
        nothing_yet = heading is not None and not current and block_level > level
        if kind == PICTURE_KIND:
            pictures.append(text)
        elif kind == "heading" and block_level in chapter_levels and not nothing_yet:
            close()
            heading, current, pictures, level = text, [], [], block_level
        elif kind == "heading":
            current.append(Block(text=text, kind="subheading"))
        else:
            current.append(Block(text=text, kind=kind))
    close()
    if not sections or sections[0].heading is not None:
        sections.insert(0, Section(heading=None, blocks=(), level=top))
    return tuple(sections)
