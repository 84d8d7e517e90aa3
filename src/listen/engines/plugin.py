"""Plugin engines: `engine = "package.module:Class"` in a preset names any class that takes the
preset and follows the `Engine` protocol (`identity()`, `synthesize(text)`, `sample_rate`)."""

from __future__ import annotations

from importlib import import_module

from listen.config import VoicePreset
from listen.engines.base import Engine
from listen.errors import ListenError


def plugin_class(preset: VoicePreset) -> type:
    """The class a preset's `engine` names. One that sets `concurrent = True` says one engine
    may synthesize from several threads at once."""
    module_name, _, class_name = preset.engine.partition(":")
    try:
        return getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ListenError(f"voice {preset.name!r}: cannot load engine {preset.engine!r}") from None


def load_plugin(preset: VoicePreset) -> Engine:
    return plugin_class(preset)(preset)
