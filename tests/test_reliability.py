"""Unattended renders: killed at random moments, run side by side, fetching pages by URL."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import (
    CONFIG,
    SAMPLES,
    SEED,
    ProcessTree,
    catches_sigterm,
    free_port,
    run_listen,
)
from lxml import etree

from listen.errors import ListenError, TransientError
from listen.fetch import Limits, fetch_page, network_failure


def assert_whole(out: Path) -> None:
    """Every published file is complete: audio decodes to its end, JSON and XML parse."""
    episodes = out / "episodes"
    for audio in episodes.glob("*.mp3"):
        done = subprocess.run(["ffmpeg", "-v", "error", "-i", str(audio), "-map", "0:a",
                               "-f", "null", "-"], capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0 and not done.stderr.strip(), (audio, done.stderr[-300:])
    for manifest in episodes.glob("*.json"):
        json.loads(manifest.read_text(encoding="utf-8"))
    if (out / "feed.xml").exists():
        etree.fromstring((out / "feed.xml").read_bytes())


def assert_consistent(out: Path) -> None:
    """After a completed render: each manifest names audio of exactly its recorded size, the
    feed lists every manifest once, and no temporary file is left."""
    episodes = out / "episodes"
    manifests = [json.loads(p.read_text()) for p in episodes.glob("*.json")
                 if "." not in p.stem]  # not the chapters, not the JSON transcript  # fmt: skip
    for manifest in manifests:
        assert (episodes / manifest["audio"]).stat().st_size == manifest["audio_bytes"]
    feed = etree.fromstring((out / "feed.xml").read_bytes())
    guids = [g.text for g in feed.iter("guid")]
    assert sorted(guids) == sorted({m["url"] for m in manifests})
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_killed_renders_never_leave_a_broken_episode(tmp_path: Path) -> None:
    out = tmp_path / "public"
    env = {**os.environ, "LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    page = tmp_path / "seed-article.html"
    pages = [str(page), str(SAMPLES / "blog-post.html")]
    command = [sys.executable, "-m", "listen", "render", *pages, "--out", str(out),
               "--config", str(CONFIG), "--voice", "espeak-en-us", "--quiet"]  # fmt: skip
    html = SEED.read_text(encoding="utf-8")
    rng = random.Random(7)
    for trial in range(20):
        if trial % 5 == 0:  # now and then a cold cache and an edit, so kills also land in
            # synthesis, and in the replacing of a published episode
            env["LISTEN_CACHE_DIR"] = str(tmp_path / f"cache-{trial}")
            page.write_text(html.replace("<p>", f"<p>Edit {trial}. ", 1), encoding="utf-8")
        process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 3.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if out.exists():
            assert_whole(out)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_whole(out)
    assert_consistent(out)


def test_an_unchanged_episode_clears_what_a_killed_render_left(tmp_path: Path) -> None:
    """A render killed after an episode's manifest, while it wrote the embed page, leaves that
    page's temp file; the next render finds the episode unchanged and publishes nothing new,
    but still clears it (holding the episode's lock, it can only be a dead writer's)."""
    out = tmp_path / "public"
    env = {**os.environ, "LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "listen", "render", str(SEED), "--out", str(out),
               "--config", str(CONFIG), "--voice", "espeak-en-us", "--quiet"]  # fmt: skip
    subprocess.run(command, env=env, check=True)
    [manifest] = [p for p in (out / "episodes").glob("*.json") if "." not in p.stem]
    leftover = out / "episodes" / f".{manifest.stem}.html.x1y2.tmp"
    leftover.write_text("<!doctype html><title>half")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not leftover.exists()
    assert_consistent(out)


def stop_while_busy(
    command: list[str], env: dict[str, str], how: signal.Signals, busy: Callable[[int], bool]
) -> tuple[subprocess.Popen, ProcessTree]:
    """Start `command`, send it `how` once its SIGTERM handler is in and it is `busy` (given
    how many processes run below it); the process and every process seen below it."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    tree = ProcessTree(process.pid)
    deadline = time.monotonic() + 120  # only a hang fails this: no time is asserted
    while not busy(tree.scan()) or not catches_sigterm(process.pid):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the command never got busy"
        time.sleep(0.02)
    process.send_signal(how)
    return process, tree


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(("how", "busy"), [(signal.SIGTERM, 2), (signal.SIGKILL, 2),
                                           (signal.SIGKILL, 1)],
                         ids=["SIGTERM", "SIGKILL", "SIGKILL-while-the-pool-starts"])  # fmt: skip
def test_a_stopped_render_leaves_no_process_behind(
    tmp_path: Path, how: signal.Signals, busy: int
) -> None:
    """What a render starts ends with it, however it ends. SIGKILL runs no cleanup, so its
    synthesis workers must notice on their own (they used to wait for work forever), even
    those still starting up; SIGTERM stops it as Ctrl-C does: status 143, nothing
    half-written, its workers stopped."""
    out = tmp_path / "public"
    env = {**os.environ, "LISTEN_CACHE_DIR": str(tmp_path / "cache")}  # cold: a pool starts
    command = [sys.executable, "-m", "listen", "render", str(SEED), str(SAMPLES / "blog-post.html"),
               "--out", str(out), "--voice", "espeak-en-us", "--quiet"]  # fmt: skip
    process, tree = stop_while_busy(command, env, how, lambda below: below >= busy)
    stderr = process.communicate()[1].decode()
    if how == signal.SIGTERM:
        assert process.returncode == 143 and stderr.strip() == "error: terminated", stderr
        assert not [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
        assert_whole(out)
    else:
        assert process.returncode == -signal.SIGKILL
    assert len(tree.seen) >= busy
    tree.wait_until_gone()


def open_files(pid: int) -> list[str]:
    try:
        return [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # (it ended, or a descriptor closed while being read)
        return []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_render_stopped_while_its_voice_loads_ends_as_terminated(tmp_path: Path) -> None:
    """SIGTERM while onnxruntime is opening joe's model (in the synthesis thread): status 143
    and one line, as at any other moment, not an abort in the library's teardown under the
    load (which it was, 5 times in 6), and no process left."""
    from listen.config import SiteConfig
    from listen.engines import load_engine
    from listen.voices import find_preset

    cache = tmp_path / "cache"
    env = {**os.environ, "LISTEN_CACHE_DIR": str(cache)}
    with pytest.MonkeyPatch.context() as patch:  # the model's parts are made once, here
        patch.setenv("LISTEN_CACHE_DIR", str(cache))
        load_engine(find_preset("joe", SiteConfig()))
    for attempt in range(3):
        out = tmp_path / f"public-{attempt}"
        command = [sys.executable, "-m", "listen", "render", str(SEED), "--out", str(out),
                   "--voice", "joe", "--quiet"]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)  # fmt: skip
        tree = ProcessTree(process.pid)
        deadline = time.monotonic() + 120  # only a hang fails this: no time is asserted
        while not any("cut1-encoder" in name for name in open_files(process.pid)):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the model was never opened"
            time.sleep(0.002)
        tree.scan()
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate()[1].decode()
        assert process.returncode == 143 and stderr.strip() == "error: terminated", stderr
        assert not [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
        assert_whole(out)
        tree.wait_until_gone()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_say_leaves_nothing_behind(tmp_path: Path, how: signal.Signals) -> None:
    """`listen say` stopped while it speaks: no process of its own left, no WAV (whole or
    half) and no temporary file beside where it would have been."""
    wav = tmp_path / "say" / "take.wav"
    wav.parent.mkdir()
    text = " ".join(f"Sentence number {n} of a long audition, read slowly." for n in range(400))
    env = {**os.environ, "LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "listen", "say", text, "--voice", "espeak-en-us",
               "--out", str(wav)]  # fmt: skip
    cache = tmp_path / "cache"
    process, tree = stop_while_busy(command, env, how, lambda _: any(cache.rglob("*.wav")))
    stderr = process.communicate()[1].decode()
    if how == signal.SIGTERM:
        assert process.returncode == 143 and stderr.strip() == "error: terminated", stderr
        assert not list(wav.parent.iterdir())
    else:
        assert process.returncode == -signal.SIGKILL
    tree.wait_until_gone()


@pytest.mark.slow
def test_eight_renders_into_one_folder_at_once(tmp_path: Path) -> None:
    out = tmp_path / "public"
    env = {**os.environ, "LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    html = SEED.read_text(encoding="utf-8")
    pages = []
    for i in range(8):
        page = tmp_path / f"story-{i}.html"
        page.write_text(
            html.replace(
                "idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate", f"story-{i}"
            ).replace("IDF Seizures and Al-Qassam", f"Story {i}: IDF Seizures and Al-Qassam"),
            encoding="utf-8",
        )
        pages.append(page)
    pages.append(pages[0])  # the same page twice at once: one good episode
    processes = [
        subprocess.Popen([sys.executable, "-m", "listen", "render", str(page), "--out", str(out),
                          "--config", str(CONFIG), "--voice", "espeak-en-us", "--quiet",
                          "--jobs", "1"], env=env, stderr=subprocess.PIPE, text=True)
        for page in pages
    ]  # fmt: skip
    for process in processes:
        assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    assert_whole(out)
    assert_consistent(out)
    feed = etree.fromstring((out / "feed.xml").read_bytes())
    titles = [item.findtext("title") for item in feed.iter("item")]
    assert len(titles) == 8 and len(set(titles)) == 8


# --- fetching pages by URL -------------------------------------------------------------------


class Site(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/article":
            body = SEED.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/hop/"):
            n = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/hop/{n + 1}" if n < 50 else "/article")
            self.end_headers()
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/huge":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the cap must hold while reading
            chunk = b"<p>" + b"x" * 65536 + b"</p>"
            try:
                for _ in range(1000):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif self.path == "/busy":
            self.send_error(503, "Service Unavailable")
        elif self.path == "/slow":
            time.sleep(3)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def site() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_render_a_page_by_url(site: str, tmp_path: Path) -> None:
    out = tmp_path / "public"
    run_listen("render", f"{site}/hop/48", "--out", out, "--config", CONFIG,
               "--voice", "espeak-en-us")  # fmt: skip
    (manifest,) = [p for p in (out / "episodes").glob("*.json")
                   if "." not in p.stem]  # fmt: skip
    data = json.loads(manifest.read_text())
    assert data["source"] == data["url"]  # the article's public URL, not the one fetched
    record = out.parent / ".public.listen-state" / "episodes" / f"{data['slug']}.json"
    assert json.loads(record.read_text())["source"] == f"{site}/hop/48"
    assert data["slug"] == "idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate"


@pytest.mark.parametrize(
    ("path", "limits", "message"),
    [
        ("/missing", Limits(), "HTTP 404"),
        ("/hop/0", Limits(), "too many redirects"),
        ("/to-file", Limits(), "file:///etc/passwd. is not allowed|non-http"),
        ("/huge", Limits(max_bytes=1024 * 1024), "page too large"),
        ("/slow", Limits(timeout=0.5), "timed out"),
    ],
)
def test_fetch_failures_are_clear(site: str, path: str, limits: Limits, message: str) -> None:
    with pytest.raises(ListenError, match=message):
        fetch_page(site + path, limits)


@pytest.mark.parametrize(
    ("path", "transient"),
    [("/busy", True), ("/slow", True), ("/missing", False), ("/to-file", False)],
)
def test_fetch_failures_say_whether_trying_again_may_help(site: str, path: str,
                                                         transient: bool) -> None:  # fmt: skip
    """Queue workers retry transient failures only: a busy or slow server, not a 404."""
    with pytest.raises(ListenError) as caught:
        fetch_page(site + path, Limits(timeout=0.5))
    assert isinstance(caught.value, TransientError) is transient


def test_a_refused_connection_is_transient_and_said_plainly(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/article"
    with pytest.raises(TransientError, match=r"cannot fetch .*: connection refused$"):
        fetch_page(url)
    done = run_listen("render", url, "--out", tmp_path / "o", check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: cannot fetch {url}: connection refused"]


def test_an_unknown_host_is_said_plainly(tmp_path: Path) -> None:
    url = "http://no-such-host.invalid/article"  # .invalid never resolves (RFC 2606)
    done = run_listen("extract", url, check=False)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    # Where a resolver answers, the name does not exist; where none does (no network at
    # all), that is said instead. Never a raw "[Errno -2]".
    assert line in (f"error: cannot fetch {url}: no such host",
                    f"error: cannot fetch {url}: the host's name could not be looked up "
                    "(DNS not answering)"), line  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "message", "transient"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "no such host", False),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), "DNS not answering", True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused",
         True),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "connection reset by the server", True),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable", True),
    ],
)  # fmt: skip
def test_network_failures_in_words(reason: OSError, message: str, transient: bool) -> None:
    failure = network_failure(reason)
    assert message in str(failure) and "Errno" not in str(failure)
    assert isinstance(failure, TransientError) is transient


@pytest.mark.parametrize("url", ["ftp://example.org/a", "file:///etc/passwd", "javascript:1"])
def test_only_http_and_https(url: str, tmp_path: Path) -> None:
    done = run_listen("render", url, "--out", tmp_path / "o", check=False)
    assert done.returncode == 1 and done.stderr.startswith("error: only http and https")
    assert not (tmp_path / "o").exists()


def test_fetch_error_through_the_cli(site: str, tmp_path: Path) -> None:
    done = run_listen("extract", f"{site}/missing", check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: HTTP 404 Not Found fetching {site}/missing"
    ]
