"""Stage 3, synthesize: spoken text -> `Take`s (int16 mono samples), offline, cached by content.

Every engine sits behind one small protocol (`listen.engines`: `Engine.synthesize(text) ->
samples`), settings come from a `VoicePreset`, and a take's audio is cached under a key made of
everything that changes it (engine, model and its digest, settings, text), so a re-render
synthesizes only what changed. This module makes takes of what engines return (trimmed, checked,
faded, summarized for loudness) and runs them in a pool of worker processes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from listen.cache import TakeCache, TakeRef, take_key
from listen.config import VoicePreset
from listen.engines import MIN_UNITS_FOR_POOL, Engine, load_engine, static_identity
from listen.errors import ListenError
from listen.loudness import summarize_take

#: Samples quieter than this (int16 peak) count as silence when trimming and checking takes.
SILENCE_PEAK = 300
#: Silence kept at each end of a take after trimming, so word onsets are not clipped.
TRIM_MARGIN_MS = 30
#: A take whose loudest sample is below this is silent: an engine failure, never a gap.
MIN_AUDIBLE_PEAK = 1000
#: Fade at each end of a take (pydub), so that joins never click.
FADE_MS = 8


@dataclass(frozen=True)
class Take:
    """The audio of one synthesis unit."""

    samples: np.ndarray  # int16, mono
    sample_rate: int

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate


def trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_PEAK)
    if loud.size == 0:
        return samples[:0]
    margin = int(sample_rate * TRIM_MARGIN_MS / 1000)
    return samples[max(loud[0] - margin, 0) : loud[-1] + margin + 1]


def check_audible(samples: np.ndarray, voice: str, text: str) -> None:
    if samples.size == 0 or int(np.abs(samples.astype(np.int32)).max()) < MIN_AUDIBLE_PEAK:
        snippet = text if len(text) <= 60 else text[:57] + "..."
        raise ListenError(f"voice {voice!r} produced no audible audio for: {snippet!r}")


def make_take(engine: Engine, text: str) -> Take:
    """Synthesize, trim to the speech, check it is audible, and fade its ends (so that joins
    never click)."""
    samples = trim_silence(engine.synthesize(text), engine.sample_rate)
    check_audible(samples, engine.preset.name, text)
    return Take(samples=fade_ends(samples, engine.sample_rate), sample_rate=engine.sample_rate)


def fade_ends(samples: np.ndarray, rate: int) -> np.ndarray:
    segment = AudioSegment(data=samples.tobytes(), sample_width=2, frame_rate=rate, channels=1)
    fade = min(FADE_MS, len(segment) // 4)
    faded = segment.fade_in(fade).fade_out(fade)
    return np.frombuffer(faded.raw_data, dtype=np.int16).copy()


def _synthesize_into(engine: Engine, cache: TakeCache, key: str, text: str) -> TakeRef:
    take = make_take(engine, text)
    summary = summarize_take(take.samples, take.sample_rate)
    return cache.store(key, take.samples, take.sample_rate, summary)


# A worker process keeps its engine for its whole life: loading a model is the expensive part.
_WORKER: tuple[Engine, TakeCache] | None = None
# Why the engine did not load: reported by the first task, as a clean ListenError (an
# initializer that raises only makes the pool print a traceback and break).
_WORKER_ERROR = "the synthesis worker did not start"


def _worker_init(preset: VoicePreset, cache_dir: Path) -> None:
    global _WORKER, _WORKER_ERROR
    try:
        _WORKER = (load_engine(preset, threads=1), TakeCache(cache_dir))
    except ListenError as exc:
        _WORKER_ERROR = str(exc)
    except Exception as exc:  # a broken engine plugin can fail any way
        _WORKER_ERROR = f"voice {preset.name!r} failed to load: {exc}"


def _worker_take(job: tuple[str, str]) -> TakeRef:
    if _WORKER is None:
        raise ListenError(_WORKER_ERROR)
    engine, cache = _WORKER
    key, text = job
    return _synthesize_into(engine, cache, key, text)


def default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=16)
def voice_identity(preset: VoicePreset) -> dict[str, str | float]:
    """Everything about the voice that shapes its audio: part of every take's cache key."""
    return static_identity(preset) or _local_engine(preset, 1).identity()


@functools.lru_cache(maxsize=4)
def _local_engine(preset: VoicePreset, threads: int) -> Engine:
    """An engine in this process, kept for the next render (a CMS calls render repeatedly)."""
    return load_engine(preset, threads=threads)


def synthesize_all(
    texts: Sequence[str],
    preset: VoicePreset,
    cache: TakeCache,
    jobs: int | None = None,
    on_take: Callable[[str, bool], None] | None = None,
) -> list[TakeRef]:
    """A cached take for every text, in order. Takes already in the cache are reused; the rest
    are synthesized once each (repeated texts share a take) by a pool of worker processes,
    each with its own engine, or in this process for a few sentences of the fast system voice.
    Samples go straight to the cache; only references come back, so memory stays flat.

    `on_take(key, from_cache)` is called once per distinct take as it becomes available."""
    identity = voice_identity(preset)
    keys = [take_key(identity, text) for text in texts]
    found: dict[str, TakeRef] = {}
    for key in dict.fromkeys(keys):
        if (ref := cache.lookup(key)) is not None:
            found[key] = ref
            if on_take:
                on_take(key, True)
    todo = list({key: text for key, text in zip(keys, texts, strict=True) if key not in found}
                .items())  # fmt: skip
    # Longest first, so that the workers finish together instead of one waiting on the other.
    todo.sort(key=lambda item: len(item[1]), reverse=True)
    jobs = jobs or default_jobs()
    if jobs > 1 and len(todo) >= MIN_UNITS_FOR_POOL.get(preset.engine, 2):
        ctx = get_context("spawn")  # onnxruntime is not fork-safe
        workers = min(jobs, len(todo))
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(preset, cache.directory)) as pool:  # fmt: skip
            try:
                for ref in pool.map(_worker_take, todo):
                    found[ref.key] = ref
                    if on_take:
                        on_take(ref.key, False)
            except BrokenProcessPool:
                raise ListenError("a synthesis worker died (out of memory, or killed)") from None
    elif todo:  # (a warm render loads no engine at all)
        engine = _local_engine(preset, jobs)
        for key, text in todo:
            found[key] = _synthesize_into(engine, cache, key, text)
            if on_take:
                on_take(key, False)
    return [found[key] for key in keys]
