"""What the HTTP API does, without the HTTP: episodes posted, jobs, unpublishing, webhooks.

`listen.api` maps routes onto an `EpisodeService`; the service hands each render to a backend:

- `LocalJobs` (no broker configured): a pool of render processes owned by the API process, so
  `listen api` alone is a working one-machine install. Jobs are kept in the state folder, and
  jobs that a stopped API left unfinished are run when it starts again.
- `QueuedJobs` (`[queue] broker` or $LISTEN_BROKER_URL): each post is a batch of one page on
  the Celery queue (`listen.queue.submit`), so `listen status` and Flower see it; the worker
  that finishes it records the outcome and sends the webhook (`batch_finished`).

Either way the work is `pipeline.render` of a `PostedPage`, with the feed rebuilt after it.

Private state, in the state folder beside the output folder (never under it):

    <state>/api/pages/<slug>-<digest>.html   HTML posted (the page a render reads)
    <state>/api/episodes/<slug>.json         per episode: what it was last made from, or
                                             when it was removed
    <state>/api/jobs/<id>.json               local jobs (queued jobs live on the broker)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue as queues
import re
import secrets
import signal
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from listen import __version__
from listen.atomic import locked, write_bytes, write_bytes_if_changed
from listen.config import AUDIO_FORMATS, SiteConfig, find_preset
from listen.errors import ListenError
from listen.feed import FEED_NAME, base_url, episode_url
from listen.fetch import check_fetchable
from listen.lifeline import kill_when_parent_dies
from listen.playlist import PLAYLIST_NAME
from listen.publish import EPISODES, Manifest, dumps, newest_first, read_manifest, slug_for
from listen.storage import default_state_dir, open_destination
from listen.webhooks import DeliveryFailed, Event, retry_delay, send_once

log = logging.getLogger("listen.api")

#: Requests larger than this are refused (413): the same cap as a fetched page.
MAX_BODY_BYTES = 20 * 1024 * 1024
SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
TOKENS_ENV = "LISTEN_API_TOKENS"
WEBHOOK_SECRET_ENV = "LISTEN_WEBHOOK_SECRET"
STATES = ("queued", "running", "done", "failed")
#: A file of the episode's, by what follows its slug, and its name in the API's `urls`.
EPISODE_FILES = {".json": "manifest", ".chapters.json": "chapters", ".vtt": "transcript",
                 ".srt": "transcript_srt", ".transcript.json": "transcript_json",
                 ".transcript.html": "transcript_html", ".html": "page"}  # fmt: skip


class ApiError(ListenError):
    """A request the API refuses, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _digest(*parts: bytes | str | None) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else (part or b"")
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def _file_bytes(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError:
        return b""


# --- tokens ---------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """A tokens-file line for `token`. Tokens are long random strings (`new_token`), so a
    plain SHA-256 is as good as a slow hash, and checking one costs microseconds."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A new bearer token and its tokens-file line."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def load_token_hashes(config: SiteConfig) -> tuple[str, ...]:
    """The hashes of every token allowed in: the tokens file's lines (`sha256:<hex>`, then
    anything: a name; `#` comments) and $LISTEN_API_TOKENS (comma-separated tokens)."""
    hashes = [hash_token(t.strip()) for t in os.environ.get(TOKENS_ENV, "").split(",") if t.strip()]
    path = config.api.tokens_file
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ListenError(f"cannot read the tokens file {path}: "
                              f"{exc.strerror or exc}") from None  # fmt: skip
        for number, line in enumerate(lines, 1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            word = entry.split()[0]
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", word):
                raise ListenError(f"{path}, line {number}: not a token hash (sha256:<64 hex>); "
                                  "make one with: listen api --new-token")  # fmt: skip
            hashes.append(word)
    if not hashes:
        raise ListenError(f"no API tokens: set [api] tokens_file or ${TOKENS_ENV} "
                          "(listen api --new-token makes one)")  # fmt: skip
    return tuple(dict.fromkeys(hashes))


def token_allowed(token: str, hashes: tuple[str, ...]) -> bool:
    """Constant-time: every stored hash is compared, whichever matches."""
    presented = hash_token(token).encode()
    allowed = False
    for stored in hashes:
        allowed |= secrets.compare_digest(presented, stored.encode())
    return allowed


# --- requests and jobs ----------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeRequest:
    """POST /v1/episodes: a page by URL, or its HTML with the canonical URL."""

    url: str | None = None
    html: str | None = None
    voice: str | None = None
    slug: str | None = None
    format: str | None = None
    #: Render even if the same HTML was rendered last time.
    force: bool = False


@dataclass
class Job:
    """One render of a posted page. `page` (where it is read from) is private."""

    id: str
    slug: str
    page: str
    url: str | None = None
    voice: str | None = None
    format: str | None = None
    digest: str | None = None
    status: str = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    reason: str | None = None
    synthesized: int | None = None
    cached: int | None = None
    unchanged: bool | None = None
    urls: dict[str, str] | None = None

    def public(self) -> dict[str, Any]:
        return {"job": self.id, "slug": self.slug, "status": self.status, "reason": self.reason,
                "urls": self.urls, "created": self.created, "started": self.started,
                "finished": self.finished, "synthesized": self.synthesized,
                "cached": self.cached, "unchanged": self.unchanged}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


# --- the per-episode record -----------------------------------------------------------------


class EpisodeState:
    """What each episode was last made from (the posted URL, the input's digest, the render
    key it gave) or when it was removed, in the state folder: workers on other machines see
    it too, and it outlives the broker's job records."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, slug: str, suffix: str = ".json") -> Path:
        return self.folder / "episodes" / f"{slug}{suffix}"

    def read(self, slug: str) -> dict[str, Any]:
        try:
            return json.loads(self._path(slug).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write(self, slug: str, record: dict[str, Any]) -> None:
        write_bytes_if_changed(self._path(slug), dumps(record).encode())

    def lock(self, slug: str):  # type: ignore[no-untyped-def]
        return locked(self._path(slug, ".lock"))

    def page_path(self, slug: str, digest: str) -> Path:
        return self.folder / "pages" / f"{slug}-{digest[:16]}.html"

    def prune_pages(self, keep_days: float) -> int:
        """Posted pages no episode is made from any more, once older than `keep_days`."""
        current = {self.read(path.stem).get("page") for path in self.folder.glob("episodes/*.json")}
        cutoff = time.time() - keep_days * 86400
        pruned = 0
        for page in self.folder.glob("pages/*.html"):
            with contextlib.suppress(OSError):
                if str(page) not in current and page.stat().st_mtime < cutoff:
                    page.unlink()
                    pruned += 1
        return pruned


def episode_urls(out: Path, manifest: Manifest, config: SiteConfig) -> dict[str, str]:
    """The published files of an episode, by the public URLs the feed uses."""
    urls = {"audio": episode_url(config.show, manifest.audio)}
    folder = out / EPISODES
    for suffix, name in EPISODE_FILES.items():
        if (folder / f"{manifest.slug}{suffix}").is_file():
            urls[name] = episode_url(config.show, f"{manifest.slug}{suffix}")
    if manifest.image and (folder / manifest.image).is_file():
        urls["image"] = episode_url(config.show, manifest.image)
    urls["feed"] = urljoin(base_url(config.show), FEED_NAME)
    urls["playlist"] = urljoin(base_url(config.show), PLAYLIST_NAME)
    return dict(sorted(urls.items()))


def _published(out: Path, slug: str) -> Manifest | None:
    path = out / EPISODES / f"{slug}.json"
    return read_manifest(path) if path.is_file() else None


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str | None = None
    urls: dict[str, str] | None = None
    event: Event | None = None


def job_finished(out: Path, config: SiteConfig, state: EpisodeState, job: Job,
                 result: dict[str, Any] | None, reason: str | None) -> Outcome:  # fmt: skip
    """After a render of `job` (its result, or why it failed): record what the episode is now
    made from, and the event to send. A render that finishes after the episode was removed
    (DELETE while it ran) is removed again: the removal was the CMS's last word."""
    if result is None:
        return Outcome("failed", reason, None, Event("episode.failed", job.slug, job.id, None,
                                                     reason))  # fmt: skip
    with state.lock(job.slug):
        record = state.read(job.slug)
        removed = record.get("removed")
        if removed and removed >= job.created:
            open_destination(out, config.state.dir).remove(job.slug)
            from listen.pipeline import rebuild_feed

            rebuild_feed(out, config)
            return Outcome("failed", "the episode was removed while this job was running")
        manifest = _published(out, job.slug)
        if manifest is None:
            reason = "the episode is not in the output folder after its render"
            return Outcome("failed", reason, None,
                           Event("episode.failed", job.slug, job.id, None, reason))  # fmt: skip
        state.write(job.slug, {"posted": job.url or job.page, "page": job.page,
                               "digest": job.digest,
                               "render_key": manifest.render_key, "job": job.id,
                               "format": Path(manifest.audio).suffix[1:]})  # fmt: skip
    urls = episode_urls(out, manifest, config)
    return Outcome("done", None, urls, Event("episode.published", job.slug, job.id, urls))


# --- backends -------------------------------------------------------------------------------


class Backend(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submit(self, job: Job) -> Job: ...

    def get(self, job_id: str) -> Job | None: ...

    def record(self, job: Job) -> None:
        """Keep a job that is finished already (a no-op post)."""

    def notify(self, event: Event) -> None: ...

    def describe(self) -> str: ...


def webhook_settings(config: SiteConfig) -> tuple[str, str]:
    """(url, secret) when webhooks are configured, else ("", "")."""
    secret = os.environ.get(WEBHOOK_SECRET_ENV) or config.api.webhook_secret
    if config.api.webhook_url and not secret:
        raise ListenError(f"[api] webhook_url needs a webhook_secret (or ${WEBHOOK_SECRET_ENV})")
    return (config.api.webhook_url, secret) if config.api.webhook_url else ("", "")


class WebhookSender:
    """Delivers events in a thread of their own, in order, each retried with backoff."""

    def __init__(self, config: SiteConfig) -> None:
        self.url, self.secret = webhook_settings(config)
        self.retries = int(config.api.webhook_retries)
        self.delay = float(config.api.webhook_retry_delay)
        self._due: list[tuple[float, int, Event]] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="listen-webhooks", daemon=True)

    def start(self) -> None:
        if self.url:
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
            if self._due:
                log.warning("%d webhook deliveries dropped at shutdown", len(self._due))

    def send(self, event: Event) -> None:
        if self.url:
            self._schedule(time.monotonic(), 0, event)

    def _schedule(self, when: float, attempt: int, event: Event) -> None:
        with self._wake:
            self._due.append((when, attempt, event))
            self._due.sort(key=lambda item: item[0])
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wake.wait(None if not self._due else self._due[0][0] - time.monotonic())
                if self._stopping:
                    return
                _, attempt, event = self._due.pop(0)
            try:
                send_once(self.url, self.secret, event)
            except DeliveryFailed as exc:
                if attempt < self.retries:
                    wait = retry_delay(self.delay, attempt + 1)
                    log.warning("webhook %s for %s: %s; retry %d of %d in %.1f s", event.event,
                                event.slug, exc, attempt + 1, self.retries, wait)  # fmt: skip
                    self._schedule(time.monotonic() + wait, attempt + 1, event)
                else:
                    log.error("webhook %s for %s: %s; gave up after %d retries", event.event,
                              event.slug, exc, self.retries)  # fmt: skip


#: What a terminal (Ctrl-C) or a service manager (systemd stopping the unit) sends to every
#: process of the API's group at once.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _render_process_setup() -> None:
    """A render process is the API's to stop: the stop signals sent to the whole group do not
    end it (the API, shutting down, kills it and runs its job again at the next start; a
    render that died by itself is a failed job), and it ends with the API however the API
    ends (Linux: PR_SET_PDEATHSIG). It starts with the signals blocked (see `_run`), so none
    can end it before this has run; a handler, unlike SIG_IGN, is not inherited by the
    processes it starts in turn."""
    for number in STOP_SIGNALS:
        signal.signal(number, lambda *_: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    kill_when_parent_dies()
    if os.getppid() == 1:  # the API died before the call
        os._exit(1)


def render_posted(out: str, config: SiteConfig, job: dict[str, Any], jobs: int) -> dict[str, Any]:
    """A render process's work: one posted page, then the feed (`pipeline.render`)."""
    from listen.pipeline import PostedPage, render

    page = job["page"] if urlsplit(job["page"]).scheme in ("http", "https") else Path(job["page"])
    [result] = render([PostedPage(page, job["url"], job["slug"])], Path(out), config,
                      voice=job["voice"], fmt=job["format"], jobs=jobs,
                      public_only=True)  # fmt: skip
    return {"slug": result.manifest.slug, "synthesized": result.synthesized,
            "cached": result.cached, "unchanged": result.unchanged}  # fmt: skip


class LocalJobs:
    """Jobs rendered by a pool of processes of this API's own, `[api] concurrency` at a time,
    each render on its share of the cores. Job records are files in the state folder."""

    def __init__(self, out: Path, config: SiteConfig, state: EpisodeState) -> None:
        from listen.synthesize import default_jobs

        self.out, self.config, self.state = out, config, state
        self.folder = state.folder / "jobs"
        self.concurrency = int(config.api.concurrency)
        self.render_jobs = max(1, default_jobs() // self.concurrency)
        self.webhooks = WebhookSender(config)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pending: queues.Queue[str | None] = queues.Queue()
        self._pool: ProcessPoolExecutor | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def describe(self) -> str:
        return (f"rendering here: {self.concurrency} at a time on {self.render_jobs} "
                f"core{'s' if self.render_jobs > 1 else ''} each (no broker configured)")

    def start(self) -> None:
        keep = timedelta(days=self.config.queue.keep_days)
        cutoff = (datetime.now(UTC) - keep).isoformat()
        unfinished = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                job = Job.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
            if job.status in ("done", "failed") and job.created < cutoff:
                path.unlink(missing_ok=True)
                continue
            self._jobs[job.id] = job
            if job.status not in ("done", "failed"):
                unfinished.append(job)
        self.state.prune_pages(self.config.queue.keep_days)
        self._pool = self._new_pool()
        self.webhooks.start()
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._run, name=f"listen-render-{number}",
                                      daemon=True)  # fmt: skip
            thread.start()
            self._threads.append(thread)
        for job in sorted(unfinished, key=lambda job: job.created):  # a stopped API's work
            self._save(replace(job, status="queued", started=None))
            self._pending.put(job.id)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.concurrency, mp_context=get_context("spawn"),
                                   initializer=_render_process_setup)  # fmt: skip

    def stop(self) -> None:
        """Stop rendering: a job cut short stays "running" and runs again at the next start."""
        self._stopping = True
        for _ in self._threads:
            self._pending.put(None)
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(OSError):
                    process.kill()
        self.webhooks.stop()

    def _save(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
        write_bytes(self.folder / f"{job.id}.json", dumps(asdict(job)).encode())

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def record(self, job: Job) -> None:
        self._save(job)

    def submit(self, job: Job) -> Job:
        self._save(job)
        self._pending.put(job.id)
        return job

    def notify(self, event: Event) -> None:
        self.webhooks.send(event)

    def _run(self) -> None:
        # Render processes are started from this thread: they inherit the blocked signals.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        while (job_id := self._pending.get()) is not None:
            job = replace(self._jobs[job_id], status="running", started=_now())
            self._save(job)
            result, reason = None, None
            try:
                result = self._render(job)
            except ListenError as exc:
                reason = str(exc)
            except Exception as exc:  # a bug: fail this job, keep the API
                log.exception("job %s (%s): internal error", job.id, job.slug)
                reason = f"internal error: {type(exc).__name__}: {exc}"
            if self._stopping:
                return
            try:
                outcome = job_finished(self.out, self.config, self.state, job, result, reason)
            except (ListenError, OSError) as exc:
                outcome = Outcome("failed", f"cannot record the episode: {exc}")
            self._save(replace(job, status=outcome.status, reason=outcome.reason,
                               urls=outcome.urls, finished=_now(),
                               **{k: (result or {}).get(k) for k in ("synthesized", "cached",
                                                                    "unchanged")}))  # fmt: skip
            if outcome.event is not None:
                self.webhooks.send(outcome.event)

    def _render(self, job: Job) -> dict[str, Any]:
        assert self._pool is not None
        try:
            future = self._pool.submit(render_posted, str(self.out), self.config, asdict(job),
                                       self.render_jobs)  # fmt: skip
            return future.result()
        except BrokenProcessPool:
            with self._lock:  # one replacement pool, whichever thread sees it broken first
                if getattr(self._pool, "_broken", False) and not self._stopping:
                    self._pool = self._new_pool()
            raise ListenError("its render process died (out of memory, or killed)") from None


class QueuedJobs:
    """Jobs on the Celery queue: a batch of one page each (the job's id is the batch's)."""

    def __init__(self, out: Path, config: SiteConfig) -> None:
        from listen import queue

        self.queue = queue
        self.out, self.config = out, config
        webhook_settings(config)  # (a webhook_url without a secret fails here)
        self.client = queue.connect(config)

    def describe(self) -> str:
        return f"jobs to the Celery queue {self.config.queue.name!r} on " + self.queue.redacted(
            self.queue.broker_url(self.config))

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def submit(self, job: Job) -> Job:
        from listen.pipeline import PostedPage

        page = job.page if urlsplit(job.page).scheme in ("http", "https") else Path(job.page)
        self.queue.submit([PostedPage(page, job.url, job.slug)], self.out, self.config,
                          voice=job.voice, fmt=job.format, batch=job.id,
                          record={"api_job": json.dumps(asdict(job))})  # fmt: skip
        return job

    def record(self, job: Job) -> None:
        self.queue.keep_record(self.client, job.id, {"api_job": json.dumps(asdict(job))},
                               self.config.queue)  # fmt: skip

    def get(self, job_id: str) -> Job | None:
        if not re.fullmatch(r"[0-9a-f]{12}", job_id):
            return None
        record = self.queue.batch_record(self.client, job_id)
        if "api_job" not in record:
            return None
        job = Job.from_json(json.loads(record["api_job"]))
        if job.status in ("done", "failed"):
            return job
        status = self.queue.batch_status(self.client, job_id)
        running = any(j.state in ("running", "retrying") for j in status.jobs)
        rendered = all(j.state in ("done", "failed") for j in status.jobs)
        return replace(job, status="running" if running or rendered else "queued", id=job_id)

    def notify(self, event: Event) -> None:
        url, _ = webhook_settings(self.config)
        if url:
            self.queue.send_webhook(self.config, event)


def batch_finished(out: Path, config: SiteConfig, record: dict[str, str],
                   result: dict[str, Any] | None, reason: str | None) -> tuple[Job, Event | None]:
    """On the worker, after an API batch's render and feed: the job as it ends."""
    job = Job.from_json(json.loads(record["api_job"]))
    state = EpisodeState(api_state_dir(out, config))
    outcome = job_finished(out, config, state, job, result, reason)
    return replace(job, status=outcome.status, reason=outcome.reason, urls=outcome.urls,
                   finished=_now(), **{k: (result or {}).get(k) for k in (
                       "synthesized", "cached", "unchanged")}), outcome.event  # fmt: skip


def api_state_dir(out: Path, config: SiteConfig) -> Path:
    return (config.state.dir or default_state_dir(out)) / "api"


# --- the service ----------------------------------------------------------------------------


class EpisodeService:
    """The API's operations; every failure an `ApiError` with its status."""

    def __init__(self, out: Path, config: SiteConfig, backend: Backend | None = None) -> None:
        self.out, self.config = out, config
        destination = open_destination(out, config.state.dir)
        destination.check()
        self.state = EpisodeState(api_state_dir(out, config))
        self.backend = backend or self._backend()
        self._manifests: dict[Path, tuple[tuple[int, int], Manifest | None]] = {}
        self._config_digest = _digest(_file_bytes(config.source), _file_bytes(
            config.speech.lexicon), __version__)  # fmt: skip

    def _backend(self) -> Backend:
        from listen.queue import BROKER_ENV

        if os.environ.get(BROKER_ENV) or self.config.queue.broker:
            return QueuedJobs(self.out, self.config)
        return LocalJobs(self.out, self.config, self.state)

    # -- posting

    def submit(self, request: EpisodeRequest) -> tuple[Job, bool]:
        """(the job, whether it was queued); an unchanged page comes back as a finished job."""
        url, slug = self._check(request)
        if request.html is not None:
            html = request.html.encode("utf-8")
            digest = _digest(html, url, slug, request.voice, request.format, self._config_digest)
            if not request.force and (job := self._unchanged(slug, digest, request)):
                self.backend.record(job)
                return job, False
            page = self.state.page_path(slug, digest)
            # With a BOM, as it was received: the BOM outranks any <meta charset> in the page.
            write_bytes_if_changed(page, b"\xef\xbb\xbf" + html)
            job = Job(new_job_id(), slug, str(page), url, request.voice, request.format, digest)
        else:
            assert url is not None
            job = Job(new_job_id(), slug, url, None, request.voice, request.format)
        return self.backend.submit(job), True

    def _check(self, request: EpisodeRequest) -> tuple[str | None, str]:
        if request.url is None and request.html is None:
            raise ApiError(422, 'give "url" (a page to fetch) or "html" (and its "url")')
        if request.url is None and request.slug is None:
            raise ApiError(422, 'give the page\'s canonical "url" with its "html" (or a "slug")')
        url = request.url
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ApiError(422, f"url must be an http(s) URL, not {url!r}")
        if request.html is None and url and not self.config.fetch.allow_private_addresses:
            try:
                check_fetchable(url)
            except ListenError as exc:
                raise ApiError(400, str(exc)) from None
        if request.format is not None and request.format not in AUDIO_FORMATS:
            raise ApiError(422, f"format must be one of {', '.join(AUDIO_FORMATS)}")
        if request.voice is not None:
            try:
                find_preset(request.voice, self.config)
            except ListenError as exc:
                raise ApiError(422, str(exc)) from None
        slug = request.slug
        if slug is not None and not (re.fullmatch(SLUG_PATTERN, slug) and len(slug) <= 80):
            raise ApiError(422, f"slug must be a-z, 0-9 and single dashes (at most 80): {slug!r}")
        if slug is None:
            slug = slug_for(url, "") if url else ""
            if slug in ("", "episode"):
                raise ApiError(422, 'the URL has no path to make a slug of: give a "slug"')
        self._check_taken(slug, url, by_url=request.html is None)
        return (url if request.html is not None else request.url), slug

    def _check_taken(self, slug: str, url: str | None, by_url: bool) -> None:
        """A slug belongs to one article: another article's episode is never replaced. The
        article is the URL the CMS posts (a page's own canonical URL is known only once it is
        fetched)."""
        record = self.state.read(slug)
        taken = None if record.get("removed") else record.get("posted")
        if taken is None and not by_url and (manifest := _published(self.out, slug)):
            taken = manifest.url
        if taken and url and taken.rstrip("/") != url.rstrip("/"):
            raise ApiError(409, f"the episode {slug!r} is another article's ({taken}): "
                           'give this one a "slug" of its own')  # fmt: skip

    def _unchanged(self, slug: str, digest: str, request: EpisodeRequest) -> Job | None:
        record = self.state.read(slug)
        if record.get("removed") or record.get("digest") != digest:
            return None
        manifest = _published(self.out, slug)
        if manifest is None or manifest.render_key != record.get("render_key"):
            return None  # removed, or re-rendered by other means since
        now = _now()
        return Job(new_job_id(), slug, record.get("page", ""), request.url, request.voice,
                   request.format, digest, status="done", created=now, started=now,
                   finished=now, synthesized=0, unchanged=True,
                   urls=episode_urls(self.out, manifest, self.config))  # fmt: skip

    def job(self, job_id: str) -> Job:
        job = self.backend.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id}")
        return job

    # -- episodes

    def _manifest(self, path: Path) -> Manifest | None:
        """A manifest, parsed again only when its file changed (a listing reads them all)."""
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._manifests.get(path)
        if cached is None or cached[0] != key:
            cached = (key, read_manifest(path))
            self._manifests[path] = cached
        return cached[1]

    def _episode_json(self, manifest: Manifest, full: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slug": manifest.slug, "title": manifest.title, "url": manifest.url,
            "published": manifest.published, "added": manifest.added,
            "language": manifest.language, "voice": manifest.voice,
            "duration_ms": manifest.duration_ms, "format": Path(manifest.audio).suffix[1:],
            "urls": episode_urls(self.out, manifest, self.config),
        }  # fmt: skip
        if full:
            data["byline"] = manifest.byline
            data["summary"] = manifest.summary
            data["chapters"] = [{"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms}
                                for c in manifest.chapters]  # fmt: skip
            data["sentences"] = len(manifest.sentences)
        return data

    def episode(self, slug: str) -> dict[str, Any]:
        manifest = (self._manifest(self.out / EPISODES / f"{slug}.json")
                    if re.fullmatch(SLUG_PATTERN, slug) else None)  # fmt: skip
        if manifest is None:
            raise ApiError(404, f"no episode {slug}")
        return self._episode_json(manifest, full=True)

    def episodes(self, limit: int, offset: int) -> dict[str, Any]:
        # A manifest is <slug>.json; the other .json files have a second suffix.
        paths = [p for p in (self.out / EPISODES).glob("*.json") if "." not in p.stem]
        live = set(paths)
        for gone in set(self._manifests) - live:
            self._manifests.pop(gone, None)
        manifests = newest_first(m for p in paths if (m := self._manifest(p)) is not None)
        page = manifests[offset : offset + limit]
        return {"episodes": [self._episode_json(m, full=False) for m in page],
                "total": len(manifests), "offset": offset, "limit": limit,
                "next_offset": offset + limit if offset + limit < len(manifests) else None}

    def remove(self, slug: str) -> None:
        """Unpublish: files gone, feeds and playlist rebuilt, then the webhook."""
        from listen.pipeline import remove

        manifest = _published(self.out, slug) if re.fullmatch(SLUG_PATTERN, slug) else None
        if manifest is None:
            raise ApiError(404, f"no episode {slug}")
        urls = episode_urls(self.out, manifest, self.config)
        with self.state.lock(slug):
            self.state.write(slug, {"removed": _now()})
            try:
                remove([slug], self.out, self.config)
            except ListenError as exc:
                raise ApiError(404 if "no episode" in str(exc) else 500, str(exc)) from None
        self.backend.notify(Event("episode.removed", slug, None, urls))

__all__ = ["MAX_BODY_BYTES", "ApiError", "EpisodeRequest", "EpisodeService", "Job",
           "batch_finished", "hash_token", "load_token_hashes", "new_token",
           "token_allowed"]  # fmt: skip
