"""The C allocator of listen's own processes: one glibc malloc arena for all their threads.

glibc gives each thread that allocates at once with another an arena of its own (up to eight
per core), and memory freed in an arena stays with it. A render's threads (synthesis,
onnxruntime's, the mixer's, the encoders' feeders) each allocate and free audio-sized buffers,
so every arena keeps its own high-water mark: measured on the 2-hour article with the neural
voice `heart`, one arena lowered the render's peak RSS from 435-450 MB to 387-398 MB, at the
same speed (numpy's and onnxruntime's large buffers are few; Python's small objects do not go
through malloc's arenas).

Set only in processes listen starts itself (the CLI, its synthesis workers): a program that
imports listen keeps its own allocator settings. `MALLOC_ARENA_MAX` in the environment, read
by glibc itself, wins.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: mallopt(3) parameter: the most arenas glibc makes.
M_ARENA_MAX = -8


def share_one_arena() -> bool:
    """Make every thread of this process allocate from one glibc arena; True if set. Call it
    before the process starts threads (arenas already made stay)."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no arenas to share)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, 1))
