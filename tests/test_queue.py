"""Rendering on Celery workers: a real redis-server and real `listen worker` processes.

The tests start redis-server on 127.0.0.1 (a free port) and workers as separate process
groups, submit batches through the CLI, and check what an editor and a podcast app would:
the published files, the feed, the states `listen status` reports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from helpers import (
    ARTICLE_PAGE,
    RIVER_BODY,
    ROOT,
    SAMPLES,
    PageServer,
    ProcessTree,
    Worker,
    assert_nothing_private,
    ffprobe,
    free_port,
    run_listen,
    said_banana,
    start_redis,
    write_articles,
)

#: Every test here starts Redis and real worker processes.
pytestmark = pytest.mark.slow

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None and not os.environ.get("CI"):  # CI installs it: there it must run
    pytest.skip("redis-server is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert REDIS_SERVER, "redis-server is not installed (apt-get install redis-server)"
    server, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    server.terminate()
    server.wait(10)


_databases = iter(range(16))


@pytest.fixture
def broker(redis_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database of its own per test, so one test's workers never take another's jobs."""
    url = f"{redis_server}/{next(_databases)}"
    monkeypatch.setenv("LISTEN_BROKER_URL", url)
    return url


def site_config(folder: Path, cache: Path, **queue: object) -> Path:
    """The samples' show settings, the fast system voice, a take cache of the test's own."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "artwork.png", folder / "artwork.png")
    settings = {"visibility_timeout": 8, "max_retries": 2, "retry_delay": 0.3, **queue}
    lines = [(SAMPLES / "listen.toml").read_text(encoding="utf-8").replace(
        'voice = "heart"', 'voice = "espeak-en-us"')]  # fmt: skip
    # The pages' test server is on 127.0.0.1, which workers refuse by default.
    lines += ["[fetch]", "allow_private_addresses = true"]
    lines += ["[cache]", f'dir = "{cache}"', "[queue]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path = folder / "listen.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def start_workers(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[Worker] = []

    def start(config: Path, *names: str, concurrency: int = 1) -> list[Worker]:
        workers = [Worker(n, config, tmp_path / f"{n}.log", concurrency) for n in names]
        for worker in workers:
            worker.wait_ready()
        started.extend(workers)
        return workers

    yield start
    for worker in started:
        worker.stop()


def batch_id(stdout: str) -> str:
    first = stdout.splitlines()[0]
    assert first.startswith("batch "), stdout
    return first.split()[1].rstrip(":")


def status_json(config: Path, batch: str) -> dict:
    done = run_listen("status", "--config", config, "--batch", batch, "--json")
    [record] = json.loads(done.stdout)
    return record


def wait_for(config: Path, batch: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = status_json(config, batch)
        if record["complete"]:
            return record
        assert time.monotonic() < deadline, f"batch not complete: {record['counts']}"
        time.sleep(0.5)


def manifests(out: Path) -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((out / "episodes").glob("*.json"))
        if "." not in path.stem  # not the chapters, not the JSON transcript
    }


def chapter_times(audio: Path) -> list[tuple[str, str, str]]:
    chapters = ffprobe(audio, "-show_chapters")["chapters"]
    return [(c["tags"]["title"], c["start_time"], c["end_time"]) for c in chapters]


def assert_every_episode_whole(out: Path, count: int) -> None:
    """What a podcast app needs of each episode: the audio the manifest promises, decodable
    to its end; chapters and transcript beside it; no half-written file left anywhere."""
    found = manifests(out)
    assert len(found) == count
    for slug, manifest in found.items():
        audio = out / "episodes" / manifest["audio"]
        assert audio.stat().st_size == manifest["audio_bytes"], slug
        decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(audio), "-f", "null", "-"],
                                 capture_output=True, text=True)  # fmt: skip
        assert decoded.returncode == 0 and not decoded.stderr.strip(), (slug, decoded.stderr)
        duration = float(ffprobe(audio, "-show_format")["format"]["duration"])
        assert abs(duration * 1000 - manifest["duration_ms"]) < 150, slug
        chapters = json.loads((out / "episodes" / f"{slug}.chapters.json").read_text())
        assert [c["title"] for c in chapters["chapters"]] == [
            c["title"] for c in manifest["chapters"]
        ]
        assert (out / "episodes" / f"{slug}.vtt").read_text().startswith("WEBVTT")
    leftovers = [p.name for p in out.rglob("*.tmp")]
    assert not leftovers
    assert_nothing_private(out)  # nor a lock, nor a local path


def feed_guids(out: Path) -> list[str]:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    return [entry.id for entry in feed.entries]


def test_twenty_pages_on_two_workers_equal_a_local_render(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    pages = write_articles(tmp_path / "pages", 20)
    config = site_config(tmp_path / "site", tmp_path / "cache")
    local, queued = tmp_path / "local", tmp_path / "queued"
    # The local render fills the take cache the workers then share: neither voice engine is
    # sample-deterministic, so equal takes are what make the two renders comparable.
    run_listen("render", "--config", config, "--out", local, "--quiet", *pages)

    workers = start_workers(config, "w1", "w2")
    done = run_listen("render", "--queue", "--wait", "--config", config, "--out", queued,
                      tmp_path / "pages")  # fmt: skip
    assert done.stdout.count("\ndone   ") == 20, done.stdout
    batch = batch_id(done.stdout)

    local_manifests, queued_manifests = manifests(local), manifests(queued)
    assert sorted(queued_manifests) == sorted(local_manifests) and len(local_manifests) == 20
    for slug, expected in local_manifests.items():
        got = queued_manifests[slug]
        assert got.pop("added") and expected.pop("added")  # when each was first published
        assert got == expected, slug
        audio = f"episodes/{expected['audio']}"
        assert chapter_times(queued / audio) == chapter_times(local / audio)
        for name in (f"{slug}.chapters.json", f"{slug}.vtt", expected["audio"]):
            assert (queued / "episodes" / name).read_bytes() == (
                local / "episodes" / name
            ).read_bytes(), name
    assert_every_episode_whole(queued, 20)

    guids = feed_guids(queued)
    assert len(guids) == 20 and len(set(guids)) == 20
    # The same feed, built at another moment (lastBuildDate is when each last changed).
    undated = [re.sub(rb"<lastBuildDate>[^<]*</lastBuildDate>", b"", (folder / "feed.xml")
                      .read_bytes()) for folder in (queued, local)]  # fmt: skip
    assert undated[0] == undated[1]
    # Rebuilt once for the batch, by one worker, after the last episode was published.
    logs = b"".join(worker.log.read_bytes() for worker in workers)
    assert logs.count(b"Task listen.finish_batch[") == 2  # received, succeeded
    assert logs.count(b"finished: feed ") == 1
    last_episode = max(p.stat().st_mtime for p in (queued / "episodes").glob("*.json"))
    assert (queued / "feed.xml").stat().st_mtime >= last_episode
    assert (queued / "player" / "listen-player.js").is_file()
    # The workers kept their locks and records in the state folder beside the output folder.
    state = tmp_path / ".queued.listen-state"
    records = [json.loads(p.read_text()) for p in (state / "episodes").glob("*.json")]
    assert sorted(r["source"] for r in records) == sorted(str(p) for p in pages)
    assert (state / "feed.lock").is_file()

    record = status_json(config, batch)
    assert record["counts"]["done"] == 20 and record["finish"] == "done"
    rendered_by = {job["worker"] for job in record["jobs"]}
    assert rendered_by == {"w1@listen-test", "w2@listen-test"}, "both workers should render"
    text = run_listen("status", "--config", config).stdout
    assert "2 workers online" in text and "20 pages: 20 done" in text and "feed: done" in text


def test_a_worker_killed_mid_job_and_the_batch_still_completes(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    from listen import queue
    from listen.config import load_config

    write_articles(tmp_path / "pages", 20, sentences_per_section=8)
    config = site_config(tmp_path / "site", tmp_path / "cold-cache")
    out = tmp_path / "public"
    doomed, survivor = start_workers(config, "doomed", "survivor")
    done = run_listen("render", "--queue", "--config", config, "--out", out, tmp_path / "pages")
    batch = batch_id(done.stdout)

    client = queue.connect(load_config(config))
    deadline = time.monotonic() + 60
    while True:
        running = [j for j in queue.batch_status(client, batch).jobs
                   if j.state == "running" and j.worker == doomed.name]  # fmt: skip
        if running:
            break
        assert time.monotonic() < deadline, "no job ever started on the doomed worker"
        time.sleep(0.02)
    doomed.kill()
    killed = running[0]
    text = run_listen("status", "--config", config, "--batch", batch).stdout
    assert "1 worker online: survivor@listen-test" in text
    assert f"running  {killed.page} on {doomed.name} (offline" in text
    # The job was still running when its worker died: nothing had finished it.
    assert not client.sismember(f"listen:batch:{batch}:finished", killed.id)

    record = wait_for(config, batch)
    assert record["counts"] == {"queued": 0, "retrying": 0, "running": 0, "done": 20, "failed": 0}
    assert record["finish"] == "done"
    [again] = [j for j in record["jobs"] if j["id"] == killed.id]
    assert again["state"] == "done" and again["worker"] == survivor.name
    deliveries = client.hget(f"listen:batch:{batch}:deliveries", f"{killed.id}:0")
    assert int(deliveries) == 2  # started on the doomed worker, then again on the survivor

    assert_every_episode_whole(out, 20)
    guids = feed_guids(out)
    assert len(guids) == 20 and len(set(guids)) == 20


def test_a_pool_process_killed_mid_job_is_requeued_at_once(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    from listen import queue
    from listen.config import load_config

    write_articles(tmp_path / "pages", 4, sentences_per_section=8)
    # A visibility timeout far beyond the test: only the worker's own requeue can save the job.
    config = site_config(tmp_path / "site", tmp_path / "cold-cache", visibility_timeout=3600)
    out = tmp_path / "public"
    [worker] = start_workers(config, "solo")
    batch = batch_id(run_listen("render", "--queue", "--config", config, "--out", out,
                                tmp_path / "pages").stdout)  # fmt: skip
    client = queue.connect(load_config(config))
    deadline = time.monotonic() + 60
    while True:
        metas = queue.task_metas(client, [j.id for j in queue.batch_status(client, batch).jobs])
        started = [m for m in metas if m and m["status"] == "STARTED"]
        if started:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(started[0]["result"]["pid"], signal.SIGKILL)

    record = wait_for(config, batch, timeout=120)
    assert record["counts"]["done"] == 4 and record["finish"] == "done"
    assert worker.process.poll() is None  # the worker itself carried on
    assert b"WorkerLostError" in worker.log.read_bytes()
    assert_every_episode_whole(out, 4)


def test_a_page_that_keeps_killing_its_worker_is_failed_not_retried_forever(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    pages = write_articles(tmp_path / "pages", 2)
    poison = pages[1].read_text(encoding="utf-8").replace("<p>", "<p>Kaboom. ", 1)
    pages[1].write_text(poison, encoding="utf-8")
    config = site_config(tmp_path / "site", tmp_path / "cache", visibility_timeout=3600)
    voices = tmp_path / "site" / "voices"
    voices.mkdir()
    (voices / "crashing.toml").write_text('engine = "fake_engine:CrashingEngine"\n')
    config.write_text(config.read_text() + '[voices]\ndirs = ["voices"]\n')
    out = tmp_path / "public"
    [worker] = start_workers(config, "w1")
    done = run_listen("render", "--queue", "--wait", "--voice", "crashing", "--config", config,
                      "--out", out, *pages, check=False)  # fmt: skip

    assert done.returncode == 1
    assert f"failed {pages[1]}: its worker died 3 times rendering it" in done.stderr
    assert worker.log.read_bytes().count(b"WorkerLostError") >= 3
    assert worker.process.poll() is None  # and the worker is still serving
    assert_every_episode_whole(out, 1)
    assert feed_guids(out) == ["https://www.example-news.org/2026/11/story-001/"]


class FlakyServer(PageServer):
    """/flaky/... fails with 503 twice first, /down/... always."""

    def refusal(self, path: str) -> int | None:
        if path.startswith("/down/") or (path.startswith("/flaky/") and self.hits(path) <= 2):
            return 503
        return None

    def hits(self, path: str) -> int:
        return self.paths.count(path)


def test_failures_are_reported_with_page_and_reason_and_transient_ones_retried(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    pages = write_articles(tmp_path / "pages", 4)
    server = FlakyServer({p.name: p.read_bytes() for p in pages})
    try:
        bad = tmp_path / "not-an-article.html"
        bad.write_text("<html><head><title>404 Not Found</title></head><body><h1>Page not "
                       "found</h1><p>Sorry.</p></body></html>")  # fmt: skip
        listing = tmp_path / "batch.txt"
        listing.write_text("\n".join([
            "# a sitemap-style list: files relative to this list, and URLs",
            "pages/story-001.html", "pages/story-002.html", "not-an-article.html",
            f"{server.url}/flaky/story-003.html", f"{server.url}/down/story-004.html", "",
        ]))  # fmt: skip
        config = site_config(tmp_path / "site", tmp_path / "cache")
        out = tmp_path / "public"
        start_workers(config, "w1", concurrency=2)
        done = run_listen("render", "--queue", "--wait", "--config", config, "--out", out,
                          listing, check=False)  # fmt: skip
    finally:
        server.close()

    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert errors[-1].startswith("error: 2 of 5 pages failed (listen status --batch ")
    failed = [line for line in errors if line.startswith("failed ")]
    assert len(failed) == 2, done.stderr
    [not_article] = [line for line in failed if "not-an-article.html" in line]
    assert "no article text found" in not_article
    [down] = [line for line in failed if f"{server.url}/down/story-004.html" in line]
    assert "HTTP 503" in down and "gave up after 2 retries" in down
    assert server.hits("/flaky/story-003.html") == 3  # two 503s, retried, then rendered
    assert server.hits("/down/story-004.html") == 3  # the first try and two retries

    batch = batch_id(done.stdout)
    text = run_listen("status", "--config", config, "--batch", batch).stdout
    assert "5 pages: 3 done, 0 running, 0 queued, 0 retrying, 2 failed; feed: done" in text
    assert "not-an-article.html" in text and "HTTP 503" in text
    # The batch still published what it could, and the feed lists exactly that.
    assert_every_episode_whole(out, 3)
    assert sorted(feed_guids(out)) == sorted(
        f"https://www.example-news.org/2026/11/story-00{n}/" for n in (1, 2, 3)
    )


def test_queue_errors_are_one_line_and_enqueue_nothing(
    tmp_path: Path, broker: str
) -> None:  # type: ignore[no-untyped-def]
    config = site_config(tmp_path / "site", tmp_path / "cache")
    [page] = write_articles(tmp_path / "pages", 1)

    def one_line(done, fragment: str) -> None:  # type: ignore[no-untyped-def]
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
        assert fragment in done.stderr

    one_line(run_listen("render", "--queue", "--config", config, page, tmp_path / "missing.html",
                        check=False), "page not found")  # fmt: skip
    one_line(run_listen("render", "--queue", "--config", config, "--voice", "nobody", page,
                        check=False), "unknown voice")  # fmt: skip
    one_line(run_listen("render", "--wait", "--config", config, page, check=False),
             "--wait goes with --queue")  # fmt: skip
    closed = f"redis://127.0.0.1:{free_port()}/0"
    one_line(run_listen("render", "--queue", "--config", config, page, check=False,
                        env={"LISTEN_BROKER_URL": closed}), "cannot reach the broker")  # fmt: skip
    one_line(run_listen("status", check=False, cwd=tmp_path, env={"LISTEN_BROKER_URL": ""}),
             "no broker")  # fmt: skip
    one_line(run_listen("worker", check=False, cwd=tmp_path,
                        env={"LISTEN_BROKER_URL": "amqp://localhost"}), "redis://")  # fmt: skip
    assert "no batches" in run_listen("status", "--config", config).stdout
    assert not (tmp_path / "public").exists()


def test_workers_check_each_episode_after_rendering_it_and_status_shows_the_suspects(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    """`[check] after_render`: the worker hears the episode it rendered (listen check), and
    `listen status` shows its suspect sentences: here the article's lexicon reads "river" as
    "banana" in two of them."""
    pages = tmp_path / "pages"
    pages.mkdir()
    page = pages / "flood.html"
    page.write_text(ARTICLE_PAGE.format(title="Flood warning for the valley", slug="flood",
                                        day=2, hour=9, author="A. Reporter", body=RIVER_BODY),
                    encoding="utf-8")  # fmt: skip
    (pages / "flood.lexicon.toml").write_text('river = "banana"\n', encoding="utf-8")
    config = site_config(tmp_path / "site", tmp_path / "cache")
    with config.open("a", encoding="utf-8") as settings:
        settings.write("[check]\nafter_render = true\n")
    out = tmp_path / "public"
    start_workers(config, "w1")
    done = run_listen("render", "--queue", "--wait", "--config", config, "--out", out, page)
    batch = batch_id(done.stdout)

    record = status_json(config, batch)
    [job] = record["jobs"]
    assert job["state"] == "done" and job["slug"] == "flood" and job["check"] == "checked"
    assert job["suspects"] >= 2 and record["suspects"] == job["suspects"], record
    assert 0 < job["wer"] < 1
    text = run_listen("status", "--config", config, "--batch", batch).stdout
    assert f"check: {job['suspects']} suspect sentences in 1 of 1 episode heard" in text, text
    assert f"suspect  {page}: {job['suspects']} sentences (listen check flood --out " in text
    # The same episode, checked on the command line, has the same suspects.
    report = json.loads(run_listen("check", "flood", "--out", out, "--json").stdout)
    assert len(report["sentences"]) == job["suspects"]
    river = [s for s in report["sentences"] if "river" in s["text"]]
    assert all(said_banana(s) for s in river), river
    assert len(river) == 2


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_worker_leaves_no_process_behind(
    tmp_path: Path, broker: str, how: signal.Signals
) -> None:
    """`listen worker` stopped mid-job, by its service manager (SIGTERM: Celery's warm
    shutdown, the job finishes first) or by SIGKILL (nothing runs in it): its pool
    processes, and whatever they started, end with it (SIGKILLed, they used to wait for jobs
    forever, holding their voices)."""
    from listen import queue
    from listen.config import load_config

    pages = write_articles(tmp_path / "pages", 1, sentences_per_section=30)
    config = site_config(tmp_path / "site", tmp_path / "cold-cache")
    worker = Worker("stopped", config, tmp_path / "worker.log", concurrency=2)
    try:
        worker.wait_ready()
        tree = ProcessTree(worker.process.pid)
        done = run_listen("render", "--queue", "--config", config, "--out", tmp_path / "public",
                          *pages)  # fmt: skip
        client = queue.connect(load_config(config))
        batch = batch_id(done.stdout)
        deadline = time.monotonic() + 120  # only a hang fails this: no time is asserted
        while not any(j.state == "running" for j in queue.batch_status(client, batch).jobs):
            tree.scan()
            assert time.monotonic() < deadline, worker.log.read_text(errors="replace")
            time.sleep(0.02)
        assert tree.scan() >= 2  # the pool's processes
        os.kill(worker.process.pid, how)  # the worker alone, not its process group
        worker.process.wait(120)
        tree.wait_until_gone()
        if how == signal.SIGTERM:  # the running job was finished, not cut short
            assert queue.batch_status(client, batch).jobs[0].state == "done"
    finally:
        worker.kill()


def test_an_idle_worker_helps_with_a_long_page(tmp_path: Path, broker: str, start_workers
                                                ) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """The one page of a batch has many takes to make: its job asks for help, the other
    worker (idle: nothing else is queued) makes takes from the page's end into the shared
    cache, and the episode comes out whole, with the take of every unit in the cache."""
    [page] = write_articles(tmp_path / "pages", 1, sentences_per_section=16, sections=4)
    config = site_config(tmp_path / "site", tmp_path / "cache")
    workers = start_workers(config, "w1", "w2")
    done = run_listen("render", "--queue", "--wait", "--config", config, "--out",
                      tmp_path / "queued", page)  # fmt: skip
    assert done.stdout.count("\ndone   ") == 1, done.stdout
    assert_every_episode_whole(tmp_path / "queued", 1)
    logs = b"".join(worker.log.read_bytes() for worker in workers).decode()
    assert logs.count("Task listen.assist_page[") == 2  # received, succeeded
    helped = re.search(r"(\d+) takes made to help its job", logs)
    found = re.search(r"story-001.mp3 \((\d+) takes synthesized, (\d+) cached", logs)
    assert helped and found, logs
    # The page's job found the helper's takes in the cache (all but any both made at once).
    assert 0 < int(found.group(2)) <= int(helped.group(1))
    from listen.config import load_config
    from listen.pipeline import script_page

    script = script_page(page, load_config(config))
    takes = {path.stem for path in (tmp_path / "cache").rglob("*.wav")}
    assert len(takes) == len({unit for _, unit in script.voiced_units})


def test_the_largest_pages_are_handed_out_first(tmp_path: Path, broker: str) -> None:
    """Longest first: the batch ends on short pages, not with one worker on a long one while
    the other idles. Read from the broker's own queue, with no worker to take the jobs."""
    import redis

    config = site_config(tmp_path / "site", tmp_path / "cache")
    pages = tmp_path / "pages"
    pages.mkdir()
    # Named so that the order given (by name) is not the order of size.
    for name, source in (("a.html", ROOT / "tests" / "pages" / "short-news.html"),
                         ("b.html", SAMPLES / "blog-post.html"),
                         ("c.html", SAMPLES / "seed-article.html"),
                         ("d.html", SAMPLES / "opinion-column.html")):  # fmt: skip
        shutil.copy(source, pages / name)
    batch = batch_id(run_listen("render", "--queue", "--config", config, "--out",
                                tmp_path / "public", pages).stdout)  # fmt: skip
    given = [Path(job["page"]).name for job in status_json(config, batch)["jobs"]]
    assert given == ["a.html", "b.html", "c.html", "d.html"]  # what status shows: as given
    pages_by_id = {job["id"]: Path(job["page"]).name for job in status_json(config, batch)["jobs"]}
    # kombu pushes on the left and workers pop on the right: the right end goes out first.
    messages = redis.Redis.from_url(broker).lrange("listen", 0, -1)
    handed_out = [pages_by_id[json.loads(m)["headers"]["id"]] for m in reversed(messages)]
    by_size = sorted(given, key=lambda name: (pages / name).stat().st_size, reverse=True)
    assert handed_out == by_size == ["c.html", "d.html", "b.html", "a.html"]


def test_a_wait_ends_when_the_batch_does_not_at_its_next_poll(
    tmp_path: Path, broker: str, start_workers
) -> None:  # type: ignore[no-untyped-def]
    import threading

    from listen import queue
    from listen.config import load_config

    pages = write_articles(tmp_path / "pages", 3)
    config = site_config(tmp_path / "site", tmp_path / "cache")
    start_workers(config, "w1")
    settings = load_config(config)
    submitted = queue.submit(pages, tmp_path / "public", settings)
    client = queue.connect(settings)
    seen: list[queue.BatchStatus] = []
    # Polls an hour apart: only the workers' word that a job has ended can end the wait soon.
    waiter = threading.Thread(target=lambda: seen.append(queue.wait(
        client, submitted.batch, poll_seconds=3600)), daemon=True)  # fmt: skip
    waiter.start()
    waiter.join(120)

    assert not waiter.is_alive(), "the wait missed the batch's end"
    [status] = seen
    assert status.complete and status.counts["done"] == 3 and status.finish == "done"
    assert feed_guids(tmp_path / "public") and not client.pubsub_channels(
        queue.changes_channel(submitted.batch))  # the wait let go of its channel
