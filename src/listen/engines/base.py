"""The engine protocol every voice follows, and the helpers engines share.

An engine is loaded once per process from a `VoicePreset` (loading a model is the expensive
part) and then synthesizes one unit of text at a time, exactly as given: the script has already
split sentences and normalized the text, so an engine never splits or rewrites it.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np

from listen.atomic import create_once
from listen.cache import default_cache_dir
from listen.config import VoicePreset
from listen.errors import ListenError


class Engine(Protocol):
    preset: VoicePreset
    sample_rate: int

    def identity(self) -> dict[str, str | float]:
        """Everything besides the text that changes the audio (part of the cache key)."""
        ...

    def synthesize(self, text: str) -> np.ndarray:
        """int16 mono samples at `sample_rate`."""
        ...


def to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_digest(path: Path) -> str:
    """The SHA-256 of a model file, memoized per file version: in this process, and in the
    user cache folder (hashing joe's 63 MB took 0.05 s of every render, an edit's included).
    A version is the file's place on disk, size, and modification and change times: a file
    written anew, even with its old modification time restored, gets a new change time."""
    stat = path.stat()
    version = (f"{path.resolve()}\0{stat.st_dev}\0{stat.st_ino}\0{stat.st_size}\0"
               f"{stat.st_mtime_ns}\0{stat.st_ctime_ns}")  # fmt: skip
    return _remembered_digest(path, version)


@functools.cache
def _remembered_digest(path: Path, version: str) -> str:
    memo = (default_cache_dir() / "models" / "digests"
            / hashlib.sha256(version.encode()).hexdigest()[:32])  # fmt: skip
    try:
        known = memo.read_text("ascii")
        if len(known) == 64 and all(c in "0123456789abcdef" for c in known):
            return known
    except (OSError, UnicodeError):
        pass
    digest = file_digest(path)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        create_once(memo, digest.encode("ascii"))
    except (OSError, ListenError):  # a read-only cache: hashed again next time
        pass
    return digest


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return ""
