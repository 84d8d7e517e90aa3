"""Queue throughput: the same batch rendered by 1 and by 2 Celery worker processes, as ratios
against local renders of the same batch measured in the same run.

Every run starts from an empty take cache of its own (the real cost of new articles), and
the time counted is from submitting the batch to the feed being rebuilt (`listen render
--queue --wait`); workers are started and ready before the clock starts, as they would be in
production. A real redis-server is started on a free port.

  local-1   `listen render --jobs 1`: one process, no pool (the floor for one core)
  local     `listen render`: one process plus a synthesis pool of one worker per core
  queue-1   one `listen worker --concurrency 1`
  queue-2   two `listen worker --concurrency 1` (two machines' worth, here on one)

Each run's CPU time (a local render's and what it started; the workers' process trees from ready
to the batch's end, their encoders included) gives the cores it kept busy on average: one worker
busy on more than one core leaves less than a core to a second on the same machine.

The batch is every article page in the repository (the samples and tests/pages, less the two
that are refused as not articles): 18 real pages of different lengths and shapes, none sharing
text. `--generated N` uses N pages made of the samples' sentences instead (these share some
sentences, which a local render synthesizes once and two workers may both synthesize).

    .venv/bin/python bench/workers.py                 # the espeak voice
    .venv/bin/python bench/workers.py --voice joe     # the neural voice
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import start_redis, write_articles  # noqa: E402  (shared with the tests)
from render import compile_listen, user_environment  # noqa: E402

from listen.config import SiteConfig  # noqa: E402
from listen.errors import ListenError  # noqa: E402
from listen.pipeline import script_page  # noqa: E402


def repository_articles(folder: Path) -> int:
    """Copy every page of the repository that is an article into `folder`."""
    folder.mkdir()
    count = 0
    for page in [*sorted((ROOT / "samples").glob("*.html")),
                 *sorted((ROOT / "tests" / "pages").glob("*.html"))]:  # fmt: skip
        try:
            script_page(page, SiteConfig(), voice="espeak-en-us")
        except ListenError:
            continue
        shutil.copy(page, folder / f"{page.parent.name}-{page.name}")
        count += 1
    return count


def write_config(folder: Path, voice: str, cache: Path) -> Path:
    shutil.copy(ROOT / "samples" / "artwork.png", folder / "artwork.png")
    text = (ROOT / "samples" / "listen.toml").read_text(encoding="utf-8")
    # The samples' default voice (the `[render] voice = ...` line) becomes the one measured.
    text, replaced = re.subn(r'(?m)^voice = "[^"]*"$', f'voice = "{voice}"', text, count=1)
    assert replaced, "samples/listen.toml has no [render] voice line"
    path = folder / f"listen-{cache.name}.toml"
    path.write_text(text + f'\n[cache]\ndir = "{cache}"\n', encoding="utf-8")
    return path


@dataclass
class Run:
    seconds: float
    #: User + system CPU seconds of the processes that rendered (a local render and what it
    #: started; the workers and their pools and encoders, from ready to the batch's end).
    cpu_seconds: float

    @property
    def cores(self) -> float:
        """Cores kept busy on average: one worker that overlaps its encoding with its synthesis
        can use more than one, which bounds what a second worker on the same cores can add."""
        return self.cpu_seconds / self.seconds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def listen(*args: object, env: dict[str, str] | None = None) -> Run:
    start, cpu = time.perf_counter(), children_cpu()
    subprocess.run([sys.executable, "-m", "listen", *map(str, args)], check=True,
                   env={**user_environment(), **(env or {})},
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return Run(time.perf_counter() - start, children_cpu() - cpu)


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of a live process, everything below it, and the children they have reaped
    (an encoder that has ended counts in its parent's children times)."""
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def queued(tmp: Path, name: str, voice: str, pages: Path, broker: str, workers: int) -> Run:
    config = write_config(tmp, voice, tmp / f"cache-{name}")
    env = {**user_environment(), "LISTEN_BROKER_URL": broker}
    processes = []
    for number in range(workers):
        log = tmp / f"{name}-w{number}.log"
        processes.append((subprocess.Popen(
            [sys.executable, "-m", "listen", "worker", "--config", str(config), "--concurrency",
             "1", "--hostname", f"{name}-{number}@bench"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        ), log))  # fmt: skip
    for _, log in processes:
        while b" ready." not in log.read_bytes():
            time.sleep(0.1)
    watched = [psutil.Process(process.pid) for process, _ in processes]
    try:
        ready = sum(map(tree_cpu, watched))
        run = listen("render", "--queue", "--wait", "--quiet", "--config", config, "--out",
                     tmp / f"out-{name}", pages, env={"LISTEN_BROKER_URL": broker})  # fmt: skip
        return Run(run.seconds, sum(map(tree_cpu, watched)) - ready)
    finally:
        for process, _ in processes:
            process.terminate()
            process.wait(30)


def audio_seconds(out: Path) -> float:
    return sum(
        json.loads(p.read_text())["duration_ms"] / 1000
        for p in (out / "episodes").glob("*.json")
        if "." not in p.stem  # a manifest: slugs have no dots (chapters and transcripts do)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voice", default="espeak-en-us")
    parser.add_argument("--generated", type=int, metavar="N", help="N generated pages instead")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="listen-bench-queue-") as name:
        tmp = Path(name)
        pages = tmp / "pages"
        if args.generated:
            count = len(write_articles(pages, args.generated, sentences_per_section=6))
        else:
            count = repository_articles(pages)
        server, url = start_redis(tmp)
        compile_listen()
        try:
            times = {}
            for label, jobs in (("local-1", ["--jobs", "1"]), ("local", [])):
                config = write_config(tmp, args.voice, tmp / f"cache-{label}")
                times[label] = listen("render", "--quiet", "--config", config, "--out",
                                      tmp / f"out-{label}", *jobs, pages)  # fmt: skip
            times["queue-1"] = queued(tmp, "queue-1", args.voice, pages, f"{url}/1", 1)
            times["queue-2"] = queued(tmp, "queue-2", args.voice, pages, f"{url}/2", 2)
            audio = audio_seconds(tmp / "out-local")
            for label in ("local-1", "local", "queue-1", "queue-2"):
                assert abs(audio_seconds(tmp / f"out-{label}") - audio) < 0.01 * audio, label
        finally:
            server.terminate()
            server.wait(10)

    print(f"{count} pages, {audio / 60:.1f} min of audio, voice {args.voice}, "
          f"{os.cpu_count()} cores, cold take cache each run")  # fmt: skip
    print(f"{'run':<9} {'seconds':>8} {'pages/min':>10} {'x real time':>12} {'vs local-1':>11}"
          f" {'CPU s':>7} {'cores busy':>11}")  # fmt: skip
    for label, run in times.items():
        print(f"{label:<9} {run.seconds:>8.1f} {60 * count / run.seconds:>10.1f} "
              f"{audio / run.seconds:>12.1f} {times['local-1'].seconds / run.seconds:>11.2f}"
              f" {run.cpu_seconds:>7.1f} {run.cores:>11.2f}")  # fmt: skip
    one, two = times["queue-1"], times["queue-2"]
    cores = len(os.sched_getaffinity(0))
    local = times["local"]
    print(f"queue-2 / queue-1 speed-up: {one.seconds / two.seconds:.2f}x; "
          f"queue-2 vs local (same cores): {local.seconds / two.seconds:.2f}x")  # fmt: skip
    # One worker already busy on more than one core leaves less than a core to a second one.
    print(f"one worker kept {one.cores:.2f} cores busy: on {cores} cores two can be at most "
          f"{min(2.0, cores / one.cores):.2f}x one (at equal CPU per page)")  # fmt: skip


if __name__ == "__main__":
    main()
