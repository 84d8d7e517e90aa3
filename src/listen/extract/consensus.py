"""A second and third opinion on what the article is: trafilatura and readability-lxml.

They are given the page as listen's narration rules leave it (chrome, boilerplate and hidden
text already out), so their vote is only on which of the remaining blocks are the article; on
that smaller page trafilatura also runs in half the time.

Each of the three extractors is right on pages where the others are wrong (on the development
sets, the best of the three per page beats each alone by 0.01-0.05 F1). So the body is decided
block by block: every block of the page (after the rules that are about narration, not about
finding the body) gets a vote from each extractor whose text holds it, and a block is read when
most of them hold it. Where listen's own choice and trafilatura's agree on the page as a whole,
listen's stands and readability is not asked: the vote is for the pages where they differ.

Votes are cast by text, not by element: the other two parse the page themselves and give text.
A block is held by a text when most of its 4-word runs stand in it; a block of fewer than four
words ("Countries", a heading) when a line of the text says just that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from listen.extract.headline import agreement
from listen.extract.sections import PICTURE_KIND, RawBlock
from listen.extract.settings import THRESHOLDS
from listen.extract.text import norm, raw_text, separate_blocks, shingles

# The libraries log their doubts about a page at WARNING; a user of listen must not see them.
for _name in ("trafilatura", "readability"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Opinion:
    """One extractor's text, ready for asking whether it holds a block."""

    runs: frozenset[tuple[str, ...]]
    lines: frozenset[str]  # its lines, normalized (for blocks of fewer than four words)

    @classmethod
    def of(cls, text: str) -> Opinion:
        return cls(frozenset(shingles(text)), frozenset(map(norm, text.splitlines())))

    def holds(self, text: str) -> bool:
        runs = shingles(text)
        if not runs:
            return False
        if len(next(iter(runs))) < 4:
            return norm(text) in self.lines
        return sum(run in self.runs for run in runs) >= THRESHOLDS.vote_block_share * len(runs)


def trafilatura_text(html: str) -> str:
    import trafilatura

    # fast: trafilatura's own extraction without its fallbacks (readability is asked here
    # anyway); measured on both development sets, it is the better voter and 30% faster.
    return trafilatura.extract(html, include_comments=False, fast=True) or ""


def readability_text(html: str) -> str:
    from readability import Document

    try:
        summary = Document(html).summary(html_partial=True)
    except Exception:
        return ""
    try:
        tree = etree.fromstring(f"<div>{summary}</div>", etree.HTMLParser())
    except (ValueError, etree.XMLSyntaxError):
        return ""
    if tree is None:
        return ""
    separate_blocks(tree, "\n")
    return raw_text(tree)


def vote(
    ours: Sequence[RawBlock], page_blocks: Callable[[], Sequence[RawBlock]], html: str
) -> list[RawBlock]:
    """The blocks to read: ours where trafilatura agrees with us on the page, else those of the
    page's blocks (made only then: a walk of the whole page is not free) that most of the
    three extractors hold."""
    ours_text = "\n".join(block.evidence or block.text for block in ours
                          if block.kind != PICTURE_KIND)  # fmt: skip
    theirs = trafilatura_text(html)
    if agreement(ours_text, theirs) >= THRESHOLDS.vote_agreement:
        return list(ours)
    listen = Opinion.of(ours_text)
    voters = (listen, Opinion.of(theirs), Opinion.of(readability_text(html)))
    held: dict[str, bool] = {}  # a table's rows share one evidence: asked once

    pictures = {block.text for block in ours if block.kind == PICTURE_KIND}

    def keep(block: RawBlock) -> bool:
        if block.kind == PICTURE_KIND:  # a picture of the body listen's own rules chose
            return block.text in pictures
        evidence = block.evidence or block.text
        if block.structured:  # only listen's rules know an FAQ or a live blog
            return listen.holds(evidence)
        if evidence not in held:
            held[evidence] = sum(v.holds(evidence) for v in voters) >= 2
        return held[evidence]

    return [block for block in page_blocks() if keep(block)]
