"""Text of the tree: what an element says, cleaned as it would be read, and the class/id words
many rules look at.

The tree is prepared once (`separate_blocks`) so that the text of any element is lxml's own
`itertext()`: a space stands wherever a block or a line break separates two pieces of text, and
inline pieces join as written ("<b>I</b>DF" is "IDF").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from lxml import etree

Element = etree._Element

BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "blockquote",
    "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "footer", "nav", "aside", "form", "figure", "details",
    "summary", "hr", "center", "address", "body", "html",
))  # fmt: skip
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# Footnote and citation markers, wiki edit links and maintenance tags written into the text.
_FOOTNOTE_MARK = re.compile(
    r"\[\s*(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[a-z]|(?:note|nb|n)\s*\d{1,3}|citation needed|"
    r"edit(?: source)?|clarification needed|better source needed|who\?|when\?|by whom\?|"
    r"according to whom\?|dubious\s*[–-]\s*discuss|failed verification|page needed)\s*\]",
    re.IGNORECASE,
)


# Citation markers written in parentheses after a word, at the end of a clause: "... as reported
# (10, 11).", "(3–5)". An enumeration ("(1) build, (2) buy") is followed by its words, a record
# ("Palm Bay (1-0):") has a hyphen, a tie-break ("7-6 (5),") follows a number: all stay.
_CITATION_MARK = re.compile(
    r"(?<=[^\W\d_]|[”\"’)\]])\s*\(\d{1,3}(?:\s*[,–]\s*\d{1,3})*\)(?=[.,;!?]|$)"
)
# A CMS's shortcodes left in the text by a plugin that is gone: "[button link=...]", "[/button]"
# (a bracketed word with attributes, or a closing one; "[sic]" stays).
_SHORTCODE = re.compile(r"\[/?[a-z][a-z0-9_-]*(?:\s+[a-z_-]+\s*=[^\]]*)+\]|\[/[a-z][a-z0-9_-]*\]")


def clean_text(text: str) -> str:
    """Text as it is read: soft hyphens, zero-width spaces, written-in footnote markers and
    stray shortcodes out, every run of white space one space."""
    if "\u00ad" in text or "\u200b" in text:
        text = text.replace("\u00ad", "").replace("\u200b", "")
    if "[" in text:
        text = _SHORTCODE.sub("", _FOOTNOTE_MARK.sub("", text))
    if "(" in text:
        text = _CITATION_MARK.sub("", text)
    return " ".join(text.split())


def separate_blocks(root: Element, separator: str = " ") -> None:
    """Put a space (or `separator`) at every block boundary and after every <br>, so that text
    read across elements never runs two paragraphs into one word."""
    for el in root.iter():
        tag = el.tag
        if tag in BLOCK_TAGS:
            el.text = separator + el.text if el.text else separator
            el.tail = separator + el.tail if el.tail else separator
        elif tag == "br":
            el.tail = separator + el.tail if el.tail else separator


def raw_text(el: Element) -> str:
    """All the text inside `el`, as written (libxml2 joins it, many times faster than Python)."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def element_text(el: Element) -> str:
    """Visible text, cleaned (see `separate_blocks`)."""
    return clean_text(raw_text(el))


def norm(text: str) -> str:
    """Text reduced to lower-case words, for comparing two texts that may differ in spacing and
    punctuation."""
    return re.sub(r"\W+", " ", text).strip().lower()


def same_text(a: str, b: str) -> bool:
    return norm(a) == norm(b)


_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The text's runs of `n` words (one shorter run for a text of fewer words)."""
    tokens = words(text)
    if not tokens:
        return set()
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def block_parent(el: Element) -> Element | None:
    """The element itself if it is a block, else its nearest block ancestor."""
    node: Element | None = el
    while node is not None and node.tag not in BLOCK_TAGS:
        node = node.getparent()
    return node


def is_inside(el: Element, tag: str) -> bool:
    return any(True for _ in el.iterancestors(tag))


def heading_level(el: Element) -> int:
    return int(el.tag[1]) if el.tag in HEADING_TAGS else 0


# Class lists that a CSS-in-JS build generates ("pw-post-body-paragraph km kn ko kp"): their
# short tokens are hashes, and a hash may spell "ad" or "nav".
_GENERATED_TOKEN = re.compile(r"^[a-z]{1,3}\d?$")
# The post's own categories and tags, which WordPress and Ghost write into the classes of the
# post and the page ("category-social-media", "tag-podcast"): the site's words for its topics,
# never a statement about what the element is.
_TAXONOMY_TOKEN = re.compile(r"^(?:category|tag)-")
_WORD_SPLIT = re.compile(r"[-_:]+")


# Rules ask for the same element's tokens many times (thousands of times a page); one page's
# answers are kept while it is extracted. Extraction never changes a class or an id, and the
# only tag it renames (an FAQ's <button>, to <span>) is no custom element, so none goes stale.
_MEMO: ContextVar[dict[Element, tuple[str, ...]] | None] = ContextVar("tokens_memo", default=None)


@contextmanager
def tokens_memo() -> Iterator[None]:
    """Remember each element's tokens within the block (one page's extraction)."""
    reset = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(reset)


def tokens(el: Element) -> tuple[str, ...]:
    """The element's class names and id, lower-cased, camelCase split ("PromoSmall-title" ->
    "promo-small-title"; generated hash classes left out), and a custom element's tag name
    ("ps-promo")."""
    memo = _MEMO.get()
    if memo is None:
        return _element_tokens(el)
    known = memo.get(el)
    if known is None:
        known = memo[el] = _element_tokens(el)
    return known


def _element_tokens(el: Element) -> tuple[str, ...]:
    tag = el.tag if isinstance(el.tag, str) and "-" in el.tag else None
    class_attr, id_attr = el.get("class"), el.get("id")
    if class_attr is None and id_attr is None and tag is None:
        return ()
    return _tokens(class_attr, id_attr, tag)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=16384)
def _tokens(class_attr: str | None, id_attr: str | None, tag: str | None = None) -> tuple[str, ...]:
    named = _CAMEL.sub("-", class_attr or "").lower().split()
    classes = [c for c in named if not _TAXONOMY_TOKEN.match(c)]
    generated = [c for c in classes if _GENERATED_TOKEN.match(c)]
    if len(generated) >= 3 and 2 * len(generated) >= len(classes):
        classes = [c for c in classes if not _GENERATED_TOKEN.match(c)]
    ids = _CAMEL.sub("-", id_attr or "").lower().split()
    return (*classes, *ids, *([tag.lower()] if tag else []))


def class_words(el: Element) -> frozenset[str]:
    """The class/id tokens split into words: "elementor-tab-content" -> elementor, tab, content."""
    return _class_words(tokens(el))


@lru_cache(maxsize=16384)
def _class_words(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for token in names for w in _WORD_SPLIT.split(token) if w)


def split_token(token: str) -> list[str]:
    return _WORD_SPLIT.split(token)


def text_pieces(el: Element, skip: str | None = None) -> list[tuple[Element, str]]:
    """The text inside `el` in document order, each piece with the element it stands in (the
    element whose text it is, or the parent of the element whose tail it is). Elements with
    the attribute `skip` are left out (their tails are not)."""
    pieces: list[tuple[Element, str]] = []
    stack: list[tuple[Element, bool]] = [(el, False)]
    while stack:
        node, is_tail = stack.pop()
        if is_tail:
            if node.tail:
                pieces.append((node.getparent(), node.tail))
            continue
        if node.text:
            pieces.append((node, node.text))
        for child in reversed(node):
            stack.append((child, True))
            if skip is None or skip not in child.attrib:
                stack.append((child, False))
    return pieces


def within(el: Element, root: Element) -> bool:
    """`el` is `root` or stands inside it (not in something removed from it already)."""
    return el is root or any(ancestor is root for ancestor in el.iterancestors())


def drop_tree(el: Element) -> None:
    """Remove `el` and everything in it, keeping the text that follows it (its tail)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
