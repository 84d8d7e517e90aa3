"""Stage 1, extract: an article page's HTML -> `Article` (metadata and sections of text blocks).

Extraction is a chain of small named steps (after trafilatura's design):

1. decode the bytes (BOM, then the page's own <meta charset> / http-equiv, then UTF-8, then
   windows-1252) and parse with lxml through beautifulsoup4, which repairs bad nesting;
2. read metadata from JSON-LD, Open Graph, meta tags and `<html lang>` before anything is dropped
   (the site's `headline` selectors first), and what JSON-LD says of the page's shape (FAQPage,
   LiveBlogPosting, CollectionPage);
3. apply the site's rules from listen.toml: `drop` selectors are removed, `body` pins the article;
4. mark structures that are read in their own way: FAQ questions and answers (a collapsed answer
   is still read), live-blog entries (each becomes a chapter, in page order);
5. drop what is never narrated: reference / "See also" / comments sections, non-content tags,
   footnote markers, hidden elements, site chrome recognised by tag, role or class/id words,
   boilerplate and recirculation lines recognised by text, link lists, pull-quotes that repeat
   the text, image captions and credits;
6. pick the element that holds the article body (the pinned one, else semantic markers, else
   text-density scoring), and refuse pages that hold no article (an index of teasers, an error
   page);
7. walk it in document order: headings of the top `chapter_depth` levels present (and live-blog
   entries) start sections; deeper headings stay inside as subheadings; lists, quotations and
   data tables ("Header: value" sentences) become text blocks.

Every threshold lives in `Thresholds`; every chrome rule is a named function or pattern.
"""

from __future__ import annotations

import codecs
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from soupsieve import SelectorSyntaxError

from listen.config import ExtractRules
from listen.errors import ListenError


@dataclass(frozen=True)
class Block:
    """One unit of running text: a paragraph, a list item, a quotation, a subheading."""

    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Section:
    """A heading and the blocks under it. The lead section has no heading."""

    heading: str | None
    blocks: tuple[Block, ...]
    level: int = 2


@dataclass(frozen=True)
class Article:
    title: str
    sections: tuple[Section, ...]
    byline: str | None = None
    published: str | None = None
    language: str = "en"
    url: str | None = None
    summary: str | None = None
    site_name: str | None = None


@dataclass(frozen=True)
class Thresholds:
    """The heuristics' numbers, in one place."""

    #: A paragraph shorter than this does not count as evidence of article text.
    min_paragraph_chars: int = 25
    #: Share of a paragraph's text inside links above which it is navigation, not prose.
    max_link_density: float = 0.5
    #: A chrome-looking element holding more than this share of the page's prose is kept anyway
    #: (a theme that puts "share-enabled" on the article wrapper must not lose the article).
    max_chrome_share_of_prose: float = 0.5
    #: Climb from the best-scoring container to its parent while the parent has this much
    #: more prose.
    climb_ratio: float = 1.5
    #: A block whose whole text is boilerplate is only recognised as such when this short.
    max_boilerplate_chars: int = 160
    #: Less article text than this and the page is refused as "no article".
    min_article_chars: int = 200
    #: A semantic body marker (itemprop=articleBody, .entry-content...) is trusted when it
    #: holds at least this share of the page's prose.
    body_marker_share: float = 0.5
    #: A list whose items are all links is a link list (not read) from this many items.
    link_list_min_items: int = 3
    #: A quotation is a pull-quote when this share of its 4-word runs also stands in the body.
    pullquote_repeat_share: float = 0.6
    #: Live blogs: this many sibling entries with a timestamp and prose each (fewer when JSON-LD
    #: declares a LiveBlogPosting)...
    live_min_entries: int = 3
    live_min_entries_declared: int = 2
    #: ...holding at least this share of the page's prose.
    live_min_prose_share: float = 0.5
    #: An entry without a heading is titled with its time and this many of its first words.
    entry_title_words: int = 8
    #: Index pages: a teaser title is a link-only block at least this long...
    teaser_title_min_chars: int = 20
    #: ...this many of them...
    listing_min_teasers: int = 4
    #: ...and no run of prose between two of them longer than this: a list of links, refused.
    listing_max_run_chars: int = 600
    #: ...unless one run is this many times the typical one (an article before its teasers).
    listing_dominance: float = 2.5
    #: A page titled like an error page ("Page not found") is refused below this much prose.
    error_page_max_chars: int = 1500


THRESHOLDS = Thresholds()

# --- 1. parsing ------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x"> (either
# attribute order) and <?xml encoding="x"?>.
_DECLARED_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)"""
    rb"""|<\?xml\b[^>]*?encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)
#: How far into the page a charset declaration is looked for (long heads are common).
CHARSET_SCAN_BYTES = 65536
# As browsers do (WHATWG Encoding): these labels all mean windows-1252, whose 0x80-0x9F are
# curly quotes and dashes, not control characters; a UTF-16 label in a byte-oriented page is UTF-8.
_CHARSET_ALIASES = {
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "cp819", "ibm819",
         "iso-ir-100", "csisolatin1", "us-ascii", "ascii", "ansi_x3.4-1968", "cp1252",
         "x-cp1252", "windows-1252"),
        "windows-1252",
    ),
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "utf-16-le", "utf-16-be"), "utf-8"),
}  # fmt: skip


def declared_charset(data: bytes) -> str | None:
    """The charset the page declares for itself (meta charset, http-equiv, XML declaration)."""
    match = _DECLARED_CHARSET.search(data[:CHARSET_SCAN_BYTES])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", "replace").lower().strip(".:")
    return _CHARSET_ALIASES.get(label, label)


#: Python codecs a page may name but no browser would use to decode it.
_NOT_PAGE_CHARSETS = {"unicode_escape", "raw_unicode_escape", "undefined", "idna", "punycode",
                      "mbcs", "oem", "palmos", "charmap"}  # fmt: skip


def _is_text_charset(label: str) -> bool:
    try:
        info = codecs.lookup(label)
    except LookupError:
        return False
    name = info.name.replace("-", "_")
    return name not in _NOT_PAGE_CHARSETS and getattr(info, "_is_text_encoding", True)


def decode_html(data: bytes | str) -> str:
    """The page's text: a BOM wins, then the declared charset, then UTF-8, then windows-1252
    (the usual charset of an undeclared legacy page). A declaration that does not fit the bytes
    is ignored. Deterministic: no statistical guessing that would differ between installs."""
    if isinstance(data, str):
        return data
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    for encoding in dict.fromkeys((declared_charset(data), "utf-8", "windows-1252")):
        if encoding and _is_text_charset(encoding):
            try:
                return data.decode(encoding)
            except (UnicodeError, LookupError):  # UnicodeError: "undefined", "idna", "punycode"
                continue
    return data.decode("windows-1252", errors="replace")


#: Deeper than this and a page is refused: real articles nest a few dozen levels, and the chrome
#: rules' cost grows with depth (100,000 nested <div>s would take hours, not a second).
MAX_NESTING_DEPTH = 1000


def parse_html(data: bytes | str) -> BeautifulSoup:
    """Decode, then parse with lxml (which repairs unclosed tags, stray end tags and nested <p>
    the way browsers do). A page nested deeper than MAX_NESTING_DEPTH, or too large for memory,
    is a ListenError."""
    try:
        soup = BeautifulSoup(decode_html(data), "lxml")
    except RecursionError:
        raise ListenError("page is too deeply nested to read") from None
    except MemoryError:
        raise ListenError("page is too large to read") from None
    depth = {id(soup): 0}
    for el in soup.descendants:
        if isinstance(el, Tag):
            level = depth[id(el.parent)] + 1
            if level > MAX_NESTING_DEPTH:
                raise ListenError(
                    f"page is too deeply nested (over {MAX_NESTING_DEPTH} levels of elements)"
                )
            depth[id(el)] = level
    return soup


def read_page(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ListenError(f"page not found: {path}") from None
    except IsADirectoryError:
        raise ListenError(f"page is a directory, not an HTML file: {path}") from None
    except OSError as exc:
        raise ListenError(f"cannot read page {path}: {exc.strerror or exc}") from None


# --- text helpers ----------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# Footnote and citation markers, wiki edit links and maintenance tags written into the text.
_FOOTNOTE_MARK = re.compile(
    r"\[\s*(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[a-z]|(?:note|nb|n)\s*\d{1,3}|citation needed|"
    r"edit(?: source)?|clarification needed|better source needed|who\?|when\?|by whom\?|"
    r"according to whom\?|dubious\s*[–-]\s*discuss|failed verification|page needed)\s*\]",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    text = text.replace("\u00ad", "").replace("\u200b", "")
    text = _FOOTNOTE_MARK.sub("", text)
    return _SPACE.sub(" ", text).strip()


def is_gone(el: Tag) -> bool:
    """Removed from the tree already. (bs4's `el.decomposed` reads a missing attribute through
    `Tag.__getattr__`, which searches the whole subtree for a tag of that name: this is the same
    test without that cost.)"""
    return vars(el).get("_decomposed", False) is True


def element_text(el: Tag) -> str:
    """Visible text: inline pieces joined as written ("<b>I</b>DF" is "IDF"), a space wherever
    a block or line break separates them."""
    parts: list[str] = []
    for node in el.descendants:
        if isinstance(node, NavigableString):
            if not isinstance(node, Comment):
                parts.append(str(node))
        elif isinstance(node, Tag) and (node.name == "br" or node.name in BLOCK_TAGS):
            parts.append(" ")
    return clean_text("".join(parts))


# --- 2. metadata -----------------------------------------------------------------------------

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "techarticle",
    "scholarlyarticle", "socialmediaposting", "liveblogposting", "webpage", "report",
}  # fmt: skip


def _json_ld_objects(soup: BeautifulSoup) -> Iterator[dict]:
    for script in soup.find_all("script", type=re.compile(r"ld\+json", re.I)):
        try:
            data = json.loads(script.string or "")
        except (json.JSONDecodeError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if "@graph" in item:
                    stack.append(item["@graph"])


def _types(obj: dict) -> set[str]:
    kind = obj.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def _json_ld_article(soup: BeautifulSoup) -> dict:
    best: dict = {}
    for obj in _json_ld_objects(soup):
        kinds = _types(obj)
        if kinds & ARTICLE_TYPES and (not best or "webpage" in _types(best)):
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


def _meta(soup: BeautifulSoup, *keys: str) -> str | None:
    for key in keys:
        tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
        if tag and tag.get("content") and tag["content"].strip():
            return clean_text(tag["content"])
    return None


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


_BY_PREFIX = re.compile(r"^\s*(?:written\s+)?by\s*[:\-]?\s+", re.IGNORECASE)
BYLINE_SELECTORS = (
    '[rel="author"]', '[itemprop="author"] [itemprop="name"]', '[itemprop="author"]',
    ".byline__name", ".author-name", ".byline", ".author", '[class*="byline"]',
)  # fmt: skip


def _byline_from_page(soup: BeautifulSoup) -> str | None:
    for selector in BYLINE_SELECTORS:
        for el in soup.select(selector):
            text = _BY_PREFIX.sub("", element_text(el))
            if 2 < len(text) <= 80:
                return text
    return None


@dataclass(frozen=True)
class Metadata:
    title: str | None
    byline: str | None
    published: str | None
    language: str | None
    url: str | None
    summary: str | None
    site_name: str | None


def read_metadata(soup: BeautifulSoup, headline_selectors: Iterable[str] = ()) -> Metadata:
    """The article's facts, read before anything is dropped. The title comes from the site's
    headline selectors when one matches, else JSON-LD `headline`, the first <h1>, og:title,
    <title>."""
    ld = _json_ld_article(soup)
    pinned = pinned_element(soup, headline_selectors)
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    h1 = soup.find("h1")
    title_tag = soup.title.string if soup.title and soup.title.string else None
    title = next(
        (
            clean_text(t)
            for t in (
                pinned and element_text(pinned),
                headline,
                h1 and element_text(h1),
                _meta(soup, "og:title"),
                title_tag,
            )
            if t and clean_text(t)
        ),
        None,
    )
    authors = _names(ld.get("author")) or [a for a in [_meta(soup, "author")] if a]
    byline = ", ".join(dict.fromkeys(clean_text(a) for a in authors if clean_text(a))) or None
    if not byline:
        byline = _byline_from_page(soup)
    time_tag = soup.find("time", attrs={"datetime": True})
    published = next(
        (
            d
            for d in map(
                normalize_date,
                (
                    ld.get("datePublished") if isinstance(ld.get("datePublished"), str) else None,
                    _meta(
                        soup,
                        "article:published_time",
                        "og:published_time",
                        "date",
                        "pubdate",
                        "publishdate",
                        "dc.date",
                        "DC.date.issued",
                    ),
                    time_tag and time_tag["datetime"],
                ),
            )
            if d
        ),
        None,
    )
    html = soup.find("html")
    language = next(
        (
            lang
            for lang in map(
                normalize_language,
                (
                    ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None,
                    html.get("lang") if html else None,
                    _meta(soup, "og:locale", "language", "content-language"),
                ),
            )
            if lang
        ),
        None,
    )
    canonical = soup.find("link", rel="canonical")
    url = next(
        (
            u.strip()
            for u in (
                canonical.get("href") if canonical else None,
                _meta(soup, "og:url"),
                ld.get("url") if isinstance(ld.get("url"), str) else None,
            )
            if u and re.match(r"^https?://", u.strip())
        ),
        None,
    )
    summary = (ld.get("description") if isinstance(ld.get("description"), str) else None) or _meta(
        soup, "description", "og:description", "twitter:description"
    )
    publisher = ld.get("publisher")
    site_name = _meta(soup, "og:site_name") or (_names(publisher)[:1] or [None])[0]
    return Metadata(
        title=title,
        byline=byline,
        published=published,
        language=language,
        url=url,
        summary=clean_text(summary) if summary else None,
        site_name=site_name,
    )


# --- 3. site rules (listen.toml [extract]) --------------------------------------------------


def select_all(root: Tag, selector: str) -> list[Tag]:
    """`root.select(selector)`, with a bad selector reported as the config error it is."""
    try:
        return root.select(selector)
    except (SelectorSyntaxError, ValueError, NotImplementedError) as exc:
        raise ListenError(f"[extract] invalid CSS selector {selector!r}: {exc}") from None


def pinned_element(root: Tag, selectors: Iterable[str]) -> Tag | None:
    """The first element, for the first selector that matches one with text (site rules for the
    body and the headline: the first selector that matches wins)."""
    for selector in selectors:
        for el in select_all(root, selector):
            if element_text(el):
                return el
    return None


def apply_drop_rules(root: Tag, selectors: Iterable[str]) -> None:
    """The site's `drop` selectors: removed first, before any automatic rule runs."""
    for selector in selectors:
        for el in select_all(root, selector):
            if not is_gone(el):
                el.decompose()


# --- 4. structures read in their own way: FAQ accordions, live-blog entries ------------------

#: Our own annotation on the parsed tree: "question", "answer", "entry", "skip" (already read as
#: a title), "keep" (part of a question).
MARK = "data-listen"
ENTRY_TITLE = "data-listen-title"
ENTRY_TIME = "data-listen-time"

FAQ_CONTAINER_WORDS = {"faq", "faqs", "accordion", "accordions", "toggle", "toggles",
                       "question", "questions", "qa", "qanda"}  # fmt: skip
FAQ_QUESTION_WORDS = {"question", "title", "heading", "header", "head", "toggle", "trigger",
                      "button", "summary", "label", "q"}  # fmt: skip
FAQ_ANSWER_WORDS = {"answer", "content", "body", "panel", "collapse", "collapsible", "text",
                    "desc", "description", "details", "inner", "a"}  # fmt: skip


@dataclass(frozen=True)
class PageHints:
    """What JSON-LD says about the page's shape, read before <script>s are dropped."""

    faq: tuple[tuple[str, str], ...] = ()  # FAQPage: (question, answer) pairs
    live: bool = False  # LiveBlogPosting
    listing: bool = False  # CollectionPage / ItemList / SearchResultsPage, no article


def read_page_hints(soup: BeautifulSoup) -> PageHints:
    faq: list[tuple[str, str]] = []
    kinds: set[str] = set()
    for obj in _json_ld_objects(soup):
        kinds |= _types(obj)
        if "faqpage" not in _types(obj):
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
                faq.append((clean_text(question), element_text(BeautifulSoup(text, "lxml"))))
    article_kinds = ARTICLE_TYPES - {"webpage"}
    listing_kinds = {"collectionpage", "itemlist", "searchresultspage"}
    return PageHints(
        faq=tuple((q, a) for q, a in faq if q and a),
        live="liveblogposting" in kinds,
        listing=bool(kinds & listing_kinds) and not kinds & article_kinds,
    )


def _looks_like_question(el: Tag) -> bool:
    return (
        el.name in (*HEADING_TAGS, "button", "summary", "dt")
        or bool(FAQ_QUESTION_WORDS & _words(el))
        or el.has_attr("aria-expanded")
        or el.has_attr("aria-controls")
        or element_text(el).endswith("?")
    )


def _mark_question(el: Tag) -> None:
    for button in [el] if el.name == "button" else el.find_all("button"):
        button.name = "span"  # an accordion's question is often its toggle button...
        button[MARK] = "keep"  # ...whose "accordion-button" class is no reason to drop it
    el[MARK] = "question"


def _mark_answer(el: Tag) -> None:
    el[MARK] = "answer"


def mark_faq(soup: BeautifulSoup, faq: Iterable[tuple[str, str]] = ()) -> None:
    """Find FAQ accordions and mark question and answer, so that a collapsed answer (hidden,
    aria-hidden, display:none) is read, right after its question. Recognised: <details>/<summary>,
    schema.org Question microdata, aria-controls toggles, question/answer pairs inside an element
    classed faq/accordion/toggle, and the questions JSON-LD FAQPage names."""
    root = soup.body or soup
    for details in root.find_all("details"):
        summary = details.find("summary")
        if summary is not None:
            _mark_question(summary)
        _mark_answer(details)
    for item in root.find_all(itemtype=re.compile(r"schema\.org/Question", re.I)):
        name = item.find(itemprop="name")
        answer = item.find(itemprop="acceptedAnswer") or item.find(itemprop="suggestedAnswer")
        if name is not None and answer is not None:
            _mark_question(name)
            _mark_answer(answer)
    for toggle in root.find_all(attrs={"aria-controls": True}):
        target = root.find(id=str(toggle["aria-controls"]).split()[0])
        in_faq = toggle.find_parent(lambda t: bool(FAQ_CONTAINER_WORDS & _words(t)))
        if target is not None and (in_faq or element_text(toggle).endswith("?")):
            question = toggle.find_parent(HEADING_TAGS) or toggle
            _mark_question(question)
            _mark_answer(target)
    for container in root.find_all(lambda t: bool(FAQ_CONTAINER_WORDS & _words(t))):
        for el in container.find_all(True):
            if el.get(MARK):
                continue
            previous = el.find_previous_sibling(True)
            if previous is None or previous.get(MARK) == "answer":
                continue
            words = _words(el)
            if ("answer" in words or FAQ_ANSWER_WORDS & words or is_hidden(el)) and (
                _looks_like_question(previous)
            ):
                _mark_question(previous)
                _mark_answer(el)
    questions = {_norm(q) for q, _ in faq}
    if questions:
        for el in root.find_all(True):
            if el.get(MARK) or _norm(element_text(el)) not in questions:
                continue
            if any(_norm(element_text(child)) in questions for child in el.find_all(True)):
                continue  # the innermost element holding the question
            node, answer = el, None
            for _ in range(3):  # the answer follows the question, or the question's wrapper
                answer = node.find_next_sibling(True)
                if answer is not None or node.parent is None:
                    break
                node = node.parent
            _mark_question(el)
            if answer is not None:
                _mark_answer(answer)


def is_timestamp(el: Tag) -> bool:
    return el.name == "time" or any("timestamp" in token for token in _tokens(el))


def _time_label(stamp: Tag) -> str:
    text = element_text(stamp)
    if text and len(text) <= 40:
        return text
    match = re.search(r"T(\d{2}:\d{2})", str(stamp.get("datetime", "")))
    return match.group(1) if match else ""


def mark_live_entries(soup: BeautifulSoup, declared: bool = False) -> int:
    """Live blogs: sibling elements that each carry a timestamp and text of their own are
    entries, read as chapters in page order. Each is marked with its title (its heading, else a
    bold lead) and its time; a timestamp standing on its own line is taken out of the text.
    Returns the number of entries marked."""
    root = soup.body or soup
    groups: dict[int, dict[int, Tag]] = {}
    parents: dict[int, Tag] = {}
    stamps: dict[int, list[Tag]] = {}
    for stamp in root.find_all(is_timestamp):
        child = stamp
        for parent in stamp.parents:
            if parent.name in ("html", "[document]"):
                break
            groups.setdefault(id(parent), {})[id(child)] = child
            parents[id(parent)] = parent
            stamps.setdefault(id(child), []).append(stamp)
            child = parent
    prose = prose_by_element(root)
    total = max(prose.get(id(root), 0), 1)
    minimum = THRESHOLDS.live_min_entries_declared if declared else THRESHOLDS.live_min_entries
    best: list[Tag] = []
    for key, children in groups.items():
        entries = [c for c in children.values() if prose.get(id(c), 0) > 0]
        names = [c.name for c in entries]
        if not names:
            continue
        common = max(set(names), key=names.count)
        entries = [c for c in entries if c.name == common]
        if len(entries) < minimum or looks_like_chrome(parents[key]):
            continue
        share = sum(prose.get(id(c), 0) for c in entries) / total
        if (
            share >= THRESHOLDS.live_min_prose_share
            and share > sum(prose.get(id(c), 0) for c in best) / total
        ):
            best = entries
    for entry in best:
        label = ""
        for stamp in stamps.get(id(entry), []):
            if is_gone(stamp):
                continue
            label = label or _time_label(stamp)
            line = _block_parent(stamp)
            in_running_text = (
                line is not None
                and line.name in ("p", "li", "dd", "blockquote", "td")
                and len(element_text(line)) > 60
            )
            if not in_running_text:  # "<time>3pm</time>" inside a sentence stays
                stamp.decompose()
        entry[MARK] = "entry"
        entry[ENTRY_TIME] = label
        entry[ENTRY_TITLE] = _entry_heading(entry)
    return len(best)


def _entry_heading(entry: Tag) -> str:
    """An entry's own heading, marked so that it is not read twice."""
    heading = entry.find(HEADING_TAGS)
    if heading is not None and element_text(heading):
        heading[MARK] = "skip"
        return element_text(heading)
    return ""


def _bold_lead(entry: Tag) -> str:
    """A bold lead standing for a heading ("<p><b>Polls close.</b> Voting ended...") at the start
    of an entry (read after chrome is dropped, so a byline or a share bar does not hide it).
    Marked so that it is not read twice."""
    first = next(
        (s for s in entry.find_all(string=True) if s.strip() and not isinstance(s, Comment)),
        None,
    )
    bold = first.find_parent(["strong", "b"]) if first is not None else None
    if bold is None or entry not in bold.parents:
        return ""
    text = element_text(bold).strip(" .:—–-")
    if len(text.split()) >= 2 and len(text) <= 120:
        bold[MARK] = "skip"
        return text
    return ""


def entry_title(entry: Tag) -> str:
    """The chapter title of a live-blog entry: its heading or bold lead, else its time and
    first words."""
    title = str(entry.get(ENTRY_TITLE) or "") or _bold_lead(entry)
    if title:
        return title
    words = element_text(entry).split()
    first = " ".join(words[: THRESHOLDS.entry_title_words]).rstrip(",;:—–-")
    if len(words) > THRESHOLDS.entry_title_words:
        first += "…"
    label = str(entry.get(ENTRY_TIME) or "")
    return f"{label}: {first}" if label and first else label or first


# --- 5. dropping what is never narrated ------------------------------------------------------

#: Never text of the article, wherever they stand. (<sup> and footnote links are dropped only
#: when they are markers: see `is_footnote_marker`.)
NEVER_CONTENT_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "input", "select", "textarea", "label", "audio", "video", "figcaption",
    "dialog", "menu", "link", "meta",
)  # fmt: skip
#: Site furniture by tag. Dropped like class-named chrome, with the same safety valve: an
#: ASP.NET page wraps its whole body in one <form>, some themes put the article in <aside>.
#: (<header> is not among them: sections carry their headings in one.)
CHROME_TAGS = ("form", "nav", "footer", "aside")

CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
                "alertdialog", "menu", "menubar", "toolbar", "alert"}  # fmt: skip

# Class or id words of site chrome. Matched against whole tokens split on - _ and :, so
# "share" matches "post-share-bar" but not "shareholders".
CHROME_WORDS = {
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "toc", "sidebar",
    "share", "sharing", "social", "sharedaddy", "subscribe", "subscription", "newsletter",
    "signup", "comment", "comments", "respond", "disqus", "related", "recommended", "recirc",
    "promo", "advert", "advertisement", "ads", "ad", "sponsor", "sponsored", "cookie",
    "cookies", "consent", "gdpr", "banner", "popup", "modal", "footer", "masthead",
    "author-bio", "bio", "paywall", "tags", "tagcloud", "pagination", "pager", "print",
    "listen", "tts", "podcast", "caption", "credit", "credits", "scroll", "scrolltop",
    "backtotop", "skip", "infobox", "navbox", "reflist", "references", "footnotes",
    "editsection", "byline", "dateline", "meta", "toolbar", "actions", "follow",
    "footnote", "hatnote", "catlinks", "sitesub", "noprint", "ambox", "bookmark", "cta",
    "copyright", "outbrain", "taboola", "recirculation", "thumbcaption", "gallerytext",
    "btn", "button",
}  # fmt: skip
CHROME_PHRASES = (
    "table-of-contents", "tableofcontents", "ez-toc", "elementor-toc", "read-more", "more-stories",
    "most-read", "most-popular", "author-box", "about-author", "scroll-top", "back-to-top",
    "screen-reader", "sr-only", "visually-hidden", "trinity", "listen-to", "text-to-speech",
    "audio-player", "media-player", "video-player", "jwplayer", "wp-block-buttons", "see-also",
    "external-links", "mw-editsection", "site-header", "global-header", "read-next", "readnext",
    "more-from", "you-may-like", "author-info", "author-card", "author-profile", "authorbox",
    "post-author", "entry-author", "about-the-author", "jump-link", "cookiebot", "onetrust",
    "post-navigation", "jp-relatedposts",
)  # fmt: skip
# Containers that are article bodies even though they contain a chrome word ("entry-header"...).
BODY_MARKERS = re.compile(
    r"(^|[\s_-])(entry-content|post-content|article-body|article__body|articlebody|story-body|"
    r"post-body|content-body|body-text|article-content|rich-text|gh-content|mw-parser-output|"
    r"field--name-body|available-content|markup)($|[\s_-])",
    re.IGNORECASE,
)

BOILERPLATE_TEXT = re.compile(
    r"^(?:"
    r"table of contents|contents|listen to this article|listen now|play audio|"
    r"leave a (?:comment|reply)|comments?(?: \(\d+\))?|\d+ comments?|post comment|"
    r"add new comment|log in to post comments|"
    r"your email address will not be published.*|required fields are marked.*|"
    r".*subscribe to our .*|subscribe(?: now| today| for free)?(?: to .{1,60})?|"
    r"sign up.*newsletter.*|.*newsletter.*sign up.*|"
    r"thanks for reading.{0,80}subscribe.*|.*subscribe for free.*|upgrade to paid|"
    r"ready for more\?|"
    r"scroll to top|back to top|advertisement|sponsored|share(?: this(?: article| post| story)?)?|"
    r"share on \w+|share this on \w+|follow(?: us.*)?|following|\d+(?:\.\d)?k? followers|"
    r"\d+\s*min(?:ute)?s?(?: read| listen).{0,60}|related(?: articles| posts| stories)?|"
    r"read more|see also|external links|references|notes|footnotes|print|email|"
    r"skip to (?:main )?content|we use cookies.*|this site uses cookies.*|"
    r"accept(?: all)?(?: cookies)?|"
    r"(?:story|article) continues below(?: (?:this )?advertisement)?|continue reading below|"
    r"(?:photo|photograph|image|picture|illustration|graphic)s?(?: by| credit)?\s*[:©|].{0,120}"
    r")[\s.:!*]*$",
    re.IGNORECASE,
)
# "READ MORE: <a>Another story</a>" lines injected between paragraphs.
RECIRCULATION_LABEL = re.compile(
    r"^\s*(?:read more|read also|also read|more|related|see also|recommended|watch|must read|"
    r"don'?t miss|trending|read next|more on this(?: story)?|related (?:article|story|coverage))"
    r"\s*[:|»›>]",
    re.IGNORECASE,
)
# A section under one of these headings is never narrated, heading and content alike.
NON_ARTICLE_HEADING = re.compile(
    r"^(?:references?|notes|footnotes|notes and references|citations|sources|bibliography|"
    r"works cited|further reading|see also|external links|"
    r"related(?: (?:articles|posts|stories|links|reading|content|coverage|topics))?|"
    r"more (?:stories|articles|news)(?: (?:from|on|in|like this) .{0,40})?|"
    r"more (?:from|on|in) .{1,40}|you (?:may|might) also (?:like|enjoy)|"
    r"recommended(?: for you| reading| articles| stories| from .{1,40})?|read (?:more|next)|"
    r"about the author|comments?|\d+ (?:comments?|responses?|replies)|"
    r"leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"popular (?:posts|stories|articles)|most (?:read|popular)|trending(?: now)?|"
    r"latest (?:news|posts|stories))[\s.:!]*$",
    re.IGNORECASE,
)
# Class lists that a CSS-in-JS build generates ("pw-post-body-paragraph km kn ko kp"): their
# short tokens are hashes, and a hash may spell "ad" or "nav".
_GENERATED_TOKEN = re.compile(r"^[a-z]{1,3}\d?$")
HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "u-hidden", "hide", "invisible"}


def _tokens(el: Tag) -> list[str]:
    classes = [str(c).lower() for c in el.get("class", [])]
    generated = [c for c in classes if _GENERATED_TOKEN.match(c)]
    if len(generated) >= 3 and 2 * len(generated) >= len(classes):
        classes = [c for c in classes if not _GENERATED_TOKEN.match(c)]
    element_id = str(el.get("id") or "").lower()
    return [t for t in (*classes, *element_id.split()) if t]


def _words(el: Tag) -> set[str]:
    """The class/id tokens split into words: "elementor-tab-content" -> elementor, tab, content."""
    return {w for token in _tokens(el) for w in re.split(r"[-_:]+", token) if w}


def is_body_marker(el: Tag) -> bool:
    return el.get("itemprop") == "articleBody" or bool(BODY_MARKERS.search(" ".join(_tokens(el))))


def looks_like_chrome(el: Tag) -> bool:
    """A site-furniture element by its tag, role, or class/id words."""
    if el.name in ("html", "body", "main", "article") or is_body_marker(el):
        return False
    if el.get(MARK) in ("question", "keep"):  # an accordion's "accordion-button" question
        return False
    if el.name in CHROME_TAGS or str(el.get("role", "")).lower() in CHROME_ROLES:
        return True
    for token in _tokens(el):
        if any(phrase in token for phrase in CHROME_PHRASES):
            return True
        if CHROME_WORDS.intersection(re.split(r"[-_:]+", token)):
            return True
    return False


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def is_hidden(el: Tag) -> bool:
    """Hidden from readers: the hidden attribute, aria-hidden, display:none / visibility:hidden
    inline, or a utility class that does the same."""
    return (
        el.has_attr("hidden")
        or str(el.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(el.get("style", ""))))
        or bool(HIDDEN_CLASSES.intersection(str(c).lower() for c in el.get("class", [])))
    )


def is_boilerplate_block(el: Tag) -> bool:
    text = element_text(el)
    return len(text) <= THRESHOLDS.max_boilerplate_chars and bool(BOILERPLATE_TEXT.match(text))


def _link_chars(el: Tag) -> int:
    return sum(len(element_text(a)) for a in el.find_all("a") if a.find_parent("a") is None)


def is_recirculation_line(el: Tag) -> bool:
    """A "Read more: <link>" line between paragraphs, pointing elsewhere."""
    text = element_text(el)
    if len(text) > THRESHOLDS.max_boilerplate_chars or not RECIRCULATION_LABEL.match(text):
        return False
    return _link_chars(el) >= 0.5 * len(RECIRCULATION_LABEL.sub("", text))


_TAXONOMY_PATH = re.compile(r"/(?:tags?|topics?|categor(?:y|ies)|section|keywords?)/", re.I)


def is_taxonomy_link(el: Tag) -> bool:
    """A block that is only a link to a tag, topic or category page (a post's tag chips)."""
    links = el.find_all("a", href=True)
    return (
        len(links) == 1
        and bool(_TAXONOMY_PATH.search(str(links[0]["href"])))
        and _link_chars(el) >= len(element_text(el))
    )


def is_link_list(el: Tag) -> bool:
    """A list whose every item is nothing but a link: a table of contents, "related stories",
    a tag list. Read aloud it is a string of headlines, not the article."""
    if el.name not in ("ul", "ol"):
        return False
    items = [li for li in el.find_all("li", recursive=False) if element_text(li)]
    if len(items) < THRESHOLDS.link_list_min_items:
        return False
    return all(
        li.find("a") is not None and _link_chars(li) >= 0.9 * len(element_text(li)) for li in items
    )


_MARKER_TEXT = re.compile(
    r"[\[(]?\s*(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[a-z]|[ivx]{1,4}|[*†‡§¶]+|"
    r"(?:note|nb|n)\s*\d{1,3})\s*[\])]?",
    re.IGNORECASE,
)
FOOTNOTE_WORDS = {"reference", "footnote", "fn", "cite", "citation", "noteref", "ref"}


def is_footnote_marker(el: Tag) -> bool:
    """A footnote or citation marker ("[1]", a superscript link to "#cite_note-1", Substack's
    footnote anchors). A superscript that is part of the text ("1<sup>st</sup>", "m<sup>2</sup>")
    is not one."""
    text = element_text(el)
    if el.name == "sup" and not text:
        return True
    if not text or len(text) > 24:
        return False
    if re.fullmatch(r"\[[^\]]+\]", text) and el.name in ("sup", "a", "span"):
        return True
    link = el if el.name == "a" else el.find("a", href=True)
    to_anchor = link is not None and str(link.get("href", "")).startswith("#")
    marked = bool(FOOTNOTE_WORDS & _words(el))
    if el.name == "sup":
        return bool(re.fullmatch(r"[*†‡§¶]+", text)) or (
            (to_anchor or marked) and bool(_MARKER_TEXT.fullmatch(text))
        )
    if el.name == "a":
        return (to_anchor or marked) and bool(re.fullmatch(r"[\[(]?\d{1,3}[\])]?", text))
    return False


def drop_footnote_markers(root: Tag) -> None:
    for el in root.find_all(["sup", "a"]):
        if not is_gone(el) and is_footnote_marker(el):
            el.decompose()


# --- measuring prose -------------------------------------------------------------------------

BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "blockquote",
    "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "footer", "nav", "aside", "form", "figure", "details",
    "summary", "hr", "center", "address", "body", "html",
)  # fmt: skip
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _block_parent(node: NavigableString | Tag) -> Tag | None:
    parent = node.parent
    while parent is not None and parent.name not in BLOCK_TAGS:
        parent = parent.parent
    return parent


def prose_units(root: Tag) -> dict[int, tuple[Tag, int]]:
    """Innermost block elements holding running text of their own (not in links, headings or
    navigation-like lists), with that text's length. Counts `<p>`s and, just as well, the bare
    text and `<div>` paragraphs that many CMSs emit."""
    text_len: dict[int, int] = {}
    link_len: dict[int, int] = {}
    blocks: dict[int, Tag] = {}
    for node in root.find_all(string=True):
        if isinstance(node, Comment):
            continue
        length = len(node.strip())
        if not length:
            continue
        block = _block_parent(node)
        if block is None or block.name in HEADING_TAGS:
            continue
        key = id(block)
        blocks[key] = block
        text_len[key] = text_len.get(key, 0) + length
        if node.find_parent("a") is not None:
            link_len[key] = link_len.get(key, 0) + length
    return {
        key: (blocks[key], length)
        for key, length in text_len.items()
        if length >= THRESHOLDS.min_paragraph_chars
        and link_len.get(key, 0) / length <= THRESHOLDS.max_link_density
    }


def prose_by_element(root: Tag) -> dict[int, int]:
    """For every element, how much prose it holds (its units and its descendants' units)."""
    totals: dict[int, int] = {}
    for block, length in prose_units(root).values():
        node: Tag | None = block
        while node is not None:
            totals[id(node)] = totals.get(id(node), 0) + length
            node = node.parent
    return totals


def drop_chrome(root: Tag, keep: Iterable[Tag] = ()) -> None:
    """Remove what is never narrated: non-content tags, footnote markers, hidden elements (FAQ
    answers excepted: a collapsed answer is still the answer), chrome by tag/role/class, and
    boilerplate, recirculation and link-list blocks. `keep` (a site-pinned body) and the
    elements holding the article are never removed as chrome."""
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for el in root.find_all(NEVER_CONTENT_TAGS):
        if not is_gone(el):
            el.decompose()
    drop_footnote_markers(root)
    holders = _article_holders(root)
    for el in keep:
        holders.add(id(el))
        holders.update(id(parent) for parent in el.parents)
    for el in list(root.find_all(True)):
        if is_gone(el):
            continue
        hidden = is_hidden(el) and el.get(MARK) != "answer"
        if hidden or (looks_like_chrome(el) and id(el) not in holders):
            el.decompose()
    for el in list(root.find_all(BLOCK_TAGS)):
        if is_gone(el) or id(el) in holders:
            continue
        if (
            is_boilerplate_block(el)
            or is_recirculation_line(el)
            or is_link_list(el)
            or is_taxonomy_link(el)
        ):
            el.decompose()
    for link in root.find_all("a", href=True):  # tag chips in a row: <a href="/tag/x">X</a>
        if is_gone(link) or not is_taxonomy_link(link):
            continue
        block = _block_parent(link)
        if block is not None and _link_chars(block) >= len(element_text(block)):
            link.decompose()


def _article_holders(root: Tag) -> set[int]:
    """The safety valve for chrome rules: elements that must stay even if they look like chrome
    (a theme's "share-enabled" article wrapper, an ASP.NET page's all-enclosing <form>). Those
    are the ancestors of a semantic body marker that holds real prose; without such a marker,
    the elements holding most of the page's prose."""
    prose = prose_by_element(root)
    holders: set[int] = set()
    for marker in root.find_all(True):
        if is_body_marker(marker) and prose.get(id(marker), 0) >= THRESHOLDS.min_article_chars:
            holders.add(id(marker))
            holders.update(id(parent) for parent in marker.parents)
    if holders:
        return holders
    total = max(prose.get(id(root), 0), 1)
    return {
        id(el)
        for el in root.find_all(True)
        if prose.get(id(el), 0) / total > THRESHOLDS.max_chrome_share_of_prose
    }


def _heading_level(el: Tag) -> int:
    return int(el.name[1]) if el.name in HEADING_TAGS else 0


def _starts_section_at(el: Tag, level: int) -> bool:
    """`el` is, or holds, a heading of `level` or higher (which ends a section of `level`)."""
    if el.name in HEADING_TAGS:
        return _heading_level(el) <= level
    return el.find(HEADING_TAGS[:level]) is not None


def drop_non_article_sections(root: Tag) -> None:
    """References, notes, "See also", "External links", related links, comments: the heading
    and everything after it up to the next heading of the same or a higher level."""
    for heading in root.find_all(HEADING_TAGS):
        if is_gone(heading) or not NON_ARTICLE_HEADING.match(element_text(heading)):
            continue
        level, text = _heading_level(heading), element_text(heading)
        start = heading  # climb out of wrappers that hold only the heading (wiki's mw-heading)
        while (
            start.parent is not None
            and start.parent.name not in ("body", "html", "[document]")
            and _same_text(element_text(start.parent), text)
        ):
            start = start.parent
        doomed = [start]
        for sibling in start.next_siblings:
            if isinstance(sibling, Tag) and _starts_section_at(sibling, level):
                break
            doomed.append(sibling)
        for node in doomed:
            if isinstance(node, Tag):
                node.decompose()
            else:
                node.extract()


def _shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.lower())
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def is_pullquote_candidate(el: Tag) -> bool:
    words = _words(el)
    return el.name == "blockquote" or "pullquote" in words or {"pull", "quote"} <= words


def drop_pullquotes(root: Tag) -> None:
    """Quotations that repeat the article's own text (pull-quotes): a <blockquote> or an element
    classed as a pull-quote whose words mostly appear in the paragraphs around it."""
    candidates = [el for el in root.find_all(True) if is_pullquote_candidate(el)]
    if not candidates:
        return
    inside = {id(d) for el in candidates for d in el.find_all(True)} | {id(el) for el in candidates}
    body: set[tuple[str, ...]] = set()
    for p in root.find_all(["p", "li", "dd"]):
        if id(p) not in inside:
            body |= _shingles(element_text(p))
    for el in candidates:
        if is_gone(el):
            continue
        quote = " ".join(
            str(part)
            for part in el.find_all(string=True)
            if not isinstance(part, Comment) and not part.find_parent(["cite", "footer"])
        )
        shingles = _shingles(quote)
        if len(re.findall(r"\w+", quote)) < 4:
            continue
        if len(shingles & body) >= THRESHOLDS.pullquote_repeat_share * len(shingles):
            el.decompose()


def drop_media_captions(root: Tag) -> None:
    """A <figure> holding only media and its caption or credit (images are not narrated; a
    figure that wraps a table, a quotation, code or a list is read)."""
    for figure in root.find_all("figure"):
        if is_gone(figure) or figure.find(["table", "blockquote", "pre", "ul", "ol", "dl"]):
            continue
        paragraphs = sum(len(element_text(p)) for p in figure.find_all("p"))
        if paragraphs <= THRESHOLDS.max_boilerplate_chars:
            figure.decompose()


# --- 6. finding the article body -------------------------------------------------------------

CONTAINER_TAGS = ("div", "section", "article", "main", "td", "blockquote", "body")


def find_body(soup: BeautifulSoup) -> Tag | None:
    """The element holding the article text: a semantic marker if it holds most of the prose,
    else the best text-density container, widened to the ancestor that holds all its sections."""
    root = soup.body or soup
    prose = prose_by_element(root)
    total = prose.get(id(root), 0)
    if total == 0:
        return None
    marked = [el for el in root.find_all(True) if is_body_marker(el)]
    for el in marked:
        if prose.get(id(el), 0) >= THRESHOLDS.body_marker_share * total:
            return _widen(el, prose)
    scores: dict[int, float] = {}
    nodes: dict[int, Tag] = {}
    for block, length in prose_units(root).values():
        candidates = [(1.0, block.parent), (0.5, block.parent and block.parent.parent)]
        if block.name in CONTAINER_TAGS:  # text straight in a <div>: the div is the body
            candidates.append((1.0, block))
        for weight, candidate in candidates:
            if isinstance(candidate, Tag):
                scores[id(candidate)] = scores.get(id(candidate), 0.0) + weight * length
                nodes[id(candidate)] = candidate
    best = nodes[max(scores, key=scores.__getitem__)]
    return _widen(best, prose)


def _widen(el: Tag, prose: dict[int, int]) -> Tag:
    """Climb to the ancestor that holds the rest of the article: each ancestor with clearly
    more prose than the current pick becomes the pick (wrappers that add nothing are passed)."""
    best = el
    for ancestor in el.parents:
        if ancestor.name in ("body", "html", "[document]"):
            break
        if prose.get(id(ancestor), 0) >= THRESHOLDS.climb_ratio * prose.get(id(best), 0):
            best = ancestor
    return best


def continuations(body: Tag) -> list[Tag]:
    """The article's parts as written: `body`, plus the siblings of the same shape (tag and
    class) that hold prose right before or after it. A stray end tag ("</div></div>") splits an
    article container in two; a browser still shows one article, and so do we."""
    prose = prose_by_element(body.parent) if body.parent is not None else {}

    def same_shape(el: Tag) -> bool:
        return el.name == body.name and el.get("class") == body.get("class")

    def run(siblings: Iterable[object]) -> list[Tag]:
        found: list[Tag] = []
        for sibling in siblings:
            if not isinstance(sibling, Tag) or not prose.get(id(sibling)):
                continue
            if not same_shape(sibling):
                break
            found.append(sibling)
        return found

    return [*reversed(run(body.previous_siblings)), body, *run(body.next_siblings)]


# --- 6b. pages that hold no article -----------------------------------------------------------

ERROR_TITLE = re.compile(
    r"\b(?:404|page not found|not found|page (?:does not|doesn[’']t|could not|couldn[’']t|"
    r"can[’']t|cannot) (?:exist|be found)|nothing (?:was )?found|no results(?: found)?)\b",
    re.IGNORECASE,
)


def teaser_titles(body: Tag) -> list[Tag]:
    """Blocks that are nothing but a link to another page with a headline-length text: the
    titles of teasers in an index. (Links within the page, "#...", are not teasers.)"""
    titles: list[Tag] = []
    seen: set[int] = set()
    for link in body.find_all("a", href=True):
        if str(link["href"]).startswith("#") or link.find_parent("a") is not None:
            continue
        text = element_text(link)
        if len(text) < THRESHOLDS.teaser_title_min_chars:
            continue
        block = _block_parent(link)
        if block is None or id(block) in seen:
            continue
        if len(text) >= 0.9 * len(element_text(block)):
            seen.add(id(block))
            titles.append(block)
    return titles


def prose_runs(body: Tag, titles: list[Tag]) -> list[int]:
    """The prose between consecutive teaser titles (and before the first), in characters."""
    order = {id(el): i for i, el in enumerate(body.find_all(True))}
    starts = sorted(order[id(t)] for t in titles if id(t) in order)
    runs = [0] * (len(starts) + 1)
    for block, length in prose_units(body).values():
        if id(block) in order:
            runs[bisect_right(starts, order[id(block)])] += length
    return runs


def is_listing(body: Tag) -> bool:
    """An index of teasers (a tag, category or search page; a home page): many teaser titles,
    and no dominant run of prose among the runs between them (a short article followed by a
    few teasers has one: the article)."""
    titles = teaser_titles(body)
    if len(titles) < THRESHOLDS.listing_min_teasers:
        return False
    *others, longest = sorted(prose_runs(body, titles))
    typical = others[len(others) // 2] if others else 0
    dominant = longest >= THRESHOLDS.listing_dominance * max(typical, 1)
    return longest <= THRESHOLDS.listing_max_run_chars and not dominant


def refuse_non_article(body: Tag, meta: Metadata, hints: PageHints, source: str) -> None:
    """Raise when the page is not an article: a listing of teasers, or an error page."""
    prose = sum(length for _, length in prose_units(body).values())
    if is_listing(body) or (hints.listing and prose <= THRESHOLDS.listing_max_run_chars):
        raise ListenError(f"no article text found in {source} (the page is a list of links)")
    if ERROR_TITLE.search(meta.title or "") and prose < THRESHOLDS.error_page_max_chars:
        raise ListenError(f"no article text found in {source} (an error page)")


# --- 7. walking the body into sections -------------------------------------------------------

#: The level live-blog entries start chapters at: above any heading inside them.
ENTRY_LEVEL = 1
_KIND_BY_TAG = {
    "li": "list_item",
    "dt": "list_item",
    "dd": "list_item",
    "blockquote": "quote",
    "pre": "code",
    "summary": "subheading",
}


@dataclass
class _Walker:
    title: str
    byline: str | None = None
    blocks: list[tuple[int, str, str]] = field(default_factory=list)  # (level, kind, text)
    _inline: list[str] = field(default_factory=list)

    def flush(self, kind: str = "paragraph") -> None:
        text = clean_text("".join(self._inline))
        self._inline.clear()
        if not text:
            return
        if kind == "paragraph" and (
            is_noise_text(text) or is_dateline(text) or is_byline(text, self.byline)
        ):
            return
        self.blocks.append((0, kind, text))

    def walk(self, el: Tag, kind: str = "paragraph") -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, Comment):
                    self._inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name, mark = child.name, child.get(MARK)
            if mark == "skip":
                continue
            if mark == "entry":
                self.flush(kind)
                title = entry_title(child)
                if title:
                    self.blocks.append((ENTRY_LEVEL, "heading", title))
                self.walk(child, "paragraph")
                self.flush("paragraph")
            elif name in HEADING_TAGS:
                self.flush(kind)
                text = element_text(child)
                if text and not _same_text(text, self.title):  # the headline, announced already
                    self.blocks.append((int(name[1]), "heading", text))
            elif mark == "question":
                self.flush(kind)
                self.walk(child, "subheading")
                self.flush("subheading")
            elif name == "br":
                self.flush(kind)
            elif name == "table" and is_data_table(child):
                self.flush(kind)
                self.blocks.extend((0, "table_row", row) for row in table_sentences(child))
            elif name in BLOCK_TAGS:
                self.flush(kind)
                child_kind = _KIND_BY_TAG.get(name, kind)
                self.walk(child, child_kind)
                self.flush(child_kind)
            else:
                self.walk(child, kind)


_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATELINE_WORD = re.compile(
    rf"\b(?:{_MONTHS}|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?|"
    r"published|updated|posted|last|modified|on|at|am|pm|a\.m|p\.m|gmt|bst|utc|cet|et|pt|"
    r"\d{1,4}(?:st|nd|rd|th)?)\b\.?",
    re.IGNORECASE,
)


def is_dateline(text: str) -> bool:
    """A line that is only one date ("Feb 11, 2024", "Updated 9 April 2024 at 10:15"). Not a
    range of dates, opening hours or a phone number: those are information."""
    if len(text) > 60 or len(re.findall(r"\b\d{4}\b", text)) > 1:
        return False
    if not re.search(rf"\b(?:{_MONTHS}|published|updated|posted)\b", text, re.IGNORECASE):
        return False
    return not any(ch.isalnum() for ch in _DATELINE_WORD.sub("", text))


def is_byline(text: str, byline: str | None) -> bool:
    """A line that only names the author the metadata already gave ("By Jane Doe")."""
    return bool(byline) and _same_text(_BY_PREFIX.sub("", text), byline or "")


def is_noise_text(text: str) -> bool:
    """A paragraph that says nothing: a separator ("·", "|", "___") or a counter ("1.4K", "23")."""
    return not any(ch.isalnum() for ch in text) or bool(re.fullmatch(r"\d[\d.,]*\s*[KkM]?", text))


def is_data_table(table: Tag) -> bool:
    """A table of values (read row by row), not a layout table holding paragraphs."""
    if table.find("table"):
        return False
    for cell in table.find_all(["td", "th"]):
        if cell.find(["p", "div", "ul", "ol", *HEADING_TAGS]) and len(element_text(cell)) > 80:
            return False
    return len(table.find_all("tr")) >= 2


def table_sentences(table: Tag) -> list[str]:
    """A data table as sentences, never a jumble of cells: the caption first, then one sentence
    per row, "Header: value, Header: value." With no header row, a row that starts with a
    header cell reads "Label: value, value."."""
    trs = [tr for tr in table.find_all("tr") if any(element_text(c) for c in _cells(tr))]
    if not trs:
        return []
    first = trs[0]
    has_header = not first.find("td")
    header = [element_text(c) for c in _cells(first)] if has_header else []
    sentences = []
    caption = table.find("caption")
    if caption and element_text(caption):
        sentences.append(element_text(caption).rstrip(".") + ".")
    for tr in trs[1:] if has_header else trs:
        cells = _cells(tr)
        row = [element_text(c) for c in cells]
        if header and len(header) == len(row):
            pairs = [f"{h}: {v}" if h and h != v else v for h, v in zip(header, row, strict=True)]
            pairs = [p for p, v in zip(pairs, row, strict=True) if v]
        elif len(cells) >= 2 and cells[0].name == "th" and row[0]:
            values = [v for v in row[1:] if v]
            pairs = [f"{row[0]}: {', '.join(values)}"] if values else [row[0]]
        else:
            pairs = [v for v in row if v]
        if pairs:
            sentences.append(", ".join(pairs).rstrip(".") + ".")
    return sentences


def _cells(tr: Tag) -> list[Tag]:
    return tr.find_all(["td", "th"], recursive=False) or tr.find_all(["td", "th"])


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _same_text(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def build_sections(
    blocks: Iterable[tuple[int, str, str]], title: str, chapter_depth: int = 1
) -> tuple[Section, ...]:
    """Headings of the `chapter_depth` top levels present start sections (1: only the top level
    used on the page); deeper ones stay inside their section as subheadings."""
    blocks = list(blocks)
    levels = sorted({level for level, kind, _ in blocks if kind == "heading"})
    chapter_levels = set(levels[: max(1, chapter_depth)])
    top = levels[0] if levels else 2
    sections: list[Section] = []
    heading: str | None = None
    current: list[Block] = []
    level = top

    def close() -> None:
        if heading is None or current:
            sections.append(Section(heading=heading, blocks=tuple(current), level=level))

    for block_level, kind, text in blocks:
        nothing_yet = heading is not None and not current and block_level > level
        if kind == "heading" and block_level in chapter_levels and not nothing_yet:
            close()
            heading, current, level = text, [], block_level
        elif kind == "heading":
            current.append(Block(text=text, kind="subheading"))
        else:
            current.append(Block(text=text, kind=kind))
    close()
    if not sections or sections[0].heading is not None:
        sections.insert(0, Section(heading=None, blocks=(), level=top))
    return tuple(sections)


FAQ_SECTION_TITLE = "Frequently asked questions"


def with_json_ld_faq(
    sections: tuple[Section, ...], faq: Iterable[tuple[str, str]]
) -> tuple[Section, ...]:
    """A JSON-LD FAQPage whose questions the page's HTML does not show (rendered by script):
    read from the JSON-LD, question then answer, as a last chapter."""
    faq = list(faq)
    read = {_norm(b.text) for s in sections for b in s.blocks}
    read |= {_norm(s.heading) for s in sections if s.heading}
    if not faq or any(_norm(q) in read for q, _ in faq):
        return sections
    blocks = [
        Block(text=text, kind=kind)
        for question, answer in faq
        for text, kind in ((question, "subheading"), (answer, "paragraph"))
    ]
    return (*sections, Section(heading=FAQ_SECTION_TITLE, blocks=tuple(blocks)))


def extract(
    data: bytes | str, source: str = "<page>", rules: ExtractRules | None = None
) -> Article:
    """Parse one article page. Raises ListenError when the page holds no article.

    The site's rules (`[extract]` in listen.toml) come first: `drop` selectors are removed before
    any automatic rule, `body` pins the article element and `headline` the title; automatic
    extraction fills in wherever a rule matches nothing."""
    rules = rules or ExtractRules()
    soup = parse_html(data)
    meta = read_metadata(soup, rules.headline)
    hints = read_page_hints(soup)
    apply_drop_rules(soup, rules.drop)
    pinned = pinned_element(soup, rules.body)
    mark_faq(soup, hints.faq)
    mark_live_entries(soup, declared=hints.live)
    drop_non_article_sections(soup)
    drop_chrome(soup, keep=[pinned] if pinned is not None else [])
    drop_pullquotes(soup)
    drop_media_captions(soup)
    body = pinned if pinned is not None and not is_gone(pinned) else find_body(soup)
    if body is None:
        raise ListenError(f"no article text found in {source}")
    refuse_non_article(body, meta, hints, source)
    title = meta.title or ""
    walker = _Walker(title=title, byline=meta.byline)
    for part in continuations(body) if pinned is None else [body]:
        walker.walk(part)
        walker.flush()
    sections = build_sections(walker.blocks, title, rules.chapter_depth)
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
    )


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
    return extract(read_page(path), source=str(path), rules=rules)
