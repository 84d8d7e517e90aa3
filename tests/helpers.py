"""Helpers the tests share: paths, running the CLI, reading audio the way a user's tools do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CONFIG = SAMPLES / "listen.toml"
SEED = SAMPLES / "seed-article.html"
ARTIFACTS = ROOT / "test-artifacts"

#: Site chrome of the seed page that must never be narrated.
SEED_CHROME = (
    "Table of Contents",
    "Listen to this article",
    "Leave a Comment",
    "Your email address will not be published",
    "subscribe to our daily mailing list",
    "Scroll to Top",
    "The Region – Israel & Palestinian Territories",
)


@dataclass(frozen=True)
class Rendered:
    out: Path
    manifest: dict
    audio: Path
    stdout: str

    @property
    def episodes(self) -> Path:
        return self.out / "episodes"


def run_listen(
    *args: str | Path,
    check: bool = True,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "listen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    if check and done.returncode != 0:
        raise AssertionError(f"listen {args} failed ({done.returncode}): {done.stderr}")
    return done


def ffprobe(path: Path, *entries: str) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", *entries, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def decode_pcm(path: Path, rate: int = 22050) -> np.ndarray:
    """The audio as a player decodes it: mono int16 samples at `rate`."""
    done = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, dtype=np.int16)


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) as ffmpeg's ebur128 filter measures them."""
    stderr = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    summary = stderr[stderr.rfind("Integrated loudness:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)
    assert integrated and peak, stderr[-500:]
    return float(integrated.group(1)), float(peak.group(1))


def render_page(tmp: Path, *extra: str | Path, page: Path = SEED) -> Rendered:
    out = tmp / "public"
    done = run_listen("render", page, "--out", out, "--config", CONFIG, *extra)
    manifests = [
        p for p in (out / "episodes").glob("*.json") if not p.name.endswith(".chapters.json")
    ]
    assert len(manifests) == 1, manifests
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    return Rendered(
        out=out, manifest=manifest, audio=out / "episodes" / manifest["audio"], stdout=done.stdout
    )
