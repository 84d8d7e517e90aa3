"""listen's own processes allocate from one glibc arena (listen.allocator), counted by glibc's
own malloc_stats() in a fresh process whose threads allocate at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")

# Four threads malloc at once, then glibc lists its arenas on stderr.
THREADS_ALLOCATE = """
import ctypes, sys, threading
{setup}
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
together = threading.Barrier(4)
def allocate():
    together.wait()
    blocks = [libc.malloc(4096) for _ in range(500)]
    together.wait()
    for block in blocks:
        libc.free(block)
threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
sys.stderr.flush()
libc.malloc_stats()
"""


def arenas(setup: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATE.format(setup=setup)],
                          env={**environment, **env}, capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return len(re.findall(r"(?m)^Arena \d+:", done.stderr))


def test_threads_get_arenas_of_their_own_by_default():
    assert arenas("") > 1  # what the setting changes (else the tests below prove nothing)


def test_the_cli_entry_makes_every_thread_share_one_arena():
    setup = "from listen.cli import main\nassert main(['voices']) == 0"
    assert arenas(setup) == 1


def test_synthesis_workers_share_one_arena(tmp_path):
    # A spawned pool worker runs _worker_init first (here with a voice that fails to load:
    # the setting comes before the engine).
    setup = ("from pathlib import Path\nfrom listen.config import VoicePreset\n"
             "from listen.synthesize import _worker_init\n"
             "_worker_init(VoicePreset(name='x', engine='no-such-engine'), "
             f"Path({str(tmp_path)!r}))")  # fmt: skip
    assert arenas(setup) == 1


def test_malloc_arena_max_in_the_environment_wins():
    setup = "from listen.allocator import share_one_arena\nassert not share_one_arena()"
    assert arenas(setup, MALLOC_ARENA_MAX="3") > 1
