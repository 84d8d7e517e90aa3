"""Stage 5, tag: metadata and chapters written into the audio file, one writer per container.

MP3: ID3v2.4 text frames, APIC artwork, and chapters as CHAP frames under one ordered top-level
CTOC (the ID3v2 Chapter Frame Addendum), each with its picture as an APIC sub-frame when it has
one (the tag is then ID3v2.3: see `write_id3`). M4A: chapters muxed by ffmpeg (a QuickTime chapter
track, which Apple players and ffprobe read, plus Nero `chpl`), then iTunes-style atoms.

Both containers carry the same fields, by one mapping (`TEXT_FIELDS`): a player shows the same
artist, album artist, comment... whichever format a site publishes.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TPE2,
    WOAS,
    CTOCFlags,
    PictureType,
)
from mutagen.id3._tags import save_frame
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from PIL import Image, UnidentifiedImageError

from listen.errors import ListenError
from listen.mix import TimedChapter, run_ffmpeg

# ISO 639-1 -> ISO 639-2/B, for ID3 TLAN and MP4 track language.
ISO639_2 = {
    "en": "eng", "de": "ger", "fr": "fre", "es": "spa", "it": "ita", "pt": "por", "nl": "dut",
    "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin", "pl": "pol", "cs": "cze",
    "ru": "rus", "uk": "ukr", "ar": "ara", "he": "heb", "fa": "per", "tr": "tur", "el": "gre",
    "hi": "hin", "ja": "jpn", "zh": "chi", "ko": "kor", "id": "ind", "hu": "hun", "ro": "rum",
}  # fmt: skip


@dataclass(frozen=True)
class Artwork:
    data: bytes
    mime: str


@dataclass(frozen=True)
class EpisodeTags:
    title: str
    #: The article's byline (else the site's or show's name).
    artist: str
    #: The show.
    album: str
    language: str
    chapters: tuple[TimedChapter, ...]
    date: str | None = None
    #: The article's public URL.
    url: str | None = None
    #: The article's summary: the comment (and the M4A description).
    description: str | None = None
    artwork: Artwork | None = None
    #: The show's author (else `album`): what players group episodes under.
    album_artist: str | None = None
    genre: str = "Podcast"
    #: Each chapter's own picture (None: none), in order: an APIC inside its CHAP frame (MP3
    #: only: an M4A's chapter track carries no pictures that ffmpeg writes).
    chapter_art: tuple[Artwork | None, ...] = ()

    def text_fields(self) -> dict[str, str]:
        """Field name -> value, for every text field set."""
        values = {
            "title": self.title,
            "artist": self.artist,
            "album_artist": self.album_artist or self.album,
            "album": self.album,
            "genre": self.genre,
            "date": self.date[:19] if self.date else None,
            "comment": self.description,
        }
        return {name: value for name, value in values.items() if value}


#: The one mapping of text fields to ID3 frames and MP4 atoms. The article's URL is WOAS in ID3
#: (a URL frame) and a freeform `URL` atom in MP4, the summary is also the MP4 `desc`.
TEXT_FIELDS: dict[str, tuple[str, str]] = {
    "title": ("TIT2", "©nam"),
    "artist": ("TPE1", "©ART"),
    "album_artist": ("TPE2", "aART"),
    "album": ("TALB", "©alb"),
    "genre": ("TCON", "©gen"),
    "date": ("TDRC", "©day"),
    "comment": ("COMM", "©cmt"),
}
ID3_TEXT_FRAMES = {"TIT2": TIT2, "TPE1": TPE1, "TPE2": TPE2, "TALB": TALB, "TCON": TCON,
                   "TDRC": TDRC}  # fmt: skip
MP4_URL_ATOM = "----:com.apple.iTunes:URL"


#: Apple Podcasts' artwork rule: a square JPEG or PNG, 1400 to 3000 pixels a side.
ARTWORK_MIN_PX, ARTWORK_MAX_PX = 1400, 3000


def load_artwork(path: Path) -> Artwork:
    """Read and check the show artwork; anything podcast directories would reject is an error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListenError(f"cannot read artwork {path}: {exc.strerror or exc}") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ListenError(f"artwork {path} is not a readable PNG or JPEG image") from None
    if kind not in ("PNG", "JPEG"):
        raise ListenError(f"artwork {path} is {kind}; podcast apps need PNG or JPEG")
    if width != height or not ARTWORK_MIN_PX <= width <= ARTWORK_MAX_PX:
        raise ListenError(
            f"artwork {path} is {width}x{height}; it must be square, "
            f"{ARTWORK_MIN_PX} to {ARTWORK_MAX_PX} pixels a side"
        )
    return Artwork(data, "image/png" if kind == "PNG" else "image/jpeg")


def language_code(language: str) -> str:
    return ISO639_2.get(language.split("-")[0].lower(), "und")


class ChapterOrderedID3(ID3):
    """ID3 that writes frames in the order they were added (artwork last). mutagen sorts
    frames by size, which scatters CHAP frames; players that list chapters as found in the
    file (ffmpeg-based ones) would then show them out of order."""

    def _write(self, config):  # type: ignore[no-untyped-def]
        frames = sorted(self.values(), key=lambda frame: frame.FrameID == "APIC")
        return bytearray().join(save_frame(frame, config=config) for frame in frames)


def write_id3(path: Path, tags: EpisodeTags) -> None:
    id3 = ChapterOrderedID3()
    lang = language_code(tags.language)
    for name, value in tags.text_fields().items():
        frame_id = TEXT_FIELDS[name][0]
        if frame_id == "COMM":
            id3.add(COMM(encoding=3, lang=lang, desc="", text=value))
        else:
            id3.add(ID3_TEXT_FRAMES[frame_id](encoding=3, text=value))
    id3.add(TLAN(encoding=3, text=lang))
    if tags.url:
        id3.add(WOAS(url=tags.url))
    if tags.artwork:
        id3.add(
            APIC(
                encoding=3,
                mime=tags.artwork.mime,
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=tags.artwork.data,
            )
        )
    ids = [f"chp{i}" for i in range(len(tags.chapters))]
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text="Chapters")],
        )
    )
    art = list(tags.chapter_art) + [None] * (len(tags.chapters) - len(tags.chapter_art))
    for element_id, chapter, picture in zip(ids, tags.chapters, art, strict=True):
        sub_frames: list = [TIT2(encoding=3, text=chapter.title)]
        if picture is not None:
            sub_frames.append(APIC(encoding=3, mime=picture.mime, type=PictureType.OTHER,
                                   desc="Chapter", data=picture.data))  # fmt: skip
        id3.add(
            CHAP(
                element_id=element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=sub_frames,
            )
        )
    # ffmpeg (and every player built on it) reads a CHAP's sub-frame sizes as ID3v2.3 does,
    # plain 32-bit, so a v2.4 chapter with a picture (a syncsafe size over 127) is lost to it;
    # other readers take either version. So chapters with pictures are written as ID3v2.3.
    version = 3 if any(tags.chapter_art) else 4
    if version == 3:
        id3.update_to_v23()  # (the date as TYER/TDAT/TIME, as v2.3 has it)
    id3.save(str(path), v2_version=version)


def ffmetadata(chapters: Sequence[TimedChapter]) -> str:
    def escape(value: str) -> str:
        for char in "\\=;#\n":
            value = value.replace(char, "\\" + char)
        return value

    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={chapter.start_ms}",
            f"END={chapter.end_ms}",
            f"title={escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"


def write_mp4(path: Path, tags: EpisodeTags) -> None:
    with tempfile.TemporaryDirectory(prefix="listen-tag-", dir=path.parent) as tmp:
        meta = Path(tmp) / "chapters.txt"
        meta.write_text(ffmetadata(tags.chapters), encoding="utf-8")
        remuxed = Path(tmp) / f"remux{path.suffix}"
        run_ffmpeg([
            "-i", str(path), "-f", "ffmetadata", "-i", str(meta), "-map", "0:a",
            "-map_metadata", "1", "-map_chapters", "1", "-c", "copy",
            "-metadata:s:a:0", f"language={language_code(tags.language)}",
            "-movflags", "+faststart", "-f", "mp4", str(remuxed),
        ])  # fmt: skip
        remuxed.replace(path)
    mp4 = MP4(str(path))
    if mp4.tags is None:
        mp4.add_tags()
    assert mp4.tags is not None
    for name, value in tags.text_fields().items():
        mp4.tags[TEXT_FIELDS[name][1]] = [value]
    if tags.description:
        mp4.tags["desc"] = [tags.description]
    if tags.url:
        mp4.tags[MP4_URL_ATOM] = [MP4FreeForm(tags.url.encode("utf-8"))]
    if tags.artwork:
        kind = MP4Cover.FORMAT_PNG if tags.artwork.mime == "image/png" else MP4Cover.FORMAT_JPEG
        mp4.tags["covr"] = [MP4Cover(tags.artwork.data, imageformat=kind)]
    mp4.save()


WRITERS: dict[str, Callable[[Path, EpisodeTags], None]] = {"mp3": write_id3, "m4a": write_mp4}


def tag(path: Path, fmt: str, tags: EpisodeTags) -> None:
    WRITERS[fmt](path, tags)
