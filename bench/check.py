"""listen check: its speed (x real time) and what it hears, per voice, on the three samples.

Each sample page is rendered with each voice (the take cache makes re-runs cheap), then
checked as `listen check` does it (`listen.check.check_episode`: every sentence cut at the
manifest's times and transcribed on its own, one model for the whole run, every core). The
baseline, measured in the same run on the same audio, is the intelligibility benchmark's way of
hearing an episode: whole sentences grouped into clips of up to 25 s (`listen.asr`), which
costs fewer recognizer passes but cannot say which sentence a word belongs to.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/check.py [--voices espeak-en-us,joe,heart] [--pages ...] [--show]

--show prints every suspect sentence (what was meant, what was heard).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from listen.asr import ASR_RATE, load_recognizer, transcribe_sentences
from listen.check import check_episode, decode, suggestions
from listen.config import load_config
from listen.pipeline import render

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / n for n in ("seed-article.html", "blog-post.html",
                                          "opinion-column.html")]  # fmt: skip
CONFIG = ROOT / "samples" / "listen.toml"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voices", default="espeak-en-us,joe,heart")
    parser.add_argument("--pages", nargs="*", type=Path, default=SAMPLES)
    parser.add_argument("--show", action="store_true", help="print every suspect sentence")
    args = parser.parse_args()
    config = load_config(CONFIG)
    started = time.perf_counter()
    model = load_recognizer(os.cpu_count() or 0)
    loaded = time.perf_counter() - started
    print(f"recognizer: faster-whisper tiny.en (int8, {os.cpu_count()} threads), loaded in "
          f"{loaded:.1f} s; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'voice':<14}{'page':<18}{'audio s':>8}{'WER':>7}{'suspect':>9}{'check x':>9}"
          f"{'clips x':>9}{'ratio':>7}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="listen-check-bench-") as tmp:
        for voice in args.voices.split(","):
            reports = []
            audio_total = check_total = clip_total = 0.0
            errors = words = 0
            for page in args.pages:
                (result,) = render([page], out=Path(tmp) / voice, config=config, voice=voice,
                                   feed=False)  # fmt: skip
                report = check_episode(result.manifest, result.audio_path, model=model)
                pcm = decode(result.audio_path)
                clip_started = time.perf_counter()
                spans = [(s.start_ms, s.end_ms) for s in result.manifest.sentences]
                transcribe_sentences(pcm, ASR_RATE, spans, model)
                clip_seconds = time.perf_counter() - clip_started
                audio = result.manifest.duration_ms / 1000
                reports.append(report)
                audio_total += audio
                check_total += report.seconds
                clip_total += clip_seconds
                errors += sum(s.errors for s in report.sentences)
                words += report.words
                print(f"{voice:<14}{page.stem[:17]:<18}{audio:>8.0f}{report.wer:>7.1%}"
                      f"{len(report.suspects):>5}/{len(report.sentences):<3}"
                      f"{audio / report.seconds:>9.1f}{audio / clip_seconds:>9.1f}"
                      f"{clip_seconds / report.seconds:>7.2f}")  # fmt: skip
                if args.show:
                    for sentence in report.suspects:
                        print(f"    {sentence.wer:>4.0%} {sentence.text}\n         heard: "
                              f"{sentence.heard}")  # fmt: skip
            suspects = sum(len(r.suspects) for r in reports)
            sentences = sum(len(r.sentences) for r in reports)
            print(f"{voice:<14}{'all':<18}{audio_total:>8.0f}{errors / words:>7.1%}"
                  f"{suspects:>5}/{sentences:<3}{audio_total / check_total:>9.1f}"
                  f"{audio_total / clip_total:>9.1f}{clip_total / check_total:>7.2f}")  # fmt: skip
            for item in suggestions(reports, voice):
                print(f"    suggested: {item.entry}  ({item.sentences} sentences; heard "
                      f"{', '.join(item.heard)})")  # fmt: skip
    print(
        "check x: audio seconds heard per second by listen check (a sentence at a time); "
        "clips x: the baseline, 25-s clips; ratio: clips time / check time"
    )


if __name__ == "__main__":
    main()
