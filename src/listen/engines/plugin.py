"""Plugin engines: `engine = "package.module:Class"` in a preset names any class that takes the
preset and follows the `Engine` protocol (`identity()`, `synthesize(text)`, `sample_rate`)."""

from __future__ import annotations

from importlib import import_module

from listen.config import VoicePreset
from listen.engines.base import Engine
from listen.errors import ListenError


def load_plugin(preset: VoicePreset) -> Engine:
    module_name, _, class_name = preset.engine.partition(":")
    try:
        engine_class = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ListenError(f"voice {preset.name!r}: cannot load engine {preset.engine!r}") from None
    return engine_class(preset)
