"""Processes listen starts end with their parent, however the parent ends.

A render's synthesis workers, `listen worker`'s pool processes and ffmpeg are children of a
process that may end by SIGTERM (a service manager), SIGINT (Ctrl-C), SIGKILL (the OOM killer,
`kill -9`) or a crash. Only the first two run any cleanup; so every child also watches its
parent on its own, twice over:

- Linux: `PR_SET_PDEATHSIG`, so the kernel sends the child SIGKILL the moment its parent dies
  (even while the child is busy inside a model's C code). The kernel ties it to the parent
  *thread* that started the child: listen starts children from the thread that waits for them.
- Everywhere: a thread that waits on the parent's end of a pipe (the one every `spawn`ed
  multiprocessing child has) and ends the process when it closes; forked children, which
  have no such pipe, poll their parent's pid instead.

SIGTERM ends a listen command the way Ctrl-C does (`Terminated` is a `KeyboardInterrupt`):
every `finally` runs, temporary files are removed, children are stopped, and the exit status
is 143 (128 + SIGTERM), as a shell reports a process SIGTERM killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: How often a forked child with no pipe to watch looks at its parent's pid.
POLL_SECONDS = 0.2
#: Exit status after SIGTERM, as a shell reports it.
TERMINATED_STATUS = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the command stops as it does on Ctrl-C, with status 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def terminate_like_interrupt() -> None:
    """From now on SIGTERM raises `Terminated` in the main thread (call it from there)."""
    signal.signal(signal.SIGTERM, _raise_terminated)


#: The signals whose Python handlers stop a command (KeyboardInterrupt, `Terminated`).
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """A block in which C code calls back into Python (espeak-ng's synth callback): the Python
    handlers of SIGINT and SIGTERM do not run inside it; a signal that arrives is handled, as
    usual, once the block ends.

    Python runs a signal's handler in the main thread at the next Python line it executes;
    while the main thread is in C code that calls back, that line is in the callback, and ctypes
    prints and then drops what a callback raises. Ctrl-C or SIGTERM would be lost, and the
    command would carry on as if it never came. Signals that are ignored or left to the OS are
    not Python's to run and stay as they are; in any other thread nothing changes, since
    handlers only ever run in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {signum: handler for signum in HELD_SIGNALS
                if callable(handler := signal.getsignal(signum))}  # fmt: skip
    for signum in previous:
        signal.signal(signum, record)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received[:1]:
            previous[signum](signum, None)


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong]
    return prctl


# Loaded once, before any fork: a child between fork and exec only calls it.
_PRCTL = _load_prctl()


def kill_when_parent_dies() -> bool:
    """Linux: have the kernel SIGKILL this process when its parent dies. False elsewhere."""
    return _PRCTL is not None and _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL) == 0


def end_with_parent(parent: int | None = None) -> None:
    """Call first thing in a child process: it ends (status 1) when `parent` is gone, however
    that ended. `parent` defaults to the process that spawned this one (multiprocessing knows
    its pid even when it died before this ran), else the current parent."""
    spawned = multiprocessing.parent_process()
    if parent is None:
        parent = spawned.pid if spawned is not None and spawned.pid else os.getppid()
    kill_when_parent_dies()
    if os.getppid() != parent:  # it died before the kernel was told to watch it
        os._exit(1)
    sentinel = getattr(spawned, "sentinel", None) if spawned and spawned.pid == parent else None

    def watch() -> None:
        if sentinel is not None:
            with contextlib.suppress(OSError):
                multiprocessing.connection.wait([sentinel])
        else:
            while os.getppid() == parent:
                time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="listen-parent-watch", daemon=True).start()


#: `subprocess.Popen`/`run` keywords for a program listen runs (ffmpeg) that must end with it:
#: it gets SIGKILL when listen dies. Between fork and exec only the foreign call, loaded
#: before the fork, runs.
CHILD_PROCESS: dict[str, Any] = (
    {"preexec_fn": kill_when_parent_dies} if _PRCTL is not None else {}
)


@functools.cache
def _setpriv() -> str | None:
    """util-linux's setpriv, if it can set the parent-death signal (2.33 and later)."""
    found = shutil.which("setpriv") if _PRCTL is not None else None
    if found is None:
        return None
    try:
        done = subprocess.run([found, "--pdeathsig", "KILL", "--", "true"],
                              capture_output=True, check=False, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return found if done.returncode == 0 else None


def child_command(command: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """A program listen runs (ffmpeg) that must end with it, as the command and the
    `subprocess` keywords to start it with. Where setpriv can, it sets the parent-death signal
    and then runs the program, so that Python can start it with vfork: a `preexec_fn` forces a
    fork, which copies the page tables of a process holding a voice model (and, until the
    exec, counts all of that process's memory again)."""
    setpriv = _setpriv()
    if setpriv is not None:
        return [setpriv, "--pdeathsig", "KILL", "--", *command], {}
    return list(command), CHILD_PROCESS


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with_parent()
    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers should
    # not each print a KeyboardInterrupt traceback first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


@contextlib.contextmanager
def worker_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Iterator[ProcessPoolExecutor]:  # fmt: skip
    """A pool of `spawn`ed worker processes that end with this process however it ends, and
    are stopped at once (their queued work dropped) when the block is left by an exception:
    a KeyboardInterrupt or `Terminated` does not wait for the work still queued."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(initializer, initargs))  # fmt: skip
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def stop_pool(pool: ProcessPoolExecutor, timeout: float = 1.0) -> None:
    """Kill the pool's processes and drop its queued work, without waiting for any of it."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(max(deadline - time.monotonic(), 0.01))
