"""Finding the element that holds the article body: a semantic marker if it holds most of the
prose, else the best text-density container, widened to the ancestor that holds all its
sections; and the parts of an article a stray end tag split in two."""

from __future__ import annotations

from collections.abc import Iterable

from listen.extract.chrome import is_body_marker
from listen.extract.prose import Prose
from listen.extract.settings import THRESHOLDS
from listen.extract.text import Element

CONTAINER_TAGS = frozenset(("div", "section", "article", "main", "td", "blockquote", "body"))


def find_body(root: Element, measured: Prose | None = None) -> Element | None:
    measured = measured or Prose.of(root)
    prose = measured.totals
    total = prose.get(root, 0)
    if total == 0:
        return None
    for el in root.iter():
        if prose.get(el, 0) >= THRESHOLDS.body_marker_share * total and is_body_marker(el):
            return widen(el, prose)
    scores: dict[Element, float] = {}
    for block, length in measured.units.items():
        parent = block.getparent()
        candidates = [(1.0, parent), (0.5, parent.getparent() if parent is not None else None)]
        if block.tag in CONTAINER_TAGS:  # text straight in a <div>: the div is the body
            candidates.append((1.0, block))
        for weight, candidate in candidates:
            if candidate is not None:
                scores[candidate] = scores.get(candidate, 0.0) + weight * length
    best = max(scores, key=scores.__getitem__)
    return widen(best, prose)


def widen(el: Element, prose: dict[Element, int]) -> Element:
    """Climb to the ancestor that holds the rest of the article: each ancestor with clearly
    more prose than the current pick becomes the pick (wrappers that add nothing are passed)."""
    best = el
    for ancestor in el.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        if prose.get(ancestor, 0) >= THRESHOLDS.climb_ratio * prose.get(best, 0):
            best = ancestor
    return best


def continuations(body: Element, measured: Prose | None = None) -> list[Element]:
    """The article's parts as written: `body`, plus the siblings of the same shape (tag and
    class) that hold prose right before or after it. A stray end tag ("</div></div>") splits an
    article container in two; a browser still shows one article, and so do we."""
    parent = body.getparent()
    if parent is None:
        return [body]
    prose = (measured or Prose.of(parent)).totals

    def same_shape(el: Element) -> bool:
        return el.tag == body.tag and el.get("class") == body.get("class")

    def run(siblings: Iterable[Element]) -> list[Element]:
        found: list[Element] = []
        for sibling in siblings:
            if not prose.get(sibling):
                continue
            if not same_shape(sibling):
                break
            found.append(sibling)
        return found

    before = run(body.itersiblings(preceding=True))
    return [*reversed(before), body, *run(body.itersiblings())]
