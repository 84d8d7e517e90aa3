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

from listen.config import VoicePreset


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


@functools.cache
def file_digest(path: Path, size: int, mtime_ns: int) -> str:
    # size and mtime are part of the memo key so a replaced model is hashed again.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_digest(path: Path) -> str:
    """The SHA-256 of a model file (memoized per file version)."""
    stat = path.stat()
    return file_digest(path, stat.st_size, stat.st_mtime_ns)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return ""
