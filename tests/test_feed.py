"""The podcast feed as podcast clients parse it (gPodder's podcastparser and feedparser)."""

from __future__ import annotations

import calendar
import io
import json
import re
import shutil
import time
import uuid
from pathlib import Path

import feedparser
import lxml.html
import podcastparser
import pytest
from helpers import CONFIG, SAMPLES, SEED, Rendered, run_listen, write_manifest
from lxml import etree
from PIL import Image

FEED_URL = "https://www.example-news.org/listen/feed.xml"
SAMPLE_ART = SAMPLES / "artwork.png"


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
    assert entry.podcast_transcript["url"].startswith(
        f"https://www.example-news.org/listen/episodes/{manifest['slug']}."
    )
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


HOSTILE = "Tom & Jerry <b>\"say\"</b> ]]> </title> 'hi' 🎧 שלום עולם \u202eevil\u202c"


def test_hostile_text_is_escaped_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(
        out,
        "hostile",
        HOSTILE + "\x07\x1b",
        "2024-03-01T10:00:00+00:00",
        summary=HOSTILE + " <script>alert(1)</script>",
    )
    run_listen("feed", "--out", out, "--config", CONFIG)
    raw = (out / "feed.xml").read_bytes()
    etree.fromstring(raw)  # well-formed XML
    assert b"<script>" not in raw and b"<b>" not in raw
    pod, feed = parse_both(out / "feed.xml")
    assert not feed.bozo
    assert pod["episodes"][0]["title"] == HOSTILE  # control characters dropped, rest intact
    item = etree.fromstring(raw).find("channel/item")
    assert item.findtext("title") == HOSTILE
    # <description> is HTML: the text escaped for HTML, so that a client shows it as written.
    description = item.findtext("description")
    assert "<" not in description
    assert as_shown(description) == HOSTILE + " <script>alert(1)</script>"


def as_shown(markup: str) -> str:
    """The text a client shows for an HTML field."""
    return lxml.html.fragment_fromstring(markup, create_parent="div").text_content()


#: A summary that parsers which read <description> as HTML used to cut to "Why".
HOSTILE_SUMMARY = (
    'Why <script> tags in the <head> slow pages down: Tom & Jerry\'s "tests", a < b > c, 🎧'
)


def test_a_hostile_summary_reads_exactly_as_written(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "tags", "Script tags", "2024-03-01T10:00:00+00:00",
                   summary=HOSTILE_SUMMARY)  # fmt: skip
    run_listen("feed", "--out", out, "--config", CONFIG)
    pod, feed = parse_both(out / "feed.xml")
    assert not feed.bozo, feed.bozo_exception
    (entry,) = feed.entries
    assert entry.summary == HOSTILE_SUMMARY  # itunes:summary, plain text
    assert as_shown(entry.content[0].value) == HOSTILE_SUMMARY  # content:encoded, HTML
    (episode,) = pod["episodes"]
    assert episode["description"] == HOSTILE_SUMMARY
    assert as_shown(episode["description_html"]) == HOSTILE_SUMMARY
    item = etree.fromstring((out / "feed.xml").read_bytes()).find("channel/item")
    assert as_shown(item.findtext("description")) == HOSTILE_SUMMARY
    parsed = feedparser.parse(
        (out / "feed.xml")
        .read_bytes()
        .replace(b"<itunes:summary>", b"<itunes:x>")
        .replace(b"</itunes:summary>", b"</itunes:x>")
    ).entries[0]
    assert as_shown(parsed.summary) == HOSTILE_SUMMARY  # <description> alone, as HTML


def test_last_build_date_is_when_the_feed_last_changed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    feed = out / "feed.xml"
    write_manifest(out, "new", "New story", "2024-06-01T08:00:00+00:00")
    run_listen("feed", "--out", out, "--config", CONFIG)
    built = feedparser.parse(feed.read_bytes()).feed.updated_parsed
    assert abs(calendar.timegm(built) - time.time()) < 120  # now, not the newest episode's date
    # As if it had been built long ago: a rebuild with nothing changed keeps the bytes.
    old = dated_long_ago(feed)
    run_listen("feed", "--out", out, "--config", CONFIG)
    assert feed.read_bytes() == old
    # An older article added: the newest episode is the same, but the feed changed now.
    write_manifest(out, "older", "Older story", "2024-01-01T08:00:00+00:00")
    run_listen("feed", "--out", out, "--config", CONFIG)
    parsed = feedparser.parse(feed.read_bytes())
    assert [e.title for e in parsed.entries] == ["New story", "Older story"]
    assert abs(calendar.timegm(parsed.feed.updated_parsed) - time.time()) < 120
    again = feed.read_bytes()
    run_listen("feed", "--out", out, "--config", CONFIG)
    assert feed.read_bytes() == again
    for path in (out / "episodes").glob("older.*"):  # removed: changed again
        path.unlink()
    dated_long_ago(feed)
    run_listen("feed", "--out", out, "--config", CONFIG)
    assert b"Older story" not in feed.read_bytes()
    assert b"<lastBuildDate>Mon, 01 Jan 2024" not in feed.read_bytes()


def dated_long_ago(feed: Path) -> bytes:
    data = re.sub(rb"<lastBuildDate>[^<]*<", b"<lastBuildDate>Mon, 01 Jan 2024 00:00:00 +0000<",
                  feed.read_bytes())  # fmt: skip
    feed.write_bytes(data)
    return data


def test_m4a_items_have_apples_type(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "aac", "An AAC story", "2024-03-01T10:00:00+00:00", format="m4a")
    write_manifest(out, "mp3", "An MP3 story", "2024-03-02T10:00:00+00:00")
    run_listen("feed", "--out", out, "--config", CONFIG)
    pod, _ = parse_both(out / "feed.xml")
    types = {e["title"]: e["enclosures"][0]["mime_type"] for e in pod["episodes"]}
    assert types == {"An AAC story": "audio/x-m4a", "An MP3 story": "audio/mpeg"}
    assert pod["episodes"][1]["enclosures"][0]["url"].endswith("/episodes/aac.m4a")


def test_items_newest_first_capped_and_removed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "old", "Old story", "2024-01-01T08:00:00+00:00")
    write_manifest(out, "new", "New story", "2024-06-01T08:00:00+00:00")
    write_manifest(out, "mid", "Middle story", "2024-03-01T08:00:00+00:00")
    write_manifest(out, "undated", "Undated story", None)  # falls back to when it was added
    run_listen("feed", "--out", out, "--config", CONFIG)
    pod, _ = parse_both(out / "feed.xml")
    assert [e["title"] for e in pod["episodes"]] == [
        "New story", "Undated story", "Middle story", "Old story"]  # fmt: skip
    config = tmp_path / "listen.toml"
    config.write_text(
        CONFIG.read_text()
        .replace("[render]", "[feed]\nmax_items = 2\n\n[render]")
        .replace('artwork = "artwork.png"', f'artwork = "{SAMPLE_ART}"')
    )
    run_listen("feed", "--out", out, "--config", config)
    pod, _ = parse_both(out / "feed.xml")
    assert [e["title"] for e in pod["episodes"]] == ["New story", "Undated story"]
    for path in (out / "episodes").glob("new.*"):
        path.unlink()
    run_listen("feed", "--out", out, "--config", CONFIG)
    pod, _ = parse_both(out / "feed.xml")
    assert "New story" not in [e["title"] for e in pod["episodes"]]
    assert len(pod["episodes"]) == 3


def test_guids_are_stable_and_typed(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "a", "A story", "2024-01-01T08:00:00+00:00")
    write_manifest(out, "b", "B story", "2024-01-02T08:00:00+00:00", url=None)
    run_listen("feed", "--out", out, "--config", CONFIG)
    items = {
        i.findtext("title"): i.find("guid")
        for i in etree.fromstring((out / "feed.xml").read_bytes()).iter("item")
    }
    assert items["A story"].text == "https://news.example/a/"
    assert items["A story"].get("isPermaLink") == "true"
    assert items["B story"].get("isPermaLink") == "false"
    first = items["B story"].text
    write_manifest(out, "b", "B story, corrected", "2024-01-02T08:00:00+00:00", url=None)
    run_listen("feed", "--out", out, "--config", CONFIG)
    items = {
        i.findtext("title"): i.findtext("guid")
        for i in etree.fromstring((out / "feed.xml").read_bytes()).iter("item")
    }
    assert items["B story, corrected"] == first


def test_channel_has_what_apple_requires(espeak_episode: Rendered) -> None:
    root = etree.fromstring((espeak_episode.out / "feed.xml").read_bytes())
    channel = root.find("channel")
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
          "atom": "http://www.w3.org/2005/Atom",
          "podcast": "https://podcastindex.org/namespace/1.0"}  # fmt: skip
    assert root.get("version") == "2.0"
    for tag in ("title", "link", "description", "language"):
        assert channel.findtext(tag)
    assert channel.findtext("link") == "https://www.example-news.org/"
    assert channel.find("itunes:image", ns).get("href").endswith("/artwork.png")
    assert channel.find("itunes:category", ns).get("text") == "News"
    assert channel.findtext("itunes:explicit", namespaces=ns) == "false"
    assert channel.findtext("itunes:type", namespaces=ns) == "episodic"
    assert channel.findtext("itunes:author", namespaces=ns) == "Example News"
    assert channel.find("itunes:owner/itunes:email", ns).text == "audio@example-news.org"
    self_link = channel.find("atom:link[@rel='self']", ns)
    assert self_link.get("href") == FEED_URL
    guid = channel.findtext("podcast:guid", namespaces=ns)
    assert guid == str(
        uuid.uuid5(
            uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
            "www.example-news.org/listen/feed.xml",
        )
    )
    assert channel.findtext("podcast:locked", namespaces=ns) == "no"
    item = channel.find("item")
    seconds = round(espeak_episode.manifest["duration_ms"] / 1000)
    assert item.findtext("itunes:duration", namespaces=ns) == f"{seconds // 60}:{seconds % 60:02d}"
    assert item.findtext("itunes:episodeType", namespaces=ns) == "full"
    assert item.findtext("pubDate") == "Thu, 15 Feb 2024 09:30:00 +0000"
    enclosure = item.find("enclosure")
    assert int(enclosure.get("length")) == espeak_episode.audio.stat().st_size


@pytest.mark.parametrize(
    ("size", "fmt", "fragment"),
    [
        ((1400, 1000), "PNG", "must be square"),
        ((600, 600), "PNG", "1400 to 3000"),
        ((1400, 1400), "GIF", "PNG or JPEG"),
        (None, None, "not a readable"),
    ],
)
def test_bad_artwork_is_refused(tmp_path: Path, size, fmt, fragment) -> None:  # type: ignore[no-untyped-def]
    art = tmp_path / "art.img"
    if size:
        Image.new("RGB", size, "navy").save(art, format=fmt)
    else:
        art.write_bytes(b"not an image")
    config = tmp_path / "listen.toml"
    config.write_text(CONFIG.read_text().replace('artwork = "artwork.png"', 'artwork = "art.img"'))
    out = tmp_path / "public"
    done = run_listen(
        "render", SEED, "--out", out, "--config", config, "--voice", "espeak-en-us", check=False
    )
    assert done.returncode == 1 and done.stderr.startswith("error: ") and fragment in done.stderr
    assert not out.exists()


def test_unknown_category_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "listen.toml"
    config.write_text(
        CONFIG.read_text()
        .replace('category = "News"', 'category = "Gossip"')
        .replace('artwork = "artwork.png"', f'artwork = "{SAMPLE_ART}"')
    )
    done = run_listen("render", SEED, "--out", tmp_path / "o", "--config", config, check=False)
    assert done.returncode == 1 and "Apple Podcasts category" in done.stderr


def test_slug_guids_survive_a_url_change(tmp_path: Path) -> None:
    out = tmp_path / "public"
    config = tmp_path / "listen.toml"
    config.write_text(CONFIG.read_text().replace("[render]", '[feed]\nguid = "slug"\n\n[render]')
                      .replace('artwork = "artwork.png"', f'artwork = "{SAMPLE_ART}"'))  # fmt: skip
    write_manifest(out, "moved", "A story", "2024-01-01T08:00:00+00:00", url="https://a.example/x/")
    run_listen("feed", "--out", out, "--config", config)
    guid = etree.fromstring((out / "feed.xml").read_bytes()).find("channel/item/guid")
    assert guid.get("isPermaLink") == "false" and uuid.UUID(guid.text)
    write_manifest(out, "moved", "A story", "2024-01-01T08:00:00+00:00", url="https://b.example/y/")
    run_listen("feed", "--out", out, "--config", config)
    again = etree.fromstring((out / "feed.xml").read_bytes()).find("channel/item/guid")
    assert again.text == guid.text


def test_podlove_chapters_are_the_json_chapters(espeak_episode: Rendered) -> None:
    manifest = espeak_episode.manifest
    json_chapters = json.loads(
        (espeak_episode.episodes / f"{manifest['slug']}.chapters.json").read_text("utf-8")
    )["chapters"]
    psc = "{http://podlove.org/simple-chapters}"
    item = etree.fromstring((espeak_episode.out / "feed.xml").read_bytes()).find("channel/item")
    (chapters,) = item.findall(f"{psc}chapters")
    assert chapters.get("version") == "1.2"

    def seconds(start: str) -> float:
        hours, minutes, rest = start.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    podlove = [(seconds(c.get("start")), c.get("title")) for c in chapters.iter(f"{psc}chapter")]
    assert podlove == [(c["startTime"], c["title"]) for c in json_chapters]
    assert len(podlove) == 3
    pod, _ = parse_both(espeak_episode.out / "feed.xml")  # gPodder reads them
    assert [(c["start"], c["title"]) for c in pod["episodes"][0]["chapters"]] == [
        (int(start), title) for start, title in podlove
    ]
