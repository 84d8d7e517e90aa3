"""Speech engines, one module each, behind one protocol (`listen.engines.base.Engine`).

| module    | engine                                                           |
|-----------|------------------------------------------------------------------|
| `piper`   | Piper neural voices (onnxruntime), e.g. `joe`                    |
| `hibari`  | hibari neural voices (onnxruntime), e.g. `heart`                 |
| `pyttsx3` | the system voice (espeak-ng on Linux, SAPI5, NSSpeechSynthesizer) |
| `plugin`  | any `package.module:Class` a preset names                        |

A preset's `engine` picks the module; `load_engine` is the one way an engine is made.
"""

from __future__ import annotations

from listen.config import VoicePreset
from listen.engines import hibari, piper, plugin
from listen.engines import pyttsx3 as system
from listen.engines.base import Engine, to_int16

#: An engine that cannot speak from several threads at once is worth worker processes for
#: this many units or more (the fast system voice: below that, starting them costs more).
MIN_UNITS_FOR_POOL = {"pyttsx3": 48}


def load_engine(preset: VoicePreset, threads: int = 1) -> Engine:
    """The preset's engine, with `threads` for its model where it has one. `engine =
    "package.module:Class"` names a plugin."""
    if preset.engine == "piper":
        return piper.PiperEngine(preset, threads=threads)
    if preset.engine == "hibari":
        return hibari.HibariEngine(preset, threads=threads)
    if preset.engine == "pyttsx3":
        return system.Pyttsx3Engine(preset)
    return plugin.load_plugin(preset)


def engine_preloads(preset: VoicePreset) -> bool:
    """Whether loading the preset's engine beside the reading of the pages saves time: its
    load and first run are native code, outside the GIL (a Piper voice: onnxruntime), not
    Python that would only take turns with the reading (hibari's G2P data; measured: a heart
    edit of the seed took 1.08 s loaded beforehand, 1.04 s not). A plugin says so with
    `preloads = True`."""
    if preset.engine == "piper":
        return True
    if preset.engine in ("hibari", "pyttsx3"):
        return False
    return bool(getattr(plugin.plugin_class(preset), "preloads", False))


def threads_matter(preset: VoicePreset) -> bool:
    """Whether `load_engine`'s `threads` changes the engine (a model's sessions); a system
    voice or a plugin is the same engine for any number."""
    return preset.engine in ("piper", "hibari")


def engine_is_concurrent(preset: VoicePreset) -> bool:
    """Whether one engine of the preset's kind can synthesize from several threads at once
    (its class says so with `concurrent = True`); else each core needs an engine of its own,
    in a process of its own."""
    if preset.engine == "piper":
        return piper.PiperEngine.concurrent
    if preset.engine == "hibari":
        return hibari.HibariEngine.concurrent
    if preset.engine == "pyttsx3":
        return False
    return bool(getattr(plugin.plugin_class(preset), "concurrent", False))


def phoneme_format(preset: VoicePreset) -> str | None:
    """The phoneme notation the preset's engine reads in `[[...]]` ("ipa", "espeak"), or None
    where it reads text only (the lexicon then gives respellings)."""
    if preset.engine == "piper":
        return piper.PHONEMES
    if preset.engine == "hibari":
        return hibari.PHONEMES
    if preset.engine == "pyttsx3":
        return system.phoneme_format()
    return None


def static_identity(preset: VoicePreset) -> dict[str, str | float] | None:
    """The voice's identity when it is known without loading the engine (a model file's
    digest), else None."""
    if preset.engine == "piper":
        return piper.piper_identity(preset)
    if preset.engine == "hibari":
        return hibari.hibari_identity(preset)
    return None


def static_rate(preset: VoicePreset) -> int | None:
    """The voice's sample rate when it is known without loading the engine, else None."""
    if preset.engine == "piper":
        return piper.piper_sample_rate(preset)
    if preset.engine == "hibari":
        return hibari.SAMPLE_RATE
    return None


__all__ = ["MIN_UNITS_FOR_POOL", "Engine", "engine_is_concurrent", "load_engine",
           "phoneme_format", "static_identity", "static_rate", "to_int16"]  # fmt: skip
