"""Piper (onnxruntime): the neural voice `joe` and any other Piper model."""

from __future__ import annotations

import copy
import json
import threading
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from listen.config import VoicePreset
from listen.engines.base import model_digest, package_version, to_int16
from listen.engines.onnx import cpu_session, open_session, session_options
from listen.engines.vits import WindowedVoice, open_windowed
from listen.errors import ListenError

if TYPE_CHECKING:
    from piper import PiperVoice

#: Piper reads `[[...]]` as IPA phonemes, as espeak-ng writes them.
PHONEMES = "ipa"


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


def piper_identity(preset: VoicePreset, model: Path | None = None) -> dict[str, str | float]:
    """The voice's part of the cache key, known without loading the model."""
    model = model or resolve_piper_model(preset)
    return {
        "engine": "piper",
        "engine_version": package_version("piper-tts"),
        "model": model.name,
        "model_sha256": model_digest(model),
        "rate": preset.rate,
    }


def piper_sample_rate(preset: VoicePreset) -> int | None:
    """The model's sample rate, from its config file (without loading the model)."""
    try:
        config = json.loads(Path(f"{resolve_piper_model(preset)}.json").read_text("utf-8"))
        return int(config["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # the engine will say what is wrong when it loads


class PiperEngine:
    """Piper (onnxruntime). Synthesizes exactly the unit it is given: Piper's own sentence
    splitting is bypassed (it breaks at "Dr." and "Jan."), and its per-sentence volume
    normalization is off so that loudness is set once for the whole episode.

    One engine may synthesize from several threads at once: the model runs in onnxruntime
    (thread-safe, outside the GIL), and the phonemizer (espeak-ng, one global state per
    process) is taken in turns. A model that can be cut is run as its two parts, its decoder a
    window at a time (`listen.engines.vits`), so that a long sentence takes no more memory than
    a short one.

    `threads` is how many cores one call may use. A cut model's sessions have one thread each
    whatever it is, and a call spreads a sentence's decoder windows over `threads` threads, so
    engines for any number of threads can share one model (`with_threads`); a model run whole
    gets a session of `threads` onnxruntime threads."""

    concurrent = True

    def __init__(self, preset: VoicePreset, threads: int = 1) -> None:
        from piper.config import PiperConfig, SynthesisConfig

        self.preset = preset
        self.model_path = resolve_piper_model(preset)
        config_path = Path(f"{self.model_path}.json")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            one_thread = session_options(1)
            windowed = open_windowed(self.model_path, lambda part: cpu_session(part, one_thread))
            session = (windowed.sharing(threads) if windowed is not None
                       else open_session(self.model_path, session_options(threads)))  # fmt: skip
        except Exception as exc:  # a corrupt model surfaces as many different exception types
            raise ListenError(
                f"voice {preset.name!r}: cannot load model {self.model_path}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        self.voice = self._voice(session, config)
        self.sample_rate = config.sample_rate
        self.syn_config = SynthesisConfig(length_scale=1.0 / preset.rate, normalize_audio=False)
        self._phonemizer_turn = threading.Lock()

    @staticmethod
    def _voice(session: object, config: object) -> PiperVoice:
        from piper import PiperVoice

        return PiperVoice(session=session, config=config)  # type: ignore[arg-type]

    def with_threads(self, threads: int) -> PiperEngine | None:
        """This engine for calls of `threads` cores, on the same model (no second load), or
        None when its model is run whole (a session's threads are fixed when it opens)."""
        if not isinstance(session := self.voice.session, WindowedVoice):
            return None
        engine = copy.copy(self)  # the phonemizer's turn too: espeak-ng is one per process
        engine.voice = self._voice(session.sharing(threads), self.voice.config)
        return engine

    def identity(self) -> dict[str, str | float]:
        return piper_identity(self.preset, self.model_path)

    def synthesize(self, text: str) -> np.ndarray:
        phonemes: list[str] = []
        with self._phonemizer_turn:
            sentences = self.voice.phonemize(text)
        for sentence in sentences:
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
