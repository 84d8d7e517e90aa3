"""Hostile article text reaches every output escaped: feed, manifest, chapters, VTT, ID3, the
embed page. Parsers read the original text back."""

from __future__ import annotations

import html
import json
from pathlib import Path

from helpers import CONFIG, run_listen
from lxml import etree
from mutagen.id3 import ID3

TITLE = "</title><script>alert(1)</script> ]]> & \"quotes\" 'x' \u202eevil\u202c \U0001f3a7"
HEADING = "<img src=x onerror=alert(2)> & ]]> heading"
BODY = "A paragraph with <b>markup</b> as text, ]]> and &amp; entities, repeated to be long. " * 4


def hostile_page(tmp_path: Path) -> Path:
    page = tmp_path / "hostile.html"
    page.write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(TITLE)}</title>
<link rel="canonical" href="https://news.example/hostile-story/"></head>
<body><article><h1>{html.escape(TITLE)}</h1><p>{html.escape(BODY)}</p>
<h2>{html.escape(HEADING)}</h2><p>{html.escape(BODY)}</p>
<h2>Second \x07bell heading</h2><p>{html.escape(BODY)}</p></article></body></html>""",
        encoding="utf-8",
    )
    return page


def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "public"
    run_listen("render", hostile_page(tmp_path), "--out", out, "--config", CONFIG,
               "--voice", "espeak-en-us")  # fmt: skip
    episodes = out / "episodes"
    manifest = json.loads((episodes / "hostile-story.json").read_text(encoding="utf-8"))
    assert manifest["title"] == TITLE
    assert [c["title"] for c in manifest["chapters"]][:2] == [TITLE, HEADING]
    chapters = json.loads((episodes / "hostile-story.chapters.json").read_text(encoding="utf-8"))
    assert chapters["chapters"][1]["title"] == HEADING

    raw_feed = (out / "feed.xml").read_bytes()
    assert b"<script>" not in raw_feed
    item = etree.fromstring(raw_feed).find("channel/item")
    assert item.findtext("title") == TITLE

    vtt = (episodes / "hostile-story.vtt").read_text(encoding="utf-8")
    assert "<b>" not in vtt and "&lt;b&gt;markup&lt;/b&gt;" in vtt

    tags = ID3(episodes / "hostile-story.mp3")
    assert str(tags["TIT2"]) == TITLE
    chapter_titles = [str(c.sub_frames["TIT2"]) for c in tags.getall("CHAP")]
    assert HEADING in chapter_titles

    embed = (episodes / "hostile-story.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in embed and "<img src=x" not in embed
