"""A deterministic stand-in voice for tests of the logic around engines (loaded as a plugin,
`engine = "fake_engine:ToneEngine"`, so that worker processes can load it too)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import numpy as np


class ToneEngine:
    """Speaks every text as a tone whose length and pitch depend on the text. Each call is
    appended to the file named by $FAKE_ENGINE_LOG, so tests can count calls across
    processes."""

    sample_rate = 16000

    def __init__(self, preset) -> None:  # type: ignore[no-untyped-def]
        self.preset = preset

    def identity(self) -> dict[str, str | float]:
        return {"engine": "tone", "voice": self.preset.voice, "rate": self.preset.rate}

    def synthesize(self, text: str) -> np.ndarray:
        if log := os.environ.get("FAKE_ENGINE_LOG"):
            with Path(log).open("a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        seconds = (0.2 + 0.01 * len(text)) / self.preset.rate
        t = np.arange(int(self.sample_rate * seconds)) / self.sample_rate
        return (9000 * np.sin(2 * np.pi * (200 + len(text)) * t)).astype(np.int16)


def calls(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


class CrashingEngine(ToneEngine):
    """Dies (SIGKILL, as the kernel's out-of-memory killer would) when asked to speak a text
    containing "kaboom"; speaks anything else as ToneEngine does."""

    def synthesize(self, text: str) -> np.ndarray:
        if "kaboom" in text.lower():
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        return super().synthesize(text)


class SharedToneEngine(ToneEngine):
    """The tone voice, declared able to speak from several threads at once. It counts the
    engines made and how many calls overlapped (each call waits, up to a second, for another
    to start beside it), so tests can see threads share one engine."""

    concurrent = True
    made = 0
    active = 0
    most_active = 0
    threads: ClassVar[set[int]] = set()
    _changed = None

    def __init__(self, preset) -> None:  # type: ignore[no-untyped-def]
        import threading

        super().__init__(preset)
        cls = type(self)
        cls.made += 1
        if cls._changed is None:
            cls._changed = threading.Condition()

    @classmethod
    def reset(cls) -> None:
        cls.made = cls.active = cls.most_active = 0
        cls.threads = set()

    def synthesize(self, text: str) -> np.ndarray:
        import threading

        cls = type(self)
        assert cls._changed is not None
        with cls._changed:
            cls.active += 1
            cls.most_active = max(cls.most_active, cls.active)
            cls.threads.add(threading.get_ident())
            cls._changed.notify_all()
            cls._changed.wait_for(lambda: cls.active > 1, timeout=1.0)
        try:
            return super().synthesize(text)
        finally:
            with cls._changed:
                cls.active -= 1


class SilentEngine(ToneEngine):
    """Speaks silence for a text containing "silence", the tone otherwise."""

    def synthesize(self, text: str) -> np.ndarray:
        if "silence" in text:
            return np.zeros(self.sample_rate, dtype=np.int16)
        return super().synthesize(text)


class HelpedEngine(ToneEngine):
    """The tone voice, helped: asked for the text "first", it has `listen.synthesize.assist`
    make the takes of the texts in $HELPED_TEXTS (one per line) into the cache at
    $HELPED_CACHE first, as another worker would while this one speaks."""

    def synthesize(self, text: str) -> np.ndarray:
        if text == "first" and (folder := os.environ.get("HELPED_CACHE")):
            from listen.cache import TakeCache
            from listen.config import VoicePreset
            from listen.synthesize import assist

            helper = VoicePreset(name="tone", engine="fake_engine:ToneEngine", voice="v1")
            texts = Path(os.environ["HELPED_TEXTS"]).read_text(encoding="utf-8").splitlines()
            assist([(helper, self.sample_rate, t) for t in texts], TakeCache(Path(folder)))
        return super().synthesize(text)


class ConcurrentToneEngine(ToneEngine):
    """The tone voice, declared able to speak from several threads at once and worth loading
    beside the reading of the pages (as a Piper voice is), recording the thread each engine
    was loaded in."""

    concurrent = True
    preloads = True
    loaded_in: ClassVar[list[str]] = []

    def __init__(self, preset) -> None:  # type: ignore[no-untyped-def]
        import threading

        super().__init__(preset)
        type(self).loaded_in.append(threading.current_thread().name)
