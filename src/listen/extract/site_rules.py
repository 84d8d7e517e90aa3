"""The site's own rules from listen.toml `[extract]`: `drop` selectors removed before any
automatic rule, `body` pinning the article, `headline` pinning the title."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from cssselect import ExpressionError, SelectorError
from lxml.cssselect import CSSSelector

from listen.errors import ListenError
from listen.extract.text import Element, drop_tree, element_text


@lru_cache(maxsize=256)
def compiled(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, ExpressionError, ValueError) as exc:
        raise ListenError(f"[extract] invalid CSS selector {selector!r}: {exc}") from None


def select_all(root: Element, selector: str) -> list[Element]:
    """The elements matching a site's selector; a bad selector is the config error it is."""
    return compiled(selector)(root)


def pinned_element(root: Element, selectors: Iterable[str]) -> Element | None:
    """The first element, for the first selector that matches one with text (the first
    selector that matches wins)."""
    for selector in selectors:
        for el in select_all(root, selector):
            if element_text(el):
                return el
    return None


def apply_drop_rules(root: Element, selectors: Iterable[str]) -> None:
    for selector in selectors:
        for el in select_all(root, selector):
            if el.getparent() is not None and el is not root:
                drop_tree(el)
