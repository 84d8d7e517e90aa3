"""Pages that hold no article: an index of teasers (a tag, category or search page; a home
page), or an error page."""

from __future__ import annotations

import re
from bisect import bisect_right

from listen.errors import ListenError
from listen.extract.metadata import PageHints
from listen.extract.settings import THRESHOLDS
from listen.extract.text import Element, block_parent, element_text

ERROR_TITLE = re.compile(
    r"\b(?:404|page not found|not found|page (?:does not|doesn[’']t|could not|couldn[’']t|"
    r"can[’']t|cannot) (?:exist|be found)|nothing (?:was )?found|no results(?: found)?)\b",
    re.IGNORECASE,
)


def teaser_titles(body: Element) -> list[Element]:
    """Blocks that are nothing but a link to another page with a headline-length text: the
    titles of teasers in an index. (Links within the page, "#...", are not teasers.)"""
    titles: list[Element] = []
    seen: set[Element] = set()
    for link in body.iter("a"):
        href = link.get("href")
        if href is None or href.startswith("#"):
            continue
        text = element_text(link)
        if len(text) < THRESHOLDS.teaser_title_min_chars:
            continue
        block = block_parent(link)
        if block is None or block in seen:
            continue
        if len(text) >= 0.9 * len(element_text(block)):
            seen.add(block)
            titles.append(block)
    return titles


def prose_runs(body: Element, titles: list[Element], units: dict[Element, int]) -> list[int]:
    """The prose between consecutive teaser titles (and before the first), in characters."""
    order = {el: i for i, el in enumerate(body.iter())}
    starts = sorted(order[t] for t in titles if t in order)
    runs = [0] * (len(starts) + 1)
    for block, length in units.items():
        if block in order:
            runs[bisect_right(starts, order[block])] += length
    return runs


def is_listing(body: Element, units: dict[Element, int]) -> bool:
    """Many teaser titles, and no dominant run of prose among the runs between them (a short
    article followed by a few teasers has one: the article)."""
    titles = teaser_titles(body)
    if len(titles) < THRESHOLDS.listing_min_teasers:
        return False
    *others, longest = sorted(prose_runs(body, titles, units))
    typical = others[len(others) // 2] if others else 0
    dominant = longest >= THRESHOLDS.listing_dominance * max(typical, 1)
    return longest <= THRESHOLDS.listing_max_run_chars and not dominant


def refuse_non_article(
    body: Element, title: str | None, hints: PageHints, source: str, units: dict[Element, int]
) -> None:
    """Raise when the page is not an article: a listing of teasers, or an error page. `units`:
    the prose units in `body`."""
    prose = sum(units.values())
    if is_listing(body, units) or (hints.listing and prose <= THRESHOLDS.listing_max_run_chars):
        raise ListenError(f"no article text found in {source} (the page is a list of links)")
    if ERROR_TITLE.search(title or "") and prose < THRESHOLDS.error_page_max_chars:
        raise ListenError(f"no article text found in {source} (an error page)")
