"""The podcast feed as podcast clients parse it (gPodder's podcastparser and feedparser)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import feedparser
import podcastparser
from helpers import CONFIG, Rendered, run_listen

FEED_URL = "https://www.example-news.org/listen/feed.xml"


def parse_both(feed: Path) -> tuple[dict, feedparser.FeedParserDict]:
    data = feed.read_bytes()
    return podcastparser.parse(FEED_URL, io.BytesIO(data)), feedparser.parse(data)


def test_feed_parses_with_podcast_clients(espeak_episode: Rendered) -> None:
    manifest = espeak_episode.manifest
    pod, feed = parse_both(espeak_episode.out / "feed.xml")
    assert not feed.bozo, feed.bozo_exception
    assert pod["title"] == "Example News: Audio Edition"
    assert pod["cover_url"] == "https://www.example-news.org/listen/artwork.png"
    (episode,) = pod["episodes"]
    assert episode["title"] == manifest["title"]
    assert episode["guid"] == manifest["url"]
    assert episode["link"] == manifest["url"]
    assert episode["total_time"] == round(manifest["duration_ms"] / 1000)
    (enclosure,) = episode["enclosures"]
    assert enclosure["url"] == f"https://www.example-news.org/listen/episodes/{manifest['audio']}"
    assert enclosure["file_size"] == espeak_episode.audio.stat().st_size
    assert enclosure["mime_type"] == "audio/mpeg"
    entry = feed.entries[0]
    # podcastparser 0.6 only knows the namespace's old GitHub URI; feedparser keeps the tags.
    assert entry.podcast_chapters["url"] == (
        f"https://www.example-news.org/listen/episodes/{manifest['slug']}.chapters.json"
    )
    assert entry.podcast_chapters["type"] == "application/json+chapters"
    assert entry.podcast_transcript["url"].endswith(f"episodes/{manifest['slug']}.vtt")
    assert entry.published_parsed[:3] == (2024, 2, 15)
    assert pod["explicit"] is False and episode["explicit"] is False
    xml = (espeak_episode.out / "feed.xml").read_text(encoding="utf-8")
    assert 'type="application/json+chapters"' in xml
    assert f"episodes/{manifest['slug']}.chapters.json" in xml
    assert 'type="text/vtt"' in xml and f"episodes/{manifest['slug']}.vtt" in xml
    assert "<podcast:guid>" in xml


def test_rebuilding_the_feed_changes_nothing(espeak_episode: Rendered, tmp_path: Path) -> None:
    out = tmp_path / "public"
    shutil.copytree(espeak_episode.out, out)
    before = (out / "feed.xml").read_bytes()
    run_listen("feed", "--out", out, "--config", CONFIG)
    assert (out / "feed.xml").read_bytes() == before
