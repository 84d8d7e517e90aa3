"""Intelligibility: render the samples, transcribe them offline, print the word error rate.

Each sample page is rendered with each voice twice, with text normalization off and on, and
every sentence of the episode (cut at the manifest's times) is transcribed by pocketsphinx (its
US English model ships in the PyPI package). The reference is the normalized script, what a
listener should hear, so a change that makes speech worse, or a normalization rule that stops
working, shows up as a higher WER. The recognizer's own errors on clean synthetic speech are
the floor; compare rows, not absolute numbers.

    .venv/bin/pip install pocketsphinx
    .venv/bin/python bench/intelligibility.py [--voices joe,espeak-en-us] [--pages ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from pocketsphinx import Decoder

from listen.config import load_config
from listen.mix import ffmpeg_exe
from listen.normalize import normalize_for_speech
from listen.pipeline import render

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / n for n in ("seed-article.html", "blog-post.html",
                                          "opinion-column.html")]  # fmt: skip
CONFIG = ROOT / "samples" / "listen.toml"
RATE = 16000


def words_of(text: str) -> list[str]:
    spoken = normalize_for_speech(text)
    return re.findall(r"[a-z']+", spoken.lower().replace("-", " "))


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))  # fmt: skip
        previous = current
    return previous[-1]


def decode(audio: Path) -> np.ndarray:
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(audio), "-map", "0:a", "-f", "s16le",
         "-ac", "1", "-ar", str(RATE), "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, dtype=np.int16)


def transcribe(decoder: Decoder, pcm: np.ndarray) -> list[str]:
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return re.findall(r"[a-z']+", hypothesis.hypstr.lower()) if hypothesis else []


def episode_wer(page: Path, voice: str, normalize: bool, work: Path, decoder: Decoder
                ) -> tuple[int, int]:  # fmt: skip
    config = load_config(CONFIG)
    config = replace(config, speech=replace(config.speech, normalize=normalize))
    out = work / f"{voice}-{normalize}"
    (result,) = render([page], out=out, config=config, voice=voice, feed=False, jobs=None)
    manifest = json.loads(result.manifest_path.read_text())
    pcm = decode(result.audio_path)
    errors = total = 0
    for sentence in manifest["sentences"]:
        start, end = (sentence["start_ms"] * RATE // 1000, sentence["end_ms"] * RATE // 1000)
        reference = words_of(sentence["text"])
        hypothesis = transcribe(decoder, pcm[max(0, start - RATE // 10) : end + RATE // 10])
        errors += edit_distance(reference, hypothesis)
        total += len(reference)
    return errors, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voices", default="joe,espeak-en-us")
    parser.add_argument("--pages", nargs="*", type=Path, default=SAMPLES)
    args = parser.parse_args()
    decoder = Decoder(samprate=RATE, logfn="/dev/null")
    print(f"{'voice':<14}{'normalization':<15}{'words':>7}{'errors':>8}{'WER':>8}")
    with tempfile.TemporaryDirectory(prefix="listen-wer-") as tmp:
        for voice in args.voices.split(","):
            for normalize in (False, True):
                errors = total = 0
                for page in args.pages:
                    e, t = episode_wer(page, voice, normalize, Path(tmp) / page.stem, decoder)
                    errors, total = errors + e, total + t
                label = "on" if normalize else "off"
                print(f"{voice:<14}{label:<15}{total:>7}{errors:>8}{errors / total:>8.1%}")


if __name__ == "__main__":
    main()
