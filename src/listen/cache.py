"""The take cache: synthesized audio stored under a key of everything that shaped it.

A take is a 16-bit mono WAV at `<dir>/<key[:2]>/<key>.wav`, written atomically, with its
loudness summary beside it (`<key>.loudness`, see `listen.loudness`). The key is a
SHA-256 of the voice's identity (engine, model and its digest, engine version, settings) and
the exact text the engine is given (so lexicon respellings and phonemes are part of it): an
edit re-synthesizes exactly the sentences whose key changed. Encoded MP3 parts of episodes
(`listen.mix`) are kept the same way, as `<key>.mp3` (MP3) or `<key>.aac` (ADTS, for M4A) with
their frame index (`<key>.frames`).
Reads refresh a file's mtime, and pruning removes the least recently used files above a size
limit. Every store appends what it added to `usage.log`, so that a render can tell whether the
cache may be over its limit without a stat of every file (`prune_if_over`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import time
import wave
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from listen.atomic import create_once, remove_stale_temps, write_bytes, write_bytes_if_changed
from listen.errors import ListenError

if TYPE_CHECKING:
    from listen.loudness import TakeSummary

#: Default size limit of the cache, in bytes.
DEFAULT_MAX_BYTES = 2 * 1024**3
WAV_HEADER_BYTES = 44
#: A temporary file this old belongs to a writer that died (a live one renames within seconds).
STALE_TEMP_SECONDS = 3600
#: What is stored beside each take and each encoded part (by their suffixes), and goes when
#: it goes.
SIDECARS = {".wav": ".loudness", ".mp3": ".frames", ".aac": ".frames"}
#: The file suffix of an encoded part, by its stream's format (`listen.mix`).
PART_SUFFIXES = {"mp3": ".mp3", "adts": ".aac"}
#: The cache's size as of its last full scan ("scan <time> <bytes>"), then a line per store
#: with the bytes it added. Small appends are atomic between processes, so concurrent renders
#: and pool processes all count.
USAGE_LOG = "usage.log"
#: The folder of `remember_page`'s hints, a small file per page source (not a take: `??/`
#: folders hold those, and pruning sees only them).
PAGE_HINTS = "pages"
#: A render scans the whole cache at least this often even when the log says it fits: a scan
#: catches what the log cannot see (files deleted or copied by hand, a line lost in a race
#: with a scan) and clears the temp files a killed writer left.
FULL_SCAN_SECONDS = 24 * 3600


def default_cache_dir() -> Path:
    """`$LISTEN_CACHE_DIR`, else the platform's user cache folder."""
    if env := os.environ.get("LISTEN_CACHE_DIR"):
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("listen")) / "takes"


def take_key(identity: Mapping[str, str | float], text: str) -> str:
    blob = json.dumps({"voice": dict(identity), "text": text}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class TakeRef:
    """A take in the cache: where it is and how long it is, without its samples."""

    key: str
    samples: int
    sample_rate: int


@dataclass(frozen=True)
class CacheStats:
    directory: Path
    takes: int
    bytes: int


class TakeCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def lookup(self, key: str) -> TakeRef | None:
        """The take if it is present and whole (a truncated file counts as missing)."""
        path = self.path(key)
        try:
            with open(path, "rb") as file:
                header = file.read(WAV_HEADER_BYTES)
                size = os.fstat(file.fileno()).st_size
                with contextlib.suppress(OSError):  # recency, for least-recently-used pruning
                    os.utime(file.fileno() if os.utime in os.supports_fd else path)
        except OSError:
            return None
        frames, rate = _read_wav_header(header)
        if frames == 0 or size < WAV_HEADER_BYTES + 2 * frames:
            return None
        return TakeRef(key, frames, rate)

    def read(self, ref: TakeRef) -> np.ndarray:
        try:
            with wave.open(str(self.path(ref.key)), "rb") as wav:
                samples = np.frombuffer(wav.readframes(ref.samples), dtype=np.int16)
        except (OSError, EOFError, wave.Error) as exc:
            raise ListenError(
                f"cached take {ref.key[:12]} unreadable ({exc}); render again"
            ) from None
        if len(samples) != ref.samples:
            raise ListenError(f"cached take {ref.key[:12]} changed or truncated; render again")
        return samples

    def summary_path(self, key: str) -> Path:
        return self.path(key).with_suffix(SIDECARS[".wav"])

    def store(
        self, key: str, samples: np.ndarray, sample_rate: int, summary: TakeSummary
    ) -> TakeRef:  # fmt: skip
        """Store a take and its loudness summary. A take, once stored, is never replaced; a
        missing summary is rebuilt by `read_summary`."""
        data = _wav_header(len(samples), sample_rate) + samples.astype("<i2").tobytes()
        if not create_once(self.path(key), data):
            # Another process made this take first: use its version, which others may already
            # be using. A damaged one (a truncated file) nobody can use: replace it.
            if (existing := self.lookup(key)) is not None:
                return existing
            write_bytes(self.path(key), data)
        summary_bytes = summary.to_bytes()
        write_bytes(self.summary_path(key), summary_bytes)
        self._record_growth(len(data) + len(summary_bytes))
        return TakeRef(key, len(samples), sample_rate)

    def read_summary(self, ref: TakeRef) -> TakeSummary:
        """The take's loudness summary; rebuilt from the take if missing or damaged."""
        from listen.loudness import TakeSummary, summarize_take

        try:
            summary = TakeSummary.from_bytes(self.summary_path(ref.key).read_bytes())
        except OSError:
            summary = None
        if summary is None:
            summary = summarize_take(self.read(ref), ref.sample_rate)
            with contextlib.suppress(OSError):
                write_bytes(self.summary_path(ref.key), summary.to_bytes())
        return summary

    def part_path(self, key: str, stream: str = "mp3") -> Path:
        return self.directory / key[:2] / f"{key}{PART_SUFFIXES[stream]}"

    def lookup_part(self, key: str, stream: str = "mp3") -> bytes | None:
        """An encoded part of an episode (`listen.mix`) in `stream` format, if cached."""
        path = self.part_path(key, stream)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return data

    def part_index_path(self, key: str, stream: str = "mp3") -> Path:
        path = self.part_path(key, stream)
        return path.with_suffix(SIDECARS[path.suffix])

    def lookup_part_index(self, key: str, stream: str = "mp3") -> bytes | None:
        """The frame index stored beside an encoded part (`listen.mp3.frame_index`), if any."""
        try:
            return self.part_index_path(key, stream).read_bytes()
        except OSError:
            return None

    def store_part_index(self, key: str, index: bytes, stream: str = "mp3") -> None:
        """Store a part's frame index (best effort: without one, the part is parsed again)."""
        with contextlib.suppress(OSError):
            write_bytes(self.part_index_path(key, stream), index)
            self._record_growth(len(index))

    def store_part(self, key: str, data: bytes, usable: Callable[[bytes], bool],
                   stream: str = "mp3") -> bytes:  # fmt: skip
        """Store an encoded part; return the part as the cache now holds it: `data`, or the
        one another process stored first, if `usable` (a part, once stored, is never replaced
        while anyone may be reading it)."""
        path = self.part_path(key, stream)
        if create_once(path, data):
            self._record_growth(len(data))
            return data
        existing = self.lookup_part(key, stream)
        if existing is not None and usable(existing):
            return existing
        write_bytes(path, data)
        self._record_growth(len(data))
        return data

    def _page_hint_path(self, source: str) -> Path:
        return self.directory / PAGE_HINTS / hashlib.sha256(source.encode()).hexdigest()[:40]

    def page_was_made(self, source: str, made_from: str) -> bool:
        """Whether the last render of `source` that made all its takes into this cache was
        of `made_from` (a digest of the page and its voice): a hint that a render of it now
        will need no voice (`remember_page`). Only a hint: a pruned take is made again all the
        same."""
        try:
            return self._page_hint_path(source).read_text(encoding="ascii") == made_from
        except (OSError, UnicodeDecodeError):
            return False

    def remember_page(self, source: str, made_from: str) -> None:
        """Note that every take of `source`, as `made_from` describes it, is in the cache."""
        with contextlib.suppress(OSError):  # a hint only: a read-only cache does without
            write_bytes_if_changed(self._page_hint_path(source), made_from.encode("ascii"))

    def _record_growth(self, added: int) -> None:
        """Append what a store added to the usage log (best effort: a lost line only delays a
        prune until the next full scan)."""
        with contextlib.suppress(OSError):
            fd = os.open(self.directory / USAGE_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, b"%d\n" % added)
            finally:
                os.close(fd)

    def estimated_bytes(self) -> int | None:
        """The cache's size by its usage log: the last full scan's total plus what was stored
        since. None without a scan in the last FULL_SCAN_SECONDS (or a readable log)."""
        try:
            lines = (self.directory / USAGE_LOG).read_bytes().splitlines()
            word, scanned_at, total = lines[0].split()
            if word != b"scan" or time.time() - float(scanned_at) > FULL_SCAN_SECONDS:
                return None
            return int(total) + sum(int(line) for line in lines[1:] if line.strip())
        except (OSError, ValueError, IndexError):
            return None

    def prune_if_over(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """`prune`, unless the usage log says the cache fits: a render's check costs a read of
        one small file instead of a stat of every file (0.6 s for 6,000 files here)."""
        estimate = self.estimated_bytes()
        if estimate is not None and estimate <= max_bytes:
            return 0
        return self.prune(max_bytes)

    def _files(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes with its sidecar, path) for every take and encoded part."""
        files = []
        for path in [path for stored in SIDECARS for path in self.directory.glob(f"??/*{stored}")]:
            with contextlib.suppress(OSError):
                stat = path.stat()
                sidecar = path.with_suffix(SIDECARS[path.suffix])
                extra = sidecar.stat().st_size if sidecar.exists() else 0
                files.append((stat.st_mtime, stat.st_size + extra, path))
        return files

    def stats(self) -> CacheStats:
        files = self._files()
        return CacheStats(self.directory, len(files), sum(size for _, size, _ in files))

    def prune(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """Delete least recently used takes until the cache fits `max_bytes`; return how many."""
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, path in files:
            if total <= max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(SIDECARS[path.suffix]).unlink()
            total -= size
        for folder in self.directory.glob("??"):  # temp files left by a killed writer
            remove_stale_temps(folder, older_than_seconds=STALE_TEMP_SECONDS)
        if self.directory.is_dir():  # (pruning a cache that was never made does not make one)
            with contextlib.suppress(OSError):
                write_bytes(self.directory / USAGE_LOG, b"scan %.0f %d\n" % (time.time(), total))
        return removed


#: The header `_wav_header` writes: RIFF, its size, WAVE, a 16-byte fmt chunk (PCM, mono, the
#: rate, bytes per second, 2 bytes per frame, 16 bits), then the data chunk's name and size.
_WAV_HEADER = struct.Struct("<4sI8sIHHIIHH4sI")


def _read_wav_header(header: bytes) -> tuple[int, int]:
    """(frames, rate) of a take's header as `_wav_header` writes it; (0, 0) for any other.
    A re-render of a long article looks up thousands of takes: read directly, from a file
    opened once, a lookup took 18 us here, against 28-55 us through the `wave` module."""
    if len(header) != _WAV_HEADER.size:
        return 0, 0
    riff, _, wave_fmt, fmt_size, codec, channels, rate, _, align, bits, data, size = (
        _WAV_HEADER.unpack(header))
    if (riff, wave_fmt, data, fmt_size, codec, channels, align, bits) != (
            b"RIFF", b"WAVEfmt ", b"data", 16, 1, 1, 2, 16):  # fmt: skip
        return 0, 0
    return size // 2, rate


def _wav_header(frames: int, rate: int) -> bytes:
    data = 2 * frames
    return b"".join([
        b"RIFF", (36 + data).to_bytes(4, "little"), b"WAVEfmt ",
        (16).to_bytes(4, "little"), (1).to_bytes(2, "little"), (1).to_bytes(2, "little"),
        rate.to_bytes(4, "little"), (2 * rate).to_bytes(4, "little"),
        (2).to_bytes(2, "little"), (16).to_bytes(2, "little"),
        b"data", data.to_bytes(4, "little"),
    ])  # fmt: skip


def parse_size(text: str) -> int:
    """'500M', '2G', '1024' -> bytes."""
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "")
    try:
        return int(float(number) * units[unit])
    except (ValueError, KeyError):
        raise ValueError(f"not a size: {text!r} (use e.g. 500M or 2G)") from None
