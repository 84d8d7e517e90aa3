"""Feeds per section, tag or author (`[[feeds]]`): what the article's metadata says decides
which feeds list it; each feed is a podcast of its own, read by podcast clients' parsers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import feedparser
import podcastparser
import pytest
from helpers import CONFIG, SAMPLES, run_listen
from lxml import etree

from listen.config import load_config
from listen.errors import ListenError
from listen.extract import extract

PODCAST = "{https://podcastindex.org/namespace/1.0}"
BASE = "https://www.example-news.org/listen/"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="https://www.example-news.org/{slug}/">
<meta property="article:published_time" content="2024-05-{day:02d}T08:00:00+00:00">
{head}</head><body><main><article><h1>{title}</h1>
<p>{sentence} The council met on Tuesday evening to hear the case for it.</p>
<h2>What happens next</h2><p>A second vote is due in the spring, after a public hearing.</p>
</article></main></body></html>"""

PAGES = {
    # JSON-LD: a section as text, keywords as one comma-separated string, an author object.
    "budget-vote": (
        "The budget passes by one vote",
        3,
        """<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "The budget passes by one vote", "articleSection": "Politics",
 "keywords": "budget, tax ,  council",
 "author": {"@type": "Person", "name": "Sam Okoro"}}</script>""",
    ),
    # Open Graph article tags: one meta tag per tag, the section, a plain author meta tag.
    "marsh-moves": (
        "The salt marsh moves inland",
        2,
        """
<meta property="article:section" content="Science">
<meta property="article:tag" content="Climate"><meta property="article:tag" content="Coasts">
<meta name="author" content="Ana Ruiz">""",
    ),
    # JSON-LD lists, and two authors.
    "derby-day": (
        "Derby day ends in a draw",
        1,
        """<script type="application/ld+json">
[{"@type": "WebSite", "name": "Example News"},
 {"@type": "NewsArticle", "headline": "Derby day ends in a draw", "articleSection": ["Sport"],
  "keywords": ["Football", "derby"], "author": [{"name": "Ana Ruiz"}, {"name": "Lee Chan"}]}]
</script>""",
    ),
}

FEEDS = """
[[feeds]]
name = "politics"
title = "Example News: Politics"
description = "Politics, read aloud."
sections = ["politics"]

[[feeds]]
name = "climate"
title = "Example News: Climate"
tags = ["CLIMATE", "weather"]
artwork = "{art}"

[[feeds]]
name = "ana-ruiz-science"
title = "Ana Ruiz on science"
authors = ["ana ruiz"]
sections = ["Science"]
"""


def write_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for slug, (title, day, head) in PAGES.items():
        path = folder / f"{slug}.html"
        path.write_text(PAGE.format(title=title, slug=slug, day=day, head=head,
                                    sentence=f"This is the story of {title.lower()}."),
                        encoding="utf-8")  # fmt: skip
        paths.append(path)
    return paths


def site_config(tmp_path: Path, feeds: str = FEEDS) -> Path:
    config = tmp_path / "listen.toml"
    art = SAMPLES / "artwork.png"
    config.write_text(
        CONFIG.read_text().replace('artwork = "artwork.png"', f'artwork = "{art}"')
        + feeds.replace("{art}", str(art)),
        encoding="utf-8",
    )
    return config


def test_the_articles_metadata_names_its_sections_tags_and_authors(tmp_path: Path) -> None:
    pages = {p.stem: extract(p.read_bytes()) for p in write_pages(tmp_path)}
    budget, marsh, derby = pages["budget-vote"], pages["marsh-moves"], pages["derby-day"]
    assert (budget.categories, budget.tags, budget.authors) == (
        ("Politics",), ("budget", "tax", "council"), ("Sam Okoro",))  # fmt: skip
    assert (marsh.categories, marsh.tags, marsh.authors) == (
        ("Science",), ("Climate", "Coasts"), ("Ana Ruiz",))  # fmt: skip
    assert (derby.categories, derby.tags, derby.authors) == (
        ("Sport",), ("Football", "derby"), ("Ana Ruiz", "Lee Chan"))  # fmt: skip
    assert derby.byline == "Ana Ruiz, Lee Chan"


def items(feed: Path) -> list[str]:
    parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO(feed.read_bytes()))
    return sorted(episode["title"] for episode in parsed["episodes"])


def test_each_feed_lists_exactly_its_articles(tmp_path: Path) -> None:
    out, config = tmp_path / "public", site_config(tmp_path)
    run_listen("render", *write_pages(tmp_path / "pages"), "--out", out, "--config", config,
               "--voice", "espeak-en-us")  # fmt: skip
    assert items(out / "feed.xml") == sorted(title for title, _, _ in PAGES.values())
    assert items(out / "feeds" / "politics.xml") == ["The budget passes by one vote"]
    assert items(out / "feeds" / "climate.xml") == ["The salt marsh moves inland"]
    assert items(out / "feeds" / "ana-ruiz-science.xml") == ["The salt marsh moves inland"]
    guids = set()
    for name in ("feed.xml", "feeds/politics.xml", "feeds/climate.xml"):
        raw = (out / name).read_bytes()
        assert not feedparser.parse(raw).bozo
        channel = etree.fromstring(raw).find("channel")
        guids.add(channel.findtext(f"{PODCAST}guid"))
        self_link = channel.find("{http://www.w3.org/2005/Atom}link[@rel='self']").get("href")
        assert self_link == BASE + name
    assert len(guids) == 3  # a podcast:guid of its own for each feed
    politics = etree.fromstring((out / "feeds" / "politics.xml").read_bytes()).find("channel")
    assert politics.findtext("title") == "Example News: Politics"
    assert politics.findtext("description") == "Politics, read aloud."
    main = etree.fromstring((out / "feed.xml").read_bytes()).find("channel")
    same = {i.findtext("title"): i.findtext("guid") for i in main.iter("item")}
    assert all(same[i.findtext("title")] == i.findtext("guid") for i in politics.iter("item"))
    climate = feedparser.parse((out / "feeds" / "climate.xml").read_bytes())
    assert climate.feed.image.href == BASE + "feeds/climate.png"
    assert (out / "feeds" / "climate.png").read_bytes() == (SAMPLES / "artwork.png").read_bytes()
    playlist = json.loads((out / "playlist.json").read_text(encoding="utf-8"))
    assert [e["slug"] for e in playlist["feeds"]["politics"]["episodes"]] == ["budget-vote"]

    # `listen extract` tells the editor which feeds will list an article.
    shown = run_listen("extract", tmp_path / "pages" / "marsh-moves.html", "--config", config,
                       "--format", "text").stdout  # fmt: skip
    assert "Section: Science" in shown and "Tags: Climate, Coasts" in shown
    assert "Feeds: feed.xml, feeds/climate.xml, feeds/ana-ruiz-science.xml" in shown
    data = json.loads(run_listen("extract", tmp_path / "pages" / "budget-vote.html",
                                 "--config", config).stdout)  # fmt: skip
    assert data["sections"] == ["Politics"] and data["feeds"] == ["feed.xml", "feeds/politics.xml"]

    # `listen feed` rebuilds them all: a feed no longer configured goes, with its artwork.
    smaller = site_config(tmp_path, FEEDS.split('[[feeds]]\nname = "climate"')[0])
    (out / "feeds" / "politics.xml").unlink()
    run_listen("feed", "--out", out, "--config", smaller)
    assert sorted(p.name for p in (out / "feeds").iterdir()) == ["politics.xml"]
    assert items(out / "feeds" / "politics.xml") == ["The budget passes by one vote"]


@pytest.mark.parametrize(
    ("feeds", "fragment"),
    [
        ('[[feeds]]\nname = "Politics!"\ntitle = "P"\nsections = ["x"]', "name must be a-z"),
        ('[[feeds]]\nname = "p"\nsections = ["x"]', "a title is required"),
        ('[[feeds]]\nname = "p"\ntitle = "P"', "give sections, tags or authors"),
        ('[[feeds]]\nname = "p"\ntitle = "P"\ntags = [1]', "tags must be a list of names"),
        ('[[feeds]]\nname = "p"\ntitle = "P"\ntags = ["a"]\ncolour = "red"', "unknown setting"),
        (
            '[[feeds]]\nname = "p"\ntitle = "P"\ntags = ["a"]\n[[feeds]]\nname = "p"\n'
            'title = "Q"\ntags = ["b"]',
            "two feeds have this name",
        ),
    ],
)
def test_bad_feeds_are_refused(tmp_path: Path, feeds: str, fragment: str) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(feeds, encoding="utf-8")
    with pytest.raises(ListenError, match=fragment):
        load_config(config)
