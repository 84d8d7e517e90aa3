"""Stage 3, synthesize: spoken text -> `Take`s (int16 mono samples), offline, cached by content.

Every engine sits behind one small protocol (`Engine.synthesize(text) -> samples`), settings come
from a `VoicePreset`, and a take's audio is cached under a key made of everything that changes it
(engine, model and its digest, settings, text), so a re-render synthesizes only what changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import json
import os
import sys
import tempfile
import threading
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import numpy as np

from listen.config import VoicePreset
from listen.errors import ListenError

#: Samples quieter than this (int16 peak) count as silence when trimming and checking takes.
SILENCE_PEAK = 300
#: Silence kept at each end of a take after trimming, so word onsets are not clipped.
TRIM_MARGIN_MS = 30
#: A take whose loudest sample is below this is silent: an engine failure, never a gap.
MIN_AUDIBLE_PEAK = 1000


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
        stat = self.model_path.stat()
        return {
            "engine": "piper",
            "model": self.model_path.name,
            "model_sha256": file_digest(self.model_path, stat.st_size, stat.st_mtime_ns),
            "rate": self.preset.rate,
        }

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
            _espeak.Synth(text.encode("utf-8"), flags=_espeak.CHARS_UTF8)
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


# --- engines, cache and the batch entry point ------------------------------------------------

ENGINE_CLASSES: dict[str, Callable[[VoicePreset], Engine]] = {
    "piper": PiperEngine,
    "pyttsx3": Pyttsx3Engine,
}


def load_engine(preset: VoicePreset) -> Engine:
    return ENGINE_CLASSES[preset.engine](preset)


def default_cache_dir() -> Path:
    if env := os.environ.get("LISTEN_CACHE_DIR"):
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("listen")) / "takes"


class TakeCache:
    """Content-addressed WAV files: `<dir>/<key[:2]>/<key>.wav`."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @staticmethod
    def key(identity: dict[str, str | float], text: str) -> str:
        blob = json.dumps({"voice": identity, "text": text}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Take | None:
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            with wave.open(str(path), "rb") as wav:
                frames = wav.readframes(wav.getnframes())
                rate = wav.getframerate()
        except (OSError, EOFError, wave.Error):
            return None
        samples = np.frombuffer(frames, dtype=np.int16)
        if samples.size == 0:
            return None
        os.utime(path)  # recency, for least-recently-used pruning
        return Take(samples=samples, sample_rate=rate)

    def put(self, key: str, take: Take) -> None:
        if self.directory is None:
            return
        from listen.atomic import write_bytes

        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(take.sample_rate)
            wav.writeframes(take.samples.tobytes())
        # A cache that cannot be written only costs speed.
        with contextlib.suppress(OSError):
            write_bytes(self._path(key), buffer.getvalue())


def make_take(engine: Engine, text: str) -> Take:
    samples = trim_silence(engine.synthesize(text), engine.sample_rate)
    check_audible(samples, engine.preset.name, text)
    return Take(samples=samples, sample_rate=engine.sample_rate)


# A worker process keeps its engine for its whole life: loading a model is the expensive part.
_WORKER_ENGINE: Engine | None = None


def _worker_init(preset: VoicePreset) -> None:
    global _WORKER_ENGINE
    _WORKER_ENGINE = (
        PiperEngine(preset, threads=1) if preset.engine == "piper" else load_engine(preset)
    )


def _worker_take(text: str) -> tuple[bytes, int]:
    assert _WORKER_ENGINE is not None
    take = make_take(_WORKER_ENGINE, text)
    return take.samples.tobytes(), take.sample_rate


def default_jobs() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )


@dataclass
class SynthesisStats:
    synthesized: int = 0
    cached: int = 0


def synthesize_all(
    texts: Sequence[str],
    preset: VoicePreset,
    cache: TakeCache,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stats: SynthesisStats | None = None,
) -> list[Take]:
    """Takes for every text, in order: from the cache where possible, the rest synthesized by a
    pool of worker processes (Piper) or in this process (the fast system voice)."""
    stats = stats if stats is not None else SynthesisStats()
    engine: Engine | None = None
    identity = _identity_for(preset)
    keys = [TakeCache.key(identity, t) for t in texts]
    takes: list[Take | None] = [cache.get(k) for k in keys]
    missing = sorted({t for t, take in zip(texts, takes, strict=True) if take is None})
    done = len(texts) - sum(1 for t in takes if t is None)
    stats.cached += done
    if progress:
        progress(done, len(texts))
    made: dict[str, Take] = {}
    jobs = jobs or default_jobs()
    if missing and preset.engine == "piper" and jobs > 1 and len(missing) > 1:
        ctx = get_context("spawn")  # onnxruntime is not fork-safe
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(missing)),
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(preset,),
        ) as pool:
            for text, (raw, rate) in zip(missing, pool.map(_worker_take, missing), strict=True):
                made[text] = Take(np.frombuffer(raw, dtype=np.int16), rate)
                done += sum(1 for t in texts if t == text)
                if progress:
                    progress(done, len(texts))
    elif missing:
        engine = _cached_engine(preset)
        for text in missing:
            made[text] = make_take(engine, text)
            done += sum(1 for t in texts if t == text)
            if progress:
                progress(done, len(texts))
    stats.synthesized += len(missing)
    result: list[Take] = []
    for key, text, take in zip(keys, texts, takes, strict=True):
        if take is None:
            take = made[text]
            cache.put(key, take)
        result.append(take)
    return result


@functools.lru_cache(maxsize=4)
def _cached_engine(preset: VoicePreset) -> Engine:
    return load_engine(preset)


@functools.lru_cache(maxsize=16)
def _identity_for(preset: VoicePreset) -> dict[str, str | float]:
    if preset.engine == "piper":
        model = resolve_piper_model(preset)
        stat = model.stat()
        return {
            "engine": "piper",
            "model": model.name,
            "model_sha256": file_digest(model, stat.st_size, stat.st_mtime_ns),
            "rate": preset.rate,
        }
    return _cached_engine(preset).identity()
