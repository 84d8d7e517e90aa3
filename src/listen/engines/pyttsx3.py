"""The platform's system voice through pyttsx3: espeak-ng on Linux, SAPI5 on Windows,
NSSpeechSynthesizer on macOS. Robotic, but fast, and it speaks over a hundred languages."""

from __future__ import annotations

import ctypes
import functools
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from listen.config import VoicePreset
from listen.errors import ListenError
from listen.lifeline import held_signals

#: espeak-ng words per minute at rate 1.0 (its own default is 175).
ESPEAK_BASE_WPM = 175
#: SAPI5 and NSSpeechSynthesizer report their rate in words per minute around 200.
SYSTEM_BASE_WPM = 200
#: espeak-ng is one global synthesizer per process, and none of its calls may overlap another:
#: choosing a voice (`SetVoiceByName`) or listing voices while another thread synthesizes
#: swaps tables under it. Every call into it here holds this lock.
ESPEAK_LOCK = threading.RLock()


def phoneme_format() -> str | None:
    """espeak-ng reads `[[...]]` as its phoneme mnemonics; other platforms read text only."""
    return "espeak" if sys.platform.startswith("linux") else None


class Pyttsx3Engine:
    """The platform's system voice through pyttsx3.

    On Linux pyttsx3 drives espeak-ng through its ctypes binding, but its `save_to_file` +
    `runAndWait` writes nothing on pyttsx3 2.99; so there we use that same binding in
    synchronous mode and collect the samples from the synth callback, exact and in the calling
    thread. On Windows (SAPI5) and macOS (NSSpeechSynthesizer) pyttsx3's own `save_to_file` is
    used.
    """

    def __init__(self, preset: VoicePreset) -> None:
        self.preset = preset
        self._use_espeak_binding = sys.platform.startswith("linux")
        if self._use_espeak_binding:
            with ESPEAK_LOCK:
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

        # Synchronous mode calls `collect` in this thread: a Ctrl-C or SIGTERM handled there
        # would be dropped by ctypes, so it is held until Synth has returned (one sentence).
        with ESPEAK_LOCK, held_signals():
            _espeak.SetSynthCallback(collect)
            if _espeak.SetVoiceByName(self._espeak_voice.encode()) != 0:
                raise ListenError(f"espeak-ng has no voice {self._espeak_voice!r}")
            _espeak.SetParameter(_espeak.RATE, int(ESPEAK_BASE_WPM * self.preset.rate), 0)
            # PHONEMES: [[...]] from the pronunciation lexicon is read as phoneme mnemonics.
            # (Synchronous mode: Synth returns when the text is spoken; nothing to wait for.)
            _espeak.Synth(text.encode("utf-8"), flags=_espeak.CHARS_UTF8 | _espeak.PHONEMES)
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

    # Synchronous: `Synth` speaks in the calling thread and returns when done. In retrieval
    # mode a thread of espeak-ng's own speaks, and `Synchronize` waits for it in 20 ms sleeps:
    # 18-20 ms a call whatever its length (the seed's 36 sentences: 0.75 s, against about 0.3 s).
    rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000)
    if rate <= 0:
        raise ListenError("could not initialize espeak-ng (is libespeak-ng installed?)")
    # pyttsx3's own driver must not initialize espeak a second time in this process.
    EspeakDriver._moduleInitialized = True
    return rate


@functools.cache
def _espeak_version() -> str:
    from pyttsx3.drivers import _espeak

    with ESPEAK_LOCK:
        info = _espeak.Info(None)
    return info.decode() if info else ""


@dataclass(frozen=True)
class SystemVoice:
    id: str
    name: str
    languages: tuple[str, ...]


@functools.cache
def system_voice_list() -> tuple[SystemVoice, ...]:
    """Every voice the platform offers: on Linux espeak-ng's, read through the same binding the
    engine uses (so espeak is initialized once, in retrieval mode); elsewhere pyttsx3's."""
    if sys.platform.startswith("linux"):
        from pyttsx3.drivers import _espeak

        with ESPEAK_LOCK:
            _espeak_initialize()
            return tuple(
                SystemVoice(v.identifier.decode().lower(), v.name.decode(errors="replace"),
                            (v.languages[1:].decode(errors="replace"),) if v.languages else ())
                for v in _espeak.ListVoices(None)
            )  # fmt: skip
    import pyttsx3

    voices = []
    for voice in pyttsx3.init().getProperty("voices") or []:
        languages = tuple(
            lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang)
            for lang in (voice.languages or [])
        )
        voices.append(SystemVoice(str(voice.id), str(voice.name or ""), languages))
    return tuple(voices)


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
