"""Episode art and chapter art, from the article's own pictures.

- Chapter art: a chapter's picture is the first of its section's pictures (`Section.images`)
  that can be read and is not tiny, as a JPEG of at most `CHAPTER_MAX_PX` a side and about
  `CHAPTER_BUDGET_BYTES` (`[render] chapter_art`).
- Episode art: the article's lead picture (og:image, JSON-LD image, else its first figure),
  made square for Apple Podcasts (cropped when nearly square, else padded with its mean
  colour) at 1400 to 3000 pixels a side. Without one the show's artwork stands.

Picture addresses come from untrusted HTML. A local page's pictures are read from its own
folder only (never outside it, whatever `..` or link it names; an http(s) picture of a local
page is not fetched: rendering a file stays offline); a fetched page's are fetched with the
page's own limits (size, time, redirects, public addresses). Every picture is decoded by Pillow
with a pixel limit (decompression bombs) and re-encoded: the original bytes are never
published. A picture that cannot be had is skipped with a warning, never an error.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image, ImageOps, ImageStat

from listen.errors import ListenError
from listen.fetch import MAX_PAGE_BYTES, Limits, fetch_page
from listen.script import Script
from listen.tag import ARTWORK_MAX_PX, ARTWORK_MIN_PX

log = logging.getLogger("listen.art")

CHAPTER_MAX_PX = 1400
#: Chapter art is shown small; its JPEG is made smaller until it is at most this.
CHAPTER_BUDGET_BYTES = 80_000
#: The episode cover's JPEG, likewise (it is embedded in the audio as well as published).
COVER_BUDGET_BYTES = 400_000
#: A picture smaller than this on a side is an icon or a pixel, whatever its markup said.
MIN_PICTURE_PX = 100
#: An episode cover is not blown up from less than this (the show's artwork stands instead).
MIN_COVER_SOURCE_PX = 480
#: A picture at most this much wider than tall (or taller than wide) is cropped square; a
#: longer one is padded (cropping would cut most of it away).
CROP_MAX_RATIO = 1.25
#: Decompression bombs: a picture of more pixels than this is not decoded.
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
JPEG = "image/jpeg"


class Unavailable(Exception):
    """A picture that cannot be had; `quiet` when that is by design (not worth a warning)."""

    def __init__(self, reason: str, quiet: bool = False) -> None:
        super().__init__(reason)
        self.quiet = quiet


@dataclass
class Pictures:
    """Where one page's pictures are read from, each read (and decoded) once per render.

    `folder`: a local page's folder; `limits`: how a fetched page's pictures are fetched."""

    folder: Path | None = None
    limits: Limits | None = None
    _bytes: dict[str, bytes | Unavailable] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    def data(self, ref: str) -> bytes:
        """The picture's bytes, or Unavailable."""
        if ref not in self._bytes:
            try:
                self._bytes[ref] = self._read(ref)
            except Unavailable as exc:
                self._bytes[ref] = exc
        known = self._bytes[ref]
        if isinstance(known, Unavailable):
            raise known
        return known

    def _read(self, ref: str) -> bytes:
        if urlsplit(ref).scheme.lower() in ("http", "https"):
            if self.limits is None:
                raise Unavailable("not fetched for a local page", quiet=True)
            try:
                return fetch_page(ref, self.limits)
            except ListenError as exc:
                raise Unavailable(str(exc)) from None
        if self.folder is None:
            raise Unavailable("a relative address with no page folder", quiet=True)
        folder = self.folder.resolve()
        path = (folder / unquote(urlsplit(ref).path)).resolve()
        if not path.is_relative_to(folder):
            raise Unavailable("outside the page's folder")
        limit = self.limits.max_bytes if self.limits else MAX_PAGE_BYTES
        try:
            if not path.exists():
                raise Unavailable("no such file")
            if not path.is_file():  # (a folder, a FIFO that would never end...)
                raise Unavailable("not a file")
            if path.stat().st_size > limit:
                raise Unavailable(f"larger than {limit} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise Unavailable(exc.strerror or str(exc)) from None

    def image(self, ref: str) -> Image.Image | None:
        """The picture decoded (RGB, upright), or None with a warning (once) saying why."""
        try:
            return decode(self.data(ref))
        except Unavailable as exc:
            if not exc.quiet and ref not in self._warned:
                self._warned.add(ref)
                log.warning("picture %s skipped: %s", ref, exc)
            return None

    def fingerprint(self, ref: str) -> str:
        """What the render key holds of a picture: a local one's content digest (a file is
        cheap to read again), a fetched one's address (not fetched again to find nothing
        changed)."""
        if urlsplit(ref).scheme.lower() in ("http", "https"):
            return ref
        try:
            return hashlib.sha256(self.data(ref)).hexdigest()
        except Unavailable as exc:
            return f"unavailable: {exc}"


def decode(data: bytes) -> Image.Image:
    """Pillow's reading of untrusted bytes, within `MAX_PIXELS`; Unavailable otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise Unavailable(f"{opened.width}x{opened.height} is too many pixels")
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except Unavailable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unavailable("too many pixels (a decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise Unavailable("not a readable JPEG, PNG, GIF or WebP picture") from None
    if min(image.size) < MIN_PICTURE_PX:
        raise Unavailable(f"too small ({image.width}x{image.height})", quiet=True)
    return flatten(image)


def flatten(image: Image.Image) -> Image.Image:
    """RGB, transparency laid on white (JPEG has none)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def encode_jpeg(image: Image.Image, budget: int, min_px: int = 0) -> bytes:
    """The smallest-effort JPEG within `budget` bytes: lower quality first, then fewer pixels
    (never below `min_px` a side). Deterministic: the same picture gives the same bytes."""
    data = b""
    for quality in (85, 75, 65):
        data = _jpeg(image, quality)
        if len(data) <= budget:
            return data
    while len(data) > budget and min(image.size) * 0.8 >= max(min_px, MIN_PICTURE_PX):
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)),
                             Image.Resampling.LANCZOS)  # fmt: skip
        data = _jpeg(image, 65)
    return data


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def chapter_jpeg(image: Image.Image) -> bytes:
    picture = image.copy()
    picture.thumbnail((CHAPTER_MAX_PX, CHAPTER_MAX_PX), Image.Resampling.LANCZOS)
    return encode_jpeg(picture, CHAPTER_BUDGET_BYTES)


def square_cover(image: Image.Image) -> bytes | None:
    """The picture as a square of 1400 to 3000 pixels a side, or None when it is too small
    to make one of."""
    width, height = image.size
    short, long = min(width, height), max(width, height)
    if long / short <= CROP_MAX_RATIO:
        left, top = (width - short) // 2, (height - short) // 2
        square, side = image.crop((left, top, left + short, top + short)), short
    else:
        fill = tuple(round(v) for v in ImageStat.Stat(image).mean[:3])
        square, side = Image.new("RGB", (long, long), fill), long
        square.paste(image, ((long - width) // 2, (long - height) // 2))
    if side < MIN_COVER_SOURCE_PX:
        return None
    target = min(max(side, ARTWORK_MIN_PX), ARTWORK_MAX_PX)
    if target != side:
        square = square.resize((target, target), Image.Resampling.LANCZOS)
    # (fewer pixels than Apple's minimum would be refused: the budget yields first)
    return encode_jpeg(square, COVER_BUDGET_BYTES, min_px=ARTWORK_MIN_PX)


@dataclass(frozen=True)
class EpisodeArt:
    """An episode's pictures as published JPEG bytes: its cover (None: the show's artwork
    stands) and each chapter's (None: no art of its own)."""

    cover: bytes | None = None
    chapters: tuple[bytes | None, ...] = ()


def cover_refs(script: Script) -> list[str]:
    """The episode cover's candidates: the lead picture, then the first section picture."""
    first = next((c.images[0] for c in script.chapters if c.images), None)
    return list(dict.fromkeys(ref for ref in (script.article.image, first) if ref))


def art_inputs(script: Script, pictures: Pictures, chapter_art: bool) -> list:  # type: ignore[type-arg]
    """What the episode's art is made from, for the render key."""
    chapters = [c.images for c in script.chapters] if chapter_art else []
    refs = dict.fromkeys([*cover_refs(script), *(ref for refs in chapters for ref in refs)])
    return [chapters, cover_refs(script), {ref: pictures.fingerprint(ref) for ref in refs}]


def episode_art(script: Script, pictures: Pictures, chapter_art: bool) -> EpisodeArt:
    cover = next(
        (made for ref in cover_refs(script)
         if (image := pictures.image(ref)) is not None and (made := square_cover(image))),
        None,
    )  # fmt: skip
    chapters: Sequence[bytes | None] = ()
    if chapter_art:
        chapters = [_first_readable(c.images, pictures) for c in script.chapters]
    return EpisodeArt(cover=cover, chapters=tuple(chapters))


def _first_readable(refs: Sequence[str], pictures: Pictures) -> bytes | None:
    for ref in refs:
        image = pictures.image(ref)
        if image is not None:
            return chapter_jpeg(image)
    return None
