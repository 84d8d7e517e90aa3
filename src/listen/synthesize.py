"""Stage 3, synthesize: spoken text -> `Take`s (int16 mono samples), offline, cached by content.

Every engine sits behind one small protocol (`listen.engines`: `Engine.synthesize(text) ->
samples`), settings come from a `VoicePreset`, and a take's audio is cached under a key made of
everything that changes it (engine, model and its digest, settings, text), so a re-render
synthesizes only what changed. This module makes takes of what engines return (trimmed, checked,
faded, summarized for loudness) and makes them in the background, in order, while the mix
uses them: by threads sharing one engine (a neural voice), or by a pool of worker processes.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from listen.allocator import share_one_arena
from listen.cache import TakeCache, TakeRef, take_key
from listen.config import VoicePreset
from listen.engines import (
    MIN_UNITS_FOR_POOL,
    Engine,
    engine_is_concurrent,
    engine_preloads,
    load_engine,
    static_identity,
    static_rate,
    threads_matter,
)
from listen.errors import ListenError
from listen.lifeline import stop_pool, worker_pool
from listen.loudness import smooth_fft_length, summarize_take

#: Samples quieter than this (int16 peak) count as silence when trimming and checking takes.
SILENCE_PEAK = 300
#: Silence kept at each end of a take after trimming, so word onsets are not clipped.
TRIM_MARGIN_MS = 30
#: A take whose loudest sample is below this is silent: an engine failure, never a gap.
MIN_AUDIBLE_PEAK = 1000
#: Fade at each end of a take (pydub), so that joins never click.
FADE_MS = 8
#: The last takes to make are handed out longest first, this many per worker: the work then
#: ends on short takes, instead of every other worker waiting for the one long take dealt last.
TAIL_TAKES_PER_WORKER = 3


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


def make_take(engine: Engine, text: str,
              engine_turn: AbstractContextManager[object] | None = None) -> Take:  # fmt: skip
    """Synthesize (holding `engine_turn`, if given, while the engine speaks), trim to the
    speech, check it is audible, and fade its ends (so that joins never click)."""
    with engine_turn or contextlib.nullcontext():
        spoken = engine.synthesize(text)
    samples = trim_silence(spoken, engine.sample_rate)
    check_audible(samples, engine.preset.name, text)
    return Take(samples=fade_ends(samples, engine.sample_rate), sample_rate=engine.sample_rate)


def fade_ends(samples: np.ndarray, rate: int) -> np.ndarray:
    segment = AudioSegment(data=samples.tobytes(), sample_width=2, frame_rate=rate, channels=1)
    fade = min(FADE_MS, len(segment) // 4)
    faded = segment.fade_in(fade).fade_out(fade)
    return np.frombuffer(faded.raw_data, dtype=np.int16).copy()


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """A take at another sample rate: band-limited (its spectrum cut or zero-padded), exactly
    round(n * to / from) samples long. Takes are faded to silence at both ends, so treating
    one as a period of a periodic signal (what the FFT does) adds nothing at its edges."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    step = from_rate // math.gcd(from_rate, to_rate)
    padded = step * smooth_fft_length(-(-len(samples) // step))  # zeros after it stay zeros
    out = padded * to_rate // from_rate
    spectrum = np.fft.rfft(samples.astype(np.float64), padded)
    kept = min(len(spectrum), out // 2 + 1)
    audio = np.fft.irfft(spectrum[:kept], out) * (out / padded)
    length = round(len(samples) * to_rate / from_rate)
    return np.clip(np.round(audio[:length]), -32768, 32767).astype(np.int16)


def _synthesize_into(engine: Engine, cache: TakeCache, key: str, text: str,
                     sample_rate: int | None = None,
                     engine_turn: AbstractContextManager[object] | None = None,
                     ) -> TakeRef:  # fmt: skip
    take = make_take(engine, text, engine_turn)
    samples, rate = take.samples, take.sample_rate
    if sample_rate and sample_rate != rate:  # a second voice joins the narrator's rate
        samples, rate = resample(samples, rate, sample_rate), sample_rate
    summary = summarize_take(samples, rate)
    return cache.store(key, samples, rate, summary)


# A worker process keeps its engine for its whole life: loading a model is the expensive part.
_WORKER: tuple[Engine, TakeCache, int | None] | None = None
# Why the engine did not load: reported by the first task, as a clean ListenError (an
# initializer that raises only makes the pool print a traceback and break).
_WORKER_ERROR = "the synthesis worker did not start"


def _worker_init(preset: VoicePreset, cache_dir: Path, sample_rate: int | None = None) -> None:
    global _WORKER, _WORKER_ERROR
    share_one_arena()  # a process of listen's own, as the CLI's (listen.allocator)
    try:
        _WORKER = (load_engine(preset, threads=1), TakeCache(cache_dir), sample_rate)
    except ListenError as exc:
        _WORKER_ERROR = str(exc)
    except Exception as exc:  # a broken engine plugin can fail any way
        _WORKER_ERROR = f"voice {preset.name!r} failed to load: {exc}"


def _worker_take(job: tuple[str, str]) -> TakeRef:
    if _WORKER is None:
        raise ListenError(_WORKER_ERROR)
    engine, cache, sample_rate = _WORKER
    key, text = job
    # Made meanwhile by another process sharing the cache (a queue worker's `assist`)?
    if (found := cache.lookup(key)) is not None:
        return found
    return _synthesize_into(engine, cache, key, text, sample_rate)


def longest_last_takes_first(todo: Sequence[tuple[str, str]], workers: int,
                             ) -> list[tuple[str, str]]:  # fmt: skip
    """`todo` ((key, text) in the episode's order) in the order to hand it to `workers`: the
    same, but for its last TAIL_TAKES_PER_WORKER per worker, longest text first (the episode's
    last part is mixed once all of its takes are in, whatever their order)."""
    if workers <= 1:
        return list(todo)
    split = max(0, len(todo) - workers * TAIL_TAKES_PER_WORKER)
    tail = sorted(todo[split:], key=lambda item: len(item[1]), reverse=True)
    return [*todo[:split], *tail]


def default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=16)
def voice_identity(preset: VoicePreset) -> dict[str, str | float]:
    """Everything about the voice that shapes its audio: part of every take's cache key."""
    return static_identity(preset) or _local_engine(preset, 1).identity()


@functools.lru_cache(maxsize=16)
def voice_rate(preset: VoicePreset) -> int:
    """The sample rate the voice speaks at."""
    return static_rate(preset) or _local_engine(preset, 1).sample_rate


def take_identity(preset: VoicePreset, sample_rate: int | None = None) -> dict[str, str | float]:
    """The voice's part of a take's cache key, when its takes are made at `sample_rate`."""
    identity = voice_identity(preset)
    if sample_rate is None or sample_rate == voice_rate(preset):
        return identity
    return {**identity, "resampled_to": sample_rate}


class _Engines:
    """This process's engines, kept for the next render (a CMS calls render repeatedly); of
    more than `size`, the least recently used is dropped. Called with (preset, threads): the
    preset's engine for calls of `threads` cores. One is loaded at a time (a second caller
    waits for it rather than load the model twice), and one for another number of threads is
    made from an engine of the same preset already loaded where the engine can
    (`with_threads`: a Piper voice's one model serves a cold render's threads and an edit's
    single sentence alike)."""

    def __init__(self, size: int = 4) -> None:
        self._engines: OrderedDict[tuple[VoicePreset, int], Engine] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __call__(self, preset: VoicePreset, threads: int) -> Engine:
        key = (preset, threads)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._shared(preset, threads) or load_engine(preset, threads=threads)
            self._engines[key] = engine
            self._engines.move_to_end(key)
            while len(self._engines) > self._size:
                self._engines.popitem(last=False)
            return engine

    def _shared(self, preset: VoicePreset, threads: int) -> Engine | None:
        for (loaded, _), engine in reversed(self._engines.items()):
            if loaded != preset:
                continue
            if not threads_matter(preset):  # (the same engine would be loaded again)
                return engine
            if (with_threads := getattr(engine, "with_threads", None)) is not None:
                return with_threads(threads)
        return None

    def has(self, preset: VoicePreset) -> bool:
        """Whether an engine of the preset is loaded (one for any number of threads)."""
        with self._lock:
            return any(loaded == preset for loaded, _ in self._engines)

    def cache_clear(self) -> None:
        with self._lock:
            self._engines.clear()


_local_engine = _Engines()


#: Loads under way (`load_in_background`), by preset.
_loading: dict[VoicePreset, threading.Thread] = {}
_loading_lock = threading.Lock()


def load_in_background(preset: VoicePreset) -> threading.Thread | None:
    """Start loading the preset's engine in this process, in a thread, if it is one that loads
    outside the GIL (`engine_preloads`: a Piper voice, a quarter of a second) and is neither
    loaded nor loading: the load then runs beside other work (`listen.preload`). Returns the
    thread (the one already loading, if any), to be joined before the process may exit
    (onnxruntime aborts a process that exits while it is opening a model: `TakeStream.close`);
    None when there is nothing to load. A failed load is left to the render that needs the
    engine to report."""
    with _loading_lock:
        if (thread := _loading.get(preset)) is not None and thread.is_alive():
            return thread
        try:
            if not engine_preloads(preset) or _local_engine.has(preset):
                return None
        except Exception:  # an unknown engine: the render will say what is wrong
            return None

        def load() -> None:
            with contextlib.suppress(Exception):
                _local_engine(preset, 1)

        thread = threading.Thread(target=load, name="listen-preload")
        _loading[preset] = thread
        thread.start()
        return thread


def synthesize_all(
    texts: Sequence[str],
    preset: VoicePreset,
    cache: TakeCache,
    jobs: int | None = None,
    on_take: Callable[[str, bool], None] | None = None,
    sample_rate: int | None = None,
    stream: TakeStream | None = None,
) -> list[TakeRef]:
    """A cached take for every text, in order. Takes already in the cache are reused; the rest
    are synthesized once each (repeated texts share a take), in the texts' order, so that the
    first chapters are done first (the last few longest first: `longest_last_takes_first`).
    An engine that can speak from several threads at once (the neural voices: onnxruntime runs
    outside the GIL) is loaded once and shared by a thread per core; others run in a pool of
    worker processes, each with its own engine, or, for a few sentences of the fast system
    voice, in this process (a second thread summarizes and stores one take while the engine
    speaks the next). Samples go straight to the cache; only references come back, so memory
    stays flat. Takes are made at `sample_rate` (default: the voice's own), resampled if the
    voice's differs.

    `on_take(key, from_cache)` is called once per distinct take as it becomes available (and
    `stream`, when given, is handed each take at the same time, and can stop the work)."""
    if sample_rate == voice_rate(preset):
        sample_rate = None
    identity = take_identity(preset, sample_rate)
    keys = [take_key(identity, text) for text in texts]
    found: dict[str, TakeRef] = {}

    def deliver(ref: TakeRef, from_cache: bool) -> None:
        found[ref.key] = ref
        if stream is not None:
            stream.put(ref)
        if on_take:
            on_take(ref.key, from_cache)

    for key in dict.fromkeys(keys):
        if (ref := cache.lookup(key)) is not None:
            deliver(ref, True)
    todo = list({key: text for key, text in zip(keys, texts, strict=True) if key not in found}
                .items())  # fmt: skip
    jobs = jobs or default_jobs()
    todo = longest_last_takes_first(todo, jobs)
    stopped = stream.stopped if stream is not None else threading.Event()
    if (jobs > 1 and not is_concurrent(preset)
            and len(todo) >= MIN_UNITS_FOR_POOL.get(preset.engine, 2)):  # fmt: skip
        # Spawned, not forked: onnxruntime is not fork-safe. The workers end with this
        # process however it ends, and at once when the render is interrupted.
        setup = (preset, cache.directory, sample_rate)
        with worker_pool(min(jobs, len(todo)), _worker_init, setup) as pool:
            if stream is not None:
                stream.watch(pool)
            try:
                for ref in pool.map(_worker_take, todo):
                    deliver(ref, False)
            except BrokenProcessPool:
                if stopped.is_set():
                    raise Stopped() from None
                raise ListenError("a synthesis worker died (out of memory, or killed)") from None
    elif todo:  # (a warm render loads no engine at all)
        for ref, found_meanwhile in _synthesize_here(todo, preset, cache, jobs, sample_rate,
                                                     stopped):  # fmt: skip
            deliver(ref, found_meanwhile)
    return [found[key] for key in keys]


def assist(units: Sequence[VoicedUnit], cache: TakeCache) -> int:
    """Make takes from the last unit towards the first, into the cache, and stop at the first
    that is already there: an idle process helping the one rendering these units, which makes
    them from the first on and takes whatever it finds in the cache (`_synthesize_here`), so
    the two meet in the middle. Returns how many takes this made."""
    made = 0
    for preset, sample_rate, text in reversed(units):
        key = unit_key((preset, sample_rate, text))
        if cache.lookup(key) is not None:
            break
        rate = None if sample_rate == voice_rate(preset) else sample_rate
        _synthesize_into(_local_engine(preset, 1), cache, key, text, rate)
        made += 1
    return made


class Stopped(Exception):
    """The batch's synthesis was stopped (its render was interrupted or failed)."""


@functools.lru_cache(maxsize=16)
def is_concurrent(preset: VoicePreset) -> bool:
    """Whether the preset's engine can synthesize from several threads at once."""
    return engine_is_concurrent(preset)


@functools.lru_cache(maxsize=16)
def _engine_lock(preset: VoicePreset) -> threading.Lock:
    return threading.Lock()


def _synthesize_here(todo: Sequence[tuple[str, str]], preset: VoicePreset, cache: TakeCache,
                     jobs: int, sample_rate: int | None, stopped: threading.Event,
                     ) -> Iterator[tuple[TakeRef, bool]]:  # fmt: skip
    """Takes made in this process, in order, each with whether it was found in the cache
    instead (made meanwhile by another process: a queue worker's `assist`). Threads share one
    engine: a thread per core for a concurrent engine (each call on one core; when there is
    less than a call per core to make, calls of every core: a Piper voice's decoder windows
    side by side, another model's own threads), else two taking turns at the engine (one for
    `jobs=1`)."""
    concurrent = is_concurrent(preset)
    threads = min(jobs if concurrent else min(jobs, 2), len(todo))  # --jobs 1: one core
    engine = _local_engine(preset, 1 if concurrent and threads == jobs else jobs)
    lock = contextlib.nullcontext() if concurrent else _engine_lock(preset)

    def make(item: tuple[str, str]) -> tuple[TakeRef, bool]:
        if stopped.is_set():
            raise Stopped()
        key, text = item
        if (found := cache.lookup(key)) is not None:
            return found, True
        return _synthesize_into(engine, cache, key, text, sample_rate, lock), False

    if threads <= 1:
        yield from map(make, todo)
        return
    pool = ThreadPoolExecutor(threads, thread_name_prefix="listen-synthesis")
    try:
        yield from pool.map(make, todo)
    finally:  # (stopped early: the takes not yet begun are dropped)
        pool.shutdown(wait=False, cancel_futures=True)


#: How long a stopped synthesis is waited for (see `TakeStream.close`); only a hang takes it.
CLOSE_WAIT_SECONDS = 10.0


class TakeStream:
    """A batch's takes, made in a background thread and handed out in the units' order as
    they come in, so that an episode's first parts are mixed and encoded while the rest is
    still being spoken. `stream[i]` waits for unit i's take (and raises the synthesis's error,
    if it failed); `close()` stops the synthesis (its worker processes at once)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.stopped = threading.Event()
        self._made: dict[str, TakeRef] = {}
        self._error: BaseException | None = None
        self._finished = False
        self._changed = threading.Condition()
        self._pools: list[ProcessPoolExecutor] = []

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> TakeRef:
        key = self.keys[index]
        with self._changed:
            while key not in self._made:
                if self._error is not None:
                    raise self._error
                if self._finished:
                    raise ListenError("the synthesis ended without every take")
                self._changed.wait(1.0)
            return self._made[key]

    def is_made(self, index: int) -> bool:
        """Whether unit i's take is made (reading it will not wait)."""
        with self._changed:
            return self.keys[index] in self._made

    def view(self, offset: int, count: int) -> StreamView:
        """Units [offset, offset + count) of the stream (one page's), as a sequence."""
        return StreamView(self, offset, count)

    def wait(self) -> None:
        """Until the synthesis has ended; raises its error, if it failed."""
        with self._changed:
            while not self._finished:
                self._changed.wait(1.0)
            if self._error is not None:
                raise self._error

    def put(self, ref: TakeRef) -> None:
        with self._changed:
            self._made[ref.key] = ref
            self._changed.notify_all()

    def watch(self, pool: ProcessPoolExecutor) -> None:
        with self._changed:
            self._pools.append(pool)
        if self.stopped.is_set():
            stop_pool(pool)

    def finish(self, error: BaseException | None = None) -> None:
        with self._changed:
            self._finished = True
            self._error = error
            self._changed.notify_all()

    def close(self) -> None:
        """Stop the synthesis, and wait (up to CLOSE_WAIT_SECONDS) until it has ended: a
        thread of it may be inside a voice's native code (onnxruntime opening the model, or
        speaking a take), and a process that exits under it aborts instead (SIGTERM while joe
        loaded ended by SIGABRT or SIGSEGV 5 times in 6, not with status 143). The take being
        spoken is the longest wait, about a second."""
        self.stopped.set()
        with self._changed:
            pools = list(self._pools)
        for pool in pools:
            stop_pool(pool)
        with self._changed:
            self._changed.wait_for(lambda: self._finished, timeout=CLOSE_WAIT_SECONDS)


class StreamView(Sequence[TakeRef]):
    """Some of a stream's takes, in order: reading one waits until it is made."""

    def __init__(self, stream: TakeStream, offset: int, count: int) -> None:
        self.stream, self.offset, self.count = stream, offset, count

    def __len__(self) -> int:
        return self.count

    def is_made(self, index: int) -> bool:
        return self.stream.is_made(self.offset + index)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(index)
        return self.stream[self.offset + index % self.count]


def start_synthesis(
    units: Sequence[VoicedUnit],
    cache: TakeCache,
    jobs: int | None = None,
    on_take: Callable[[str, bool], None] | None = None,
) -> TakeStream:
    """`synthesize_voiced` in a background thread: the takes come out of the returned stream
    in the units' order as they are made. Close the stream when done with it."""
    stream = TakeStream([unit_key(unit) for unit in units])

    def run() -> None:
        try:
            synthesize_voiced(units, cache, jobs, on_take, stream)
        except Stopped:
            stream.finish(ListenError("the synthesis was stopped"))
        except BaseException as exc:  # handed to the thread that waits for the takes
            stream.finish(exc)
        else:
            stream.finish()

    # A daemon: an interrupted render does not wait for its synthesis to notice.
    threading.Thread(target=run, name="listen-synthesis", daemon=True).start()
    return stream


#: A synthesis unit of a multi-voice batch: the voice, the sample rate to make it at, the text.
VoicedUnit = tuple[VoicePreset, int, str]


def unit_key(unit: VoicedUnit) -> str:
    preset, sample_rate, text = unit
    return take_key(take_identity(preset, sample_rate), text)


def synthesize_voiced(
    units: Sequence[VoicedUnit],
    cache: TakeCache,
    jobs: int | None = None,
    on_take: Callable[[str, bool], None] | None = None,
    stream: TakeStream | None = None,
) -> list[TakeRef]:
    """`synthesize_all` for units of several voices (several pages, a quotation voice), one
    batch per voice and rate; the takes come back in the units' order."""
    groups: dict[tuple[VoicePreset, int], list[int]] = {}
    for index, (preset, sample_rate, _) in enumerate(units):
        groups.setdefault((preset, sample_rate), []).append(index)
    refs: dict[int, TakeRef] = {}
    for (preset, sample_rate), indexes in groups.items():
        texts = [units[i][2] for i in indexes]
        made = synthesize_all(texts, preset, cache, jobs=jobs, on_take=on_take,
                              sample_rate=sample_rate, stream=stream)  # fmt: skip
        refs.update(zip(indexes, made, strict=True))
    return [refs[index] for index in range(len(units))]
