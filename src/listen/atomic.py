"""Writes that never leave a half-written file: temp file in the same folder, fsync, rename."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from listen.errors import ListenError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent renders into one folder unsupported
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private; published files must be readable by the web server.
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which races with other threads.
_UMASK = _read_umask()


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock (flock) on `lock_file` for the block: renders running at
    once in one output folder take turns to publish an episode and to rebuild the feed."""
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_file, "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ListenError(f"cannot write to {lock_file.parent}: {exc.strerror or exc}") from None
    with handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_stale_temps(folder: Path, prefix: str = ".", older_than_seconds: float = 3600) -> None:
    """Delete temp files a killed writer left behind: those older than a live writer takes, or
    any age for files whose writer's lock the caller holds (`prefix` names them)."""
    cutoff = time.time() - older_than_seconds
    for leftover in folder.glob(f"{glob.escape(prefix)}*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_bytes_if_changed(target: Path, data: bytes) -> bool:
    """Write `target` atomically unless it already holds `data` (a web server's caches and a
    podcast app's conditional GETs keep seeing it unchanged); True if it was written."""
    if target.is_file() and target.read_bytes() == data:
        return False
    write_bytes(target, data)
    return True


def create_once(target: Path, data: bytes) -> bool:
    """Write `target` atomically unless it exists; True if this call created it. Content-
    addressed files are never replaced: when two processes make the same one at once, the
    first to finish wins and the other uses it (both are valid, but only one may be seen)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
