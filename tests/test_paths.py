"""Slugs from titles, canonical URLs and file names never escape the output folder.

(`--out` naming a file is an error: covered in test_cli.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import CONFIG, run_listen
from hypothesis import given, settings
from hypothesis import strategies as st

from listen.publish import EPISODES, MAX_SLUG_CHARS, episode_paths, slug_for, slugify

SLUG = re.compile(r"^[a-z0-9-]+$")
RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{n}" for d in ("com", "lpt") for n in range(10)}

HOSTILE_NAMES = [
    "../",
    "../../etc/passwd",
    "..\\..\\",
    "..\\..\\Windows\\System32\\config",
    "/etc/passwd",
    "/",
    "C:\\Windows\\system.ini",
    "C:/Users/x",
    "\\\\server\\share\\x",
    "~/.ssh/id_rsa",
    ".",
    "..",
    "...",
    ".hidden",
    "",
    " ",
    "\x00",
    "a\x00b",
    "-",
    "--rm -rf",
    "😀🎧🔥",
    "\u202e\u200b\u00ad",
    "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    "Ünïcödé Ärtïclé",
    "x" * 10_000,
    "ab/" * 5_000,
    "é" * 10_000,
    "con",
    "CON",
    "nul",
    "Nul.html",
    "aux",
    "prn",
    "com1",
    "COM9",
    "lpt1",
    "lpt9.txt",
    "con.",
    "  con  ",
]
HOSTILE_URLS = [
    "https://x/a/../../etc/passwd",
    "https://evil.example/../../../../tmp/pwned",
    "https://x/..%2F..%2Fetc%2Fpasswd",
    "https://x/%2e%2e/%2e%2e/",
    "https://x/a/..",
    "https://x/a/%00",
    "https://x/a\\..\\..\\windows",
    "file:///etc/passwd",
    "https://x/",
    "https://x",
    "",
    "not a url at all",
    "https://x/con",
    "https://x/news/nul.html",
    "https://x/LPT1.aspx",
    "https://x/" + "a" * 10_000,
    "https://x/😀",
    "//evil/../../x",
    "https://x/a?b=../../c#../../d",
]
HOSTILE_SOURCES = [
    "../../x.html",
    "/etc/passwd",
    "..\\..\\page.html",
    "C:\\pages\\con.html",
    "con.html",
    "aux",
    "",
    ".html",
    "😀.html",
    "x" * 10_000 + ".html",
]


def assert_safe(slug: str, out: Path) -> None:
    assert SLUG.fullmatch(slug), slug
    assert 0 < len(slug) <= MAX_SLUG_CHARS, len(slug)
    assert slug not in RESERVED, slug
    assert slug.split("-")[0] not in RESERVED or "-" in slug
    root = out.resolve()
    folder = (out / EPISODES).resolve()
    for name in (f"{slug}.mp3", f"{slug}.m4a", f"{slug}.lock", f"{slug}-2.mp3"):
        target = (out / EPISODES / name).resolve()
        assert target.parent == folder, (slug, target)
        assert target.is_relative_to(root)
    for path in episode_paths(out, slug, "mp3").values():
        assert path.resolve().parent == folder


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_slugify_hostile_names(name: str, tmp_path: Path) -> None:
    assert_safe(slugify(name), tmp_path / "public")


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("source", ["page.html", "../../../etc/shadow", "con.html"])
def test_slug_for_hostile_urls(url: str, source: str, tmp_path: Path) -> None:
    assert_safe(slug_for(url or None, source), tmp_path / "public")


@pytest.mark.parametrize("source", HOSTILE_SOURCES)
def test_slug_for_hostile_file_names(source: str, tmp_path: Path) -> None:
    assert_safe(slug_for(None, source), tmp_path / "public")


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_windows_device_names_are_never_a_slug(name: str) -> None:
    for value in (name, name.upper(), f"{name}.html", f" {name} "):
        assert slugify(value) not in RESERVED
    assert slug_for(f"https://x/{name}", "page.html") not in RESERVED
    assert slug_for(None, f"/pages/{name}.html") not in RESERVED


def test_ordinary_slugs_are_unchanged() -> None:
    assert slugify("IDF Seizures & the Stalemate") == "idf-seizures-the-stalemate"
    assert slugify("console") == "console"
    assert slugify("com10") == "com10"
    assert slug_for("https://x/news/my-story.html", "p.html") == "my-story"
    assert slug_for(None, "/a/b/My Page.html") == "my-page"


def test_long_names_are_bounded() -> None:
    assert len(slugify("word " * 10_000)) <= MAX_SLUG_CHARS
    assert not slugify("a" * 79 + "-b").endswith("-")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_title_gives_a_safe_slug(title: str) -> None:
    assert_safe(slugify(title), Path("/srv/public"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["..", ".", "", "a", "%2e%2e", "..%2f", "\\..", "con", "😀"]), max_size=8
    ),
    st.text(max_size=40),
)
def test_any_url_path_gives_a_safe_slug(segments: list[str], source: str) -> None:
    url = "https://x/" + "/".join(segments)
    assert_safe(slug_for(url, source), Path("/srv/public"))


PROSE = (
    "The committee met on Tuesday to discuss the budget for the coming year. "
    "Members agreed that the library needs a new roof before the winter storms arrive. "
    "A vote on the final figures is expected next month, after the public consultation closes. "
)


def test_hostile_canonical_url_and_title_render_inside_out(tmp_path: Path) -> None:
    page = tmp_path / "pages" / "evil.html"
    page.parent.mkdir()
    page.write_text(
        "<!doctype html><html lang='en'><head><title>../../x</title>"
        '<link rel="canonical" href="https://evil.example/../../../../tmp/pwned">'
        '<meta property="og:url" content="https://evil.example/../../../../tmp/pwned">'
        "</head><body><article><h1>../../x</h1>"
        f"<p>{PROSE}</p><p>{PROSE}</p></article></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "public"
    before = set(Path("/tmp").glob("pwned*"))
    run_listen("render", page, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us")
    assert set(Path("/tmp").glob("pwned*")) == before
    state = tmp_path / ".public.listen-state"  # locks and private records, beside DIR
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != page]
    assert written
    episodes = (out / EPISODES).resolve()
    for path in written:
        resolved = path.resolve()
        assert resolved.is_relative_to(out.resolve()) or resolved.is_relative_to(state), path
        if resolved.suffix in (".mp3", ".vtt") or resolved.name.endswith(".chapters.json"):
            assert resolved.parent == episodes, path
    audio = list((out / EPISODES).glob("*.mp3"))
    assert len(audio) == 1 and SLUG.fullmatch(audio[0].stem), audio
    assert not (tmp_path / "x.mp3").exists() and not (tmp_path.parent / "x.mp3").exists()
