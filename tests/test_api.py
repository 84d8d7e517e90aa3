"""`listen api` as a CMS uses it: a real server (uvicorn in a subprocess, on a free port), an
HTTP client, the published files fetched over HTTP from a static server, and a webhook
receiver that checks every signature itself. Both ways jobs run: the API's own pool (no
broker) and a real Redis with a real `listen worker`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from helpers import (
    SAMPLES,
    PageServer,
    Worker,
    assert_nothing_private,
    ffprobe,
    free_port,
    start_redis,
    write_articles,
)

from listen.lifeline import CHILD_PROCESS
from listen.serve import make_server

TOKEN = "test-token-" + "x" * 20
SECRET = "webhook-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOT_AN_ARTICLE = ("<html><head><title>404 Not Found</title></head><body><h1>Page not found</h1>"
                  "<p>Sorry.</p></body></html>")  # fmt: skip


class Receiver:
    """A CMS's webhook endpoint: checks each signature (its own HMAC, not listen's code) and
    keeps the events; answers 503 to the first `fail_first` deliveries."""

    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[dict] = []
        self.attempts: list[str] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers["Listen-Signature"]
                receiver.attempts.append(header)
                fields = dict(part.split("=", 1) for part in header.split(","))
                mac = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + body,
                               hashlib.sha256).hexdigest()  # fmt: skip
                assert hmac.compare_digest(mac, fields["v1"]), "bad signature"
                assert abs(time.time() - int(fields["t"])) < 60
                if len(receiver.attempts) <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.events.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/listen-hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, event: str, slug: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in self.events:
                if received["event"] == event and received["slug"] == slug:
                    return received
            time.sleep(0.1)
        raise AssertionError(f"no {event} for {slug}: {self.events}")

    def close(self) -> None:
        self.httpd.shutdown()


class Site:
    """An output folder served over HTTP (as nginx would), a site config whose base_url is
    that server, and `listen api` on a free port."""

    def __init__(self, root: Path, webhook: str = "", allow_private: bool = True,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.root = root
        self.out = root / "public"
        self.out.mkdir(parents=True, exist_ok=True)
        self.files = make_server(self.out, port=0)
        threading.Thread(target=self.files.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.files.server_address[1]}/"
        shutil.copy(SAMPLES / "artwork.png", root / "artwork.png")  # (root exists: a restart)
        config = (SAMPLES / "listen.toml").read_text(encoding="utf-8")
        config = config.replace('voice = "heart"', 'voice = "espeak-en-us"')
        config = re.sub(r'base_url = ".*"', f'base_url = "{self.base}"', config)
        config += f'\n[cache]\ndir = "{root / "cache"}"\n'
        config += f"[fetch]\nallow_private_addresses = {str(allow_private).lower()}\n"
        config += "[queue]\nvisibility_timeout = 30\nretry_delay = 0.3\n"
        config += "[api]\nwebhook_retry_delay = 0.3\n"
        if webhook:
            config += f'webhook_url = "{webhook}"\nwebhook_secret = "{SECRET}"\n'
        self.config = root / "listen.toml"
        self.config.write_text(config, encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "api.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "listen", "api", "--config", str(self.config), "--out",
             str(self.out), "--port", str(self.port)],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "LISTEN_API_TOKENS": f"another-token,{TOKEN}", **(env or {})},
            **CHILD_PROCESS,  # a test run killed outright must not leave its API running
        )  # fmt: skip
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            with contextlib.suppress(httpx.TransportError):
                if self.client.get("/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.1)

    def post(self, **body: object) -> httpx.Response:
        return self.client.post("/v1/episodes", json=body, headers=AUTH)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=AUTH)

    def wait(self, job: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            state = self.get(f"/v1/jobs/{job}").json()
            if state["status"] in ("done", "failed"):
                return state
            assert time.monotonic() < deadline, (state, self.log.read_text(errors="replace"))
            time.sleep(0.2)

    def feed_links(self) -> list[str]:
        feed = feedparser.parse(httpx.get(self.base + "feed.xml").content)
        assert not feed.bozo, feed.bozo_exception
        return [entry.link for entry in feed.entries]

    def close(self) -> None:
        self.client.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):  # whatever the API left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        self.files.shutdown()
        self.files.server_close()


def article(folder: Path, number: int) -> tuple[str, str]:
    """(the page's HTML, its canonical URL)."""
    [page] = write_articles(folder, number)[-1:]
    html = page.read_text(encoding="utf-8")
    [url] = re.findall(r'<link rel="canonical" href="([^"]+)">', html)
    return html, url


def edited(html: str) -> tuple[str, str]:
    """The page with the first sentence of its second paragraph rewritten: (html, new text)."""
    paragraphs = re.findall(r"<p>([^<]+)</p>", html)
    first = paragraphs[1].split(". ")[0]
    changed = "The council has since changed its mind about all of this"
    return html.replace(first, changed, 1), changed


@pytest.fixture(params=["local", pytest.param("celery", marks=pytest.mark.slow)])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, Receiver]]:
    receiver = Receiver(fail_first=1)
    env, worker, redis = {}, None, None
    if request.param == "celery":
        if shutil.which("redis-server") is None and not os.environ.get("CI"):
            pytest.skip("redis-server is not installed")
        redis, url = start_redis(tmp_path)
        env = {"LISTEN_BROKER_URL": f"{url}/0"}
    os.environ.update(env)  # (the worker, started below, inherits it)
    try:
        site = Site(tmp_path / "site", webhook=receiver.url, env=env)
        if request.param == "celery":
            worker = Worker("api", site.config, tmp_path / "worker.log")
            worker.wait_ready()
    finally:
        for key in env:
            os.environ.pop(key)
    yield site, receiver
    site.close()
    # Where the renders ran: the API's own pool, or the Celery worker (the webhooks too).
    if worker is None:
        assert "rendering here" in site.log.read_text()
    else:
        log = worker.log.read_text(errors="replace")
        assert "listen.render_page" in log and "listen.webhook" in log, log
    if worker is not None:
        worker.stop()
    if redis is not None:
        redis.terminate()
        redis.wait(10)
    receiver.close()


def test_a_cms_publishes_edits_and_unpublishes(site: tuple[Site, Receiver], tmp_path: Path
                                               ) -> None:  # fmt: skip
    site, receiver = site
    html, url = article(tmp_path / "pages", 2)

    # Published: posted as HTML, the job queued, polled to done, the files on the web server.
    posted = site.post(html=html, url=url)
    assert posted.status_code == 202, posted.text
    job = posted.json()
    assert job["status"] == "queued" and job["slug"] == "story-002"
    assert posted.headers["Location"] == f"/v1/jobs/{job['job']}"
    done = site.wait(job["job"])
    assert done["status"] == "done", done
    urls = done["urls"]
    assert urls["audio"] == f"{site.base}episodes/story-002.mp3"
    manifest = httpx.get(urls["manifest"]).json()
    assert manifest["url"] == url and manifest["slug"] == "story-002"
    audio = tmp_path / "downloaded.mp3"
    audio.write_bytes(httpx.get(urls["audio"]).content)
    chapters = ffprobe(audio, "-show_chapters")["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in manifest["chapters"]]
    assert httpx.get(urls["transcript"]).text.startswith("WEBVTT")
    assert httpx.get(urls["chapters"]).json()["chapters"]
    assert site.feed_links() == [url]
    published = receiver.wait_for("episode.published", "story-002")
    assert published == {"event": "episode.published", "slug": "story-002", "job": job["job"],
                         "urls": urls, "reason": None}  # fmt: skip
    # The receiver refused the first delivery: it came again, signed again.
    assert len(receiver.attempts) >= 2
    episode = site.get("/v1/episodes/story-002").json()
    assert episode["duration_ms"] == manifest["duration_ms"] and episode["urls"] == urls
    assert [c["title"] for c in episode["chapters"]] == [c["title"] for c in manifest["chapters"]]

    # Posted again unchanged: nothing to do, answered at once.
    again = site.post(html=html, url=url)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "done" and again.json()["unchanged"] is True
    assert again.json()["urls"] == urls

    # Edited: only the changed sentence is synthesized.
    first_total = done["synthesized"] + done["cached"]
    new_html, changed = edited(html)
    redone = site.wait(site.post(html=new_html, url=url).json()["job"])
    assert redone["status"] == "done" and redone["unchanged"] is False, redone
    assert (redone["synthesized"], redone["cached"]) == (1, first_total - 1)
    texts = [s["text"] for s in httpx.get(urls["manifest"]).json()["sentences"]]
    assert any(text.startswith(changed) for text in texts)

    # By URL, from the site's own server (private addresses allowed for this test).
    other_html, other_url = article(tmp_path / "more", 3)
    pages = PageServer({"story-003.html": other_html.encode()})
    page_url = f"{pages.url}/2026/11/story-003.html"
    try:
        by_url = site.post(url=page_url, slug="story-003")
        assert by_url.status_code == 202, by_url.text
        fetched = site.wait(by_url.json()["job"])
        assert fetched["status"] == "done", fetched
        assert pages.paths == ["/2026/11/story-003.html"]
        # Again: fetched again (only then can it be known unchanged), and nothing written.
        refetched = site.wait(site.post(url=page_url, slug="story-003").json()["job"])
    finally:
        pages.close()
    assert httpx.get(fetched["urls"]["audio"]).status_code == 200
    assert refetched["status"] == "done" and refetched["unchanged"] is True, refetched
    assert refetched["synthesized"] == 0 and len(pages.paths) == 2
    assert sorted(site.feed_links()) == sorted([url, other_url])
    listing = site.get("/v1/episodes?limit=1").json()
    assert listing["total"] == 2 and len(listing["episodes"]) == 1 and listing["next_offset"] == 1

    # A page with no article: the job fails with the reason, and so does the webhook.
    failed = site.wait(site.post(html=NOT_AN_ARTICLE, url="https://www.example-news.org/x/"
                                 ).json()["job"])  # fmt: skip
    assert failed["status"] == "failed" and "no article text found" in failed["reason"]
    assert "/" + "tmp" not in failed["reason"]  # (where the API keeps posted pages is private)
    event = receiver.wait_for("episode.failed", "x")
    assert event["reason"] == failed["reason"] and event["job"] == failed["job"]

    # Unpublished: gone from the web server, the feed and the playlist.
    removed = site.client.delete("/v1/episodes/story-002", headers=AUTH)
    assert removed.status_code == 204 and removed.content == b""
    assert httpx.get(urls["audio"]).status_code == 404
    assert httpx.get(urls["manifest"]).status_code == 404
    assert site.feed_links() == [other_url]
    playlist = httpx.get(site.base + "playlist.json").json()
    assert [e["slug"] for e in playlist["episodes"]] == ["story-003"]
    assert site.get("/v1/episodes/story-002").status_code == 404
    assert site.client.delete("/v1/episodes/story-002", headers=AUTH).status_code == 404
    gone = receiver.wait_for("episode.removed", "story-002")
    assert gone["urls"]["audio"] == urls["audio"] and gone["job"] is None
    assert_nothing_private(site.out, site.root / ".public.listen-state")

    # Posted again after removal: published anew, not "unchanged".
    back = site.post(html=new_html, url=url)
    assert back.status_code == 202
    assert site.wait(back.json()["job"])["status"] == "done"
    assert sorted(site.feed_links()) == sorted([url, other_url])


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The API as installed: private addresses refused, no webhook."""
    site = Site(tmp_path_factory.mktemp("guarded"), allow_private=False)
    yield site
    site.close()


def test_tokens(guarded: Site) -> None:
    assert guarded.client.get("/healthz").json() == {"status": "ok"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):  # fmt: skip
        for method, path in (("GET", "/v1/jobs/abc"), ("GET", "/v1/episodes"),
                             ("POST", "/v1/episodes"), ("DELETE", "/v1/episodes/a")):  # fmt: skip
            answer = guarded.client.request(method, path, headers=headers, json={"url": "x"})
            assert answer.status_code == 401, (headers, path, answer.text)
            assert answer.headers["WWW-Authenticate"] == "Bearer"
            assert set(answer.json()) == {"error"}
    for token in (TOKEN, "another-token"):
        answer = guarded.client.get("/v1/episodes", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json()["total"] == 0


def test_bodies_over_20_mb_are_refused(guarded: Site) -> None:
    body = b'{"html": "' + b"a" * (25 * 1024 * 1024) + b'", "url": "https://a.example/b/"}'
    answer = guarded.client.post("/v1/episodes", content=body, headers={
        **AUTH, "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 413 and "too large" in answer.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield body[:1024]
        for start in range(1024, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    answer = guarded.client.post("/v1/episodes", content=chunks(), headers={
        **AUTH, "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 413 and "too large" in answer.json()["error"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/2026/story/",
                                 "http://localhost:{port}/2026/story/",
                                 "http://[::ffff:127.0.0.1]:{port}/2026/story/",
                                 "http://2130706433:{port}/2026/story/",
                                 "http://169.254.169.254/latest/meta-data/iam/",
                                 "http://[fd00:ec2::254]/latest/meta-data/"])  # fmt: skip
def test_private_addresses_are_refused_by_default(guarded: Site, url: str) -> None:
    pages = PageServer({"story": b"<html></html>"})
    try:
        port = pages.url.rsplit(":", 1)[1]
        answer = guarded.post(url=url.format(port=port))
    finally:
        pages.close()
    assert answer.status_code == 400, answer.text
    reason = answer.json()["error"]
    assert reason.startswith("refusing to fetch from ") and "allow_private_addresses" in reason
    assert ("metadata" if "254" in url else "loopback") in reason
    assert pages.paths == []  # refused before any connection


def test_errors_are_json_with_the_right_status(guarded: Site) -> None:
    client = guarded.client

    def error(answer: httpx.Response, status: int, fragment: str) -> None:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"error"} and fragment in answer.json()["error"], answer.text
        assert "Traceback" not in answer.text

    post = {**AUTH, "Content-Type": "application/json"}
    error(client.post("/v1/episodes", content=b"{not json", headers=post), 400, "not JSON")
    error(client.post("/v1/episodes", content=b"[1]", headers=post), 400, "JSON object")
    error(client.post("/v1/episodes", content=b"url=x", headers={
        **AUTH, "Content-Type": "application/x-www-form-urlencoded"}), 415, "JSON")  # fmt: skip
    error(guarded.post(), 422, '"url"')
    error(guarded.post(html="<p>x</p>"), 422, "canonical")
    error(guarded.post(url="ftp://example.org/a"), 422, "http(s)")
    error(guarded.post(url="https://example.org/a/", slug="../../etc"), 422, "slug")
    error(guarded.post(url="https://example.org/a/", colour="red"), 422, "colour")
    error(guarded.post(html="<p>x</p>", url="https://a.example/b/", voice="nobody"), 422,
          "unknown voice")  # fmt: skip
    error(guarded.post(html="<p>x</p>", url="https://a.example/"), 422, "slug")
    error(guarded.get("/v1/jobs/0123456789ab"), 404, "no job")
    error(guarded.get("/v1/episodes/nothing-here"), 404, "no episode")
    error(guarded.get("/v1/episodes?limit=0"), 422, "limit")
    error(client.delete("/v1/episodes/..%2f..%2fetc", headers=AUTH), 404, "")
    error(client.put("/v1/episodes", headers=AUTH), 405, "method not allowed")
    error(client.get("/v2/anything", headers=AUTH), 404, "not found")


def test_a_slug_belongs_to_one_article(guarded: Site, tmp_path: Path) -> None:
    html, url = article(tmp_path, 1)
    first = guarded.wait(guarded.post(html=html, url=url).json()["job"])
    assert first["status"] == "done", first
    other = url.replace("/2026/11/", "/2027/01/")  # same last segment, another article
    taken = guarded.post(html=html, url=other)
    assert taken.status_code == 409 and '"slug"' in taken.json()["error"]
    assert guarded.post(html=html, url=other, slug="story-001-2027").status_code == 202


def test_the_docs_page_shows_every_operation_offline(guarded: Site) -> None:
    from browser import CHROMIUM_ARGS, need_chromium
    from playwright.sync_api import sync_playwright

    schema = guarded.client.get("/openapi.json").json()
    assert {"/v1/episodes", "/v1/jobs/{job_id}", "/v1/episodes/{slug}", "/healthz"} <= set(
        schema["paths"])  # fmt: skip
    post = schema["paths"]["/v1/episodes"]["post"]
    assert {"url", "html", "voice", "slug"} <= set(
        post["requestBody"]["content"]["application/json"]["schema"]["properties"])  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(need_chromium()),
                                             args=CHROMIUM_ARGS)  # fmt: skip
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{guarded.url}/docs")
            page.wait_for_selector(".opblock-summary-path")
            shown = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    assert {"/v1/episodes", "/v1/jobs/{job_id}", "/v1/episodes/{slug}"} <= set(shown)
    assert all(url.startswith(guarded.url) for url in requested), requested


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_jobs_survive_a_restart_and_render_processes_end_with_the_api(tmp_path: Path) -> None:
    first, second = article(tmp_path / "pages", 2), article(tmp_path / "more", 3)
    site = Site(tmp_path / "site")
    try:
        jobs = [site.post(html=html, url=url).json()["job"] for html, url in (first, second)]
        site.close()  # SIGTERM while the first renders and the second waits
        assert not (site.out / "episodes" / "story-003.json").exists()
        site = Site(tmp_path / "site")  # the same folders: the jobs are taken up again
        assert [site.wait(job)["status"] for job in jobs] == ["done", "done"]
        assert sorted(site.feed_links()) == sorted(url for _, url in (first, second))

        pool = descendants(site.process.pid)
        assert pool, "no render process"
        os.kill(site.process.pid, signal.SIGKILL)  # the API alone, not its process group
        site.process.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pool) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pool if alive(pid)], "render processes outlived the API"
    finally:
        site.close()
