"""The embeddable player, end to end: `listen render` writes it, `listen serve` serves it, and
Debian's Chromium (driven by Playwright's Python package, no browser download) plays it. What it
needs installed, and how pages are opened: tests/browser.py. The player on an article page
itself (read-along, "Up next", the mini-player, events): tests/test_player_page.py.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import TERSER, Opened, need_node_tool, run_axe
from helpers import ARTIFACTS, CONFIG, SEED, run_listen

from listen.config import ShowConfig
from listen.player import ASSETS, asset, embed_page, embed_snippet, write_player_assets
from listen.publish import Manifest
from listen.serve import make_server

#: The budgets (bytes): the script minified with terser (as a site's build would ship it), and
#: gzipped as served; the stylesheet gzipped.
JS_BUDGET = 20_000
JS_GZIP_BUDGET = 8_000
CSS_GZIP_BUDGET = 5_000

HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_CHAPTER = "<b onmouseover=alert(2)>Hostile</b> chapter"
HOSTILE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>&lt;img src=x onerror=alert(1)&gt;</title></head>
<body>
<article>
<h1>&lt;img src=x onerror=alert(1)&gt;</h1>
<p>This page exists to prove that the player shows an article's words as words. Its title is a
snippet of HTML that would run a script if a player pasted it into the page as markup.</p>
<p>A careful player writes every title, chapter name and sentence into the page as plain text, so
the listener sees angle brackets instead of a broken image and an alert box.</p>
<h2>&lt;b onmouseover=alert(2)&gt;Hostile&lt;/b&gt; chapter</h2>
<p>The second chapter has a name with markup in it as well. It must appear in the chapter list
exactly as it was written, brackets and all, and nothing in it may run.</p>
<p>Nothing else on this page is unusual. It is short, so it renders quickly with the system
voice.</p>
</article>
</body>
</html>
"""
# An article page as a web team would have it: the printed snippet between paragraphs, and
# theme CSS that styles every button and shrinks rem (the seed page's theme does the former).
ARTICLE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>An article with the player</title>
<link rel="icon" href="data:,">
<style>
html {{ font-size: 62.5%; }}
body {{ margin: 0 auto; max-width: 42em; padding: 0 16px; font: 17px/1.65 Georgia, serif;
  color: #1e293b; background: #fff; }}
body, button, input, select {{ font-family: Georgia, serif; font-size: 17px; line-height: 1.65; }}
button, [type="button"] {{ background: #b00020; color: #fff; border: 3px solid #000;
  padding: 10px 24px; text-transform: uppercase; }}
p, li {{ margin: 0 0 1.2em; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e2e8f0; background: #0f172a; }} }}
</style>
</head>
<body>
<main>
<h1>An article with the player</h1>
<p>The lead paragraph of the article comes first, and then the box that reads it aloud.</p>
{snippet}
{paragraphs}
</main>
</body>
</html>
"""
FILLER = "<p>More of the article follows the player, and none of it may move when it loads.</p>"


# --- what the browser tests need ------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    out: Path
    stdout: str
    seed: dict
    hostile: dict


def manifest_of(out: Path, slug: str) -> dict:
    return json.loads((out / "episodes" / f"{slug}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("player")
    hostile = tmp / "hostile-title.html"
    hostile.write_text(HOSTILE_PAGE, encoding="utf-8")
    out = tmp / "public"
    done = run_listen(
        "render", SEED, hostile, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us"
    )
    seed_slug = "idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate"
    return Site(out, done.stdout, manifest_of(out, seed_slug), manifest_of(out, "hostile-title"))


@pytest.fixture(scope="module")
def base(site: Site) -> Iterator[str]:
    server = make_server(site.out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    # The snippet exactly as `listen render` prints it, for a show served from here.
    snippet = embed_snippet(Manifest.from_json(site.seed), ShowConfig(base_url=url))
    page = ARTICLE_PAGE.format(snippet=snippet, paragraphs="\n".join([FILLER] * 12))
    (site.out / "article.html").write_text(page, encoding="utf-8")
    yield url
    server.shutdown()
    server.server_close()


def embed(manifest: dict) -> str:
    return f"episodes/{manifest['slug']}.html"


def fmt(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def download_label(manifest: dict) -> str:
    return f"Download audio (MP3, {manifest['audio_bytes'] / 1e6:.1f} MB)"


# --- Python side: files, snippet, escaping (no browser) --------------------------------------


def test_render_writes_player_embed_page_and_prints_snippet(site: Site) -> None:
    for name in ASSETS:
        assert (site.out / "player" / name).read_bytes() == asset(name)
    page = (site.out / "episodes" / "hostile-title.html").read_text(encoding="utf-8")
    assert '<listen-player src="hostile-title.json"' in page
    assert "<title>&lt;img src=x onerror=alert(1)&gt; – Example News" in page
    assert "<img" not in page
    base = "https://www.example-news.org/listen/"
    seed = site.seed["slug"]
    assert (
        f'<link rel="stylesheet" href="{base}player/listen-player.css">\n'
        f'<script defer src="{base}player/listen-player.js"></script>\n'
        f'<listen-player src="{base}episodes/{seed}.json" playlist="{base}playlist.json">'
        "</listen-player>"
    ) in site.stdout
    assert f'<listen-player src="{base}episodes/hostile-title.json" ' in site.stdout


def test_extract_markdown_shows_the_snippet() -> None:
    markdown = run_listen("extract", SEED, "--format", "markdown", "--config", CONFIG).stdout
    assert markdown.startswith("# IDF Seizures")
    assert (
        '<listen-player src="https://www.example-news.org/listen/episodes/'
        'idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate.json" '
        'playlist="https://www.example-news.org/listen/playlist.json"></listen-player>'
    ) in markdown


class Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_snippet_and_embed_page_escape_what_they_are_given(site: Site) -> None:
    hostile = Manifest.from_json(site.hostile)
    show = ShowConfig(title='Show "<b>"', base_url='https://cdn.example.test/a"b<c>&d/')
    snippet = embed_snippet(hostile, show)
    parser = Attributes()
    parser.feed(snippet)
    assert [tag for tag, _ in parser.found] == ["link", "script", "listen-player"]
    assert (
        parser.found[2][1]["src"] == 'https://cdn.example.test/a"b<c>&d/episodes/hostile-title.json'
    )
    assert parser.found[2][1]["playlist"] == 'https://cdn.example.test/a"b<c>&d/playlist.json'
    assert "<c>" not in snippet
    page = embed_page(hostile, show)
    assert "&lt;img src=x onerror=alert(1)&gt; – Show &quot;&lt;b&gt;&quot;" in page
    assert "<img" not in page and "<b>" not in page


def test_player_assets_are_rewritten_only_when_they_change(tmp_path: Path) -> None:
    write_player_assets(tmp_path)
    script = tmp_path / "player" / "listen-player.js"
    first = script.stat()
    write_player_assets(tmp_path)
    assert script.stat().st_ino == first.st_ino and script.stat().st_mtime_ns == first.st_mtime_ns
    script.write_text("stale", encoding="utf-8")
    write_player_assets(tmp_path)
    assert script.read_bytes() == asset("listen-player.js")
    assert not [p for p in script.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_size_budget() -> None:
    """The script within 20 KB minified (terser) and 8 KB minified and gzipped, the stylesheet
    within 5 KB gzipped; the README states these numbers."""
    node = shutil.which("node")
    if not node:
        pytest.fail("node not found: apt-get install -y nodejs npm", pytrace=False)
    terser = need_node_tool(TERSER, "terser")
    source = asset("listen-player.js")
    minified = subprocess.run(
        [node, str(terser), "--compress", "--mangle", "--comments", "false"],
        input=source,
        capture_output=True,
        check=True,
    ).stdout
    sizes = {
        "raw": len(source),
        "minified": len(minified),
        "minified+gzip": len(gzip.compress(minified, 9)),
        "css": len(asset("listen-player.css")),
        "css+gzip": len(gzip.compress(asset("listen-player.css"), 9)),
    }
    print(f"listen-player sizes (bytes): {sizes}")
    assert sizes["minified"] <= JS_BUDGET, sizes
    assert sizes["minified+gzip"] <= JS_GZIP_BUDGET, sizes
    assert sizes["css+gzip"] <= CSS_GZIP_BUDGET, sizes
    for text in (source, asset("listen-player.css")):
        assert b"http://" not in text and b"https://" not in text  # no third-party requests


# --- in the browser ----------------------------------------------------------------------------


def test_embed_page_loads_clean_and_fetches_only_the_manifest(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    opened = open_page(embed(site.seed))
    seed = site.seed
    assert opened.js("document.querySelector('.lp-title').textContent") == seed["title"]
    assert opened.js("document.querySelector('.lp-now').textContent") == ""
    assert opened.js("document.querySelectorAll('.lp-chapter').length") == len(seed["chapters"])
    assert opened.js("document.querySelectorAll('.lp-line').length") == len(seed["sentences"])
    assert opened.js("document.querySelector('.lp-elapsed').textContent") == "Elapsed: 0:00"
    remaining = fmt(round(seed["duration_ms"] / 1000) * 1000)
    assert opened.js("document.querySelector('.lp-left').textContent") == f"Remaining: −{remaining}"
    # Nothing but the page, the player's two files and the manifest before the listener presses
    # play; nothing from anywhere else, ever.
    episode = f"{base}episodes/{seed['slug']}"
    assert opened.requests == [
        f"{episode}.html",
        f"{base}player/listen-player.css",
        f"{base}player/listen-player.js",
        f"{episode}.json",
    ]
    assert opened.js("document.querySelector('audio').preload") == "none"
    download = opened.page.locator(".lp-download")
    assert download.get_attribute("href") == f"{episode}.mp3"
    assert download.get_attribute("download") == seed["audio"]
    assert download.get_attribute("aria-label") == download_label(seed)

    opened.page.click(".lp-play")
    opened.wait("() => document.querySelector('listen-player').audio.currentTime > 0.3")
    assert opened.page.get_attribute(".lp-play", "aria-label") == "Pause"
    assert f"{episode}.mp3" in opened.requests
    opened.page.click(".lp-play")
    assert opened.js("document.querySelector('audio').paused") is True
    assert all(url.startswith(base) for url in opened.requests), opened.requests
    assert opened.errors == [] and opened.dialogs == []


def test_clicking_chapter_two_moves_current_time_to_its_start(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = open_page(embed(site.seed))
    page = opened.page
    chapter = site.seed["chapters"][1]
    start = chapter["start_ms"] / 1000
    page.click(".lp-tab[data-panel=chapters]")
    assert page.get_attribute(".lp-tab[data-panel=chapters]", "aria-expanded") == "true"
    assert page.is_visible(".lp-chapters") and not page.is_visible(".lp-transcript")
    page.get_by_role("button", name=chapter["title"]).click()
    assert start <= opened.time() < start + 1.5
    opened.wait("() => !document.querySelector('audio').paused")  # a chapter click plays
    assert page.get_attribute(".lp-chapter[data-i='1']", "aria-current") == "true"
    assert page.get_attribute(".lp-chapter[data-i='0']", "aria-current") is None
    assert page.text_content(".lp-now") == chapter["title"]
    assert abs(float(page.input_value(".lp-range")) - start) < 1.5
    assert opened.errors == []


def test_playing_at_one_and_a_half_speed(open_page: Callable[..., Opened], site: Site) -> None:
    opened = open_page(embed(site.seed))
    page = opened.page
    page.select_option(".lp-rate", "1.5")
    assert opened.js("document.querySelector('audio').playbackRate") == 1.5
    page.click(".lp-play")
    opened.wait("() => document.querySelector('audio').currentTime > 0.2")
    assert opened.js("document.querySelector('audio').playbackRate") == 1.5
    # Headless Chromium really plays (no wall-clock ratio is asserted: CI machines are noisy).
    opened.wait("() => document.querySelector('audio').currentTime > 1.0")
    page.reload()
    opened.wait("() => document.querySelector('.lp-rate') && !document.querySelector('.lp-rate')"
                ".disabled")  # fmt: skip
    assert page.input_value(".lp-rate") == "1.5"  # the chosen speed is remembered
    assert opened.js("document.querySelector('audio').playbackRate") == 1.5
    assert opened.errors == []


CURRENT_LINE = "() => { const c = document.querySelector('.lp-line[aria-current=true]');" \
    " return c && Number(c.dataset.i); }"  # fmt: skip


def test_highlighted_sentence_follows_current_time(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = open_page(embed(site.seed))
    sentences = site.seed["sentences"]
    assert opened.js(CURRENT_LINE) == 0
    # Load the audio (play, pause), then move the media element itself.
    opened.page.click(".lp-play")
    opened.wait("() => document.querySelector('audio').readyState >= 1")
    opened.page.click(".lp-play")
    for index in (3, 11, len(sentences) - 1, 1):
        sentence = sentences[index]
        middle = (sentence["start_ms"] + sentence["end_ms"]) / 2000
        opened.js(f"document.querySelector('audio').currentTime = {middle}")
        opened.wait(f"() => ({CURRENT_LINE})() === {index}")
        line = opened.page.locator(f".lp-line[data-i='{index}']")
        assert line.text_content() == sentence["text"]
        # The panel scrolls (itself, not the page) to keep the spoken sentence in view.
        opened.wait(
            """i => { const l = document.querySelector(`.lp-line[data-i='${i}']`)
                  .getBoundingClientRect();
                const p = document.querySelector('.lp-transcript').getBoundingClientRect();
                return l.top >= p.top - 1 && l.bottom <= p.bottom + 1; }""",
            index,
        )
    assert opened.js("window.scrollY") == 0
    # And while it plays: start just before sentence 6 and watch the highlight move onto it.
    start = sentences[6]["start_ms"] / 1000
    opened.js(f"document.querySelector('audio').currentTime = {start - 0.6}")
    opened.wait(f"() => ({CURRENT_LINE})() === 5")
    opened.page.click(".lp-play")
    opened.wait(f"() => ({CURRENT_LINE})() === 6", timeout=5000)
    assert opened.time() >= start
    # Clicking a sentence seeks to it.
    opened.page.click(".lp-line[data-i='9']")
    assert sentences[9]["start_ms"] / 1000 <= opened.time() < sentences[9]["start_ms"] / 1000 + 1
    opened.wait(f"() => ({CURRENT_LINE})() === 9")
    assert opened.errors == []


TRANSCRIPT = """() => [...document.querySelectorAll('.lp-transcript .lp-group')].map(g => ({
    heading: g.querySelector('.lp-heading')?.textContent ?? null,
    role: g.querySelector('.lp-heading')?.getAttribute('role') ?? null,
    lines: [...g.querySelectorAll('li .lp-line')].map(b => b.textContent)}))"""


def test_transcript_shows_each_heading_once(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    seed = site.seed
    chapters, sentences = seed["chapters"], seed["sentences"]
    heads = {i for i, s in enumerate(sentences) if seed["blocks"][s["block"]]["kind"] in (
        "title", "heading")}  # fmt: skip
    assert len(heads) == len(chapters)
    shown = open_page(embed(seed)).js(TRANSCRIPT)
    assert [g["heading"] for g in shown] == [c["title"] for c in chapters]
    assert {g["role"] for g in shown} == {"heading"}
    lines = [line for g in shown for line in g["lines"]]
    assert lines == [s["text"] for i, s in enumerate(sentences) if i not in heads]

    # Announced chapter numbers ("Chapter 2.") belong to the heading as well; clicking a
    # heading plays from its announcement.
    numbered = json.loads(json.dumps(seed))
    for number in range(len(chapters) - 1, 0, -1):
        at = next(i for i, s in enumerate(numbered["sentences"]) if s["chapter"] == number)
        start = numbered["sentences"][at]["start_ms"]
        announced = {"text": f"Chapter {number + 1}.", "start_ms": start, "end_ms": start + 600}
        numbered["sentences"].insert(at, {**announced, "chapter": number, "block": None})
        numbered["sentences"][at + 1]["start_ms"] = start + 900
    older = json.loads(json.dumps(seed))
    del older["blocks"]
    for sentence in older["sentences"]:
        del sentence["block"]
    for name, manifest in (("numbered", numbered), ("older", older)):
        (site.out / "episodes" / f"{name}.json").write_text(json.dumps(manifest))
        page = EMBED_PAGE_OF.format(name=name)
        (site.out / "episodes" / f"{name}.html").write_text(page, encoding="utf-8")
    opened = open_page("episodes/numbered.html")
    shown = opened.js(TRANSCRIPT)
    assert [g["heading"] for g in shown] == [c["title"] for c in chapters]
    assert [line for g in shown for line in g["lines"]] == lines
    opened.page.get_by_role("button", name=chapters[2]["title"]).click()
    assert abs(opened.time() - chapters[2]["start_ms"] / 1000) < 0.3

    # A manifest from before blocks were recorded: every sentence a line, as it was.
    shown = open_page("episodes/older.html").js(TRANSCRIPT)
    assert [line for g in shown for line in g["lines"]] == [s["text"] for s in sentences]
    assert [g["heading"] for g in shown][1:] == [c["title"] for c in chapters[1:]]
    assert opened.errors == []


EMBED_PAGE_OF = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<link rel="stylesheet" href="../player/listen-player.css">
<script defer src="../player/listen-player.js"></script></head>
<body><main><listen-player src="{name}.json" open="transcript"></listen-player></main></body></html>
"""


FOCUSED = """() => { const e = document.activeElement;
  return e === document.body ? 'body' : (e.getAttribute('aria-label') || e.textContent.trim()); }"""
FOCUS_RING = """() => { const s = getComputedStyle(document.activeElement);
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""


def test_keyboard_only(open_page: Callable[..., Opened], site: Site) -> None:
    opened = open_page(embed(site.seed))
    page, keys = opened.page, opened.page.keyboard
    chapters = site.seed["chapters"]
    sentences = site.seed["sentences"]

    # Every control is one Tab away from the last, in reading order, each with a visible focus.
    stops = []
    for _ in range(9):
        keys.press("Tab")
        stops.append(opened.js(FOCUSED))
        assert opened.js(FOCUS_RING), stops[-1]
    assert stops == [
        "Play",
        "Seek",
        "Back 15 seconds",
        "Forward 30 seconds",
        "Playback speed",
        "Chapters",
        "Transcript",
        download_label(site.seed),
        chapters[0]["title"],  # the transcript is one tab stop: what is being spoken (the title)
    ]

    def tab_to(name: str) -> None:
        for _ in range(40):
            if opened.js(FOCUSED) == name:
                return
            keys.press("Tab")
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("Play")
    keys.press("Enter")
    opened.wait("() => !document.querySelector('audio').paused")
    assert opened.js(FOCUSED) == "Pause"
    keys.press("Space")
    opened.wait("() => document.querySelector('audio').paused")

    tab_to("Seek")
    keys.press("Home")
    keys.press("ArrowRight")
    assert opened.time() == pytest.approx(5, abs=0.01)
    keys.press("PageUp")
    assert opened.time() == pytest.approx(35, abs=0.01)
    assert page.get_attribute(".lp-range", "aria-valuetext").startswith("35 seconds of 4 minutes")
    keys.press("ArrowLeft")
    assert opened.time() == pytest.approx(30, abs=0.01)

    tab_to("Back 15 seconds")
    keys.press("Enter")
    assert opened.time() == pytest.approx(15, abs=0.01)
    tab_to("Forward 30 seconds")
    keys.press("Space")
    assert opened.time() == pytest.approx(45, abs=0.01)

    tab_to("Playback speed")
    keys.press("ArrowDown")
    assert opened.js("document.querySelector('audio').playbackRate") == 1.25

    tab_to("Chapters")
    keys.press("Enter")
    assert page.get_attribute(".lp-tab[data-panel=chapters]", "aria-expanded") == "true"
    third = chapters[2]
    tab_to(f"3. {third['title']}, {fmt(third['start_ms'])}")
    keys.press("Enter")
    assert third["start_ms"] / 1000 <= opened.time() < third["start_ms"] / 1000 + 1.5
    tab_to("Pause")
    keys.press("Enter")
    opened.wait("() => document.querySelector('audio').paused")

    tab_to("Transcript")
    keys.press("Enter")
    assert page.is_visible(".lp-transcript") and not page.is_visible(".lp-chapters")
    keys.press("Tab")
    keys.press("Tab")  # past Download, into the transcript: on the sentence being spoken
    current = opened.js(CURRENT_LINE)
    assert opened.js(FOCUSED) == sentences[current]["text"]
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    assert opened.js(FOCUSED) == sentences[current + 2]["text"]
    assert opened.js(FOCUS_RING)
    keys.press("Enter")
    target = sentences[current + 2]["start_ms"] / 1000
    assert target <= opened.time() < target + 1
    opened.wait(f"() => ({CURRENT_LINE})() === {current + 2}")
    assert opened.errors == []


def test_hostile_title_renders_as_text_and_runs_nothing(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    assert site.hostile["title"] == HOSTILE_TITLE
    assert site.hostile["chapters"][1]["title"] == HOSTILE_CHAPTER
    opened = open_page(embed(site.hostile))
    page = opened.page
    page.click(".lp-tab[data-panel=chapters]")
    page.hover(".lp-chapter[data-i='1']")
    page.click(".lp-tab[data-panel=transcript]")
    page.hover(".lp-line[data-i='0']")
    assert page.title() == f"{HOSTILE_TITLE} – Example News: Audio Edition"
    assert page.text_content(".lp-title") == HOSTILE_TITLE
    assert page.text_content(".lp-chapter[data-i='1'] .lp-name") == HOSTILE_CHAPTER
    assert HOSTILE_CHAPTER in page.text_content(".lp-transcript")
    assert opened.js("document.querySelectorAll('img, b').length") == 0
    assert opened.dialogs == []
    assert not [url for url in opened.requests if url.startswith(base + "episodes/x")]
    assert opened.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_scan(open_page: Callable[..., Opened], site: Site, scheme: str) -> None:
    """axe-core finds no serious or critical problem: the embed page with each panel open, and the
    article page at 320 px."""
    found = []
    opened = open_page(embed(site.seed), color_scheme=scheme)
    found += run_axe(opened)  # the transcript is open on the embed page
    opened.page.click(".lp-tab[data-panel=chapters]")
    opened.page.click(".lp-chapter[data-i='1']")  # a current chapter, a playing state
    found += run_axe(opened)
    article = open_page("article.html", width=320, color_scheme=scheme)
    found += run_axe(article)
    print(f"axe ({scheme}): {found}")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert opened.errors == [] and article.errors == []


def test_screenshots_light_and_dark(open_page: Callable[..., Opened], site: Site) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        opened = open_page(embed(site.seed), height=480, color_scheme=scheme)
        opened.js("document.querySelector('listen-player').seek(50)")
        opened.page.locator("listen-player").screenshot(path=ARTIFACTS / f"player-{scheme}.png")
        phone = open_page("article.html", width=320, height=640, color_scheme=scheme)
        phone.page.click(".lp-tab[data-panel=chapters]")
        phone.page.screenshot(path=ARTIFACTS / f"player-{scheme}-320px.png")
        assert opened.errors == [] and phone.errors == []
    for name in ("light", "dark", "light-320px", "dark-320px"):
        assert (ARTIFACTS / f"player-{name}.png").stat().st_size > 5_000


LAYOUT_SHIFT = """new PerformanceObserver(list => { for (const e of list.getEntries())
    window.__shift = (window.__shift || 0) + e.value; })
  .observe({type: 'layout-shift', buffered: true});"""


@pytest.mark.parametrize("width", [320, 1024])
def test_no_layout_shift_and_fits_320px(browser: Any, base: str, site: Site, width: int) -> None:
    """The box is its final size before the script runs: the article below never moves."""
    heights = {}
    for blocked in (True, False):
        context = browser.new_context(viewport={"width": width, "height": 800})
        if blocked:
            context.route("**/listen-player.js", lambda route: route.abort())
        page = context.new_page()
        page.add_init_script(LAYOUT_SHIFT)
        for path in ("article.html", embed(site.seed)):
            page.goto(base + path)
            if not blocked:
                page.wait_for_function("!document.querySelector('.lp-play').disabled")
                page.wait_for_timeout(300)
                assert page.evaluate("window.__shift || 0") == 0, path
                box = page.evaluate(
                    "[document.documentElement.scrollWidth, "
                    "document.querySelector('.lp-bar').scrollWidth, "
                    "document.querySelector('.lp-bar').clientWidth]"
                )
                assert box[0] <= width and box[1] <= box[2], box  # nothing overflows
            heights[blocked, path] = page.evaluate(
                "document.querySelector('listen-player').getBoundingClientRect().height"
            )
            if not blocked:  # and the box is no taller than the player in it
                inner = page.evaluate(
                    "document.querySelector('.lp').getBoundingClientRect().height"
                )
                assert inner == pytest.approx(heights[blocked, path], abs=0.5), path
        context.close()
    for path in ("article.html", embed(site.seed)):
        assert heights[True, path] == pytest.approx(heights[False, path], abs=0.5), heights


def test_position_is_remembered_per_episode(open_page: Callable[..., Opened], site: Site) -> None:
    opened = open_page("article.html")
    page = opened.page
    opened.js("document.querySelector('listen-player').seek(100)")
    assert page.text_content(".lp-elapsed") == "Elapsed: 1:40"
    page.reload()
    opened.wait("() => !document.querySelector('.lp-play').disabled")
    assert opened.time() == pytest.approx(100, abs=0.1)
    assert page.text_content(".lp-elapsed") == "Elapsed: 1:40"
    # The hostile episode has its own position, in the same browser.
    page.goto(page.url.replace("article.html", embed(site.hostile)))
    opened.wait("() => !document.querySelector('.lp-play').disabled")
    assert opened.time() == 0
    assert opened.errors == []


def test_reduced_motion_turns_off_animation(open_page: Callable[..., Opened], site: Site) -> None:
    duration = "getComputedStyle(document.querySelector('.lp-line')).transitionDuration"
    assert open_page(embed(site.seed)).js(duration) == "0.2s"
    assert open_page(embed(site.seed), reduced_motion="reduce").js(duration) == "0s"
