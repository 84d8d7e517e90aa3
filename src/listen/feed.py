"""The podcast feed: RSS 2.0 with the iTunes namespace (feedgen's podcast extension) and the
Podcasting 2.0 namespace (a feedgen extension of our own, in the same pluggable shape).

The feed is a pure function of the manifests, the show settings and `lastBuildDate`, which is
when the feed last changed: a rebuild that would change nothing else keeps the published bytes
(apps re-download nothing), and any other change (an episode added, even an older one, edited
or removed) dates the new feed now.

Text from articles is text, never markup: titles are XML-escaped only (RSS titles are plain
text), while `<description>` and `content:encoded`, which every client reads as HTML, carry it
escaped for HTML first, then for XML.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, urljoin

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from listen.atomic import locked, remove_stale_temps, write_bytes_if_changed
from listen.config import FeedConfig, SectionFeed, ShowConfig
from listen.errors import ListenError
from listen.playlist import FeedList, write_playlist
from listen.publish import EPISODES, Manifest, episode_date, load_manifests, newest_first
from listen.tag import load_artwork
from listen.transcripts import TRANSCRIPTS, vtt_time

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PSC_NS = "http://podlove.org/simple-chapters"
#: The namespace UUID the Podcasting 2.0 spec fixes for podcast:guid.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED_NAME = "feed.xml"
#: The folder of the section, tag and author feeds (`[[feeds]]`): feeds/<name>.xml.
FEEDS = "feeds"
#: Enclosure types by file extension: Apple documents `audio/x-m4a` for .m4a (the manifest's
#: `mime_type` stays the registered `audio/mp4`, which browsers' players are given).
ENCLOSURE_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a"}
#: Transcripts timed as captions (`rel="captions"`, which apps show in sync with the audio).
CAPTION_TYPES = ("text/vtt", "application/x-subrip")
_LAST_BUILD = re.compile(rb"<lastBuildDate>([^<]*)</lastBuildDate>")
#: Apple Podcasts categories and their subcategories.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing",
                 "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health",
                         "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
             "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism",
                                "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf",
               "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball",
               "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
#: Where `listen serve` previews DIR when the config names no public base URL.
PREVIEW_BASE_URL = "http://127.0.0.1:8000/"
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def check_category(show: ShowConfig) -> None:
    if show.category not in APPLE_CATEGORIES:
        raise ListenError(f"[show] category {show.category!r} is not an Apple Podcasts category")
    if show.subcategory and show.subcategory not in APPLE_CATEGORIES[show.category]:
        raise ListenError(f"[show] subcategory {show.subcategory!r} is not under {show.category!r}")


def xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters even escaped: drop them."""
    return _XML_ILLEGAL.sub("", text)


def podcast_guid(feed_url: str) -> str:
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", feed_url.strip(), flags=re.I).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


class Podcast20Extension(BaseExtension):
    """Channel tags of the Podcasting 2.0 namespace."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.locked: tuple[bool, str] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, feed):  # type: ignore[no-untyped-def]
        channel = feed[0]
        if self.locked is not None:
            locked = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            locked.text = "yes" if self.locked[0] else "no"
            if self.locked[1]:
                locked.attrib["owner"] = self.locked[1]
        if self.guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        return feed


class Podcast20EntryExtension(BaseEntryExtension):
    """Item tags of the Podcasting 2.0 namespace: chapters and transcript links."""

    def __init__(self) -> None:
        self.chapters_url: str | None = None
        #: (url, type) of each transcript, captions (WebVTT) first.
        self.transcripts: list[tuple[str, str]] = []
        self.language: str | None = None

    def extend_rss(self, entry):  # type: ignore[no-untyped-def]
        if self.chapters_url:
            chapters = xml_elem(f"{{{PODCAST_NS}}}chapters", entry)
            chapters.attrib["url"] = self.chapters_url
            chapters.attrib["type"] = "application/json+chapters"
        for url, kind in self.transcripts:
            transcript = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
            transcript.attrib["url"] = url
            transcript.attrib["type"] = kind
            if self.language:
                transcript.attrib["language"] = self.language
            if kind in CAPTION_TYPES:
                transcript.attrib["rel"] = "captions"
        return entry


class PodloveExtension(BaseExtension):
    """Declares the Podlove Simple Chapters namespace on the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PodloveEntryExtension(BaseEntryExtension):
    """`<psc:chapters>`: the chapters inside the item, for the apps and parsers that read only
    Podlove Simple Chapters (gPodder among them); the same chapters as the JSON chapters."""

    def __init__(self) -> None:
        #: (start ms, title, image URL or None) of each chapter.
        self.chapters: list[tuple[int, str, str | None]] = []

    def extend_rss(self, entry):  # type: ignore[no-untyped-def]
        if self.chapters:
            chapters = xml_elem(f"{{{PSC_NS}}}chapters", entry)
            chapters.attrib["version"] = "1.2"
            for start_ms, title, image in self.chapters:
                chapter = xml_elem(f"{{{PSC_NS}}}chapter", chapters)
                chapter.attrib["start"] = vtt_time(start_ms)  # (the same HH:MM:SS.mmm)
                chapter.attrib["title"] = xml_safe(title)
                if image:
                    chapter.attrib["image"] = image
        return entry


class ItunesExplicitExtension(BaseExtension):
    """`<itunes:explicit>` as Apple's current spec has it (`true`/`false`); feedgen's podcast
    extension only knows the older yes/no/clean."""

    def __init__(self) -> None:
        self.explicit: bool | None = None

    def extend_rss(self, feed):  # type: ignore[no-untyped-def]
        _add_explicit(feed[0], self.explicit)
        return feed


class ItunesExplicitEntryExtension(BaseEntryExtension):
    def __init__(self) -> None:
        self.explicit: bool | None = None

    def extend_rss(self, entry):  # type: ignore[no-untyped-def]
        _add_explicit(entry, self.explicit)
        return entry


def _add_explicit(parent, explicit: bool | None) -> None:  # type: ignore[no-untyped-def]
    if explicit is not None:
        xml_elem(f"{{{ITUNES_NS}}}explicit", parent).text = "true" if explicit else "false"


def itunes_duration(ms: int) -> str:
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def base_url(show: ShowConfig) -> str:
    base = show.base_url or PREVIEW_BASE_URL
    return base if base.endswith("/") else base + "/"


def episode_url(show: ShowConfig, name: str) -> str:
    return urljoin(base_url(show), f"{EPISODES}/{quote(name)}")


def item_guid(manifest: Manifest, feed: FeedConfig, channel_guid: str) -> tuple[str, bool]:
    """(guid, isPermaLink): stable across re-renders of the same article."""
    if feed.guid == "url" and manifest.url:
        return manifest.url, True
    return str(uuid.uuid5(uuid.UUID(channel_guid), manifest.slug)), False


def enclosure_type(manifest: Manifest) -> str:
    return ENCLOSURE_TYPES.get(Path(manifest.audio).suffix.lower(), manifest.mime_type)


def html_text(text: str) -> str:
    """Plain text as HTML that shows exactly that text (the XML escaping comes after)."""
    return html.escape(xml_safe(text), quote=False)  # text, never an attribute


def build_feed(
    manifests: list[Manifest],
    show: ShowConfig,
    feed: FeedConfig,
    built: datetime | None = None,
    section: SectionFeed | None = None,
) -> bytes:
    """The feed's bytes: the show's feed.xml, or with `section` one of its `[[feeds]]` (the
    episodes it selects, its own title, artwork and podcast:guid); `built` is its
    lastBuildDate (default: now)."""
    main_url = urljoin(base_url(show), FEED_NAME)
    feed_url = urljoin(base_url(show), section_feed_path(section.name)) if section else main_url
    title = section.title if section else show.title
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcast20", Podcast20Extension, Podcast20EntryExtension, atom=False)
    fg.register_extension(
        "itunes_explicit", ItunesExplicitExtension, ItunesExplicitEntryExtension, atom=False
    )
    fg.register_extension("psc", PodloveExtension, PodloveEntryExtension, atom=False)
    fg.title(xml_safe(title))
    # feedgen's RSS <link> is the last link given: the site, after the self link.
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.site_url, rel="alternate")
    description = section.description if section else show.description
    fg.description(xml_safe(description or title))
    fg.language(show.language)
    fg.generator("listen")
    fg.docs(None)
    if show.author:
        fg.author(
            {"name": show.author, **({"email": show.owner_email} if show.owner_email else {})}
        )
        fg.podcast.itunes_author(xml_safe(show.author))
    if show.owner_email:
        fg.podcast.itunes_owner(name=show.author or show.title, email=show.owner_email)
    check_category(show)
    fg.podcast.itunes_category(show.category, show.subcategory or None)
    fg.itunes_explicit.explicit = show.explicit
    fg.podcast.itunes_type("episodic")
    artwork = artwork_path(section) if section and section.artwork else None
    if artwork or show.artwork:
        artwork_url = urljoin(base_url(show), artwork or Path(str(show.artwork)).name)
        fg.podcast.itunes_image(artwork_url)
        fg.image(url=artwork_url, title=xml_safe(title), link=show.site_url)
    fg.podcast20.guid = podcast_guid(feed_url)
    fg.podcast20.locked = (feed.locked, show.owner_email)
    # An episode has one guid in every feed that lists it: the show feed's.
    channel_guid = podcast_guid(main_url)
    if section:
        manifests = selected(manifests, section)

    ordered = newest_first(manifests)
    if feed.max_items:
        ordered = ordered[: feed.max_items]
    for manifest in ordered:
        entry = fg.add_entry(order="append")
        entry.title(xml_safe(manifest.title))
        # Clients read <description> and content:encoded as HTML, itunes:summary as plain text.
        # gPodder's podcastparser needs all three: it takes text that merely looks like a tag
        # ("<head>") for HTML, and then reads content:encoded instead.
        summary = manifest.summary or manifest.title
        entry.description(html_text(summary))
        entry.content(f"<p>{html_text(summary)}</p>")
        entry.podcast.itunes_summary(xml_safe(summary))
        if manifest.url:
            entry.link(href=manifest.url)
        entry.guid(*item_guid(manifest, feed, channel_guid))
        entry.pubDate(episode_date(manifest))
        entry.enclosure(
            episode_url(show, manifest.audio), str(manifest.audio_bytes), enclosure_type(manifest)
        )
        if manifest.byline:
            entry.podcast.itunes_author(xml_safe(manifest.byline))
        entry.podcast.itunes_duration(itunes_duration(manifest.duration_ms))
        entry.podcast.itunes_episode_type("full")
        entry.itunes_explicit.explicit = show.explicit
        entry.podcast20.chapters_url = episode_url(show, f"{manifest.slug}.chapters.json")
        entry.podcast20.transcripts = [
            (episode_url(show, f"{manifest.slug}{suffix}"), kind)
            for suffix, (kind, _make) in TRANSCRIPTS.items()
        ]
        entry.podcast20.language = manifest.language
        if manifest.image:  # (else the channel's artwork is the episode's, in every app)
            entry.podcast.itunes_image(episode_url(show, manifest.image))
        entry.psc.chapters = [
            (c.start_ms, c.title, episode_url(show, image) if (image := manifest.chapter_image(i))
             else None)
            for i, c in enumerate(manifest.chapters)
        ]  # fmt: skip
    fg.lastBuildDate(built or datetime.now(UTC).replace(microsecond=0))
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def last_build_date(data: bytes) -> datetime | None:
    match = _LAST_BUILD.search(data)
    if not match:
        return None
    try:
        return parsedate_to_datetime(match.group(1).decode("ascii").strip())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def updated_feed(previous: bytes | None, manifests: list[Manifest], show: ShowConfig,
                 feed: FeedConfig, now: datetime | None = None,
                 section: SectionFeed | None = None) -> bytes:  # fmt: skip
    """The feed to publish: `previous` itself when nothing but the build date would change,
    else a feed built `now`."""
    before = last_build_date(previous) if previous else None
    if before is not None:
        same = build_feed(manifests, show, feed, built=before, section=section)
        if same == previous:
            return previous
    now = now or datetime.now(UTC).replace(microsecond=0)
    return build_feed(manifests, show, feed, built=now, section=section)


def section_feed_path(name: str) -> str:
    return f"{FEEDS}/{name}.xml"


def artwork_path(section: SectionFeed) -> str:
    """Where a section feed's own artwork is published (beside its feed, named for it)."""
    suffix = section.artwork.suffix.lower() if section.artwork else ""
    return f"{FEEDS}/{section.name}{suffix}"


def _write_feed_file(path: Path, make: Callable[[bytes | None], bytes]) -> None:
    """Write `make(previous bytes)` to `path` unless it holds that already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, prefix=f".{path.name}.", older_than_seconds=0)
    previous = path.read_bytes() if path.is_file() else None
    write_bytes_if_changed(path, make(previous))


def write_feed(out: Path, show: ShowConfig, feed: FeedConfig, lock: Path) -> Path:
    """Rebuild DIR/feed.xml, each `[[feeds]]` feed (DIR/feeds/<name>.xml, and its artwork) and
    DIR/playlist.json from the manifests in DIR, holding `lock` (outside DIR); unchanged
    input, unchanged bytes. A section feed no longer configured is removed."""
    path = out / FEED_NAME
    with locked(lock):
        manifests = load_manifests(out)
        _write_feed_file(path, lambda previous: updated_feed(previous, manifests, show, feed))
        for section in feed.feeds:

            def make(previous: bytes | None, section: SectionFeed = section) -> bytes:
                return updated_feed(previous, manifests, show, feed, section=section)

            _write_feed_file(out / section_feed_path(section.name), make)
            if section.artwork:  # checked as the show's is (square, 1400-3000 px)
                write_bytes_if_changed(out / artwork_path(section),
                                       load_artwork(section.artwork).data)  # fmt: skip
        _remove_stale_feeds(out, feed)
        lists = [FeedList(s.name, s.title, selected(manifests, s)) for s in feed.feeds]
        write_playlist(out, show, manifests, lists)
    return path


def selected(manifests: list[Manifest], section: SectionFeed) -> list[Manifest]:
    """The episodes a section feed lists."""
    return [m for m in manifests if section.lists(m.categories, m.tags, m.authors)]


def _remove_stale_feeds(out: Path, feed: FeedConfig) -> None:
    folder = out / FEEDS
    if not folder.is_dir():
        return
    keep = {section_feed_path(s.name) for s in feed.feeds}
    keep |= {artwork_path(s) for s in feed.feeds if s.artwork}
    for stale in folder.iterdir():
        if (
            stale.is_file()
            and f"{FEEDS}/{stale.name}" not in keep
            and not stale.name.startswith(".")
        ):
            stale.unlink(missing_ok=True)
    if not any(folder.iterdir()):
        folder.rmdir()
