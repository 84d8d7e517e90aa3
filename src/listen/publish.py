"""Stage 6, publish: the episode's files in the output folder, each written atomically.

DIR/episodes/<slug>.<mp3|m4a>      the tagged audio
DIR/episodes/<slug>.chapters.json  Podcasting 2.0 JSON chapters (version 1.2.0)
DIR/episodes/<slug>.vtt            WebVTT transcript, its speakers in <v> (listen.transcripts)
DIR/episodes/<slug>.srt            ... as SubRip
DIR/episodes/<slug>.transcript.json  ... as the Podcasting 2.0 JSON transcript
DIR/episodes/<slug>.transcript.html  ... as HTML, headings as headings
DIR/episodes/<slug>/cover.jpg      episode art, square (listen.art), if the article has a picture
DIR/episodes/<slug>/chapter-N.jpg  chapter N's art (1-based), if its section has a picture
DIR/episodes/<slug>.json           the manifest, written last: an episode exists once it does
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from listen.atomic import atomic_path, remove_stale_temps, write_bytes_if_changed, write_text
from listen.errors import ListenError
from listen.mix import MixedAudio, TimedChapter, TimedSentence
from listen.script import PageBlock
from listen.transcripts import TRANSCRIPTS

EPISODES = "episodes"
MAX_SLUG_CHARS = 80
CHAPTERS_VERSION = "1.2.0"


#: Names Windows reserves for devices, with any extension ("con.mp3" opens the console).
WINDOWS_RESERVED = frozenset(
    ("con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10)))
)


def slugify(value: str) -> str:
    """`a-z`, `0-9` and `-` only; never empty, never a path, never a Windows device name."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_SLUG_CHARS].rstrip("-")
    if slug in WINDOWS_RESERVED:
        return f"{slug}-episode"
    return slug or "episode"


def slug_for(url: str | None, source: str) -> str:
    """The canonical URL's last path segment, else the page's file name."""
    if url:
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if segments:
            last = re.sub(r"\.(html?|php|aspx?)$", "", unquote(segments[-1]), flags=re.I)
            if slugify(last) != "episode":
                return slugify(last)
    return slugify(Path(source).stem)


@dataclass(frozen=True)
class Manifest:
    """The episode manifest (interface.md): what the feed and the player read."""

    title: str
    slug: str
    #: The article's public URL, as `url` (kept for readers of the first manifests). Where the
    #: page was read from (a local path, a fetch URL) is private: see storage.EpisodeRecord.
    source: str | None
    url: str | None
    published: str | None
    language: str
    voice: str
    duration_ms: int
    audio: str
    chapters: tuple[TimedChapter, ...]
    sentences: tuple[TimedSentence, ...]
    byline: str | None = None
    summary: str | None = None
    mime_type: str = "audio/mpeg"
    audio_bytes: int = 0
    #: When this episode was first published to DIR; kept across re-renders (the feed's
    #: fallback pubDate when the article has no date).
    added: str | None = None
    #: A digest of everything the published files were made from: a re-render with the same
    #: one has nothing to do.
    render_key: str | None = None
    #: The page's blocks that the sentences read (kind and text fingerprint), for on-page
    #: read-along; each sentence's `block` indexes into them.
    blocks: tuple[PageBlock, ...] = ()
    #: The article's sections or categories, tags and authors (what `[[feeds]]` select on).
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    #: The episode's art and each chapter's (None: none), as names under episodes/
    #: ("<slug>/cover.jpg", "<slug>/chapter-2.jpg").
    image: str | None = None
    chapter_images: tuple[str | None, ...] = ()

    def art(self) -> list[str]:
        """The names of the episode's art files."""
        return [name for name in (self.image, *self.chapter_images) if name]

    def chapter_image(self, index: int) -> str | None:
        return self.chapter_images[index] if index < len(self.chapter_images) else None

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "slug": self.slug,
            "source": self.source,
            "url": self.url,
            "published": self.published,
            "language": self.language,
            "voice": self.voice,
            "duration_ms": self.duration_ms,
            "audio": self.audio,
            "mime_type": self.mime_type,
            "audio_bytes": self.audio_bytes,
            "byline": self.byline,
            "summary": self.summary,
            "added": self.added,
            "render_key": self.render_key,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "authors": list(self.authors),
            "image": self.image,
            "chapters": [
                {
                    "title": c.title,
                    "start_ms": c.start_ms,
                    "end_ms": c.end_ms,
                    **({"image": image} if (image := self.chapter_image(i)) else {}),
                }
                for i, c in enumerate(self.chapters)
            ],
            "sentences": [
                {"text": s.text, "start_ms": s.start_ms, "end_ms": s.end_ms, "chapter": s.chapter,
                 "voice": s.voice, "block": s.block}
                for s in self.sentences
            ],
            "blocks": [{"kind": b.kind, "fingerprint": b.fingerprint} for b in self.blocks],
        }

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        return cls(
            title=data["title"], slug=data["slug"], source=data.get("source"), url=data.get("url"),
            published=data.get("published"), language=data.get("language", "en"),
            voice=data.get("voice", ""), duration_ms=int(data["duration_ms"]),
            audio=data["audio"], byline=data.get("byline"), summary=data.get("summary"),
            mime_type=data.get("mime_type", "audio/mpeg"),
            audio_bytes=int(data.get("audio_bytes", 0)), added=data.get("added"),
            render_key=data.get("render_key"),
            categories=_strings(data.get("categories")), tags=_strings(data.get("tags")),
            authors=_strings(data.get("authors")), image=_art_name(data.get("image")),
            chapter_images=tuple(_art_name(c.get("image")) for c in data["chapters"]),
            chapters=tuple(TimedChapter(c["title"], int(c["start_ms"]), int(c["end_ms"]))
                           for c in data["chapters"]),
            sentences=tuple(TimedSentence(s["text"], int(s["start_ms"]), int(s["end_ms"]),
                                          int(s["chapter"]), str(s.get("voice", "")),
                                          None if s.get("block") is None else int(s["block"]))
                            for s in data["sentences"]),
            blocks=tuple(PageBlock(b["kind"], b["fingerprint"]) for b in data.get("blocks", ())),
        )  # fmt: skip


def _art_name(value: object) -> str | None:
    """An art file's name as a manifest gives it: "<slug>/<name>.jpg", nothing else."""
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+\.jpg", value):
        return value
    return None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def episode_date(manifest: Manifest) -> datetime:
    """When the episode was published: the article's date, else when it was first added."""
    for value in (manifest.published, manifest.added):
        if value:
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def newest_first(manifests: Iterable[Manifest]) -> list[Manifest]:
    """The order of the feed and the playlist."""
    return sorted(manifests, key=lambda m: (episode_date(m), m.slug), reverse=True)


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def chapters_json(manifest: Manifest, show_title: str,
                  url_of: Callable[[str], str] = lambda name: name) -> dict:  # fmt: skip
    """Podcasting 2.0 JSON chapters: times in seconds; a chapter's art as `img`, its URL
    (`url_of` a name under episodes/)."""
    data: dict = {"version": CHAPTERS_VERSION, "title": manifest.title, "podcastName": show_title}
    if manifest.byline:  # no byline, no key: an empty author is shown as one by some apps
        data["author"] = manifest.byline
    data["fileName"] = manifest.audio
    data["chapters"] = [
        {"startTime": c.start_ms / 1000, "endTime": c.end_ms / 1000, "title": c.title,
         **({"img": url_of(image)} if (image := manifest.chapter_image(i)) else {})}
        for i, c in enumerate(manifest.chapters)
    ]  # fmt: skip
    return data


def episode_paths(out: Path, slug: str, fmt: str) -> dict[str, Path]:
    """The episode's files: the audio, chapters, each transcript (by its suffix), manifest."""
    folder = out / EPISODES
    return {
        "audio": folder / f"{slug}.{fmt}",
        "chapters": folder / f"{slug}.chapters.json",
        "vtt": folder / f"{slug}.vtt",
        **{suffix: folder / f"{slug}{suffix}" for suffix in TRANSCRIPTS if suffix != ".vtt"},
        "manifest": folder / f"{slug}.json",
    }


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ListenError(f"--out {out} is a file, not a folder")


def art_names(slug: str, cover: bool, chapters: Sequence[bool]
              ) -> tuple[str | None, tuple[str | None, ...]]:  # fmt: skip
    """The names (under episodes/) of an episode's cover and each chapter's art, where it has
    them."""
    return (f"{slug}/cover.jpg" if cover else None,
            tuple(f"{slug}/chapter-{n}.jpg" if has else None
                  for n, has in enumerate(chapters, start=1)))  # fmt: skip


def publish_art(out: Path, slug: str, art: Mapping[str, bytes]) -> None:
    """The episode's art files (`art`: name under episodes/ -> bytes), unchanged bytes left as
    they are; the folder's other files (a chapter no longer illustrated) removed."""
    folder = out / EPISODES / slug
    if art:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(folder, older_than_seconds=0)  # (the caller holds the lock)
        for name, data in sorted(art.items()):
            write_bytes_if_changed(out / EPISODES / name, data)
    if folder.is_dir():
        keep = {Path(name).name for name in art}
        for stale in folder.iterdir():
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
        if not art:
            folder.rmdir()


def publish_episode(out: Path, manifest: Manifest, audio: MixedAudio, show_title: str,
                    art: Mapping[str, bytes] | None = None,
                    url_of: Callable[[str], str] = lambda name: name) -> Path:  # fmt: skip
    """Move the episode (and its art: name under episodes/ -> bytes) into `out`; return the
    manifest's path."""
    check_out_dir(out)
    paths = episode_paths(out, manifest.slug, audio.format)
    try:
        with atomic_path(paths["audio"]) as tmp:
            shutil.copyfile(audio.path, tmp)
        publish_art(out, manifest.slug, art or {})
        write_text(paths["chapters"], dumps(chapters_json(manifest, show_title, url_of)))
        for suffix, (_type, make) in TRANSCRIPTS.items():
            write_text(paths["vtt" if suffix == ".vtt" else suffix], make(manifest, show_title))
        write_text(paths["manifest"], dumps(manifest.to_json()))
    except OSError as exc:
        raise ListenError(f"cannot write to {out}: {exc.strerror or exc}") from None
    # A re-render in the other format leaves no stale audio behind.
    for other in ("mp3", "m4a"):
        stale = paths["audio"].with_suffix(f".{other}")
        if other != audio.format and stale.exists():
            stale.unlink()
    return paths["manifest"]


def read_manifest(path: Path) -> Manifest | None:
    try:
        return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def publish_artwork(out: Path, artwork: Path) -> None:
    write_bytes_if_changed(out / artwork.name, artwork.read_bytes())


def manifest_paths(out: Path) -> list[Path]:
    """The episodes' manifests: `<slug>.json` (a slug has no dot; the chapters and the JSON
    transcript have one more suffix)."""
    return [path for path in sorted((out / EPISODES).glob("*.json")) if "." not in path.stem]


def load_manifests(out: Path) -> list[Manifest]:
    manifests = []
    for path in manifest_paths(out):
        try:
            manifests.append(Manifest.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ListenError(f"bad episode manifest {path}: {exc}") from None
    return manifests
