"""Stage 3, synthesize: spoken text -> `Take`s (int16 mono samples), offline, cached by content.

Every engine sits behind one small protocol (`Engine.synthesize(text) -> samples`), settings come
from a `VoicePreset`, and a take's audio is cached under a key made of everything that changes it
(engine, model and its digest, settings, text), so a re-render synthesizes only what changed.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import numpy as np
from pydub import AudioSegment

from listen.cache import TakeCache, TakeRef, take_key
from listen.config import VoicePreset
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


# --- Piper -----------------------------------------------------------------------------------


def resolve_piper_model(preset: VoicePreset) -> Path:
    """The .onnx file: a path, a file in the preset's folder, or one a Python package ships."""
    candidates: list[Path] = []
    if preset.model:
        model = Path(preset.model).expanduser()
        candidates.append(model)
        if preset.path:
            candidates.append(preset.path.parent / model)
            candidates.append(preset.path.parent / f"{preset.model}.onnx")
    if preset.package:
        try:
            module = import_module(preset.package)
        except ImportError:
            raise ListenError(
                f"voice {preset.name!r} needs the Python package {preset.package!r}; "
                f"install it with pip"
            ) from None
        if hasattr(module, "model_path"):
            candidates.append(Path(module.model_path()))
        if module.__file__:
            candidates.append(Path(module.__file__).parent / "data" / f"{preset.model}.onnx")
    for path in candidates:
        if path.suffix == ".onnx" and path.is_file():
            return path
    raise ListenError(f"voice {preset.name!r}: model {preset.model!r} not found")


@functools.cache
def file_digest(path: Path, size: int, mtime_ns: int) -> str:
    # size and mtime are part of the memo key so a replaced model is hashed again.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def piper_identity(preset: VoicePreset, model: Path) -> dict[str, str | float]:
    stat = model.stat()
    return {
        "engine": "piper",
        "engine_version": _package_version("piper-tts"),
        "model": model.name,
        "model_sha256": file_digest(model, stat.st_size, stat.st_mtime_ns),
        "rate": preset.rate,
    }


class PiperEngine:
    """Piper (onnxruntime). Synthesizes exactly the unit it is given: Piper's own sentence
    splitting is bypassed (it breaks at "Dr." and "Jan."), and its per-sentence volume
    normalization is off so that loudness is set once for the whole episode."""

    def __init__(self, preset: VoicePreset, threads: int = 1) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig, SynthesisConfig

        self.preset = preset
        self.model_path = resolve_piper_model(preset)
        config_path = Path(f"{self.model_path}.json")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt model surfaces as many different exception types
            raise ListenError(
                f"voice {preset.name!r}: cannot load model {self.model_path}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        self.voice = PiperVoice(session=session, config=config)
        self.sample_rate = config.sample_rate
        self.syn_config = SynthesisConfig(length_scale=1.0 / preset.rate, normalize_audio=False)

    def identity(self) -> dict[str, str | float]:
        return piper_identity(self.preset, self.model_path)

    def synthesize(self, text: str) -> np.ndarray:
        phonemes: list[str] = []
        for sentence in self.voice.phonemize(text):
            if phonemes and sentence:
                phonemes.append(" ")
            phonemes.extend(sentence)
        if not phonemes:
            return np.zeros(0, dtype=np.int16)
        audio = self.voice.phoneme_ids_to_audio(
            self.voice.phonemes_to_ids(phonemes), self.syn_config
        )
        if isinstance(audio, tuple):
            audio = audio[0]
        return to_int16(np.asarray(audio, dtype=np.float32).reshape(-1))


# --- pyttsx3 (the system voice) --------------------------------------------------------------

#: espeak-ng words per minute at rate 1.0 (its own default is 175).
ESPEAK_BASE_WPM = 175
#: SAPI5 and NSSpeechSynthesizer report their rate in words per minute around 200.
SYSTEM_BASE_WPM = 200


class Pyttsx3Engine:
    """The platform's system voice through pyttsx3.

    On Linux pyttsx3 drives espeak-ng through its ctypes binding, but its `save_to_file` +
    `runAndWait` writes nothing on pyttsx3 2.99; so there we use that same binding in retrieval
    mode and collect the samples from the synth callback, which is synchronous and exact. On
    Windows (SAPI5) and macOS (NSSpeechSynthesizer) pyttsx3's own `save_to_file` is used.
    """

    _espeak_lock = threading.Lock()  # espeak-ng is one global synthesizer per process

    def __init__(self, preset: VoicePreset) -> None:
        self.preset = preset
        self._use_espeak_binding = sys.platform.startswith("linux")
        if self._use_espeak_binding:
            self.sample_rate = _espeak_initialize()
            self._espeak_voice = _pick_espeak_voice(preset)
        else:
            self._init_pyttsx3()

    def _init_pyttsx3(self) -> None:
        import pyttsx3

        self._engine = pyttsx3.init()
        voices = self._engine.getProperty("voices")
        wanted = (self.preset.voice or self.preset.language).lower()
        for voice in voices:
            names = [voice.id, voice.name, *(voice.languages or [])]
            if any(wanted in str(n).lower().replace("_", "-") for n in names):
                self._engine.setProperty("voice", voice.id)
                break
        self._engine.setProperty("rate", int(SYSTEM_BASE_WPM * self.preset.rate))
        self.sample_rate = 22050

    def identity(self) -> dict[str, str | float]:
        backend = "espeak-ng" if self._use_espeak_binding else sys.platform
        return {
            "engine": "pyttsx3",
            "backend": backend,
            "backend_version": _espeak_version() if self._use_espeak_binding else "",
            "voice": self._espeak_voice if self._use_espeak_binding else self.preset.voice,
            "rate": self.preset.rate,
        }

    def synthesize(self, text: str) -> np.ndarray:
        if self._use_espeak_binding:
            return self._synthesize_espeak(text)
        return self._synthesize_pyttsx3(text)

    def _synthesize_espeak(self, text: str) -> np.ndarray:
        from pyttsx3.drivers import _espeak

        chunks: list[bytes] = []

        def collect(wav: int, numsamples: int, events: object) -> int:
            if numsamples > 0:
                chunks.append(ctypes.string_at(wav, numsamples * 2))
            return 0

        with self._espeak_lock:
            _espeak.SetSynthCallback(collect)
            if _espeak.SetVoiceByName(self._espeak_voice.encode()) != 0:
                raise ListenError(f"espeak-ng has no voice {self._espeak_voice!r}")
            _espeak.SetParameter(_espeak.RATE, int(ESPEAK_BASE_WPM * self.preset.rate), 0)
            # PHONEMES: [[...]] from the pronunciation lexicon is read as phoneme mnemonics.
            _espeak.Synth(text.encode("utf-8"), flags=_espeak.CHARS_UTF8 | _espeak.PHONEMES)
            _espeak.Synchronize()
        return np.frombuffer(b"".join(chunks), dtype=np.int16).copy()

    def _synthesize_pyttsx3(self, text: str) -> np.ndarray:
        from pydub import AudioSegment

        with tempfile.TemporaryDirectory(prefix="listen-") as tmp:
            path = Path(tmp) / ("take.aiff" if sys.platform == "darwin" else "take.wav")
            self._engine.save_to_file(text, str(path))
            self._engine.runAndWait()
            if not path.is_file() or path.stat().st_size == 0:
                return np.zeros(0, dtype=np.int16)
            segment = AudioSegment.from_file(path).set_channels(1).set_sample_width(2)
            segment = segment.set_frame_rate(self.sample_rate)
            return np.frombuffer(segment.raw_data, dtype=np.int16).copy()


@functools.cache
def _espeak_initialize() -> int:
    from pyttsx3.drivers import _espeak
    from pyttsx3.drivers.espeak import EspeakDriver

    rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_RETRIEVAL, 1000)
    if rate <= 0:
        raise ListenError("could not initialize espeak-ng (is libespeak-ng installed?)")
    # pyttsx3's own driver must not initialize espeak a second time in this process.
    EspeakDriver._moduleInitialized = True
    return rate


@functools.cache
def _espeak_version() -> str:
    from pyttsx3.drivers import _espeak

    info = _espeak.Info(None)
    return info.decode() if info else ""


def _pick_espeak_voice(preset: VoicePreset) -> str:
    from pyttsx3.drivers import _espeak

    wanted = (preset.voice or preset.language).lower().replace("_", "-")
    identifiers = [v.identifier.decode().lower() for v in _espeak.ListVoices(None)]
    for ident in identifiers:
        if ident == wanted or ident.rsplit("/", 1)[-1] == wanted:
            return ident
    if _espeak.SetVoiceByName(wanted.encode()) == 0:
        return wanted
    raise ListenError(f"voice {preset.name!r}: espeak-ng has no voice {wanted!r}")


# --- engines and the batch entry point -------------------------------------------------------

ENGINE_CLASSES: dict[str, Callable[[VoicePreset], Engine]] = {
    "piper": PiperEngine,
    "pyttsx3": Pyttsx3Engine,
}
#: The fast system voice is only worth worker processes for this many sentences or more.
MIN_UNITS_FOR_POOL = {"piper": 2, "pyttsx3": 48}


def phoneme_format(preset: VoicePreset) -> str | None:
    """The phoneme notation the preset's engine reads in `[[...]]`: IPA for Piper, espeak-ng
    mnemonics for the system voice on Linux (espeak-ng); None where only text is read."""
    if preset.engine == "piper":
        return "ipa"
    if preset.engine == "pyttsx3" and sys.platform.startswith("linux"):
        return "espeak"
    return None


def load_engine(preset: VoicePreset, threads: int = 1) -> Engine:
    """The preset's engine. `engine = "package.module:Class"` names a plugin: any class
    taking the preset and following the `Engine` protocol."""
    if preset.engine == "piper":
        return PiperEngine(preset, threads=threads)
    if preset.engine in ENGINE_CLASSES:
        return ENGINE_CLASSES[preset.engine](preset)
    module_name, _, class_name = preset.engine.partition(":")
    try:
        engine_class = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ListenError(f"voice {preset.name!r}: cannot load engine {preset.engine!r}") from None
    return engine_class(preset)


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
    if preset.engine == "piper":  # known without loading the model
        return piper_identity(preset, resolve_piper_model(preset))
    return _local_engine(preset, 1).identity()


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


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
