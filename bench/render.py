"""Render speed and memory, as ratios against baselines measured in the same run.

For each voice, on the same article text:
  bare   the spoken sentences synthesized one by one in one process pinned to one core
         (`taskset -c 0`), model already loaded: Piper's `PiperVoice.synthesize` with
         normalize_audio off, hibari's `Hibari(threads=1)(text)`, or the system voice's
         engine; the voice's speed per core, and what the cold render's target is a ratio of
  floor  the same on every core at once: a pinned process per core, each given a share of
         the sentences (balanced by length), timed to the last one's end; what a render on
         those cores could take at best
  cold   `listen render` with an empty take cache, default --jobs (all cores); what is made
         once per machine (a neural model's optimized copy) is made before, and timed apart
  edit   `listen render` after one paragraph's text changed
  warm   `listen render` with nothing changed
  resident  the cold render and the edit's again, by one process calling
         `listen.pipeline.render` twice, as `listen api`'s and `listen worker`'s render
         processes and a CMS integration do (the voice stays loaded between its renders)
  memory peak RSS of the whole process tree (summed over the render and its workers, sampled
         every 20 ms) for the article and for a longer one (--scale times the sections)

    .venv/bin/python bench/render.py                      # every voice, the seed article
    .venv/bin/python bench/render.py --voices espeak-en-us --scale 10
    .venv/bin/python bench/render.py --voices espeak-en-us --words 18000   # a 2-hour article
    .venv/bin/python bench/render.py --voices espeak-en-us --format m4a    # M4A episodes
"""

from __future__ import annotations

import argparse
import glob
import html
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "seed-article.html"
CONFIG = ROOT / "samples" / "listen.toml"


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    audio_seconds: float
    #: User + system CPU time of the render and every process it started (less noisy than
    #: wall time on a shared machine).
    cpu_seconds: float = 0.0
    #: Peak proportional set size of the tree: each process's share of the pages it shares
    #: with others (ffmpeg's libraries, mapped by every encoder, count once in all).
    peak_pss_mb: float = 0.0


def user_environment() -> dict[str, str]:
    """This environment as an installed user's shell has it: Python writes and reuses its
    bytecode. With PYTHONDONTWRITEBYTECODE set (some CI images and sandboxes set it) every run
    of an editable install recompiles listen's modules, ~0.15 s that no user pays twice."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_listen() -> None:
    """Compile listen's modules once, as `pip install` does, so no timed run pays for it."""
    package = Path(__import__("listen").__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True,
                   env=user_environment())  # fmt: skip


def share_machine_files(cache: Path) -> None:
    """Every run's cache folder shares one `models` folder (beside them): the optimized copies
    of the neural models (`listen.engines.onnx`) are made once per machine, not per take
    cache, so "cold" (an empty take cache) finds them, as a user's every render after the
    first does."""
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "models").exists():
        (cache.parent / "models").mkdir(exist_ok=True)
        (cache / "models").symlink_to(cache.parent / "models")


def first_load(voice: str, cache: Path) -> float:
    """Load the voice's engine once in a fresh process and have it say a word (this makes a
    neural model's optimized copy and hibari's G2P data copies, once per machine); the seconds
    it took."""
    share_machine_files(cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from listen.config import SiteConfig; "
                    "from listen.engines import load_engine; from listen.voices import "
                    "find_preset; load_engine(find_preset(sys.argv[1], SiteConfig()))"
                    ".synthesize('Hello.')", voice],
                   env={**user_environment(), "LISTEN_CACHE_DIR": str(cache)},
                   check=True)  # fmt: skip
    return time.perf_counter() - start


def resident(page: Path, edited: Path, voice: str, work: Path,
             fmt: str = "mp3") -> tuple[float, float]:  # fmt: skip
    """A cold render and then an edit's, by one process calling `listen.pipeline.render` (as
    `listen api`'s and `listen worker`'s render processes do: the voice stays loaded between
    renders); the seconds of each."""
    cache, out = work / f"resident-cache-{voice}", work / f"resident-out-{voice}"
    share_machine_files(cache)
    env = {**user_environment(), "LISTEN_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, __file__, "--resident", str(page), str(edited), voice,
                           str(out), fmt], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    cold, edit = map(float, done.stdout.split()[-2:])
    return cold, edit


def resident_renders(page: Path, edited: Path, voice: str, out: Path, fmt: str) -> None:
    """Runs in the child: both renders, timed; prints their seconds."""
    from listen.config import load_config
    from listen.pipeline import render

    config = load_config(CONFIG)
    times = []
    for source in (page, edited):
        start = time.perf_counter()
        render([source], out, config, voice=voice, fmt=fmt, feed=False)
        times.append(time.perf_counter() - start)
    print(f"{times[0]:.4f} {times[1]:.4f}")


def render(page: Path, out: Path, voice: str, cache: Path, fmt: str = "mp3") -> Run:
    """One `listen render`, timed, with the process tree's summed RSS sampled."""
    env = {**user_environment(), "LISTEN_CACHE_DIR": str(cache)}
    share_machine_files(cache)
    command = [sys.executable, "-m", "listen", "render", str(page), "--out", str(out),
               "--config", str(CONFIG), "--voice", voice, "--format", fmt, "--quiet",
               "--no-feed"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    pss_read = (0, 0.0)  # the summed RSS and the time when PSS was last read
    while process.poll() is None:
        rss, pids = tree_rss(process.pid)
        now = time.perf_counter()
        # PSS is dear to read (smaps_rollup walks every mapping): only at a new peak of the RSS,
        # or near the peak and not in the last half second.
        if rss > pss_read[0] * 1.01 or (rss >= peak * PSS_NEAR_PEAK and now - pss_read[1] > 0.5):
            peak_pss = max(peak_pss, sum(map(_pss, pids)))
            pss_read = (rss, now)
        peak = max(peak, rss)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"render failed: {process.stderr.read() if process.stderr else ''}")
    # The manifest: a slug has no dots, the chapters' and transcript's names have.
    manifest = next(p for p in (out / "episodes").glob("*.json") if "." not in p.stem)
    duration = json.loads(manifest.read_text())["duration_ms"] / 1000
    return Run(seconds, peak / 1024**2, duration, cpu, peak_pss / 1024**2)


#: Besides at new peaks, PSS is read for samples whose summed RSS is at least this share of the
#: peak so far: the PSS peak is where the RSS peak is.
PSS_NEAR_PEAK = 0.97
_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> tuple[int, list[int]]:
    """The summed RSS of a process and everything below it, and their pids, from /proc alone:
    sampled every 20 ms beside a render on the same cores, the sampler must cost next to
    nothing (psutil's `children` and `memory_full_info` took 16 ms a sample, a fifth to two
    fifths of a core). A child still running the parent's own command line is one caught
    between fork (or vfork) and exec: its pages are the parent's, counted already, so it is
    left out (else every encoder started would count the whole render twice for an instant)."""
    command = _read(f"/proc/{root}/cmdline")
    pids, rss, todo = [], 0, [root]
    while todo:
        pid = todo.pop()
        for tasks in glob.glob(f"/proc/{pid}/task/*/children"):
            todo += [int(child) for child in _read(tasks).split()]
        if pid != root and _read(f"/proc/{pid}/cmdline") == command:
            continue
        statm = _read(f"/proc/{pid}/statm").split()
        if len(statm) > 1:
            pids.append(pid)
            rss += int(statm[1]) * _PAGE
    return rss, pids


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:  # the process has just ended
        return b""


def _pss(pid: int) -> int:
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith(b"Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def bare_command(core: int, page: Path, voice: str, one_thread: bool = True,
                 share: str | None = None) -> list[str]:  # fmt: skip
    """This script in `--bare` mode, pinned to `core` (`bare_synthesis`)."""
    return ["taskset", "-c", str(core), sys.executable, __file__, "--bare", str(page), voice,
            "1" if one_thread else "0", *(["--share", share] if share else [])]  # fmt: skip


def bare(page: Path, voice: str, one_thread: bool = True) -> float:
    """Seconds for the bare synthesis baseline, in a child pinned to core 0."""
    done = subprocess.run(bare_command(0, page, voice, one_thread), capture_output=True,
                          text=True, check=True)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def bare_floor(page: Path, voice: str) -> float:
    """Seconds for the bare synthesis on every core at once: a child pinned to each core with
    its share of the sentences, all started together (each times its own share, from after
    its model loads: the slowest share is the floor)."""
    cores = sorted(os.sched_getaffinity(0))
    children = [
        subprocess.Popen(bare_command(core, page, voice, share=f"{n}/{len(cores)}"),
                         stdout=subprocess.PIPE, text=True)
        for n, core in enumerate(cores)
    ]
    times = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"the bare synthesis on core {cores[len(times)]} failed")
        times.append(float(out.strip().splitlines()[-1]))
    return max(times)


def share_of(texts: list[str], share: str | None) -> list[str]:
    """Share "n/N" of `texts`: the longest given first to the share with the fewest letters,
    so that the N shares take about as long as each other."""
    if not share:
        return texts
    number, shares = map(int, share.split("/"))
    letters, mine = [0] * shares, []
    for text in sorted(texts, key=len, reverse=True):
        emptiest = letters.index(min(letters))
        letters[emptiest] += len(text)
        if emptiest == number:
            mine.append(text)
    return mine


def _one_thread_session(model):  # type: ignore[no-untyped-def]
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    path = model.session._model_path
    return onnxruntime.InferenceSession(path, sess_options=options,
                                        providers=["CPUExecutionProvider"])  # fmt: skip


def bare_synthesis(page: Path, voice: str, one_thread: bool = True,
                   share: str | None = None) -> float:  # fmt: skip
    """Runs in the pinned child: load the voice, then time synthesizing every sentence (or
    this child's `share` of them)."""
    from listen.config import find_preset, load_config
    from listen.pipeline import script_page

    config = load_config(CONFIG)
    preset = find_preset(voice, config)
    texts = share_of([s.spoken for s in script_page(page, config).sentences], share)
    if preset.engine == "piper":
        from piper import PiperVoice
        from piper.config import SynthesisConfig

        from listen.engines.piper import resolve_piper_model

        model = PiperVoice.load(resolve_piper_model(preset))
        if one_thread:
            # onnxruntime pins its own intra-op threads across all cores, escaping taskset
            # (measured: user time 1.8x wall under `taskset -c 0`); one thread is one core.
            model = PiperVoice(session=_one_thread_session(model), config=model.config)
        syn = SynthesisConfig(normalize_audio=False, length_scale=1 / preset.rate)
        start = time.perf_counter()
        for text in texts:
            for _chunk in model.synthesize(text, syn):
                pass
        return time.perf_counter() - start
    if preset.engine == "hibari":
        from hibari import Hibari

        from listen.engines.hibari import resolve_hibari_model

        tts = Hibari(model=str(resolve_hibari_model(preset)), threads=1)
        tts("Warm up.", seed=0)  # its phonemizer loads on first use
        start = time.perf_counter()
        for text in texts:
            tts(text, speed=preset.rate, seed=0)
        return time.perf_counter() - start
    from listen.engines import load_engine

    engine = load_engine(preset)
    start = time.perf_counter()
    for text in texts:
        engine.synthesize(text)
    return time.perf_counter() - start


def voice_engine(voice: str) -> str:
    from listen.config import find_preset, load_config

    return find_preset(voice, load_config(CONFIG)).engine


def longer_page(page: Path, scale: int, target: Path) -> Path:
    """The article's sections repeated `scale` times, every sentence made unique (so nothing
    is found in the cache), as one page."""
    source = page.read_text(encoding="utf-8")
    body = re.search(r"<ol class=\"wp-block-list\">.*?</ol>", source, re.S)
    assert body, "the sample's sections are in an <ol>"
    parts = []
    for copy in range(scale):
        part = re.sub(r"(<p>)", rf"\1In part {copy + 1}, ", body.group(0))
        part = re.sub(r"(<h2[^>]*>)", rf"\1Part {copy + 1}: ", part)
        parts.append(part)
    target.write_text(source.replace(body.group(0), "\n".join(parts)), encoding="utf-8")
    return target


def page_of_words(words: int, target: Path) -> Path:
    """A synthetic article of about `words` words in sections of a few paragraphs."""
    seed = re.sub(r"<[^>]+>", " ", SEED.read_text(encoding="utf-8"))
    vocabulary = re.findall(r"[A-Za-z]{3,}", seed)
    sections, written, n = [], 0, 0
    while written < words:
        paragraphs = []
        for p in range(4):
            sentence_words = [vocabulary[(n * 7 + i * 13 + p) % len(vocabulary)]
                              for i in range(60)]  # fmt: skip
            n += 1
            sentences = [" ".join(sentence_words[i : i + 15]).capitalize() + f" {n}."
                         for i in range(0, 60, 15)]  # fmt: skip
            paragraphs.append(f"<p>{html.escape(' '.join(sentences))}</p>")
            written += 60
        sections.append(f"<h2>Section {len(sections) + 1}</h2>\n" + "\n".join(paragraphs))
    target.write_text(
        "<html lang='en'><head><title>A long read</title></head><body><article>"
        "<h1>A long read</h1>" + "\n".join(sections) + "</article></body></html>",
        encoding="utf-8",
    )
    return target


def edit_one_paragraph(page: Path, target: Path) -> Path:
    text = page.read_text(encoding="utf-8")
    edited = re.sub(r"(<p>)([^<]{40,}?)(\.)", r"\1\2, as corrected\3", text, count=1)
    assert edited != text
    target.write_text(edited, encoding="utf-8")
    return target


def bench_voice(voice: str, page: Path, long_page: Path | None, work: Path,
                fmt: str = "mp3") -> None:  # fmt: skip
    cache = work / f"cache-{voice}"
    baseline = bare(page, voice)
    floor = bare_floor(page, voice)
    escaped = bare(page, voice, one_thread=False) if voice_engine(voice) == "piper" else None
    loading = first_load(voice, work / f"first-load-{voice}")
    cold = render(page, work / f"out-{voice}", voice, cache, fmt)
    edited = render(edit_one_paragraph(page, work / "edited.html"), work / f"out-{voice}",
                    voice, cache, fmt)  # fmt: skip
    warm = render(work / "edited.html", work / f"out-{voice}", voice, cache, fmt)
    resident_cold, resident_edit = resident(page, work / "edited.html", voice, work, fmt)
    cores = len(os.sched_getaffinity(0))
    print(f"\n## {voice}: {page.name}, {cold.audio_seconds:.0f} s of audio ({fmt})")
    print(f"{'run':<28}{'seconds':>10}{'x real time':>14}{'per core':>10}{'peak RSS MB':>14}"
          f"{'CPU s':>9}")  # fmt: skip
    speed = cold.audio_seconds / baseline
    print(f"{'bare synthesis (1 core)':<28}{baseline:>10.2f}{speed:>14.1f}{speed:>10.1f}")
    speed = cold.audio_seconds / floor
    print(f"{f'bare, {cores} cores (floor)':<28}{floor:>10.2f}{speed:>14.1f}"
          f"{speed / cores:>10.1f}")  # fmt: skip
    print(f"{'load the voice (first time)':<28}{loading:>10.2f}   (a fresh process, one word; "
          "makes the model copies, once per machine)")  # fmt: skip
    if escaped is not None:
        print(f"{'bare, onnxruntime defaults':<28}{escaped:>10.2f}"
              f"{cold.audio_seconds / escaped:>14.1f}   (taskset -c 0, but its threads use "
              "every core)")  # fmt: skip
    for name, run in (("cold render", cold), ("edit re-render", edited), ("warm re-render", warm)):
        speed = run.audio_seconds / run.seconds
        print(f"{name:<28}{run.seconds:>10.2f}{speed:>14.1f}{speed / cores:>10.1f}"
              f"{run.peak_rss_mb:>14.0f}{run.cpu_seconds:>9.2f}")  # fmt: skip
    print(f"cold / bare  = {cold.seconds / baseline:.2f}   (target <= 0.55 for the neural voices; "
          f"the floor on {cores} cores: {floor / baseline:.2f})")  # fmt: skip
    print(f"edit / cold  = {edited.seconds / cold.seconds:.2f}   (target <= 0.08; CPU time "
          f"{edited.cpu_seconds / cold.cpu_seconds:.2f})")  # fmt: skip
    print(f"warm / cold  = {warm.seconds / cold.seconds:.2f}   (warm {warm.seconds:.2f} s; "
          "target < 2 s)")  # fmt: skip
    print(f"in a resident process (listen api's, listen worker's): cold {resident_cold:.2f} s, "
          f"edit {resident_edit:.2f} s, edit / cold = {resident_edit / resident_cold:.3f}")
    if long_page is not None:
        long_cache = work / f"cache-long-{voice}"
        long = render(long_page, work / f"long-{voice}", voice, long_cache, fmt)
        print(
            f"longer article: {long.audio_seconds / 60:.0f} min of audio in {long.seconds:.1f} s"
            f" ({long.audio_seconds / long.seconds:.0f}x real time, CPU {long.cpu_seconds:.1f} s)"
            f", peak RSS {long.peak_rss_mb:.0f} MB, PSS {long.peak_pss_mb:.0f} MB (short: "
            f"{cold.peak_rss_mb:.0f} MB)"
        )
        long_edit = render(edit_one_paragraph(long_page, work / "long-edited.html"),
                           work / f"long-{voice}", voice, long_cache, fmt)  # fmt: skip
        print(f"longer article, edit re-render: {long_edit.seconds:.2f} s, edit / cold = "
              f"{long_edit.seconds / long.seconds:.3f} (target <= 0.02; CPU time "
              f"{long_edit.cpu_seconds / long.cpu_seconds:.3f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voices", default="joe,heart,espeak-en-us")
    parser.add_argument("--page", type=Path, default=SEED)
    parser.add_argument("--scale", type=int, default=10, help="longer article: sections x N")
    parser.add_argument("--words", type=int, help="longer article: a synthetic one of N words")
    parser.add_argument("--no-long", action="store_true", help="skip the longer article")
    parser.add_argument("--format", choices=("mp3", "m4a"), default="mp3",
                        help="the episodes' audio format (the renders', not the baseline's)")
    parser.add_argument("--bare", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--share", help=argparse.SUPPRESS)
    parser.add_argument("--resident", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.resident:
        page, edited, voice, out, fmt = args.resident
        resident_renders(Path(page), Path(edited), voice, Path(out), fmt)
        return
    if args.bare:
        seconds = bare_synthesis(Path(args.bare[0]), args.bare[1], args.bare[2] == "1", args.share)
        print(f"{seconds:.4f}")
        return
    with tempfile.TemporaryDirectory(prefix="listen-bench-") as tmp:
        work = Path(tmp)
        long_page = None
        if not args.no_long:
            long_page = (
                page_of_words(args.words, work / "long.html")
                if args.words
                else longer_page(args.page, args.scale, work / "long.html")
            )
        print(f"cores: {len(os.sched_getaffinity(0))}")
        compile_listen()
        for voice in args.voices.split(","):
            bench_voice(voice, args.page, long_page, work, args.format)


if __name__ == "__main__":
    main()
