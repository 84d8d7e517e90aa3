"""Measuring prose: where on the page the running text is, and how much each element holds.
Body finding, the chrome rules' safety valve, live-blog and listing detection all count it."""

from __future__ import annotations

from dataclasses import dataclass

from listen.extract.marks import WEAK
from listen.extract.settings import THRESHOLDS
from listen.extract.text import BLOCK_TAGS, HEADING_TAGS, Element, block_parent, within


def prose_units(root: Element, weak: bool = False) -> dict[Element, int]:
    """Innermost block elements holding running text of their own (not in links, headings or
    navigation-like lists), with that text's length. Counts `<p>`s and, just as well, the bare
    text and `<div>` paragraphs that many CMSs emit. Weak chrome (a caption, an author box) is
    no evidence of where the article is, and left out unless `weak`."""
    text_len: dict[Element, int] = {}
    link_len: dict[Element, int] = {}

    def add(block: Element | None, text: str | None, in_link: bool) -> None:
        if not text or block is None or block.tag in HEADING_TAGS:
            return
        length = len(text.strip())
        if not length:
            return
        text_len[block] = text_len.get(block, 0) + length
        if in_link:
            link_len[block] = link_len.get(block, 0) + length

    start_block = block_parent(root)
    start_link = root.tag == "a" or any(True for _ in root.iterancestors("a"))
    stack: list[tuple[Element, Element | None, bool]] = [(root, start_block, start_link)]
    while stack:
        el, block, in_link = stack.pop()
        own_block = el if el.tag in BLOCK_TAGS else block
        own_link = in_link or el.tag == "a"
        add(own_block, el.text, own_link)
        if el is not root:
            add(block, el.tail, in_link)
        stack.extend(
            (child, own_block, own_link) for child in el if weak or WEAK not in child.attrib
        )
    return {
        block: length
        for block, length in text_len.items()
        if length >= THRESHOLDS.min_paragraph_chars
        and link_len.get(block, 0) / length <= THRESHOLDS.max_link_density
    }


def prose_by_element(root: Element) -> dict[Element, int]:
    """For every element, how much prose it holds (its units and its descendants' units)."""
    return Prose.of(root).totals


@dataclass(frozen=True)
class Prose:
    """The prose of a tree as it stands: its units, and for every element the prose it holds.
    Measured once and shared by the rules that need it until the tree changes."""

    units: dict[Element, int]
    totals: dict[Element, int]

    @classmethod
    def of(cls, root: Element, weak: bool = False) -> Prose:
        units = prose_units(root, weak)
        totals: dict[Element, int] = {}
        for block, length in units.items():
            node: Element | None = block
            while node is not None:
                totals[node] = totals.get(node, 0) + length
                node = node.getparent()
        return cls(units, totals)

    def units_in(self, el: Element) -> dict[Element, int]:
        return {unit: n for unit, n in self.units.items() if within(unit, el)}
