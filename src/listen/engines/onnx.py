"""Neural models start faster from a copy onnxruntime has already optimized.

Most of the time onnxruntime takes to open a model goes to rewriting its graph (folding
constants, fusing nodes): 0.43 s of en_US-joe-medium's 0.56 s. The portable part of that work
("extended" level) is done once and saved into the user cache folder. Later sessions open the
copy at the usual level, so the layout passes that depend on the CPU still run at every load,
and the session runs the very graph it ran before: the same samples, 0.20 s instead of 0.56.
A copy is named by the model's digest, the onnxruntime version and the machine architecture,
so that a cache shared between machines never hands one a copy another made differently.
"""

from __future__ import annotations

import contextlib
import logging
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from listen.atomic import atomic_path
from listen.cache import default_cache_dir
from listen.engines.base import model_digest, package_version

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

#: Changes whenever what a copy is made with changes (not onnxruntime: its version is in the name).
COPY_REVISION = 1


def optimized_copy_path(model: Path) -> Path:
    """Where the optimized copy of `model` is kept: named by the model's digest, the
    onnxruntime that optimized it (another version may fuse differently) and the machine
    architecture it ran on."""
    runtime = package_version("onnxruntime") or "unknown"
    machine = platform.machine().lower() or "unknown"
    name = f"{model_digest(model)[:32]}-ort{runtime}-{machine}-r{COPY_REVISION}.onnx"
    return default_cache_dir() / "models" / name


def session_options(threads: int) -> onnxruntime.SessionOptions:
    """listen's options for a voice's session: `threads` within a call, the graph's nodes one
    at a time, and no memory plan per input shape. Every sentence has its own length, and
    onnxruntime keeps a plan for each shape it has seen: with plans, joe's render of a 2-hour
    article peaked at 1166 MB against 649 MB for the seed; without, memory stays flat, as
    fast."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    options.log_severity_level = 3  # (onnxruntime's notes on a model are not the user's)
    return options


def open_session(model: Path, options: onnxruntime.SessionOptions) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session for `model` with `options`, opened from its optimized copy
    (made now if there is none). When no copy can be made or read (a read-only cache, a
    damaged file), the model itself is opened, as onnxruntime would."""
    if (copy := _copy_of(model)) is not None:
        try:
            return cpu_session(copy, options)
        except Exception as exc:  # a damaged copy: it is made again at the next load
            log.warning("optimized copy of %s unreadable (%s); using the model", model.name, exc)
            with contextlib.suppress(OSError):
                copy.unlink()
    return cpu_session(model, options)


def optimized_model(model: Path) -> Path:
    """The optimized copy of `model`, made now if there is none, for a library that opens its
    own session from a path; `model` itself when no copy can be had."""
    return _copy_of(model) or model


def _copy_of(model: Path) -> Path | None:
    """The optimized copy of `model`, made now if there is none; None if it cannot be had (a
    cache folder that cannot be read or written: the model is used as it is)."""
    try:
        copy = optimized_copy_path(model)
        if copy.is_file():
            return copy
        make_optimized(model, copy)
        return copy if copy.is_file() else None
    except OSError as exc:
        log.debug("no optimized copy of %s: %s", model.name, exc)
        return None


def cpu_session(model: Path, options: onnxruntime.SessionOptions) -> onnxruntime.InferenceSession:
    import onnxruntime

    return onnxruntime.InferenceSession(str(model), sess_options=options,
                                        providers=["CPUExecutionProvider"])  # fmt: skip


def make_optimized(model: Path, copy: Path) -> None:
    """Write `copy`: `model` with the portable optimizations done. Nothing is written if that
    fails (the model is then opened as it is, and the next load retries)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.log_severity_level = 3  # (a note that saved models are for the same environment)
    try:
        with atomic_path(copy) as tmp:
            options.optimized_model_filepath = str(tmp)
            cpu_session(model, options)
            if not tmp.stat().st_size:
                raise OSError("onnxruntime wrote nothing")
    except Exception as exc:  # no copy: the model is opened as it is, and the next load retries
        log.debug("no optimized copy of %s: %s", model.name, exc)
