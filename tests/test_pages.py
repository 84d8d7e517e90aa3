"""Expanding PAGE arguments: folders, list files, local and remote sitemaps, dedupe, errors.

No network: remote sitemaps come from a fake fetch that serves a dict and records its calls.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from listen.errors import ListenError
from listen.pages import expand_pages

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def touch(path: Path, text: str = "<html></html>") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def urlset(*locs: str, ns: str | None = NS) -> str:
    xmlns = f' xmlns="{ns}"' if ns else ""
    urls = "".join(f"<url><loc>\n  {loc}\n</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{xmlns}>{urls}</urlset>'


def index(*locs: str) -> str:
    maps = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="{NS}">{maps}</sitemapindex>'


class FakeFetch:
    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        if url not in self.pages:
            raise ListenError(f"HTTP 404 Not Found fetching {url}")
        return self.pages[url].encode("utf-8")


def no_fetch(url: str) -> bytes:
    raise AssertionError(f"unexpected fetch of {url}")


# --- plain items and folders -------------------------------------------------------------


def test_single_file_and_url_pass_through(tmp_path: Path) -> None:
    page = touch(tmp_path / "a.html")
    pages = expand_pages([str(page), "https://example.com/story", "ftp://example.com/x"], no_fetch)
    assert pages == [page, "https://example.com/story", "ftp://example.com/x"]


def test_missing_page_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    with pytest.raises(ListenError, match=f"^page not found: {re.escape(str(missing))}$"):
        expand_pages([str(missing)], no_fetch)


def test_no_items_is_an_error() -> None:
    with pytest.raises(ListenError, match="no pages given"):
        expand_pages([], no_fetch)


def test_folder_is_recursive_sorted_and_skips_hidden(tmp_path: Path) -> None:
    site = tmp_path / "site"
    b = touch(site / "b.html")
    a = touch(site / "a.HTM")
    deep = touch(site / "sub" / "c.htm")
    touch(site / ".hidden.html")
    touch(site / ".git" / "x.html")
    touch(site / "sub" / ".cache" / "y.html")
    touch(site / "notes.txt", "not a page")
    touch(site / "image.png", "png")
    assert expand_pages([str(site)], no_fetch) == [a, b, deep]


def test_hidden_folder_given_explicitly_still_works(tmp_path: Path) -> None:
    page = touch(tmp_path / ".drafts" / "a.html")
    assert expand_pages([str(tmp_path / ".drafts")], no_fetch) == [page]


def test_folder_without_html_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "empty" / "readme.md", "x")
    with pytest.raises(ListenError, match=r"no \.html pages in folder"):
        expand_pages([str(tmp_path / "empty")], no_fetch)


def test_samples_folder_gives_exactly_its_three_pages() -> None:
    pages = expand_pages([str(SAMPLES)], no_fetch)
    assert pages == [
        SAMPLES / "blog-post.html",
        SAMPLES / "opinion-column.html",
        SAMPLES / "seed-article.html",
    ]


# --- list files ----------------------------------------------------------------------------


def test_list_file_comments_blanks_relative_paths_and_urls(tmp_path: Path) -> None:
    touch(tmp_path / "lists" / "pages" / "one.html")
    absolute = touch(tmp_path / "elsewhere" / "two.html")
    listing = touch(
        tmp_path / "lists" / "batch.txt",
        "# tonight's batch\n\n   pages/one.html  \n"
        f"https://example.com/a\n  # indented comment\n{absolute}\n\n",
    )
    assert expand_pages([str(listing)], no_fetch) == [
        tmp_path / "lists" / "pages" / "one.html",
        "https://example.com/a",
        absolute,
    ]


@pytest.mark.parametrize("suffix", [".list", ".lst", ".TXT"])
def test_other_list_suffixes(tmp_path: Path, suffix: str) -> None:
    page = touch(tmp_path / "p.html")
    listing = touch(tmp_path / f"batch{suffix}", "p.html\n")
    assert expand_pages([str(listing)], no_fetch) == [page]


def test_list_line_pointing_at_folder_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "folder" / "a.html")
    listing = touch(tmp_path / "batch.txt", "# header\nfolder\n")
    with pytest.raises(ListenError, match=r"batch\.txt line 2: .*folder is not an HTML page"):
        expand_pages([str(listing)], no_fetch)


def test_list_line_pointing_at_another_list_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "inner.txt", "a.html\n")
    listing = touch(tmp_path / "outer.txt", "inner.txt\n")
    with pytest.raises(ListenError, match=r"outer\.txt line 1: .*not an HTML page"):
        expand_pages([str(listing)], no_fetch)


def test_list_line_missing_page_is_an_error(tmp_path: Path) -> None:
    listing = touch(tmp_path / "batch.txt", "gone.html\n")
    with pytest.raises(ListenError, match=r"batch\.txt line 1: page not found: .*gone\.html"):
        expand_pages([str(listing)], no_fetch)


def test_list_line_with_other_scheme_is_an_error(tmp_path: Path) -> None:
    listing = touch(tmp_path / "batch.txt", "file:///etc/passwd\n")
    with pytest.raises(ListenError, match="only http"):
        expand_pages([str(listing)], no_fetch)


def test_empty_list_is_an_error(tmp_path: Path) -> None:
    listing = touch(tmp_path / "batch.txt", "# nothing yet\n\n")
    with pytest.raises(ListenError, match="no pages listed in"):
        expand_pages([str(listing)], no_fetch)


# --- local sitemaps ------------------------------------------------------------------------


@pytest.mark.parametrize("ns", [NS, None, "http://example.com/other-namespace"])
def test_urlset_with_and_without_namespace(tmp_path: Path, ns: str | None) -> None:
    page = touch(tmp_path / "pages" / "one.html")
    absolute = touch(tmp_path / "abs.html")
    sitemap = touch(
        tmp_path / "sitemap.xml",
        urlset("https://example.com/a", "pages/one.html", str(absolute), ns=ns),
    )
    assert expand_pages([str(sitemap)], no_fetch) == [
        "https://example.com/a",
        tmp_path / "pages" / "one.html",
        absolute,
    ]
    assert page.exists()


def test_urlset_file_url_loc_becomes_a_path(tmp_path: Path) -> None:
    page = touch(tmp_path / "one.html")
    sitemap = touch(tmp_path / "sitemap.xml", urlset(page.as_uri()))
    assert expand_pages([str(sitemap)], no_fetch) == [page]


def test_sitemapindex_of_two_local_sitemaps(tmp_path: Path) -> None:
    touch(tmp_path / "maps" / "news.xml", urlset("https://example.com/1", "../a.html"))
    touch(tmp_path / "maps" / "blog.xml", urlset("https://example.com/2"))
    page = touch(tmp_path / "a.html")
    top = touch(tmp_path / "sitemap.xml", index("maps/news.xml", "maps/blog.xml"))
    pages = expand_pages([str(top)], no_fetch)
    assert pages == [
        "https://example.com/1",
        tmp_path / "maps" / "../a.html",
        "https://example.com/2",
    ]
    assert Path(pages[1]).resolve() == page.resolve()


def test_local_index_may_point_at_a_remote_sitemap(tmp_path: Path) -> None:
    fetch = FakeFetch({"https://example.com/s.xml": urlset("https://example.com/x")})
    top = touch(tmp_path / "sitemap.xml", index("https://example.com/s.xml"))
    assert expand_pages([str(top)], fetch) == ["https://example.com/x"]
    assert fetch.calls == ["https://example.com/s.xml"]


def test_index_nesting_is_limited(tmp_path: Path) -> None:
    touch(tmp_path / "leaf.xml", urlset("https://example.com/1"))
    touch(tmp_path / "two.xml", index("leaf.xml"))
    touch(tmp_path / "one.xml", index("two.xml"))
    assert expand_pages([str(tmp_path / "one.xml")], no_fetch) == ["https://example.com/1"]
    touch(tmp_path / "zero.xml", index("one.xml"))
    with pytest.raises(ListenError, match="nested more than 2 deep"):
        expand_pages([str(tmp_path / "zero.xml")], no_fetch)


def test_self_referencing_index_stops(tmp_path: Path) -> None:
    touch(tmp_path / "loop.xml", index("loop.xml"))
    with pytest.raises(ListenError, match="nested"):
        expand_pages([str(tmp_path / "loop.xml")], no_fetch)


def test_malformed_xml_names_the_file(tmp_path: Path) -> None:
    sitemap = touch(tmp_path / "broken.xml", "<urlset><url><loc>x</url>")
    with pytest.raises(ListenError, match=r"broken\.xml is not well-formed XML"):
        expand_pages([str(sitemap)], no_fetch)


def test_unknown_root_names_the_file(tmp_path: Path) -> None:
    sitemap = touch(tmp_path / "feed.xml", "<rss><channel/></rss>")
    with pytest.raises(ListenError, match=r"feed\.xml: root <rss>"):
        expand_pages([str(sitemap)], no_fetch)


def test_empty_urlset_is_an_error(tmp_path: Path) -> None:
    sitemap = touch(tmp_path / "sitemap.xml", urlset())
    with pytest.raises(ListenError, match="lists no pages"):
        expand_pages([str(sitemap)], no_fetch)


def test_sitemap_loc_missing_page_is_an_error(tmp_path: Path) -> None:
    sitemap = touch(tmp_path / "sitemap.xml", urlset("gone.html"))
    with pytest.raises(ListenError, match=r"sitemap\.xml: page not found"):
        expand_pages([str(sitemap)], no_fetch)


XXE = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE urlset [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    "<urlset><url><loc>https://example.com/&e;</loc></url></urlset>"
)


def test_xxe_in_local_sitemap_does_not_read_files(tmp_path: Path) -> None:
    sitemap = touch(tmp_path / "sitemap.xml", XXE)
    try:
        pages = expand_pages([str(sitemap)], no_fetch)
    except ListenError as exc:
        assert "root:" not in str(exc)
    else:
        assert not any("root:" in str(page) for page in pages)


def test_xxe_in_remote_sitemap_does_not_read_files() -> None:
    fetch = FakeFetch({"https://example.com/sitemap.xml": XXE})
    try:
        pages = expand_pages(["https://example.com/sitemap.xml"], fetch)
    except ListenError as exc:
        assert "root:" not in str(exc)
    else:
        assert not any("root:" in str(page) for page in pages)


# --- remote sitemaps -----------------------------------------------------------------------


def test_remote_sitemap_gives_its_urls() -> None:
    fetch = FakeFetch(
        {"https://example.com/SITEMAP.XML": urlset("https://example.com/a", "http://example.com/b")}
    )
    pages = expand_pages(["https://example.com/SITEMAP.XML"], fetch)
    assert pages == ["https://example.com/a", "http://example.com/b"]
    assert fetch.calls == ["https://example.com/SITEMAP.XML"]


def test_remote_sitemap_index_is_followed() -> None:
    fetch = FakeFetch(
        {
            "https://example.com/index.xml": index("https://example.com/news.xml"),
            "https://example.com/news.xml": urlset("https://example.com/n1"),
        }
    )
    assert expand_pages(["https://example.com/index.xml"], fetch) == ["https://example.com/n1"]


@pytest.mark.parametrize("loc", ["file:///etc/passwd", "/etc/passwd", "passwd", "ftp://h/x"])
def test_remote_sitemap_may_not_name_local_files(loc: str) -> None:
    fetch = FakeFetch({"https://example.com/sitemap.xml": urlset("https://example.com/ok", loc)})
    with pytest.raises(ListenError, match=r"remote sitemap https://example\.com/sitemap\.xml"):
        expand_pages(["https://example.com/sitemap.xml"], fetch)


def test_remote_index_may_not_name_local_sitemaps(tmp_path: Path) -> None:
    local = touch(tmp_path / "local.xml", urlset("https://example.com/x"))
    fetch = FakeFetch({"https://example.com/index.xml": index(local.as_uri())})
    with pytest.raises(ListenError, match="may only list http"):
        expand_pages(["https://example.com/index.xml"], fetch)


def test_remote_sitemap_fetch_error_propagates() -> None:
    with pytest.raises(ListenError, match="HTTP 404"):
        expand_pages(["https://example.com/sitemap.xml"], FakeFetch({}))


def test_url_not_ending_in_xml_is_not_fetched() -> None:
    pages = expand_pages(
        ["https://example.com/sitemap.xml.html", "https://e.com/a.xml?x=1"],
        FakeFetch({"https://e.com/a.xml?x=1": urlset("https://e.com/p")}),
    )
    assert pages == ["https://example.com/sitemap.xml.html", "https://e.com/p"]


# --- dedupe and order ----------------------------------------------------------------------


def test_duplicates_removed_keeping_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    page = touch(tmp_path / "a.html")
    touch(tmp_path / "batch.txt", "a.html\nhttps://example.com/x\n")
    pages = expand_pages(
        ["a.html", "https://example.com/x", str(page), "batch.txt", "./a.html"], no_fetch
    )
    assert pages == [Path("a.html"), "https://example.com/x"]


def test_order_preserved_across_mixed_items(tmp_path: Path) -> None:
    folder_page = touch(tmp_path / "folder" / "f.html")
    single = touch(tmp_path / "single.html")
    listed = touch(tmp_path / "listed.html")
    listing = touch(tmp_path / "batch.lst", "listed.html\nhttps://example.com/from-list\n")
    sitemap = touch(tmp_path / "sitemap.xml", urlset("https://example.com/from-map", "single.html"))
    fetch = FakeFetch({"https://example.com/remote.xml": urlset("https://example.com/remote")})
    pages = expand_pages(
        [
            "https://example.com/first",
            str(listing),
            str(tmp_path / "folder"),
            "https://example.com/remote.xml",
            str(sitemap),
            str(single),
        ],
        fetch,
    )
    assert pages == [
        "https://example.com/first",
        listed,
        "https://example.com/from-list",
        folder_page,
        "https://example.com/remote",
        "https://example.com/from-map",
        single,
    ]
