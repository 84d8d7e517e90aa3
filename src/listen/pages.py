"""Expanding the PAGE arguments of `listen render` into the pages to render, in order.

A newsroom renders in batches: a folder of saved pages, a list file, or the site's sitemap, as
well as single pages and URLs. Expansion happens before anything is rendered, so a typo in a
list fails the batch at once with one clear message instead of halfway through. Remote input
is untrusted: a remote sitemap may only name http(s) pages, never local files, and XML is
parsed without entities or network access.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from lxml import etree

from listen.errors import ListenError
from listen.fetch import fetch_page, is_url


@dataclass(frozen=True)
class PostedPage:
    """A page a CMS hands over (listen.api): its HTML saved in a file, or its URL; with the
    article's canonical URL and the episode's slug when the CMS gives them (they win over
    what the page says)."""

    source: Path | str
    url: str | None = None
    slug: str | None = None

    def __str__(self) -> str:  # (what error messages and progress name it by)
        return self.url or str(self.source)


#: `listen render`'s pages (`listen.pipeline.Page` also takes a PostedPage); this module
#: imports nothing heavy.
Page = Path | str
Fetch = Callable[[str], bytes]

HTML_SUFFIXES = (".html", ".htm")
LIST_SUFFIXES = (".txt", ".list", ".lst")
#: Sitemap indexes followed below the first sitemap; deeper nesting is almost surely a loop.
MAX_SITEMAP_DEPTH = 2


def expand_pages(items: Sequence[str], fetch: Fetch = fetch_page) -> list[Page]:
    """Every page the items name, first occurrence kept, so one page is never rendered twice."""
    pages: list[Page] = []
    seen: set[str | Path] = set()
    for item in items:
        for page in _expand(item, fetch):
            key = page if isinstance(page, str) else page.resolve()
            if key not in seen:
                seen.add(key)
                pages.append(page)
    if not pages:
        raise ListenError("no pages given")
    return pages


def _expand(item: str, fetch: Fetch) -> list[Page]:
    if _is_http(item) and urlsplit(item).path.lower().endswith(".xml"):
        return _sitemap(item, fetch, 0)
    if is_url(item):
        return [item]  # other schemes are refused, with their own message, when fetched
    path = Path(item)
    if path.is_dir():
        return _folder(path)
    if not path.is_file():
        raise ListenError(f"page not found: {item}")
    suffix = path.suffix.lower()
    if suffix in LIST_SUFFIXES:
        return _list_file(path)
    if suffix == ".xml":
        return _sitemap(path, fetch, 0)
    return [path]


def _is_http(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https")


def _folder(folder: Path) -> list[Page]:
    """Saved pages under a folder; hidden entries are editor and VCS clutter, not articles."""
    found = [
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in HTML_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.is_file()
    ]
    if not found:
        raise ListenError(f"no .html pages in folder {folder}")
    return sorted(found)


def _list_file(list_file: Path) -> list[Page]:
    """One page per line; lines are not expanded again, so a list stays a plain list."""
    pages: list[Page] = []
    for number, raw in enumerate(_read(list_file).decode("utf-8", "replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{list_file} line {number}"
        if is_url(line):
            if not _is_http(line):
                raise ListenError(f"{where}: only http(s) URLs or file paths, not {line}")
            pages.append(line)
        else:
            pages.append(_page_file(list_file.parent / line, where))
    if not pages:
        raise ListenError(f"no pages listed in {list_file}")
    return pages


def _page_file(path: Path, where: str) -> Path:
    if not path.exists():
        raise ListenError(f"{where}: page not found: {path}")
    if not path.is_file() or path.suffix.lower() in (*LIST_SUFFIXES, ".xml"):
        raise ListenError(f"{where}: {path} is not an HTML page (lists are not expanded)")
    return path


def _sitemap(source: Page, fetch: Fetch, depth: int) -> list[Page]:
    """A sitemaps.org urlset or index; a remote one may only lead to more http(s) URLs."""
    remote = isinstance(source, str)
    data = fetch(source) if isinstance(source, str) else _read(source)
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ListenError(f"sitemap {source} is not well-formed XML: {exc}") from None
    kind = _local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise ListenError(f"sitemap {source}: root <{kind}> is neither urlset nor sitemapindex")
    if kind == "sitemapindex" and depth >= MAX_SITEMAP_DEPTH:
        raise ListenError(
            f"sitemap {source}: sitemap indexes nested more than {MAX_SITEMAP_DEPTH} deep"
        )
    pages: list[Page] = []
    for entry in root:
        if _local(entry) != ("url" if kind == "urlset" else "sitemap"):
            continue
        for loc in (child for child in entry if _local(child) == "loc"):
            if len(loc):
                raise ListenError(f"sitemap {source}: <loc> must be plain text")
            target = _loc(source, (loc.text or "").strip(), remote)
            if kind == "sitemapindex":
                pages.extend(_sitemap(target, fetch, depth + 1))
            elif isinstance(target, Path):
                pages.append(_page_file(target, f"sitemap {source}"))
            else:
                pages.append(target)
    if not pages:
        raise ListenError(f"sitemap {source} lists no pages")
    return pages


def _loc(source: Page, text: str, remote: bool) -> Page:
    if not text:
        raise ListenError(f"sitemap {source}: empty <loc>")
    if _is_http(text):
        return text
    if remote:
        raise ListenError(f"remote sitemap {source} may only list http(s) URLs, not {text}")
    parts = urlsplit(text)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        return Path(url2pathname(parts.path))
    if is_url(text):
        raise ListenError(f"sitemap {source}: only http(s) URLs or file paths, not {text}")
    return Path(source).parent / text


def _local(element: etree._Element) -> str:
    """The tag without its namespace: sitemaps in the wild use several, or none."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ListenError(f"cannot read {path}: {exc.strerror or exc}") from None
