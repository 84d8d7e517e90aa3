"""The player on the article page itself, in Debian's Chromium against `listen serve`: read-along
in the page, "Up next" and keep listening, the sticky mini-player, and the events a site's
analytics listen to.

The host page is samples/seed-article.html as a site would have it: the snippet `listen render`
prints where its "Listen to this article" widget was, and two links added inside paragraphs
(one to another page, one to an anchor on this one). Everything the seed page asks of other
origins (its theme, its analytics) is answered empty and recorded (tests/browser.py).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import LAYOUT_READS, Opened, run_axe
from helpers import ARTIFACTS, CONFIG, ROOT, SAMPLES, SEED, run_listen, unrendered_manifest

from listen.config import ShowConfig
from listen.player import snippet_for
from listen.serve import make_server

PAGES = ROOT / "tests" / "pages"
SEED_SLUG = "idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate"
EVENTS = ("ready", "play", "pause", "progress", "ended", "chapter", "ratechange", "seek", "next")
# Every listen:* event the document hears, with when it was heard.
COLLECT_EVENTS = (
    f"window.__events = []; const types = {json.dumps(EVENTS)};"
    + """
for (const type of types) {
  document.addEventListener(`listen:${type}`, (event) => window.__events.push({
    type, detail: event.detail, bubbles: event.bubbles, composed: event.composed,
    at: performance.now()}));
}"""
)
LAYOUT_SHIFT = """window.__shift = 0;
new PerformanceObserver(list => { for (const e of list.getEntries()) window.__shift += e.value; })
  .observe({type: 'layout-shift', buffered: true});"""
# A page of its own with what text normalization has to see through: typographic quotes and
# dashes, a ligature, full-width digits, a decomposed accent, upper-case Greek, a no-break
# space, and a citation marker inside a sentence (the extractor drops it; the page keeps it).
UNICODE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Caf\u0065\u0301 notes</title></head>
<body><main><article>
<h1>Cafe\u0301 notes from the harbour</h1>
<p>The “harbour café” opened in 1998 — and it has served the ﬁshing crews ever since. Its
owner says the trick is simple: coffee first, conversation second.</p>
<p>Prices rose to ２０ crowns this spring.\u00a0Regulars still call the place ΟΔΟΣ, after the
street sign a Greek sailor painted on its door.</p>
<p>A survey of the harbour<sup class="reference"><a href="#cite-1">[1]</a></sup> counted
forty boats in 1998 and twelve today. The crews who remain drink their coffee standing up.</p>
<p id="cite-1">The harbour master keeps the survey in a drawer by the window, next to the tide
tables.</p>
</article></main></body></html>
"""


# What Matomo's and Plausible's own install snippets define before their scripts load (the seed
# page has Google's gtag.js snippet already): the queues the README's snippets push to.
ANALYTICS_QUEUES = """<script>
window._paq = window._paq || [];
window.plausible = window.plausible || function () {
  (window.plausible.q = window.plausible.q || []).push(arguments); };
</script>"""


@dataclass(frozen=True)
class Site:
    out: Path
    seed: dict
    playlist: list[dict]
    unicode: dict


def manifest_of(out: Path, slug: str) -> dict:
    return json.loads((out / "episodes" / f"{slug}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("player-page")
    unicode_page = tmp / "harbour-cafe.html"
    unicode_page.write_text(UNICODE_PAGE, encoding="utf-8")
    out = tmp / "public"
    pages = (SEED, PAGES / "short-news.html", PAGES / "opinion.html", unicode_page)
    run_listen("render", *pages, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us")
    playlist = json.loads((out / "playlist.json").read_text(encoding="utf-8"))["episodes"]
    return Site(out, manifest_of(out, SEED_SLUG), playlist, manifest_of(out, "harbour-cafe"))


def host_page(html: str, snippet: str) -> str:
    """The article page with the player where the site's audio widget was, two links inside
    paragraphs, and a dark theme for readers who ask for one."""
    widget = re.compile(r'<div class="listen-widget trinity-player".*?</div>', re.S)
    html, found = widget.subn(snippet, html, count=1)
    assert found == 1
    html = html.replace("in Khan Yunis,", 'in <a href="elsewhere.html">Khan Yunis</a>,', 1)
    html = html.replace("Abu Ubaida claimed", '<a href="#comments">Abu Ubaida</a> claimed', 1)
    dark = (
        '<meta name="color-scheme" content="light dark"><style>@media (prefers-color-scheme: '
        "dark) { body { background: #0f172a; color: #e2e8f0; } a, .site-header .main-header-menu"
        " > .menu-item > .menu-link { color: #93c5fd; } }</style>"
    )
    return html.replace("</head>", f"{dark}\n</head>", 1)


@pytest.fixture(scope="module")
def base(site: Site) -> Iterator[str]:
    server = make_server(site.out, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    show = ShowConfig(base_url=url)
    seed = SEED.read_text(encoding="utf-8")
    snippet = snippet_for(SEED_SLUG, show)
    (site.out / "host.html").write_text(host_page(seed, snippet), encoding="utf-8")
    keys = snippet.replace("<listen-player ", "<listen-player read-along-keys ")
    (site.out / "host-keys.html").write_text(host_page(seed, keys), encoding="utf-8")
    analytics = "\n".join([snippet, ANALYTICS_QUEUES, *readme_analytics().values()])
    (site.out / "host-analytics.html").write_text(host_page(seed, analytics), encoding="utf-8")
    (site.out / "elsewhere.html").write_text("<!doctype html><title>Elsewhere</title>")
    cafe = UNICODE_PAGE.replace("<article>", f"<article>{snippet_for('harbour-cafe', show)}")
    (site.out / "cafe.html").write_text(cafe, encoding="utf-8")
    yield url
    server.shutdown()
    server.server_close()


def readme_analytics() -> dict[str, str]:
    """The README's snippets wiring the events to GA4, Matomo and Plausible, as written there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- analytics: (\w+) -->\n```html\n(.*?)```", readme, re.S)
    assert [name for name, _ in blocks] == ["ga4", "matomo", "plausible"]
    return dict(blocks)


# --- helpers -----------------------------------------------------------------------------------


def words(text: str) -> str:
    return " ".join(text.split())


PLAYER = "document.querySelector('listen-player')"
AUDIO = f"{PLAYER}.audio"


def body_paragraphs(opened: Opened) -> list[str]:
    return [words(t) for t in opened.page.locator(".entry-content p").all_text_contents()]


def first_sentence_of(manifest: dict, paragraph: str) -> dict:
    """The manifest's sentence that begins `paragraph` (as the page shows it)."""
    for sentence in manifest["sentences"]:
        if paragraph.startswith(words(sentence["text"])):
            return sentence
    raise AssertionError(f"no sentence begins {paragraph[:60]!r}")


def sentences_of(manifest: dict, paragraph: str) -> list[dict]:
    first = manifest["sentences"].index(first_sentence_of(manifest, paragraph))
    found = []
    for sentence in manifest["sentences"][first:]:
        if words(sentence["text"]) not in paragraph:
            break
        found.append(sentence)
    return found


def events(opened: Opened, type_: str | None = None) -> list[dict]:
    found = opened.js("window.__events")
    return [e for e in found if type_ is None or e["type"] == type_]


def playing_at(opened: Opened, seconds: float) -> None:
    """Move the playback position while it plays, as playback itself would get there."""
    opened.js(f"{AUDIO}.currentTime = {seconds}")
    opened.wait(f"() => {AUDIO}.currentTime >= {seconds} && !{AUDIO}.seeking")


def start(opened: Opened) -> None:
    opened.page.click("listen-player .lp-play")
    opened.wait(f"() => !{AUDIO}.paused && {AUDIO}.readyState >= 2")


CURRENT = """() => [...document.querySelectorAll('[data-listen-current]')]
    .map(e => e.textContent.replace(/\\s+/g, ' ').trim())"""
HIGHLIGHT = """() => { const h = CSS.highlights.get('listen-sentence');
    return h ? [...h].map(r => r.toString().replace(/\\s+/g, ' ').trim()) : null; }"""
# Shown, and done sliding in.
MINI_SHOWN = """() => { const bar = document.querySelector('.lp-mini');
    return !bar.hidden && bar.getAnimations().length === 0; }"""
MINI_HIDDEN = "() => document.querySelector('.lp-mini').hidden"


def host(open_page: Callable[..., Opened], path: str = "host.html", **options: Any) -> Opened:
    return open_page(path, width=options.pop("width", 1000), height=options.pop("height", 800),
                     init=COLLECT_EVENTS + LAYOUT_SHIFT, **options)  # fmt: skip


# --- read-along in the page -----------------------------------------------------------------


def test_read_along_finds_the_article_blocks_and_nothing_else(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    opened = host(open_page)
    marked = opened.js(
        """() => [...document.querySelectorAll('[data-listen-block]')].map(e => ({
            tag: e.tagName.toLowerCase(), text: e.textContent.replace(/\\s+/g, ' ').trim(),
            tabindex: e.getAttribute('tabindex'), inPlayer: !!e.closest('listen-player'),
            inToc: !!e.closest('.elementor-toc__body, nav, form, #comments')}))"""
    )
    headline = words(opened.page.text_content("h1"))
    headings = [words(t) for t in opened.page.locator(".entry-content h2").all_text_contents()]
    paragraphs = body_paragraphs(opened)
    assert [m["text"] for m in marked if m["tag"] == "h1"] == [headline]
    assert [m["text"] for m in marked if m["tag"] == "h2"] == headings
    assert [m["text"] for m in marked if m["tag"] == "p"] == paragraphs
    assert len(marked) == 1 + len(headings) + len(paragraphs)  # not the TOC, the form, the player
    assert not any(m["inPlayer"] or m["inToc"] for m in marked)
    # The page's tab order is the site's: no paragraph became a tab stop.
    assert all(m["tabindex"] is None for m in marked)
    assert opened.js("window.__shift") == 0
    # Nothing asked of another origin but what the page itself asks for.
    seed = SEED.read_text(encoding="utf-8")
    assert opened.foreign and all(url in seed for url in opened.foreign), opened.foreign
    requested = [u for u in opened.requests if u.startswith(base)]
    assert requested == [
        f"{base}host.html",
        f"{base}player/listen-player.css",
        f"{base}player/listen-player.js",
        f"{base}episodes/{SEED_SLUG}.json",
        f"{base}playlist.json",
    ]
    assert opened.errors == []


def test_matching_never_lays_the_page_out(open_page: Callable[..., Opened], site: Site) -> None:
    """It reads only text: no layout is read (so none is forced) while the player matches the
    page, which it does again whenever it is put back into the page."""
    opened = open_page("host.html", width=1000, height=800, init=LAYOUT_READS + LAYOUT_SHIFT)
    reads, marked = opened.js(
        """() => { const player = document.querySelector('listen-player');
            const parent = player.parentNode, next = player.nextSibling;
            player.remove();
            if (document.querySelector('[data-listen-block]')) return [-1, -1];
            window.__layoutReads = 0;
            parent.insertBefore(player, next);
            return [window.__layoutReads,
                    document.querySelectorAll('[data-listen-block]').length]; }"""
    )
    assert marked == 10 and reads == 0
    # (The count does see a read of layout.)
    assert opened.js("document.body.offsetHeight && window.__layoutReads") == 1
    assert opened.js("window.__shift") == 0
    assert opened.errors == []


def test_read_along_sees_through_typography_and_citation_markers(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = open_page("cafe.html", init=COLLECT_EVENTS)
    marked = opened.js("document.querySelectorAll('article [data-listen-block]').length")
    blocks = opened.js("document.querySelectorAll('article > h1, article > p').length")
    assert marked == blocks == 5
    # The sentence with a footnote marker inside it is still highlighted, marker and all.
    start(opened)
    survey = next(s for s in site.unicode["sentences"] if s["text"].startswith("A survey"))
    playing_at(opened, (survey["start_ms"] + survey["end_ms"]) / 2000)
    opened.wait(f"() => ({HIGHLIGHT})()?.[0]?.startsWith('A survey')")
    (shown,) = opened.js(HIGHLIGHT)
    assert shown == "A survey of the harbour[1] counted forty boats in 1998 and twelve today."
    ligature = next(s for s in site.unicode["sentences"] if "crews ever since" in s["text"])
    playing_at(opened, (ligature["start_ms"] + ligature["end_ms"]) / 2000)
    opened.wait(f"() => ({HIGHLIGHT})()?.[0]?.startsWith('The “harbour café”')")
    assert opened.js(HIGHLIGHT) == [
        "The “harbour café” opened in 1998 — and it has served the ﬁshing crews ever since."
    ]
    assert opened.errors == []


#: The extractor's test pages and the samples, as their sites made them (pages the extractor
#: refuses are left out, and so are the charset tests: `listen serve` declares UTF-8).
COVERAGE_PAGES = [
    page
    for page in (*sorted(PAGES.glob("*.html")), *sorted(SAMPLES.glob("*.html")))
    if page.stem not in ("not-found", "tag-index") and not page.stem.startswith("encoding-")
]


def test_read_along_finds_the_blocks_of_all_kinds_of_pages(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    """Nearly every block on every page: all but those the page shows in no element of their
    own (a table row, read as "Header: value"; text in a <div>, a <summary> or only in the
    page's metadata; a paragraph the extractor split at its <br>s)."""
    found: dict[str, tuple[int, int]] = {}
    opened = None
    for page in COVERAGE_PAGES:
        slug = f"coverage-{page.stem}"
        manifest = unrendered_manifest(page, slug)
        (site.out / "episodes" / f"{slug}.json").write_text(json.dumps(manifest))
        html = page.read_bytes()
        body = html.index(b">", re.search(rb"<body", html, re.I).end()) + 1  # type: ignore[union-attr]
        snippet = snippet_for(slug, ShowConfig(base_url=base)).encode()
        (site.out / f"{slug}.html").write_bytes(html[:body] + snippet + html[body:])
        if opened is None:
            opened = open_page(f"{slug}.html")
        else:
            opened.page.goto(f"{base}{slug}.html")
            opened.wait("() => !document.querySelector('listen-player .lp-play').disabled")
        marked = set(opened.js(
            "[...document.querySelectorAll('[data-listen-block]')].map(e => +e.dataset.listenBlock)"
        ))  # fmt: skip
        read = {s["block"] for s in manifest["sentences"] if s["block"] is not None}
        assert marked <= read, page.name
        wanted = {b for b in read if manifest["blocks"][b]["kind"] != "table_row"}
        found[page.stem] = (len(marked & wanted), len(wanted))
    print(f"read-along blocks found: {found}")
    assert all(hit >= 0.8 * total for hit, total in found.values()), found
    assert sum(h for h, _ in found.values()) >= 0.9 * sum(t for _, t in found.values()), found
    # (The pages' own pictures and styles are not there: only a script error would count.)
    assert opened is not None and [e for e in opened.errors if "uncaught" in e] == []


def test_clicking_a_paragraph_plays_from_its_first_sentence(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = host(open_page)
    third = body_paragraphs(opened)[2]
    sentence = first_sentence_of(site.seed, third)
    opened.page.locator(".entry-content p").nth(2).click()
    opened.wait(f"() => !{AUDIO}.paused")
    assert abs(opened.time() - sentence["start_ms"] / 1000) < 0.3
    (play,) = events(opened, "play")
    assert abs(play["detail"]["currentTime"] - sentence["start_ms"] / 1000) < 0.3
    # Clicking another paragraph moves there.
    first = first_sentence_of(site.seed, body_paragraphs(opened)[5])
    opened.page.locator(".entry-content p").nth(5).click()
    assert abs(opened.time() - first["start_ms"] / 1000) < 0.3
    assert opened.errors == []


def test_the_block_being_read_is_marked_and_its_sentence_highlighted(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = host(open_page)
    paragraphs = body_paragraphs(opened)
    assert opened.js(CURRENT) == []  # nothing before the listener starts
    start(opened)
    scrolled = opened.js("window.scrollY")
    for number in (3, 0, 6):  # the fourth paragraph, the first, the last
        for sentence in sentences_of(site.seed, paragraphs[number])[:2]:
            playing_at(opened, (sentence["start_ms"] + sentence["end_ms"]) / 2000)
            opened.wait(f"() => ({HIGHLIGHT})()?.[0] === {json.dumps(words(sentence['text']))}")
            assert opened.js(CURRENT) == [paragraphs[number]]
            (shown,) = opened.js(HIGHLIGHT)
            assert shown == words(sentence["text"])
    # While a heading is read, the heading is the block being read.
    heading = site.seed["chapters"][2]
    playing_at(opened, heading["start_ms"] / 1000 + 0.2)
    opened.wait(f"() => ({CURRENT})()[0] === {json.dumps(words(heading['title']))}")
    assert opened.js("window.scrollY") == scrolled  # read-along never scrolls the page
    # At the end nothing is marked.
    opened.page.evaluate(f"{PLAYER}.seek({site.seed['duration_ms'] / 1000 - 0.5})")
    opened.wait(f"() => {AUDIO}.ended")
    opened.wait(f"() => ({CURRENT})().length === 0 && ({HIGHLIGHT})() === null")
    assert opened.js("window.__shift") == 0
    assert opened.errors == []


def test_links_inside_a_paragraph_still_work(open_page: Callable[..., Opened], site: Site) -> None:
    opened = host(open_page)
    opened.page.click(".entry-content a[href='#comments']")
    opened.wait("() => location.hash === '#comments'")
    assert opened.js(f"{AUDIO}.paused") is True and events(opened, "play") == []
    opened.page.click(".entry-content a[href='elsewhere.html']")
    opened.page.wait_for_url("**/elsewhere.html")
    assert opened.page.title() == "Elsewhere"
    assert opened.errors == []


def test_read_along_keys_make_paragraphs_tab_stops(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = host(open_page, "host-keys.html")
    page = opened.page
    third = page.locator(".entry-content p").nth(2)
    assert third.get_attribute("tabindex") == "0"
    hint = third.get_attribute("aria-describedby")
    assert page.text_content(f"#{hint}") == "Press Enter to listen from here."
    # Tab from the link in the paragraph before reaches the paragraph itself.
    page.focus(".entry-content a[href='elsewhere.html']")
    page.keyboard.press("Tab")
    assert opened.js("document.activeElement.textContent.startsWith('Conversely')")
    page.keyboard.press("Enter")
    opened.wait(f"() => !{AUDIO}.paused")
    sentence = first_sentence_of(site.seed, body_paragraphs(opened)[2])
    assert abs(opened.time() - sentence["start_ms"] / 1000) < 0.3
    # Enter on a link inside a paragraph follows the link.
    page.focus(".entry-content a[href='#comments']")
    page.keyboard.press("Enter")
    opened.wait("() => location.hash === '#comments'")
    assert abs(opened.time() - sentence["start_ms"] / 1000) < 3  # it went on playing there
    assert opened.errors == []


# --- events for the site's analytics -----------------------------------------------------------


def test_events_tell_the_sites_analytics_what_happened(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    opened = host(open_page, "host-analytics.html")
    page = opened.page
    manifest_url = f"{base}episodes/{SEED_SLUG}.json"
    duration = site.seed["duration_ms"] / 1000
    (ready,) = events(opened, "ready")
    assert ready["detail"] == {"manifest": manifest_url, "currentTime": 0, "duration": duration}

    start(opened)
    page.click("listen-player .lp-play")
    opened.wait(f"() => {AUDIO}.paused")
    page.select_option(".lp-rate", "1.5")
    page.click(".lp-tab[data-panel=chapters]")
    chapter = site.seed["chapters"][1]
    page.click(".lp-chapter[data-i='1']")  # seeks there and plays
    opened.wait("() => window.__events.some(e => e.type === 'seek')")
    for percent in (10, 25, 50, 75, 90):
        playing_at(opened, duration * percent / 100 - 0.4)
        opened.wait(f"() => window.__events.some(e => e.detail.percent === {percent})")
    page.evaluate(f"{PLAYER}.seek({duration - 0.4})")
    opened.wait("() => window.__events.some(e => e.type === 'ended')")

    found = events(opened)
    assert all(e["bubbles"] and e["composed"] for e in found)
    for event in found:
        detail = event["detail"]
        if event["type"] != "next":
            assert detail["manifest"] == manifest_url, event
        assert detail["duration"] == duration
        assert 0 <= detail["currentTime"] <= duration
    types = [e["type"] for e in found]
    assert types[:3] == ["ready", "play", "pause"], types
    (rate,) = events(opened, "ratechange")
    assert rate["detail"]["rate"] == 1.5
    seeks = events(opened, "seek")
    assert seeks[0]["detail"]["to"] == chapter["start_ms"] / 1000
    assert seeks[0]["detail"]["from"] < chapter["start_ms"] / 1000
    chapters = [(e["detail"]["index"], e["detail"]["title"]) for e in events(opened, "chapter")]
    assert chapters[0] == (1, chapter["title"])
    assert (2, site.seed["chapters"][2]["title"]) in chapters
    progress = [e["detail"]["percent"] for e in events(opened, "progress")]
    assert progress == [10, 25, 50, 75, 90]
    for event in events(opened, "progress"):
        assert event["detail"]["currentTime"] >= duration * event["detail"]["percent"] / 100
    assert types.count("ended") == 1 and types.index("ended") > types.index("progress")
    (next_,) = events(opened, "next") or [None]  # the countdown to the next episode
    assert next_ is None or next_["detail"]["manifest"] != manifest_url

    # The README's snippets pass them on to GA4, Matomo and Plausible (their own queues here:
    # the player itself sends nothing anywhere).
    ga4 = opened.js("dataLayer.filter(a => a[0] === 'event').map(a => [a[1], a[2]])")
    assert [name for name, _ in ga4][:3] == ["listen_play", "listen_pause", "listen_ratechange"]
    assert ["listen_progress", {"percent": 50, "audio_url": manifest_url}] in [
        [n, {k: v for k, v in p.items() if k in ("percent", "audio_url")}] for n, p in ga4
    ]
    matomo = opened.js("_paq.filter(a => a[0] === 'trackEvent')")
    assert ["trackEvent", "Listen", "progress", manifest_url, 90] in matomo
    assert ["trackEvent", "Listen", "ended", manifest_url, round(duration)] in matomo
    plausible = opened.js("plausible.q.map(a => [...a])")
    assert ["Listen: progress", {"props": {"episode": manifest_url, "percent": 25}}] in plausible
    assert all(url.startswith(base) for url in opened.requests if url not in opened.foreign)
    assert opened.errors == []


# --- keep listening: "Up next" and the next episode ---------------------------------------------


def up_next(opened: Opened) -> tuple[str, str | None]:
    """What the "Up next" row says, and the title it offers (None if it offers none)."""
    offered = opened.page.is_visible(".lp-next")
    title = words(opened.page.text_content(".lp-next > :first-child")) if offered else None
    return words(opened.page.text_content(".lp-upnext")), title


def end_episode(opened: Opened) -> None:
    duration = opened.js(f"{AUDIO}.duration")
    opened.js(f"{PLAYER}.seek({duration - 0.4})")
    opened.wait(f"() => {AUDIO}.ended")


def test_the_next_episode_plays_after_a_countdown_and_once_only(
    open_page: Callable[..., Opened], site: Site, base: str
) -> None:
    newest, second, *_, oldest = site.playlist
    assert oldest["slug"] == SEED_SLUG  # the seed page's episode is the oldest
    opened = host(open_page)
    page = opened.page
    assert up_next(opened) == ("Up next", newest["title"])

    start(opened)
    end_episode(opened)
    opened.wait("() => document.querySelector('.lp-upnext').textContent === 'Next in 5 s'")
    assert page.is_visible(".lp-cancel")
    status = page.text_content("listen-player [role=status]")
    assert status == f"Next in 5 seconds: {newest['title']}."  # read out by screen readers
    opened.wait(f"() => {PLAYER}.querySelector('.lp-title').textContent === "
                f"{json.dumps(newest['title'])}", timeout=10_000)  # fmt: skip
    opened.wait(f"() => !{AUDIO}.paused")
    ended = events(opened, "ended")[0]["at"]
    (next_,) = events(opened, "next")
    assert next_["detail"]["manifest"] == base + newest["manifest"]
    assert next_["at"] - ended >= 4500  # it counted down first
    assert up_next(opened) == ("Up next", second["title"])  # the seed: listened to
    # The page's paragraphs are not this episode's: nothing on the page is marked now.
    assert opened.js("document.querySelectorAll('[data-listen-block]').length") == 0

    # This one ends too, and the listener cancels the countdown to the next.
    end_episode(opened)
    opened.wait("() => !document.querySelector('.lp-cancel').hidden")
    page.click(".lp-cancel")
    assert page.text_content("listen-player [role=status]") == "Canceled."
    page.wait_for_timeout(6000)
    assert page.text_content(".lp-title") == newest["title"]
    assert opened.js(f"{AUDIO}.paused") is True

    # Back on the article: both listened to, so the next is the other one.
    page.reload()
    opened.wait("() => !document.querySelector('.lp-play').disabled")
    opened.wait(f"() => document.querySelector('.lp-next').textContent.startsWith("
                f"{json.dumps(second['title'])})")  # fmt: skip
    # Choosing it plays it at once.
    page.click(".lp-next")
    opened.wait(f"() => {PLAYER}.querySelector('.lp-title').textContent === "
                f"{json.dumps(second['title'])} && !{AUDIO}.paused")  # fmt: skip
    assert opened.errors == []


def test_autoadvance_false_stops_at_the_end(open_page: Callable[..., Opened], site: Site) -> None:
    opened = host(open_page)
    opened.js(f"{PLAYER}.setAttribute('autoadvance', 'false')")
    start(opened)
    end_episode(opened)
    opened.page.wait_for_timeout(1500)
    assert opened.page.is_hidden(".lp-cancel")
    assert up_next(opened) == ("Up next", site.playlist[0]["title"])  # still offered
    assert opened.errors == []


# --- the sticky mini-player --------------------------------------------------------------------


def test_mini_player_while_the_player_is_out_of_view(
    open_page: Callable[..., Opened], site: Site
) -> None:
    opened = host(open_page, height=700)
    page = opened.page
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    assert opened.js(MINI_HIDDEN)  # not before the listener plays
    start(opened)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    opened.wait(MINI_SHOWN)
    box = opened.js(
        "(() => { const r = document.querySelector('.lp-mini').getBoundingClientRect();"
        " return [r.top, r.bottom, r.width]; })()"
    )
    assert box[1] == pytest.approx(700, abs=1) and 0 < box[1] - box[0] <= 80, box
    assert words(page.text_content(".lp-mtitle")) == words(site.seed["title"])
    assert page.get_attribute(".lp-mplay", "aria-label") == "Pause"
    assert opened.js("window.__shift") == 0  # it covers the page, never moves it
    # Play/pause from the bar.
    page.click(".lp-mplay")
    opened.wait("() => document.querySelector('.lp-mplay').ariaLabel === 'Play'")
    assert opened.js(f"{AUDIO}.paused")
    assert opened.js(MINI_SHOWN)
    page.click(".lp-mplay")
    opened.wait(f"() => !{AUDIO}.paused")
    progress = opened.js("getComputedStyle(document.querySelector('.lp-mline')).transform")
    assert progress.startswith("matrix(") and progress != "matrix(0, 0, 0, 1, 0, 0)"
    # Back to the player: it scrolls into view, the bar goes, focus is on the player.
    page.click(".lp-mback")
    opened.wait(MINI_HIDDEN)
    assert opened.js("document.activeElement.classList.contains('lp-play')")
    opened.wait(
        "() => { const r = document.querySelector('listen-player .lp').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    # Scrolled away again, closed: gone until the player has been in view again.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    opened.wait(MINI_SHOWN)
    page.click(".lp-mclose")
    opened.wait(MINI_HIDDEN)
    assert opened.js(f"{AUDIO}.paused") is False  # closing the bar does not stop the audio
    page.evaluate(f"{PLAYER}.scrollIntoView()")
    page.wait_for_timeout(200)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    opened.wait(MINI_SHOWN)
    # sticky="false": no bar.
    page.evaluate(f"{PLAYER}.setAttribute('sticky', 'false'); {PLAYER}.scrollIntoView()")
    page.wait_for_timeout(200)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(500)
    assert opened.js(MINI_HIDDEN)
    assert opened.js("window.__shift") == 0
    assert opened.errors == []


def test_mini_player_does_not_animate_under_reduced_motion(
    open_page: Callable[..., Opened], site: Site
) -> None:
    animation = "getComputedStyle(document.querySelector('.lp-mini')).animationName"
    assert host(open_page).js(animation) == "lp-rise"
    assert host(open_page, reduced_motion="reduce").js(animation) == "none"


# --- accessibility in every state, and what it looks like ---------------------------------------


def scan(opened: Opened, state: str, found: list[dict]) -> None:
    for violation in run_axe(opened):
        found.append({**violation, "state": state})


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_in_every_state(
    open_page: Callable[..., Opened], site: Site, scheme: str
) -> None:
    """axe-core on the whole host page: as loaded; reading along with the transcript open;
    counting down to the next episode; with the mini-player."""
    found: list[dict] = []
    opened = host(open_page, color_scheme=scheme)
    page = opened.page
    scan(opened, "loaded", found)
    start(opened)
    page.click(".lp-tab[data-panel=transcript]")
    sentence = sentences_of(site.seed, body_paragraphs(opened)[3])[1]
    playing_at(opened, (sentence["start_ms"] + sentence["end_ms"]) / 2000)
    opened.wait(f"() => ({CURRENT})().length === 1")
    scan(opened, "reading along", found)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    opened.wait(MINI_SHOWN)
    scan(opened, "mini-player", found)
    page.evaluate("window.scrollTo(0, 0)")
    end_episode(opened)
    opened.wait("() => !document.querySelector('.lp-cancel').hidden")
    scan(opened, "countdown", found)
    print(f"axe ({scheme}): {found}")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert opened.errors == []


def test_screenshots(open_page: Callable[..., Opened], site: Site) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    for name, options in {
        "light": {"color_scheme": "light"},
        "dark": {"color_scheme": "dark"},
        "320px": {"width": 320, "height": 640},
        "mini-player": {"height": 640},
    }.items():
        opened = host(open_page, **options)
        page = opened.page
        start(opened)
        paragraph = 5 if name == "mini-player" else 1
        sentence = sentences_of(site.seed, body_paragraphs(opened)[paragraph])[1]
        playing_at(opened, (sentence["start_ms"] + sentence["end_ms"]) / 2000)
        opened.wait(f"() => ({CURRENT})().length === 1")
        page.click("listen-player .lp-play")  # paused, so the picture is of one moment
        if name == "mini-player":
            page.locator("[data-listen-current]").scroll_into_view_if_needed()
            opened.wait(MINI_SHOWN)
        else:
            page.evaluate(
                "document.querySelector('listen-player').scrollIntoView({block: 'start'})"
            )
        shots[name] = ARTIFACTS / f"article-{name}.png"
        page.screenshot(path=shots[name])
        assert opened.errors == []
    for path in shots.values():
        assert path.stat().st_size > 10_000
