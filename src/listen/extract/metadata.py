"""The article's facts, read from the whole page before anything is dropped: JSON-LD, Open
Graph and other meta tags, `<html lang>`, the canonical link; and what JSON-LD says of the page's
shape (an FAQPage's questions, a LiveBlogPosting, a listing)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from lxml.cssselect import CSSSelector

from listen.extract.text import Element, clean_text, element_text, separate_blocks

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
    "scholarlyarticle", "socialmediaposting", "liveblogposting", "webpage", "report",
}  # fmt: skip
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage"}


@dataclass(frozen=True)
class Metadata:
    #: The title the site's headline rule pins, else None.
    pinned_title: str | None
    #: The titles the page's metadata gives, best first (JSON-LD headline, og:title,
    #: twitter:title, <title>): evidence for `headline.choose_title`, which prefers what the
    #: page shows.
    titles: tuple[str, ...]
    byline: str | None
    published: str | None
    language: str | None
    url: str | None
    summary: str | None
    site_name: str | None
    #: The article's sections or categories (JSON-LD articleSection, article:section...).
    categories: tuple[str, ...] = ()
    #: Its tags and keywords (JSON-LD keywords, article:tag, news_keywords, keywords).
    tags: tuple[str, ...] = ()
    #: Its authors, one name each (the byline joins them).
    authors: tuple[str, ...] = ()
    #: Its lead picture's address as the page gives it (og:image, JSON-LD image...).
    image: str | None = None


@dataclass(frozen=True)
class PageHints:
    """What JSON-LD says about the page's shape, read before <script>s are dropped."""

    faq: tuple[tuple[str, str], ...] = ()  # FAQPage: (question, answer) pairs
    live: bool = False  # LiveBlogPosting
    listing: bool = False  # CollectionPage / ItemList / SearchResultsPage, no article


@dataclass(frozen=True)
class Head:
    """The page's head facts, read in one pass: meta tags by name/property (lower-cased), the
    JSON-LD objects, the <title>, the canonical link."""

    meta: dict[str, str]
    json_ld: tuple[dict, ...]
    title: str | None
    canonical: str | None
    lang: str | None
    #: Every value of each meta tag (`article:tag` comes once per tag).
    meta_all: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: The page's <base href>, if any.
    base: str | None = None

    def get(self, *keys: str) -> str | None:
        for key in keys:
            if key in self.meta:
                return self.meta[key]
        return None

    def get_all(self, *keys: str) -> list[str]:
        return [value for key in keys for value in self.meta_all.get(key, ())]


def read_head(root: Element) -> Head:
    meta: dict[str, str] = {}
    meta_all: dict[str, list[str]] = {}
    for tag in root.iter("meta"):
        content = clean_text(tag.get("content") or "")
        if not content:
            continue
        for attr in ("property", "name"):
            key = (tag.get(attr) or "").strip().lower()
            if key:
                meta.setdefault(key, content)
                meta_all.setdefault(key, []).append(content)
    objects: list[dict] = []
    for script in root.iter("script"):
        if "ld+json" in (script.get("type") or "").lower():
            objects.extend(_json_ld_objects(script.text or ""))
    title_el = next(root.iter("title"), None)
    title = clean_text("".join(title_el.itertext())) if title_el is not None else None
    canonical = next(
        (
            link.get("href")
            for link in root.iter("link")
            if "canonical" in (link.get("rel") or "").lower().split()
        ),
        None,
    )
    base = next((b.get("href") for b in root.iter("base") if b.get("href")), None)
    return Head(
        meta=meta,
        json_ld=tuple(objects),
        title=title or None,
        canonical=canonical,
        lang=root.get("lang") or root.get("xml:lang"),
        meta_all={key: tuple(values) for key, values in meta_all.items()},
        base=base,
    )


def _json_ld_objects(text: str) -> Iterator[dict]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError):
        return
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            yield item
            if "@graph" in item:
                stack.append(item["@graph"])


def types(obj: dict) -> set[str]:
    kind = obj.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def json_ld_article(head: Head) -> dict:
    best: dict = {}
    for obj in head.json_ld:
        kinds = types(obj)
        if kinds & ARTICLE_TYPES and (not best or "webpage" in types(best)):
            best = obj
    return best


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def normalize_date(value: str | None) -> str | None:
    """ISO 8601 with a UTC offset (a date without a zone is taken as UTC), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def normalize_language(value: str | None) -> str | None:
    if not value:
        return None
    match = re.match(r"^\s*([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?", value)
    if not match:
        return None
    lang, region = match.groups()
    return lang.lower() + (f"-{region.upper()}" if region else "")


PUBLISHED_KEYS = ("article:published_time", "og:published_time", "date", "pubdate",
                  "publishdate", "dc.date", "dc.date.issued")  # fmt: skip
BY_PREFIX = re.compile(r"^\s*(?:written\s+)?by\s*[:\-]?\s+", re.IGNORECASE)
BYLINE_SELECTORS = tuple(
    CSSSelector(selector, translator="html")
    for selector in (
        "[rel~='author']", "[itemprop~='author'] [itemprop~='name']", "[itemprop~='author']",
        ".byline__name", ".author-name", ".byline", ".author", "[class*='byline']",
    )
)  # fmt: skip


def _byline_from_page(root: Element) -> str | None:
    for selector in BYLINE_SELECTORS:
        for el in selector(root):
            text = BY_PREFIX.sub("", element_text(el))
            if 2 < len(text) <= 80:
                return text
    return None


def read_metadata(root: Element, head: Head, pinned: Element | None = None) -> Metadata:
    """The article's facts, and its title where the site's headline rule (`pinned`) or the
    metadata give one."""
    ld = json_ld_article(head)
    pinned_title = element_text(pinned) if pinned is not None else None
    titles = (
        _string(ld.get("headline")),
        head.get("og:title"),
        head.get("twitter:title"),
        head.title,
    )
    authors = _names(ld.get("author")) or [a for a in [head.get("author")] if a]
    byline = ", ".join(dict.fromkeys(clean_text(a) for a in authors if clean_text(a))) or None
    if not byline:
        byline = _byline_from_page(root)
    time_tag = next((t for t in root.iter("time") if t.get("datetime")), None)
    published = next(
        (
            d
            for d in map(
                normalize_date,
                (
                    _string(ld.get("datePublished")),
                    head.get(*PUBLISHED_KEYS),
                    time_tag.get("datetime") if time_tag is not None else None,
                ),
            )
            if d
        ),
        None,
    )
    language = next(
        (
            lang
            for lang in map(
                normalize_language,
                (
                    _string(ld.get("inLanguage")),
                    head.lang,
                    head.get("og:locale", "language", "content-language"),
                ),
            )
            if lang
        ),
        None,
    )
    url = next(
        (
            u.strip()
            for u in (head.canonical, head.get("og:url"), _string(ld.get("url")))
            if u and re.match(r"^https?://", u.strip())
        ),
        None,
    )
    summary = _string(ld.get("description")) or head.get(
        "description", "og:description", "twitter:description"
    )
    site_name = head.get("og:site_name") or (_names(ld.get("publisher"))[:1] or [None])[0]
    return Metadata(
        categories=_distinct([*_terms(ld.get("articleSection")), *head.get_all(*CATEGORY_KEYS)]),
        tags=_distinct(
            [
                *_terms(ld.get("keywords"), split=True),
                *(t for v in head.get_all(*TAG_KEYS) for t in _terms(v, split=True)),
            ]
        ),
        authors=_distinct(authors) or ((byline,) if byline else ()),
        image=_image(ld, head),
        pinned_title=pinned_title or None,
        titles=tuple(dict.fromkeys(clean_text(t) for t in titles if t and clean_text(t))),
        byline=byline,
        published=published,
        language=language,
        url=url,
        summary=clean_text(summary) if summary else None,
        site_name=site_name,
    )


CATEGORY_KEYS = ("article:section", "section", "category", "parsely-section", "dc.subject")
TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags")
IMAGE_KEYS = ("og:image:secure_url", "og:image", "og:image:url", "twitter:image",
              "twitter:image:src")  # fmt: skip


def _terms(value: object, split: bool = False) -> list[str]:
    """Names in a JSON-LD or meta value: a string (comma-separated when `split`), a list, a
    DefinedTerm's name."""
    if isinstance(value, str):
        return value.split(",") if split else [value]
    if isinstance(value, dict):
        return _terms(value.get("name"), split)
    if isinstance(value, list):
        return [term for item in value for term in _terms(item, split)]
    return []


def _distinct(values: list[str]) -> tuple[str, ...]:
    """Cleaned, without empty ones or repeats (case aside), in order."""
    seen: dict[str, str] = {}
    for value in values:
        text = clean_text(value)
        if text and len(text) <= 200:
            seen.setdefault(text.casefold(), text)
    return tuple(seen.values())


def _image(ld: dict, head: Head) -> str | None:
    """The lead picture the page declares: Open Graph's (or Twitter's), else JSON-LD's image
    (a URL, an ImageObject, a list) or thumbnail."""
    for candidate in (head.get(*IMAGE_KEYS), *_image_urls(ld.get("image")),
                      *_image_urls(ld.get("thumbnailUrl"))):  # fmt: skip
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def _image_urls(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _image_urls(value.get("url") or value.get("contentUrl"))
    if isinstance(value, list):
        return [url for item in value for url in _image_urls(item)]
    return []


def html_text(markup: str) -> str:
    """The text of an HTML snippet (a JSON-LD answer written as HTML)."""
    try:
        fragment = etree.fromstring(f"<div>{markup}</div>", etree.HTMLParser())
    except (ValueError, etree.XMLSyntaxError):
        fragment = None
    if fragment is None:
        return clean_text(markup)
    separate_blocks(fragment)
    return element_text(fragment)


def read_page_hints(head: Head) -> PageHints:
    faq: list[tuple[str, str]] = []
    kinds: set[str] = set()
    for obj in head.json_ld:
        kinds |= types(obj)
        if "faqpage" not in types(obj):
            continue
        entities = obj.get("mainEntity", [])
        for item in entities if isinstance(entities, list) else [entities]:
            if not isinstance(item, dict):
                continue
            answer = item.get("acceptedAnswer") or item.get("suggestedAnswer") or {}
            answer = answer[0] if isinstance(answer, list) and answer else answer
            question = item.get("name")
            text = answer.get("text") if isinstance(answer, dict) else None
            if isinstance(question, str) and isinstance(text, str):
                faq.append((clean_text(question), html_text(text)))
    article_kinds = ARTICLE_TYPES - {"webpage"}
    return PageHints(
        faq=tuple((q, a) for q, a in faq if q and a),
        live="liveblogposting" in kinds,
        listing=bool(kinds & LISTING_TYPES) and not kinds & article_kinds,
    )
