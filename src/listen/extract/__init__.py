"""Stage 1, extract: an article page's HTML -> `Article` (metadata and sections of text blocks).

Extraction is a chain of small named steps, one module per concern:

1. `decoding`: decode the bytes (BOM, then the page's own WHATWG charset label, then UTF-8, then
   windows-1252) and parse with lxml, which repairs bad nesting as browsers do;
2. `metadata`: read JSON-LD, Open Graph, meta tags and `<html lang>` before anything is dropped,
   and what JSON-LD says of the page's shape (FAQPage, LiveBlogPosting, CollectionPage);
3. `site_rules`: the site's rules from listen.toml: `drop` selectors are removed, `body` pins
   the article, `headline` the title; then `pictures` marks the `<img>`s that may be chapter
   art (each section's first ones become its `images`, carried through the later drops);
4. `faq`, `liveblog`: mark structures that are read in their own way: FAQ questions and answers
   (a collapsed answer is still read), live-blog entries (each becomes a chapter, in page order);
5. `chrome`: drop what is never narrated: reference / "See also" / comments sections,
   non-content tags, footnote markers, hidden elements, site chrome recognised by tag, role or
   class/id words, boilerplate and recirculation lines recognised by text, link lists,
   pull-quotes that repeat the text, image captions and credits;
6. `body`, `refusal`: pick the element that holds the article body (the pinned one, else
   semantic markers, else text-density scoring), and refuse pages that hold no article (an index
   of teasers, an error page);
7. `sections`, `tables`: walk it in document order: headings of the top `chapter_depth` levels
   present (and live-blog entries) start sections; deeper headings stay inside as subheadings;
   lists, quotations and data tables ("Header: value" sentences) become text blocks.

Every threshold lives in `settings.Thresholds`; every chrome rule is a named function.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from listen.config import ExtractRules
from listen.errors import ListenError
from listen.extract.body import continuations, find_body
from listen.extract.chrome import (
    NON_TEXT_TAGS,
    article_holders,
    drop_boilerplate,
    drop_chrome,
    drop_media_captions,
    drop_non_article_sections,
    drop_pullquotes,
    drop_tags,
    drop_unread,
)
from listen.extract.consensus import vote
from listen.extract.decoding import declared_charset, decode_html, parse_html, read_page, serialize
from listen.extract.faq import mark_faq, with_json_ld_faq
from listen.extract.headline import choose_title, find_standfirst, page_headings
from listen.extract.liveblog import mark_live_entries
from listen.extract.metadata import read_head, read_metadata, read_page_hints
from listen.extract.model import Article, Block, Section
from listen.extract.pictures import mark_pictures, page_base, resolve
from listen.extract.prose import Prose
from listen.extract.refusal import refuse_non_article
from listen.extract.sections import (
    SKIP_ALL_WEAK,
    SKIP_LINKS,
    SKIP_NONE,
    build_sections,
    is_dateline,
    read_blocks,
    text_chars,
    with_standfirst,
)
from listen.extract.settings import THRESHOLDS, Thresholds
from listen.extract.site_rules import apply_drop_rules, pinned_element
from listen.extract.tables import table_sentences
from listen.extract.text import Element, tokens_memo, within


def extract(
    data: bytes | str, source: str = "<page>", rules: ExtractRules | None = None
) -> Article:
    """Parse one article page. Raises ListenError when the page holds no article.

    The site's rules (`[extract]` in listen.toml) come first: `drop` selectors are removed before
    any automatic rule, `body` pins the article element and `headline` the title; automatic
    extraction fills in wherever a rule matches nothing."""
    rules = rules or ExtractRules()
    root = parse_html(data)
    with tokens_memo():
        return _extract(root, source, rules)


def _extract(root: Element, source: str, rules: ExtractRules) -> Article:
    head = read_head(root)
    meta = read_metadata(root, head, pinned_element(root, rules.headline))
    hints = read_page_hints(head)
    drop_tags(root, NON_TEXT_TAGS)
    apply_drop_rules(root, rules.drop)
    pinned = pinned_element(root, rules.body)
    page = root.find("body")
    page = page if page is not None else root
    base = page_base(source, head.base)
    mark_pictures(page, base)
    elements = list(page.iter())  # listed once, for the rules that look at every element
    order = {el: position for position, el in enumerate(elements)}
    headings = page_headings(page, order)
    mark_faq(page, hints.faq, elements)
    drop_non_article_sections(root)
    drop_unread(root)
    measured = Prose.of(page)
    live = mark_live_entries(page, hints.live, measured, elements) > 0
    holders = article_holders(page, [pinned] if pinned is not None else [], measured)
    drop_boilerplate(root)
    drop_pullquotes(page, elements)
    drop_media_captions(root)
    drop_chrome(root, holders)
    if pinned is not None and not within(pinned, root):
        pinned = None  # the site's body rule matched boilerplate only
    body, measured, weak = _body(page, pinned)
    if body is None:
        raise ListenError(f"no article text found in {source}")
    site_names = [meta.site_name or "", *host_names(meta.url)]
    body_start = order.get(body, 0)
    title, headline = choose_title(headings, body_start, meta.pinned_title, meta.titles, site_names)
    title = title or ""
    refuse_non_article(body, title, hints, source, measured.units_in(body))
    parts = continuations(body, measured) if pinned is None else [body]
    blocks = read_blocks(parts, title, meta.byline, SKIP_NONE if weak else SKIP_ALL_WEAK)
    if not weak and text_chars(blocks) < THRESHOLDS.min_article_chars:
        blocks = read_blocks(parts, title, meta.byline, SKIP_NONE)
    if pinned is None and not live:  # (a live blog's entries: only listen's rules know them)
        page_blocks = lambda: read_blocks([page], title, meta.byline, SKIP_LINKS)  # noqa: E731
        blocks = vote(blocks, page_blocks, serialize(root))
        if headline is not None:
            standfirst = find_standfirst(order, headline, body_start, meta.summary, page)
            blocks = with_standfirst(blocks, standfirst)
    sections = build_sections(blocks, title, rules.chapter_depth)
    lead_image = resolve(meta.image, base) if meta.image else None
    first_picture = next((s.images[0] for s in sections if s.images), None)
    sections = with_json_ld_faq(sections, hints.faq)
    chars = sum(len(b.text) for s in sections for b in s.blocks)
    if chars < THRESHOLDS.min_article_chars:
        raise ListenError(f"no article text found in {source} (only {chars} characters of prose)")
    if not title:
        raise ListenError(f"no title found in {source}")
    return Article(
        title=title,
        sections=sections,
        byline=meta.byline,
        published=meta.published,
        language=meta.language or "en",
        url=meta.url,
        summary=meta.summary or _first_sentences(sections),
        site_name=meta.site_name,
        categories=meta.categories,
        tags=meta.tags,
        authors=meta.authors,
        image=lead_image or first_picture,
    )


def host_names(url: str | None) -> list[str]:
    """The names a site's address gives it ("www.slashdot.org" -> slashdot.org, slashdot)."""
    host = urlsplit(url).hostname if url else None
    if not host:
        return []
    host = host.removeprefix("www.")
    return [host, host.split(".")[0]]


def _body(page: Element, pinned: Element | None) -> tuple[Element | None, Prose, bool]:
    """The article's element, the prose measured, and whether weak chrome had to be read to find
    it: a page whose only text is in weak chrome (a photo blog's captions, a post that is a list
    of links) still has an article."""
    measured = Prose.of(page)
    if pinned is not None:
        return pinned, measured, False
    body = find_body(page, measured)
    if body is not None:
        return body, measured, False
    measured = Prose.of(page, weak=True)
    return find_body(page, measured), measured, True


def _first_sentences(sections: tuple[Section, ...], limit: int = 300) -> str | None:
    for section in sections:
        for block in section.blocks:
            if block.kind == "paragraph":
                return (
                    block.text
                    if len(block.text) <= limit
                    else block.text[:limit].rsplit(" ", 1)[0] + "…"
                )
    return None


def extract_file(path: Path, rules: ExtractRules | None = None) -> Article:
    rules = rules or ExtractRules()
    return extract(read_page(path, rules.max_page_bytes), source=str(path), rules=rules)


__all__ = [
    "THRESHOLDS",
    "Article",
    "Block",
    "Section",
    "Thresholds",
    "build_sections",
    "declared_charset",
    "decode_html",
    "extract",
    "extract_file",
    "is_dateline",
    "parse_html",
    "read_page",
    "table_sentences",
]
