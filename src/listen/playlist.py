"""DIR/playlist.json: the newest episodes, for the player's "Up next" and "keep listening"
(`<listen-player playlist="…/playlist.json">`) and for a site's own lists.

    {"version": 1, "title": "<show>",
     "episodes": [{"title", "manifest", "duration", "published", "url", "slug"}, ...],
     "feeds": {"<name>": {"title": "...", "episodes": [...]}}}

Newest first, at most PLAYLIST_ITEMS. `manifest` is the episode manifest's URL relative to
playlist.json (so the same folder works wherever it is served, `listen serve` included);
`duration` is in seconds; `published` is ISO 8601 (the article's date, else when the episode
was first published). `feeds` holds each `[[feeds]]` feed's own list, when a site has any.
It is rebuilt with the feed, from the same manifests, under the same lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from listen.atomic import remove_stale_temps, write_bytes_if_changed
from listen.config import ShowConfig
from listen.publish import EPISODES, Manifest, dumps, episode_date, newest_first

PLAYLIST_NAME = "playlist.json"
PLAYLIST_VERSION = 1
#: Enough for "Up next" on any article page; the feed is where the whole archive is.
PLAYLIST_ITEMS = 50


@dataclass(frozen=True)
class FeedList:
    """One of the site's section feeds, with the episodes it lists."""

    name: str
    title: str
    manifests: Sequence[Manifest]


def playlist_entry(manifest: Manifest) -> dict:
    return {
        "title": manifest.title,
        "manifest": f"{EPISODES}/{quote(manifest.slug)}.json",
        "duration": round(manifest.duration_ms / 1000, 3),
        "published": episode_date(manifest).isoformat(),
        "url": manifest.url,
        "slug": manifest.slug,
    }


def _entries(manifests: Sequence[Manifest]) -> list[dict]:
    return [playlist_entry(m) for m in newest_first(manifests)[:PLAYLIST_ITEMS]]


def build_playlist(
    manifests: Sequence[Manifest], show: ShowConfig, feeds: Sequence[FeedList] = ()
) -> dict:
    playlist: dict = {
        "version": PLAYLIST_VERSION,
        "title": show.title,
        "episodes": _entries(manifests),
    }
    if feeds:
        playlist["feeds"] = {
            feed.name: {"title": feed.title, "episodes": _entries(feed.manifests)} for feed in feeds
        }
    return playlist


def write_playlist(
    out: Path, show: ShowConfig, manifests: Sequence[Manifest], feeds: Sequence[FeedList] = ()
) -> Path:
    """Rebuild DIR/playlist.json (the feed rebuild calls this, holding its lock); unchanged
    input, unchanged bytes."""
    path = out / PLAYLIST_NAME
    remove_stale_temps(out, prefix=f".{PLAYLIST_NAME}.", older_than_seconds=0)
    write_bytes_if_changed(path, dumps(build_playlist(manifests, show, feeds)).encode())
    return path


__all__ = ["PLAYLIST_NAME", "FeedList", "build_playlist", "playlist_entry", "write_playlist"]
