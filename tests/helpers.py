"""Helpers the tests share: paths, running the CLI, reading audio the way a user's tools do."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from listen.lifeline import CHILD_PROCESS

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


def id3_size(data: bytes) -> int:
    """The ID3v2 tag's length at the start of an MP3 (syncsafe size plus its header): where
    its MP3 frames start."""
    assert data[:3] == b"ID3"
    size = 0
    for byte in data[6:10]:  # "syncsafe": 7 bits a byte
        size = (size << 7) | byte
    return 10 + size


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


def config_with(tmp: Path, table: str, setting: str) -> Path:
    """The samples' config (its artwork made absolute) with `setting` in `[table]`, written
    into `tmp`."""
    text = CONFIG.read_text(encoding="utf-8").replace(
        'artwork = "artwork.png"', f'artwork = "{(SAMPLES / "artwork.png").as_posix()}"'
    )
    header = f"\n[{table}]\n"
    text = text.replace(header, f"{header}{setting}\n") if header in text else (
        f"{text}{header}{setting}\n")  # fmt: skip
    path = tmp / "listen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def render_page(tmp: Path, *extra: str | Path, page: Path = SEED) -> Rendered:
    out = tmp / "public"
    done = run_listen("render", page, "--out", out, "--config", CONFIG, *extra)
    manifests = [
        p for p in (out / "episodes").glob("*.json") if "." not in p.stem  # (a slug has none)
    ]
    assert len(manifests) == 1, manifests
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    return Rendered(
        out=out, manifest=manifest, audio=out / "episodes" / manifest["audio"], stdout=done.stdout
    )


def write_manifest(out: Path, slug: str, title: str, published: str | None, **extra) -> None:  # type: ignore[no-untyped-def]
    """A published episode as a manifest of the first release wrote it (no read-along blocks),
    with a stand-in audio file: what the feed and the playlist are rebuilt from."""
    episodes = out / "episodes"
    episodes.mkdir(parents=True, exist_ok=True)
    fmt = extra.pop("format", "mp3")
    (episodes / f"{slug}.{fmt}").write_bytes(b"\xff\xfb" + bytes(1000))
    manifest = {
        "title": title, "slug": slug, "source": f"{slug}.html",
        "url": extra.pop("url", f"https://news.example/{slug}/"), "published": published,
        "language": "en", "voice": "joe", "duration_ms": 61_500, "audio": f"{slug}.{fmt}",
        "mime_type": "audio/mpeg" if fmt == "mp3" else "audio/mp4", "audio_bytes": 1002,
        "byline": extra.pop("byline", "A. Writer"),
        "summary": extra.pop("summary", "A summary."), "added": "2024-05-01T00:00:00+00:00",
        "chapters": [{"title": title, "start_ms": 0, "end_ms": 61_500}],
        "sentences": [{"text": title, "start_ms": 0, "end_ms": 2000, "chapter": 0}],
    }  # fmt: skip
    (episodes / f"{slug}.json").write_text(json.dumps(manifest), encoding="utf-8")


def unrendered_manifest(page: Path, slug: str, sentence_ms: int = 1000) -> dict:
    """The manifest a render of `page` would publish, but with made-up times (every sentence
    `sentence_ms` long) and no audio: enough for the player to load and read along, in tests
    and benchmarks of the matching, without synthesizing anything."""
    from listen.config import SiteConfig
    from listen.pipeline import script_page
    from listen.publish import dumps

    script = script_page(page, SiteConfig(), voice="espeak-en-us")
    sentences, chapters, at = [], [], 0
    for number, chapter in enumerate(script.chapters):
        start = at
        for sentence in chapter.sentences:
            sentences.append({"text": sentence.text, "start_ms": at, "end_ms": at + sentence_ms,
                              "chapter": number, "block": sentence.block})  # fmt: skip
            at += sentence_ms
        chapters.append({"title": chapter.title, "start_ms": start, "end_ms": at})
    blocks = [{"kind": b.kind, "fingerprint": b.fingerprint} for b in script.blocks]
    manifest = {"title": script.article.title, "slug": slug, "language": script.article.language,
                "duration_ms": at, "audio": f"{slug}.mp3", "chapters": chapters,
                "sentences": sentences, "blocks": blocks}  # fmt: skip
    return json.loads(dumps(manifest))


def sample_sentences() -> list[str]:
    """Every sentence the three sample articles narrate, as written."""
    from listen.config import SiteConfig
    from listen.pipeline import script_page

    return [
        sentence.text
        for name in ("seed-article.html", "blog-post.html", "opinion-column.html")
        for sentence in script_page(SAMPLES / name, SiteConfig(), voice="espeak-en-us").sentences
    ]


ARTICLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – Example News</title>
<link rel="canonical" href="https://www.example-news.org/2026/11/{slug}/">
<meta property="article:published_time" content="2026-11-{day:02d}T{hour:02d}:00:00+00:00">
<meta name="author" content="{author}"></head>
<body><header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>
<main><article><h1>{title}</h1><p class="byline">By {author}</p>
{body}
</article></main>
<aside class="share">Share this article</aside><footer>© Example News</footer></body></html>
"""


#: An article body where "river" is said twice (a lexicon can read it as another word).
RIVER_BODY = """<p>The river rose by 23 feet overnight.</p>
<p>Farmers along the river moved their cattle to higher ground before dawn.</p>
<p>The mayor said the town was ready for the flood.</p>
<p>Schools will open as usual on Monday morning.</p>"""


def said_banana(sentence: dict) -> bool:
    """Whether "river" is among the words expected and "banana" among those heard instead."""
    return any("river" in w["expected"].split() and "banana" in w["heard"].split()
               for w in sentence["words"])  # fmt: skip


def write_articles(folder: Path, count: int, sentences_per_section: int = 4,
                   sections: int = 2) -> list[Path]:  # fmt: skip
    """`count` distinct article pages made of the samples' real sentences: a lead and
    `sections` headed sections each, a canonical URL, a date and a byline."""
    pool = sample_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    per_page = sentences_per_section * (sections + 1)
    for number in range(1, count + 1):
        start = (number * 7 * per_page) % len(pool)
        picked = [pool[(start + k) % len(pool)] for k in range(per_page)]
        parts = []
        for section in range(sections + 1):
            chunk = picked[section * sentences_per_section : (section + 1) * sentences_per_section]
            if section:
                parts.append(f"<h2>Part {section} of story {number}</h2>")
            half = max(1, len(chunk) // 2)
            parts += [f"<p>{' '.join(chunk[:half])}</p>", f"<p>{' '.join(chunk[half:])}</p>"]
        page = folder / f"story-{number:03d}.html"
        page.write_text(ARTICLE_PAGE.format(
            title=f"Story number {number}: {' '.join(picked[0].split()[:6]).rstrip('.,;:')}",
            slug=f"story-{number:03d}", day=1 + number % 28, hour=number % 24,
            author=f"Reporter {number}", body="\n".join(parts),
        ), encoding="utf-8")  # fmt: skip
        pages.append(page)
    return pages


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(folder: Path, timeout: float = 10) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server on 127.0.0.1 (no persistence): the process and its URL."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **CHILD_PROCESS,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return server, f"redis://127.0.0.1:{port}"
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)


class Worker:
    """`listen worker` in a process group of its own (its pool processes are in it too)."""

    def __init__(self, name: str, config: Path, log: Path, concurrency: int = 1) -> None:
        self.name = f"{name}@listen-test"
        self.log = log
        # tests/ on the path: the fake engines are plugins the worker imports.
        path = os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "listen", "worker", "--config", str(config),
             "--concurrency", str(concurrency), "--hostname", self.name],
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": path}, **CHILD_PROCESS,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole worker, pool processes included: a machine lost mid-job."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class PageServer:
    """Article pages over HTTP on 127.0.0.1 (a site's server), by their file names, whatever
    folder a URL names; every request's path in `paths`. `refusal(path)` may answer an error
    status instead."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.paths: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                body = pages.get(self.path.rsplit("/", 1)[-1])
                status = server.refusal(self.path) or (404 if body is None else None)
                if status is not None:
                    self.send_error(status)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def refusal(self, path: str) -> int | None:
        return None

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def assert_nothing_private(out: Path, *private: Path | str) -> None:
    """What a web server would publish from DIR: no dot-file or dot-folder (a lock, a temp
    file, state) and no local path (the checkout, the pages' and the config's folders, DIR's
    own parent, the take cache, `private`) in any file, as UTF-8 or as ID3's UTF-16."""
    paths = {str(ROOT), str(out.resolve().parent), *map(str, private)}
    if os.environ.get("LISTEN_CACHE_DIR"):
        paths.add(os.environ["LISTEN_CACHE_DIR"])
    needles = [(p, p.encode(codec)) for p in paths for codec in ("utf-8", "utf-16-le", "utf-16-be")]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files, f"nothing published in {out}"
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        assert not any(part.startswith(".") for part in relative.parts), relative
    for path in files:
        data = path.read_bytes()
        leaked = [text for text, needle in needles if needle in data]
        assert not leaked, f"{path.relative_to(out)} carries {leaked[0]!r}"


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (state, ppid, ...), None if there is no such
    process or it is a zombie (dead, waiting to be reaped: it holds nothing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields


class ProcessTree:
    """Every process ever seen below `root` (its children, theirs...), each known by its pid
    and start time so that a reused pid is never taken for it. `scan()` while the tree runs;
    `alive()` afterwards: which of them still run, wherever they were reparented to."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, str] = {}

    def scan(self) -> int:
        """Look once; return how many processes below the root run now."""
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            fields = _stat_fields(int(stat.parent.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        below, todo = [], [self.root]
        while todo:
            for child in parents.get(todo.pop(), []):
                below.append(child)
                todo.append(child)
        for pid in below:
            if (fields := _stat_fields(pid)) is not None:
                self.seen.setdefault(pid, fields[19])  # field 22 of stat: the start time
        return len(below)

    def alive(self) -> list[int]:
        return [pid for pid, start in self.seen.items()
                if (fields := _stat_fields(pid)) is not None and fields[19] == start]  # fmt: skip

    def wait_until_gone(self, timeout: float = 60) -> None:
        """Only a hang fails this: no time is asserted (the deadline is far beyond any)."""
        deadline = time.monotonic() + timeout
        while left := self.alive():
            assert time.monotonic() < deadline, f"processes left running: {left}"
            time.sleep(0.05)


def catches_sigterm(pid: int) -> bool:
    """Whether the process has installed its SIGTERM handler yet (/proc/PID/status SigCgt)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False
