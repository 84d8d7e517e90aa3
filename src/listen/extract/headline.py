"""The headline: what the page shows, where it shows it. The visible heading near the article
that the metadata agrees with; else the metadata's title without the site's name; else the
heading nearest the article. Never the site's name, never two headlines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from listen.extract.chrome import link_chars
from listen.extract.settings import THRESHOLDS
from listen.extract.text import (
    HEADING_TAGS,
    Element,
    class_words,
    element_text,
    heading_level,
    norm,
    shingles,
    within,
    words,
)

#: What sites put between a headline and their own name in a <title>.
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:·•»›/~]+\s+|\s*[|·•»]\s*")


@dataclass(frozen=True)
class Heading:
    """A heading of the page as it was before anything was dropped, and where it stood."""

    position: int
    level: int
    text: str
    element: Element


def page_headings(page: Element, order: dict[Element, int]) -> list[Heading]:
    """Every heading of the page with text, in document order (read before chrome is dropped:
    a headline often stands in an element named like chrome, "entry-header" or a banner)."""
    found = []
    for el in page.iter(*HEADING_TAGS):
        text = element_text(el)
        if text:
            found.append(Heading(order[el], heading_level(el), text, el))
    return found


def without_site_name(title: str, site_names: Iterable[str]) -> str:
    """A <title> or og:title without the site's name ("Paris - Wikipedia" -> "Paris"): the
    parts that name the site go, and of the rest the longest stays."""
    parts = [part.strip() for part in _TITLE_SEPARATOR.split(title) if part.strip()]
    if len(parts) < 2:
        return title
    names = {norm(name) for name in site_names if name}
    kept = [part for part in parts if norm(part) not in names]
    if kept and len(kept) < len(parts):  # the site's name goes, whatever is left is the title
        return max(kept, key=lambda part: len(words(part)))
    # no part is a name we know: the longest is the headline if it is clearly one
    longest = max(parts, key=lambda part: len(words(part)))
    return longest if len(words(longest)) >= THRESHOLDS.headline_min_words else title


def agreement(a: str, b: str) -> float:
    """How much two texts say the same: F1 of their 4-word runs (1 when both are empty)."""
    ra, rb = shingles(a), shingles(b)
    if not ra and not rb:
        return 1.0
    common = len(ra & rb)
    return 2 * common / (len(ra) + len(rb)) if common else 0.0


def agrees(heading: str, title: str) -> bool:
    """The heading says what the title says: most of its words are the title's, and it holds
    at least half of the title's words ("Seth's Blog" does not agree with "Seth's Blog: The
    false choice of mediocrity"; "Paris" agrees with "Paris - Wikipedia")."""
    shown, given = set(words(heading)), set(words(title))
    if not shown or not given:
        return False
    common = len(shown & given)
    return common >= THRESHOLDS.headline_agreement * len(shown) and 2 * common >= len(given)


def choose_title(
    headings: Sequence[Heading],
    body_start: int,
    pinned: str | None,
    titles: Sequence[str],
    site_names: Sequence[str],
) -> tuple[str | None, Heading | None]:
    """The article's headline (see the module's docstring), and the heading that shows it if one
    does. `body_start`: the position of the article's element; `titles`: the metadata's, best
    first."""
    if pinned:
        return pinned, None
    text, heading = _choose(headings, body_start, titles, site_names)
    return text, heading


def _choose(
    headings: Sequence[Heading], body_start: int, titles: Sequence[str], site_names: Sequence[str]
) -> tuple[str | None, Heading | None]:
    names = {norm(name) for name in site_names if name}
    candidates = [h for h in headings if norm(h.text) not in names]

    def nearness(heading: Heading) -> int:
        return abs(heading.position - body_start)

    cleaned = [without_site_name(title, site_names) for title in titles]
    agreeing = [h for h in candidates if any(agrees(h.text, t) for t in (*titles, *cleaned))]
    if agreeing:
        best = min(agreeing, key=lambda h: (h.level > 2, nearness(h)))
        return best.text, best
    before = [h for h in candidates if h.position <= body_start + THRESHOLDS.headline_reach]
    main = [h for h in before if h.level == 1]
    if main:
        best = min(main, key=nearness)
        return best.text, best
    usable = [t for t in cleaned if norm(t) not in names]
    if usable:
        return usable[0], None
    if before:
        best = min(before, key=nearness)
        return best.text, best
    if candidates:
        return candidates[0].text, candidates[0]
    return (cleaned[0] if cleaned else None), None


#: Class/id words of the summary under a headline.
STANDFIRST_WORDS = frozenset({
    "standfirst", "dek", "deck", "subtitle", "subhead", "subheadline", "subheading", "strapline",
    "summary", "lede", "excerpt", "intro", "description", "abstract", "synopsis", "tagline",
    "teaser",
})  # fmt: skip
STANDFIRST_TAGS = frozenset(("p", "div", "h2", "h3", "h4", "span", "section", "header"))


def _holds_blocks(el: Element) -> bool:
    return next(el.iterdescendants(*STANDFIRST_BLOCKS), None) is not None


STANDFIRST_BLOCKS = ("p", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "div")


def find_standfirst(
    order: dict[Element, int],
    headline: Heading,
    body_start: int,
    description: str | None,
    page: Element,
) -> str | None:
    """The standfirst (dek, subtitle) between the headline and the article's element: an element
    named so, marked as the description, saying what the page's description says, or a
    heading right after the headline, that the rules left on the `page` (not chrome, not
    hidden). It opens the lead chapter; it is never a chapter."""
    end = min(body_start, headline.position + THRESHOLDS.standfirst_reach)
    for el, position in order.items():
        if not headline.position < position < end or el.tag not in STANDFIRST_TAGS:
            continue
        if not within(el, page) or _holds_blocks(el):
            continue  # dropped as chrome, or a box of several blocks (a summary of key points)
        text = element_text(el)
        if not THRESHOLDS.standfirst_min_chars <= len(text) <= THRESHOLDS.standfirst_max_chars:
            continue
        if link_chars(el) > THRESHOLDS.max_link_density * len(text):
            continue
        named = not STANDFIRST_WORDS.isdisjoint(class_words(el)) or el.get("itemprop") in (
            "description",
            "alternativeHeadline",
        )
        described = bool(description) and agreement(text, description or "") >= 0.6
        subtitle = el.tag in HEADING_TAGS and el.getprevious() is headline.element
        if named or described or subtitle:
            return text
    return None
