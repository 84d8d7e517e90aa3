"""`listen serve`: byte ranges as podcast apps and browsers request them, validators, MIME
types and CORS, nothing private served, and the preview (a page at /, feeds pointing here)."""

from __future__ import annotations

import contextlib
import html
import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import feedparser
import pytest
from browser import CHROMIUM_ARGS, need_chromium
from helpers import Rendered, free_port
from lxml import etree
from test_player import Attributes

from listen.lifeline import CHILD_PROCESS
from listen.serve import make_server


class Served(NamedTuple):
    base: str
    audio: bytes
    root: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    (tmp_path / "episodes").mkdir()
    audio = bytes(range(256)) * 400
    (tmp_path / "episodes" / "a.mp3").write_bytes(audio)
    (tmp_path / "feed.xml").write_text("<rss/>")
    with running(tmp_path) as base:
        yield Served(base, audio, tmp_path)


def get(url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}))
    except urllib.error.HTTPError as error:
        return error


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-500", None, None)],
)
def test_range_requests(served, header: str, start, end) -> None:  # type: ignore[no-untyped-def]
    base, audio, _ = served
    response = get(f"{base}/episodes/a.mp3", {"Range": header})
    body = response.read()
    size = len(audio)
    if start is None:
        start, end = size - 500, size - 1
    end = size - 1 if end is None else end
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert body == audio[start : end + 1]


def test_whole_file_and_mime_types(served) -> None:  # type: ignore[no-untyped-def]
    base, audio, _ = served
    response = get(f"{base}/episodes/a.mp3")
    assert response.status == 200 and response.read() == audio
    assert response.headers["Accept-Ranges"] == "bytes"
    assert get(f"{base}/feed.xml").headers["Content-Type"].startswith("application/rss+xml")


def test_unsatisfiable_range(served) -> None:  # type: ignore[no-untyped-def]
    base, audio, _ = served
    response = get(f"{base}/episodes/a.mp3", {"Range": f"bytes={len(audio) + 10}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(audio)}"


# --- validators: a download resumed after a re-render --------------------------------------


def replace_file(path: Path, data: bytes, mtime_offset: float = 0) -> None:
    """As a re-render publishes: a new file renamed over the old one."""
    fresh = path.with_name(f".{path.name}.new.tmp")
    fresh.write_bytes(data)
    if mtime_offset:
        stat = path.stat()
        os.utime(fresh, (stat.st_atime + mtime_offset, stat.st_mtime + mtime_offset))
    os.replace(fresh, path)


def test_if_range_with_the_current_validator_gets_the_range(served) -> None:  # type: ignore[no-untyped-def]
    base, audio, _ = served
    first = get(f"{base}/episodes/a.mp3")
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert tag.startswith('"') and modified
    for validator in (tag, modified):
        response = get(f"{base}/episodes/a.mp3", {"Range": "bytes=100-199", "If-Range": validator})
        assert response.status == 206 and response.read() == audio[100:200]


@pytest.mark.parametrize("kind", ["etag", "date", "weak etag"])
def test_if_range_with_a_stale_validator_gets_the_whole_new_file(served, kind: str) -> None:  # type: ignore[no-untyped-def]
    base, audio, root = served
    first = get(f"{base}/episodes/a.mp3")
    validator = {"etag": first.headers["ETag"], "date": first.headers["Last-Modified"],
                 "weak etag": "W/" + first.headers["ETag"]}[kind]  # fmt: skip
    if kind != "weak etag":
        replace_file(root / "episodes" / "a.mp3", audio[::-1], mtime_offset=5)
    response = get(f"{base}/episodes/a.mp3", {"Range": "bytes=100-199", "If-Range": validator})
    body = response.read()
    assert response.status == 200 and "Content-Range" not in response.headers
    assert body == (audio if kind == "weak etag" else audio[::-1])


def test_if_none_match_gets_not_modified(served) -> None:  # type: ignore[no-untyped-def]
    base = served.base
    tag = get(f"{base}/episodes/a.mp3").headers["ETag"]
    for header in (tag, f'"other", W/{tag}', "*"):
        assert get(f"{base}/episodes/a.mp3", {"If-None-Match": header}).status == 304, header
    assert get(f"{base}/episodes/a.mp3", {"If-None-Match": '"other"'}).status == 200


# --- what is never served -------------------------------------------------------------------


STRAY = (".feed.lock", "episodes/.a.mp3.x1y2.tmp", ".hidden/secret.txt")


@pytest.mark.parametrize(
    "path", [*STRAY, "%2efeed.lock", "episodes/%2Ea.mp3.x1y2.tmp", "episodes/"]
)
def test_dot_files_and_listings_are_never_served(served, path: str) -> None:  # type: ignore[no-untyped-def]
    base, _, root = served
    for stray in STRAY:
        (root / stray).parent.mkdir(exist_ok=True)
        (root / stray).write_text("private")
    response = get(f"{base}/{path}")
    assert response.status == 404 and b"private" not in response.read()


# --- MIME types and CORS --------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(espeak_episode: Rendered):  # type: ignore[no-untyped-def]
    """The seed episode's output folder, served; the config's base_url is the production site."""
    with running(espeak_episode.out) as base:
        yield base, espeak_episode


@contextlib.contextmanager
def running(out: Path, **options):  # type: ignore[no-untyped-def]
    server = make_server(out, port=0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_mime_types_and_cors_of_what_players_and_apps_read(published) -> None:  # type: ignore[no-untyped-def]
    base, episode = published
    slug = episode.manifest["slug"]
    expected = {
        f"episodes/{slug}.json": "application/json",
        f"episodes/{slug}.chapters.json": "application/json+chapters",
        f"episodes/{slug}.vtt": "text/vtt; charset=utf-8",
        "feed.xml": "application/rss+xml; charset=utf-8",
        f"episodes/{slug}.mp3": "audio/mpeg",
    }
    for path, mime in expected.items():
        response = get(f"{base}/{path}", {"Origin": "https://www.example-news.org"})
        assert response.status == 200, path
        assert response.headers["Content-Type"] == mime, path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
    preflight = urllib.request.Request(f"{base}/episodes/{slug}.mp3", method="OPTIONS", headers={
        "Origin": "https://www.example-news.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range"})  # fmt: skip
    with urllib.request.urlopen(preflight) as response:
        assert response.status == 204
        assert "Range" in response.headers["Access-Control-Allow-Headers"]
        assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("cors", ["https://www.example-news.org", None])
def test_cors_is_configurable(espeak_episode: Rendered, cors: str | None) -> None:
    with running(espeak_episode.out, cors=cors) as base:
        response = get(f"{base}/episodes/{espeak_episode.manifest['slug']}.json")
    assert response.status == 200
    assert response.headers.get("Access-Control-Allow-Origin") == cors


# --- the preview: a page at /, feeds with the server's own address -------------------------


PUBLISHED_BASE = "https://www.example-news.org/listen/"


def test_the_preview_feed_points_at_the_server(published) -> None:  # type: ignore[no-untyped-def]
    base, episode = published
    published_feed = (episode.out / "feed.xml").read_bytes()
    preview = get(f"{base}/feed.xml").read()
    parsed = feedparser.parse(preview)
    assert not parsed.bozo, parsed.bozo_exception
    [item] = parsed.entries
    assert item.link == episode.manifest["url"]  # the article itself stays where it is
    root = etree.fromstring(preview)
    urls = {el.tag.split("}")[-1]: el.get("url") or el.get("href") for el in root.iter()
            if isinstance(el.tag, str) and (el.get("url") or el.get("href"))}  # fmt: skip
    assert set(urls) >= {"enclosure", "chapters", "transcript", "image", "link"}, urls
    urls["image/url"] = root.findtext("channel/image/url")
    for name, url in urls.items():
        assert url.startswith(f"{base}/"), (name, url)
        assert get(url).status == 200, url  # every file the feed names is here
    assert b"preview by listen serve" in preview
    # The published feed is untouched: it still points at the production site.
    assert (episode.out / "feed.xml").read_bytes() == published_feed
    assert f"{PUBLISHED_BASE}episodes/".encode() in published_feed


def test_the_preview_page_shows_the_show_its_episodes_and_the_feed(published) -> None:  # type: ignore[no-untyped-def]
    base, episode = published
    response = get(f"{base}/")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.read().decode("utf-8")
    parsed = Attributes()
    parsed.feed(page)
    players = [a["src"] for tag, a in parsed.found if tag == "listen-player"]
    assert players == [f"episodes/{episode.manifest['slug']}.json"]
    hrefs = {a.get("href") for tag, a in parsed.found if tag in ("a", "link")}
    [artwork] = [a["src"] for tag, a in parsed.found if tag == "img"]
    assert get(artwork).status == 200, artwork
    assert "feed.xml" in hrefs and f"episodes/{episode.manifest['audio']}" in hrefs
    assert "Example News: Audio Edition" in page and html.escape(episode.manifest["title"]) in page
    for href in hrefs - {None, "data:,"}:
        assert get(f"{base}/{href}").status == 200, href  # stylesheet, player, files


def test_the_preview_page_escapes_what_articles_say(tmp_path: Path) -> None:
    (tmp_path / "episodes").mkdir()
    hostile = "<img src=x onerror=alert(1)>"
    manifest = {"title": hostile, "slug": "x", "source": None, "url": None, "published": None,
                "language": "en", "voice": "v", "duration_ms": 1000, "audio": "x.mp3",
                "byline": hostile, "chapters": [], "sentences": []}  # fmt: skip
    (tmp_path / "episodes" / "x.json").write_text(json.dumps(manifest), encoding="utf-8")
    with running(tmp_path) as base:
        page = get(f"{base}/").read().decode("utf-8")
    assert hostile not in page and html.escape(hostile) in page


def test_the_preview_page_in_a_browser(published) -> None:  # type: ignore[no-untyped-def]
    base, episode = published
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(need_chromium()),
                                             args=CHROMIUM_ARGS)  # fmt: skip
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/")
            shows = "t => document.querySelector('listen-player').textContent.includes(t)"
            page.wait_for_function(shows, arg=episode.manifest["title"])
            assert page.title() == "Example News: Audio Edition (preview)"
            assert not errors, errors
        finally:
            browser.close()


def test_listen_serve_says_the_feed_is_a_preview(espeak_episode: Rendered) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "listen", "serve", "--out",
                               str(espeak_episode.out), "--port", str(port)],
                              stdout=subprocess.PIPE, text=True, **CHILD_PROCESS)  # fmt: skip
    try:
        lines = [server.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
    finally:
        server.kill()
        server.wait()
    assert lines[0].startswith(f"Previewing {espeak_episode.out} at http://127.0.0.1:{port}/")
    assert "is a preview" in lines[1] and "https://www.example-news.org/listen/" in lines[1]
    assert lines[2].strip() == "Access-Control-Allow-Origin: *"
