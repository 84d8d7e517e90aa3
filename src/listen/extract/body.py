"""Finding the element that holds the article body: a semantic marker if it holds most of the
prose, else the best text-density container, widened to the ancestor that holds all its
sections; and the parts of an article a stray end tag split in two."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from listen.extract.chrome import is_body_marker
from listen.extract.prose import Prose
from listen.extract.settings import THRESHOLDS
from listen.extract.text import Element, class_words, element_text

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


#: Class/id words of a summary box standing right before the article (a live blog's pinned post,
#: "Key points"): part of the article, read first.
SUMMARY_WORDS = frozenset({"summary", "pinned", "keypoints", "key-points", "highlights",
                           "takeaways", "tldr", "glance", "bullets"})  # fmt: skip


def continuations(body: Element, measured: Prose | None = None) -> list[Element]:
    """The article's parts as written: `body`, plus the siblings of the same shape (tag and
    class) that hold prose right before or after it (a stray end tag, "</div></div>", splits an
    article container in two; a browser still shows one article, and so do we), and a summary
    box just before it (a live blog's pinned post, "Key points")."""
    parent = body.getparent()
    if parent is None:
        return [body]
    prose = (measured or Prose.of(parent)).totals

    def same_shape(el: Element) -> bool:
        # (two classless <div>s are not one shape: the article and the page's footer)
        return (
            el.tag == body.tag and bool(body.get("class")) and el.get("class") == body.get("class")
        )

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
    first = before[-1] if before else body
    summary = [el for el in islice(first.itersiblings(preceding=True), 2) if _is_summary(el)][:1]
    return [*summary, *reversed(before), body, *run(body.itersiblings())]


def _is_summary(el: Element) -> bool:
    found = class_words(el)
    return not SUMMARY_WORDS.isdisjoint(found | {"-".join(found)}) and bool(element_text(el))
