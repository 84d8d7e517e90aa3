"""Stage 1, extract: an article page's HTML -> `Article` (metadata and sections of text blocks).

Extraction is a chain of small named steps (after trafilatura's design):

1. parse the bytes (charset from BOM / meta / http-equiv) with lxml through beautifulsoup4;
2. read metadata from JSON-LD, Open Graph, meta tags and `<html lang>` before anything is dropped;
3. drop what is never narrated: non-content tags, hidden elements, site chrome recognised by its
   class/id/role (navigation, tables of contents, share and subscribe boxes, comment forms, the
   "Listen to this article" widget, footers...) and short boilerplate blocks recognised by text;
4. pick the element that holds the article body (semantic markers first, else text-density scoring);
5. walk it in document order: headings start sections, everything else becomes text blocks.

Every threshold lives in `Thresholds`; every chrome rule is a named function or pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

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


THRESHOLDS = Thresholds()

# --- 1. parsing ------------------------------------------------------------------------------


def parse_html(data: bytes | str) -> BeautifulSoup:
    # bs4 decodes bytes with UnicodeDammit: BOM, then <meta charset>/http-equiv, then sniffing.
    return BeautifulSoup(data, "lxml")


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
_FOOTNOTE_MARK = re.compile(r"\[(?:\d{1,3}|[a-z]|citation needed|edit)\]", re.IGNORECASE)


def clean_text(text: str) -> str:
    text = text.replace("\u00ad", "").replace("\u200b", "")
    text = _FOOTNOTE_MARK.sub("", text)
    return _SPACE.sub(" ", text).strip()


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


def read_metadata(soup: BeautifulSoup) -> Metadata:
    ld = _json_ld_article(soup)
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    h1 = soup.find("h1")
    title_tag = soup.title.string if soup.title and soup.title.string else None
    title = next(
        (
            clean_text(t)
            for t in (headline, h1 and element_text(h1), _meta(soup, "og:title"), title_tag)
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


# --- 3. dropping what is never narrated ------------------------------------------------------

#: Never text of the article, wherever they stand.
NEVER_CONTENT_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "button", "input", "select", "textarea", "label", "audio", "video", "figcaption",
    "dialog", "menu", "link", "meta", "sup",
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
}  # fmt: skip
CHROME_PHRASES = (
    "table-of-contents", "tableofcontents", "ez-toc", "elementor-toc", "read-more", "more-stories",
    "most-read", "most-popular", "author-box", "about-author", "scroll-top", "back-to-top",
    "screen-reader", "sr-only", "visually-hidden", "trinity", "listen-to", "text-to-speech",
    "audio-player", "media-player", "video-player", "jwplayer", "wp-block-buttons", "see-also",
    "external-links", "mw-editsection", "site-header", "global-header",
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
    r"your email address will not be published.*|required fields are marked.*|"
    r".*subscribe to our .*|subscribe(?: now)?|sign up.*newsletter.*|.*newsletter.*sign up.*|"
    r"scroll to top|back to top|advertisement|sponsored|share(?: this(?: article| post| story)?)?|"
    r"share on \w+|share this on \w+|follow us.*|related(?: articles| posts| stories)?|"
    r"read more|see also|external links|references|notes|footnotes|print|email|"
    r"skip to (?:main )?content|we use cookies.*|this site uses cookies.*|"
    r"accept(?: all)?(?: cookies)?"
    r")[\s.:!*]*$",
    re.IGNORECASE,
)


def _tokens(el: Tag) -> list[str]:
    raw = [*el.get("class", []), el.get("id") or ""]
    return [t.lower() for value in raw for t in str(value).split() if t]


def is_body_marker(el: Tag) -> bool:
    return el.get("itemprop") == "articleBody" or bool(BODY_MARKERS.search(" ".join(_tokens(el))))


def looks_like_chrome(el: Tag) -> bool:
    """A site-furniture element by its tag, role, or class/id words."""
    if el.name in ("html", "body", "main", "article") or is_body_marker(el):
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
    return (
        el.has_attr("hidden")
        or str(el.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(el.get("style", ""))))
    )


def is_boilerplate_block(el: Tag) -> bool:
    text = element_text(el)
    return len(text) <= THRESHOLDS.max_boilerplate_chars and bool(BOILERPLATE_TEXT.match(text))


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


def drop_chrome(root: Tag) -> None:
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for el in root.find_all(NEVER_CONTENT_TAGS):
        if not el.decomposed and (el.name != "sup" or is_footnote_marker(el)):
            el.decompose()
    keep = _article_holders(root)
    for el in list(root.find_all(True)):
        if el.decomposed:
            continue
        if is_hidden(el) or (looks_like_chrome(el) and id(el) not in keep):
            el.decompose()
    for el in list(root.find_all(BLOCK_TAGS)):
        if not el.decomposed and is_boilerplate_block(el):
            el.decompose()


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


def is_footnote_marker(el: Tag) -> bool:
    return bool(re.fullmatch(r"[\[\(]?[\d,\s*†‡a-z-]{1,8}[\]\)]?", element_text(el)))


# --- 4. finding the article body -------------------------------------------------------------

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


# --- 5. walking the body into sections -------------------------------------------------------


@dataclass
class _Walker:
    title: str
    blocks: list[tuple[int, str, str]] = field(default_factory=list)  # (level, kind, text)
    _inline: list[str] = field(default_factory=list)

    def flush(self, kind: str = "paragraph") -> None:
        text = clean_text("".join(self._inline))
        self._inline.clear()
        if text:
            self.blocks.append((0, kind, text))

    def walk(self, el: Tag, kind: str = "paragraph") -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, Comment):
                    self._inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in HEADING_TAGS:
                self.flush(kind)
                text = element_text(child)
                if text and not (name == "h1" and _same_text(text, self.title)):
                    self.blocks.append((int(name[1]), "heading", text))
            elif name == "br":
                self.flush(kind)
            elif name == "table" and is_data_table(child):
                self.flush(kind)
                self.blocks.extend((0, "table_row", row) for row in table_sentences(child))
            elif name in BLOCK_TAGS:
                self.flush(kind)
                child_kind = {"li": "list_item", "blockquote": "quote", "pre": "code"}.get(
                    name, kind
                )
                self.walk(child, child_kind)
                self.flush(child_kind)
            else:
                self.walk(child, kind)


def is_data_table(table: Tag) -> bool:
    """A table of values (read row by row), not a layout table holding paragraphs."""
    if table.find("table"):
        return False
    for cell in table.find_all(["td", "th"]):
        if cell.find(["p", "div", "ul", "ol", *HEADING_TAGS]) and len(element_text(cell)) > 80:
            return False
    return len(table.find_all("tr")) >= 2


def table_sentences(table: Tag) -> list[str]:
    """A data table as sentences: "Header: value, Header: value." per row; the caption first."""
    rows = [[element_text(c) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    first = table.find("tr")
    has_header = first is not None and not first.find("td")
    header, body = (rows[0], rows[1:]) if has_header else ([], rows)
    sentences = []
    caption = table.find("caption")
    if caption and element_text(caption):
        sentences.append(element_text(caption).rstrip(".") + ".")
    for row in body:
        if header and len(header) == len(row):
            pairs = [f"{h}: {v}" if h else v for h, v in zip(header, row, strict=True) if v]
        else:
            pairs = [v for v in row if v]
        if pairs:
            sentences.append(", ".join(pairs).rstrip(".") + ".")
    return sentences


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().lower()

    return norm(a) == norm(b)


def build_sections(blocks: Iterable[tuple[int, str, str]], title: str) -> tuple[Section, ...]:
    """Headings of the top level present start sections; deeper ones stay inside as subheadings."""
    blocks = list(blocks)
    levels = [level for level, kind, _ in blocks if kind == "heading"]
    top = min(levels) if levels else 2
    sections: list[Section] = []
    heading: str | None = None
    current: list[Block] = []
    level = top

    def close() -> None:
        if heading is None or current:
            sections.append(Section(heading=heading, blocks=tuple(current), level=level))

    for block_level, kind, text in blocks:
        if kind == "heading" and block_level == top:
            close()
            heading, current = text, []
        elif kind == "heading":
            current.append(Block(text=text, kind="subheading"))
        else:
            current.append(Block(text=text, kind=kind))
    close()
    if not sections or sections[0].heading is not None:
        sections.insert(0, Section(heading=None, blocks=(), level=top))
    return tuple(sections)


def extract(
    data: bytes | str, source: str = "<page>", rules: ExtractRules | None = None
) -> Article:
    """Parse one article page. Raises ListenError when the page holds no article."""
    rules = rules or ExtractRules()
    soup = parse_html(data)
    meta = read_metadata(soup)
    drop_chrome(soup)
    body = find_body(soup)
    if body is None:
        raise ListenError(f"no article text found in {source}")
    title = meta.title or ""
    walker = _Walker(title=title)
    walker.walk(body)
    walker.flush()
    sections = build_sections(walker.blocks, title)
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
