"""The tags written into MP3 and M4A files: one mapping, read back with mutagen."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from listen.mix import TimedChapter, run_ffmpeg
from listen.publish import Manifest, chapters_json
from listen.tag import EpisodeTags, tag

TAGS = EpisodeTags(
    title="Salt marsh walks inland",
    artist="Priya Castellanos",
    album="Harrow Bay Gazette: Audio Edition",
    album_artist="Harrow Bay Gazette",
    language="en-GB",
    chapters=(TimedChapter("Salt marsh walks inland", 0, 600), TimedChapter("Why", 600, 1000)),
    date="2024-04-09T07:00:00+01:00",
    url="https://harrowbay.example/news/salt-marsh",
    description="The marsh moved 40 m in a decade & nobody noticed.",
)


def silent(path: Path) -> Path:
    codec = ["-c:a", "libmp3lame"] if path.suffix == ".mp3" else ["-c:a", "aac", "-f", "mp4"]
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "1", *codec, str(path)])
    return path


def read_id3(path: Path) -> dict[str, str]:
    id3 = ID3(path)
    date = str(id3["TDRC"]).replace(" ", "T")  # mutagen shows the T it wrote as a space
    return {
        "title": str(id3["TIT2"]), "artist": str(id3["TPE1"]), "album_artist": str(id3["TPE2"]),
        "album": str(id3["TALB"]), "genre": str(id3["TCON"]), "date": date,
        "comment": str(id3.getall("COMM")[0]), "url": id3["WOAS"].url,
    }  # fmt: skip


def read_mp4(path: Path) -> dict[str, str]:
    tags = MP4(path).tags
    assert tags is not None
    return {
        "title": tags["©nam"][0], "artist": tags["©ART"][0], "album_artist": tags["aART"][0],
        "album": tags["©alb"][0], "genre": tags["©gen"][0], "date": tags["©day"][0],
        "comment": tags["©cmt"][0],
        "url": bytes(tags["----:com.apple.iTunes:URL"][0]).decode(),
    }  # fmt: skip


def test_mp3_and_m4a_carry_the_same_fields(tmp_path: Path) -> None:
    mp3, m4a = silent(tmp_path / "a.mp3"), silent(tmp_path / "a.m4a")
    tag(mp3, "mp3", TAGS)
    tag(m4a, "m4a", TAGS)
    expected = {
        "title": TAGS.title, "artist": "Priya Castellanos", "album_artist": "Harrow Bay Gazette",
        "album": TAGS.album, "genre": "Podcast", "date": "2024-04-09T07:00:00",
        "comment": TAGS.description, "url": TAGS.url,
    }  # fmt: skip
    assert read_id3(mp3) == expected
    assert read_mp4(m4a) == expected
    assert MP4(m4a).tags["desc"] == [TAGS.description]


@pytest.mark.parametrize(("byline", "has_author"), [("Priya Castellanos", True), (None, False)])
def test_chapters_json_names_an_author_only_when_there_is_one(byline, has_author) -> None:  # type: ignore[no-untyped-def]
    manifest = Manifest(title="T", slug="t", source=None, url=None, published=None,
                        language="en", voice="heart", duration_ms=1000, audio="t.mp3",
                        chapters=(TimedChapter("T", 0, 1000),), sentences=(),
                        byline=byline)  # fmt: skip
    data = chapters_json(manifest, "Show")
    assert ("author" in data) is has_author
    assert data.get("author", byline) == byline
