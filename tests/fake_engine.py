"""A deterministic stand-in voice for tests of the logic around engines (loaded as a plugin,
`engine = "fake_engine:ToneEngine"`, so that worker processes can load it too)."""

from __future__ import annotations

import os
from pathlib import Path

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
