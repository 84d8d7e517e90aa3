"""DIR/playlist.json, the player's "Up next": written by `listen render` and `listen feed`,
newest first, rebuilt with the feed. (The player's use of it is tested in the browser, in
tests/test_player_page.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urljoin

from helpers import CONFIG, Rendered, run_listen, write_manifest

from listen.config import ShowConfig
from listen.playlist import PLAYLIST_ITEMS, FeedList, build_playlist, write_playlist
from listen.publish import load_manifests


def read_playlist(out: Path) -> dict:
    return json.loads((out / "playlist.json").read_text(encoding="utf-8"))


def test_render_publishes_the_playlist(espeak_episode: Rendered) -> None:
    manifest = espeak_episode.manifest
    playlist = read_playlist(espeak_episode.out)
    assert playlist["version"] == 1
    assert playlist["title"] == "Example News: Audio Edition"
    assert "feeds" not in playlist  # no [[feeds]] in the sample config
    (entry,) = playlist["episodes"]
    assert entry == {
        "title": manifest["title"],
        "manifest": f"episodes/{manifest['slug']}.json",
        "duration": manifest["duration_ms"] / 1000,
        "published": "2024-02-15T09:30:00+00:00",
        "url": manifest["url"],
        "slug": manifest["slug"],
    }
    # The manifest URL is relative to the playlist: it resolves wherever DIR is served.
    served = urljoin("https://cdn.example/listen/playlist.json", entry["manifest"])
    assert served == f"https://cdn.example/listen/episodes/{manifest['slug']}.json"
    assert (espeak_episode.out / entry["manifest"]).is_file()


def test_feed_rebuilds_the_playlist_newest_first(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "old", "Old story", "2024-01-01T08:00:00+00:00")
    write_manifest(out, "new", "New story", "2024-06-01T08:00:00+00:00")
    write_manifest(out, "undated", "Undated story", None)  # when it was added: 2024-05-01
    run_listen("feed", "--out", out, "--config", CONFIG)
    playlist = read_playlist(out)
    assert [e["title"] for e in playlist["episodes"]] == ["New story", "Undated story", "Old story"]
    assert [e["published"][:10] for e in playlist["episodes"]] == [
        "2024-06-01", "2024-05-01", "2024-01-01"]  # fmt: skip
    assert playlist["episodes"][0]["duration"] == 61.5

    # Unchanged input, unchanged file (a CDN's and a browser's caches keep it).
    before = (out / "playlist.json").stat()
    run_listen("feed", "--out", out, "--config", CONFIG)
    after = (out / "playlist.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    for path in (out / "episodes").glob("new.*"):
        path.unlink()
    run_listen("feed", "--out", out, "--config", CONFIG)
    assert [e["slug"] for e in read_playlist(out)["episodes"]] == ["undated", "old"]
    assert not [p for p in out.iterdir() if p.name.startswith(".playlist.json.")]  # no temp files


def test_playlist_holds_the_newest_only(tmp_path: Path) -> None:
    out = tmp_path / "public"
    for day in range(1, PLAYLIST_ITEMS + 6):
        published = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T08:00:00+00:00"
        write_manifest(out, f"story-{day:03d}", f"Story {day}", published)
    write_playlist(out, ShowConfig(title="Show"), load_manifests(out))
    slugs = [e["slug"] for e in read_playlist(out)["episodes"]]
    assert len(slugs) == PLAYLIST_ITEMS
    assert slugs[0] == f"story-{PLAYLIST_ITEMS + 5:03d}" and "story-001" not in slugs


def test_each_section_feed_has_its_own_list(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_manifest(out, "budget", "Budget vote", "2024-03-01T08:00:00+00:00")
    write_manifest(out, "match", "Cup final", "2024-03-02T08:00:00+00:00")
    write_manifest(out, "derby", "Derby day", "2024-03-03T08:00:00+00:00")
    manifests = {m.slug: m for m in load_manifests(out)}
    feeds = [
        FeedList("politics", "Politics", [manifests["budget"]]),
        FeedList("sport", "Sport", [manifests["match"], manifests["derby"]]),
    ]
    playlist = build_playlist(list(manifests.values()), ShowConfig(title="Show"), feeds)
    assert [e["slug"] for e in playlist["episodes"]] == ["derby", "match", "budget"]
    assert playlist["feeds"] == {
        "politics": {"title": "Politics", "episodes": [playlist["episodes"][2]]},
        "sport": {"title": "Sport", "episodes": playlist["episodes"][:2]},
    }
