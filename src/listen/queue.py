"""Rendering on many machines: Celery workers on a Redis broker.

    listen render --queue PAGE...  -> submit(): a batch, one job per page, on the broker
    listen worker                  -> run_worker(): a Celery worker that renders jobs
    listen status                  -> list_batches() / batch_status(): job states

A job renders one page with the same `pipeline.render` a local render uses, into the batch's
output folder (a folder every worker mounts at the same path: NFS or the like), with the take
cache named by the site config (shared too, so work done once is free everywhere). Jobs are
safe to run twice: takes are content-addressed, episode files are published atomically under
a lock, and an unchanged episode is not written again. That is what makes the delivery rules
below safe:

- Late acknowledgement: a job leaves the broker only when it has finished. A worker killed
  mid-job (SIGKILL, a lost machine) leaves it unacknowledged; Redis hands it to another worker
  after `[queue] visibility_timeout` seconds, or at once when only a pool process died.
- A job whose worker keeps dying (a page that exhausts memory) is failed after MAX_DELIVERIES
  instead of taking down worker after worker.
- Transient failures (`TransientError`: a page server's 5xx or timeout; an OSError of the
  shared folder) are retried `[queue] max_retries` times with exponential backoff; anything
  else fails at once. A failed job's state carries the page and the reason.
- The feed is rebuilt once per batch: every job, finished or failed for good, adds its id to
  the batch's set of finished jobs, and the one that completes the set enqueues `finish_batch`
  (feed and cache pruning). Redis' atomic set makes that exactly one job, except after a
  redelivery, when finishing again is harmless: the feed is rebuilt under a lock and a
  rebuild from the same episodes writes nothing.

Job states are Celery's own (in the result backend), so Flower and `celery inspect` see the
same jobs as `listen status`; the batch records (which jobs belong to which batch) sit beside
them under `listen:batch:*` keys.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery
from celery.signals import task_postrun, worker_process_init

from listen.config import AUDIO_FORMATS, QueueConfig, SiteConfig, find_preset, load_config
from listen.errors import ListenError, TransientError
from listen.fetch import is_url
from listen.lifeline import end_with_parent
from listen.pages import PostedPage
from listen.storage import open_destination

BROKER_ENV = "LISTEN_BROKER_URL"
#: A job is given up when its worker died this many times running it.
MAX_DELIVERIES = 3
#: Longest wait between retries, seconds.
MAX_RETRY_DELAY = 600
KEY_PREFIX = "listen:"
BATCHES_KEY = f"{KEY_PREFIX}batches"

log = logging.getLogger("listen.queue")

app = Celery("listen", set_as_current=False)

# The worker's own pid, inherited by the pool processes it forks: their parent even if it
# died before they ran a line.
_WORKER_PID = os.getpid()


@worker_process_init.connect
def _end_with_the_worker(**_: Any) -> None:
    """A pool process ends with its worker, however the worker ends (a SIGKILLed worker
    leaves its pool processes waiting for jobs forever, holding their voices)."""
    end_with_parent(_WORKER_PID)


class JobFailed(ListenError):
    """A page that could not be rendered; the message is the reason."""


def broker_url(config: SiteConfig) -> str:
    url = os.environ.get(BROKER_ENV) or config.queue.broker
    if not url:
        raise ListenError(f"no broker: set {BROKER_ENV} or [queue] broker in listen.toml")
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ListenError(f"the broker must be a redis:// URL, not {redacted(url)}")
    return url


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def configure(url: str, queue: QueueConfig, results: bool = False) -> Celery:
    """Point the app at the broker, with the delivery rules of the module docstring.

    Only workers store job states (`results`): a client reads them itself, in bulk
    (`task_metas`), instead of subscribing to a result channel for every job it submits."""
    app.conf.update(
        broker_url=url,
        result_backend=url if results else None,
        task_default_queue=queue.name,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One job at a time per pool process: a busy worker does not sit on jobs that an idle
        # one could run, and a killed worker strands as few as possible.
        worker_prefetch_multiplier=1,
        task_track_started=True,
        result_extended=True,
        result_expires=round(queue.keep_days * 86400),
        # Flower and `celery events` see jobs as they happen.
        worker_send_task_events=True,
        task_send_sent_event=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": queue.visibility_timeout,
            # Look for a dead worker's jobs often enough to hand them on soon after the
            # visibility timeout, not up to 100 s later (kombu's default sweep).
            "unacked_restore_interval": max(1, min(10, queue.visibility_timeout // 4)),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": queue.visibility_timeout},
        worker_hijack_root_logger=True,
    )
    return app


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> Any:
    """One connection pool per process and broker (a worker's jobs share it)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


def connect(config: SiteConfig, results: bool = False) -> Any:
    """The configured app's Redis connection, checked: one clear error if it is not there."""
    import redis

    url = broker_url(config)
    configure(url, config.queue, results)
    client = _redis(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ListenError(f"cannot reach the broker at {redacted(url)}: {exc}") from None
    return client


# --- jobs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageJob:
    """One page of a batch: everything a worker needs, as plain JSON."""

    batch: str
    page: str
    out: str
    config: str | None = None
    voice: str | None = None
    format: str | None = None
    #: A page posted to the API: the canonical URL and the slug it was given.
    url: str | None = None
    slug: str | None = None

    @property
    def name(self) -> str:
        """The page as its failures name it (a posted page by its URL, not where it is kept)."""
        return self.url or self.page

    def to_json(self) -> dict[str, Any]:
        return {"batch": self.batch, "page": self.page, "out": self.out, "config": self.config,
                "voice": self.voice, "format": self.format, "url": self.url,
                "slug": self.slug}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageJob:
        return cls(**{k: data.get(k) for k in ("batch", "page", "out", "config", "voice",
                                               "format", "url", "slug")})  # fmt: skip


def _batch_key(batch: str, part: str = "") -> str:
    return f"{KEY_PREFIX}batch:{batch}{':' + part if part else ''}"


def finish_task_id(batch: str) -> str:
    return f"listen-finish-{batch}"


def changes_channel(batch: str) -> str:
    """The pub/sub channel on which workers say that a job of the batch has ended (`wait`)."""
    return _batch_key(batch, "changed")


def _batch_of(task_name: str, args: Sequence[Any] | None) -> str | None:
    try:
        if task_name == render_page.name:
            return str(args[0]["batch"])  # type: ignore[index]
        if task_name == finish_batch.name:
            return str(args[0])  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        pass
    return None


@task_postrun.connect
def _announce_change(task: Any = None, args: Sequence[Any] | None = None, **_: Any) -> None:
    """Tell whoever waits for the batch that one of its jobs has ended (Celery sends this once
    the job's state is stored), so that `listen render --queue --wait` sees the batch end at
    once instead of at its next poll."""
    if task is None or (batch := _batch_of(task.name, args)) is None:
        return
    try:
        _redis(task.app.conf.broker_url).publish(changes_channel(batch), b"ended")
    except Exception as exc:  # the waiting poll all the same; the job's outcome stands
        log.debug("could not announce the end of a job of batch %s: %s", batch, exc)


@app.task(name="listen.render_page", bind=True, throws=(JobFailed,))
def render_page(self: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Render one page into its batch's output folder (no feed: that is once per batch)."""
    job = PageJob.from_json(data)
    client = _redis(self.app.conf.broker_url)
    task_id = self.request.id
    attempt = f"{task_id}:{self.request.retries}"
    with client.pipeline() as pipe:
        pipe.hincrby(_batch_key(job.batch, "deliveries"), attempt, 1)
        pipe.ttl(_batch_key(job.batch))
        deliveries, lifetime = pipe.execute()
    client.expire(_batch_key(job.batch, "deliveries"), max(lifetime, 60))
    if deliveries > MAX_DELIVERIES:
        _job_finished(client, job, task_id)
        raise _failure(job.name, f"its worker died {deliveries - 1} times rendering it "
                       "(out of memory, or killed)")  # fmt: skip
    started = time.monotonic()
    queue = QueueConfig()
    failure: JobFailed | None = None
    try:
        config = load_config(Path(job.config)) if job.config else SiteConfig()
        queue = config.queue
        result = _render(job, config)
    except (TransientError, OSError) as exc:
        reason = _reason(exc)
        if self.request.retries < queue.max_retries:
            delay = min(MAX_RETRY_DELAY, queue.retry_delay * 2**self.request.retries)
            log.warning("%s: %s; retry %d of %d in %.1f s", job.name, reason,
                        self.request.retries + 1, queue.max_retries, delay)  # fmt: skip
            raise self.retry(exc=JobFailed(reason), countdown=delay,
                             max_retries=queue.max_retries) from None  # fmt: skip
        failure = _failure(job.name, f"{reason} (gave up after {queue.max_retries} retries)")
    except ListenError as exc:
        failure = _failure(job.name, str(exc))
    except Exception as exc:  # a bug: fail this page, keep the worker
        log.exception("%s: internal error", job.name)
        failure = _failure(job.name, f"internal error: {type(exc).__name__}: {exc}")
    # Finished for good, either way (a retry above is not): count it towards the batch.
    _job_finished(client, job, task_id)
    if failure is not None:
        raise failure
    result["seconds"] = round(time.monotonic() - started, 3)
    log.info("%s -> %s (%d takes synthesized, %d cached, %.1f s)", job.name, result["audio"],
             result["synthesized"], result["cached"], result["seconds"])  # fmt: skip
    return result


#: A page with this many takes or more to make asks for help (`assist_page`).
ASSIST_MIN_TAKES = 24


def _ask_for_help(job: PageJob, units: list[Any]) -> None:
    """Queue an `assist_page` for a long page's takes. It lands behind the batch's other pages,
    so a worker takes it only when none is left: the end of a batch, where one long page would
    otherwise keep one worker busy while the others idle."""
    if len(units) < ASSIST_MIN_TAKES:
        return
    try:
        assist_page.delay({"config": job.config, "page": job.name,
                           "units": [[preset.name, rate, text] for preset, rate, text in units]})
    except Exception as exc:  # help is optional: the page renders without it all the same
        log.warning("%s: could not ask for help: %s", job.name, exc)


@app.task(name="listen.assist_page", ignore_result=True)
def assist_page(data: dict[str, Any]) -> int:
    """Help a worker rendering a long page: make its takes from the last towards the first,
    into the take cache the workers share, until meeting the ones the page's own job has made
    (it makes them from the first, and uses whatever it finds in the cache). Only takes, which
    are content-addressed: run twice, cut short or never, the page's episode is the same."""
    from listen.cache import TakeCache
    from listen.synthesize import assist

    try:
        config = load_config(Path(data["config"])) if data.get("config") else SiteConfig()
        presets = {name: find_preset(name, config) for name in {u[0] for u in data["units"]}}
        units = [(presets[name], int(rate), str(text)) for name, rate, text in data["units"]]
        made = assist(units, TakeCache(config.cache.dir))
    except (ListenError, OSError) as exc:  # the page's own job will say what is wrong
        log.info("%s: no help given: %s", data.get("page"), exc)
        return 0
    log.info("%s: %d takes made to help its job", data.get("page"), made)
    return made


def _failure(page: str, reason: str) -> JobFailed:
    """The failure as the editor reads it: the page, then the reason (once)."""
    return JobFailed(reason if page in reason else f"{page}: {reason}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def _render(job: PageJob, config: SiteConfig) -> dict[str, Any]:
    from listen.pipeline import Page, PostedPage, render

    page: Page = job.page if is_url(job.page) else Path(job.page)
    if job.url or job.slug:
        page = PostedPage(page, job.url, job.slug)
    destination = open_destination(job.out, config.state.dir)
    # Pages on the queue come from others (a sitemap, the API): only public addresses.
    [result] = render([page], destination, config, voice=job.voice, fmt=job.format, feed=False,
                      jobs=1, prune_cache=False, public_only=True,
                      help_wanted=functools.partial(_ask_for_help, job))  # fmt: skip
    done = {
        "unchanged": result.unchanged,
        "page": job.page,
        "slug": result.manifest.slug,
        "audio": str(result.audio_path),
        "duration_ms": result.manifest.duration_ms,
        "synthesized": result.synthesized,
        "cached": result.cached,
    }
    if config.check.after_render:
        done.update(_check(result, config))
    return done


def _check(result: Any, config: SiteConfig) -> dict[str, Any]:
    """`[check] after_render`: the episode heard (listen.check); its suspect sentences count.
    The episode is published either way: a check that cannot run is reported, not a failure."""
    from listen.check import check_rendered

    try:
        [report] = check_rendered([result], config.check.threshold)
    except ListenError as exc:
        return {"suspects": None, "check": f"not checked: {exc}"}
    if report.skipped:
        return {"suspects": None, "check": f"skipped: {report.skipped}"}
    return {"suspects": len(report.suspects), "wer": round(report.wer or 0.0, 4),
            "check": "checked"}  # fmt: skip


_FINISH_SCRIPT = """
redis.call('SADD', KEYS[1], ARGV[1])
local lifetime = redis.call('TTL', KEYS[2])
redis.call('EXPIRE', KEYS[1], lifetime > 60 and lifetime or 60)
local finished = redis.call('SCARD', KEYS[1])
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
return finished >= total and total > 0 and 1 or 0
"""


def _job_finished(client: Any, job: PageJob, task_id: str) -> None:
    """Count the job as finished; the one that finishes the batch enqueues its last step."""
    last = client.eval(_FINISH_SCRIPT, 2, _batch_key(job.batch, "finished"),
                       _batch_key(job.batch), task_id)  # fmt: skip
    if last:
        queue = (client.hget(_batch_key(job.batch), "queue") or b"listen").decode()
        finish_batch.apply_async(args=[job.batch], task_id=finish_task_id(job.batch), queue=queue)


@app.task(name="listen.finish_batch", bind=True, throws=(JobFailed,))
def finish_batch(self: Any, batch: str) -> dict[str, Any]:
    """After the last job of a batch: rebuild the feed once, prune the take cache."""
    from listen.cache import TakeCache, parse_size

    client = _redis(self.app.conf.broker_url)
    record = {k.decode(): v.decode() for k, v in client.hgetall(_batch_key(batch)).items()}
    if not record:
        raise JobFailed(f"batch {batch} is not on the broker (expired?)")
    config, feed, pruned, failure = SiteConfig(), None, 0, None
    try:
        config = load_config(Path(record["config"])) if record.get("config") else SiteConfig()
        if record.get("feed") == "1":
            destination = open_destination(record["out"], config.state.dir)
            feed = destination.rebuild_feed(config.show, config.feed)
        pruned = TakeCache(config.cache.dir).prune_if_over(parse_size(config.cache.max_size))
    except (ListenError, OSError) as exc:
        failure = JobFailed(f"batch {batch}: {_reason(exc)}")
    if "api_job" in record:
        _api_batch_finished(client, batch, record, config, failure)
    if failure is not None:
        raise failure
    client.hset(_batch_key(batch), "finished", _now())
    log.info("batch %s finished: feed %s, %d takes pruned", batch, feed or "not rebuilt", pruned)
    return {"batch": batch, "feed": feed, "pruned": pruned}


def _api_batch_finished(client: Any, batch: str, record: dict[str, str], config: SiteConfig,
                        failure: JobFailed | None) -> None:  # fmt: skip
    """An API job's last step: its outcome on the broker, its webhook on the queue."""
    from listen.service import batch_finished

    [(task_id, _)] = [json.loads(item) for item in client.lrange(_batch_key(batch, "jobs"), 0, 0)]
    [meta] = task_metas(client, [task_id])
    status = _job_status(task_id, "", meta)
    result = meta.get("result") if meta and status.state == "done" else None
    reason = str(failure) if failure else (None if result else status.detail or "failed")
    try:
        job, event = batch_finished(Path(record["out"]), config, record,
                                    None if failure else result, reason)  # fmt: skip
    except (ListenError, OSError) as exc:
        log.error("batch %s: the API job could not be recorded: %s", batch, _reason(exc))
        return
    keep_record(client, batch, {"api_job": json.dumps(job.__dict__)}, config.queue)
    if event is not None:
        send_webhook(config, event)


def batch_record(client: Any, batch: str) -> dict[str, str]:
    """The batch's record on the broker ({} when it expired or never was)."""
    return {k.decode(): v.decode() for k, v in client.hgetall(_batch_key(batch)).items()}


def keep_record(client: Any, batch: str, fields: dict[str, str], queue: QueueConfig) -> None:
    """Set fields of a batch's record, which lives as long as the job states do."""
    with client.pipeline() as pipe:
        pipe.hset(_batch_key(batch), mapping=fields)
        pipe.expire(_batch_key(batch), max(60, round(queue.keep_days * 86400)))
        pipe.execute()


def send_webhook(config: SiteConfig, event: Any) -> None:
    """Enqueue a webhook delivery: any worker sends it, retried with backoff."""
    config_path = str(config.source.resolve()) if config.source else None
    deliver_webhook.apply_async(args=[config_path, event.to_json()], queue=config.queue.name)


@app.task(name="listen.webhook", bind=True)
def deliver_webhook(self: Any, config_path: str | None, event: dict[str, Any]) -> int:
    """POST a signed event to `[api] webhook_url`; a failed attempt is retried later."""
    from listen.service import webhook_settings
    from listen.webhooks import DeliveryFailed, Event, retry_delay, send_once

    config = load_config(Path(config_path)) if config_path else SiteConfig()
    url, secret = webhook_settings(config)
    if not url:
        return 0
    try:
        return send_once(url, secret, Event.from_json(event))
    except DeliveryFailed as exc:
        retries = int(config.api.webhook_retries)
        if self.request.retries >= retries:
            log.error("webhook %s for %s: %s; gave up after %d retries", event["event"],
                      event["slug"], exc, retries)  # fmt: skip
            raise
        delay = retry_delay(float(config.api.webhook_retry_delay), self.request.retries + 1)
        log.warning("webhook %s for %s: %s; retry in %.1f s", event["event"], event["slug"], exc,
                    delay)  # fmt: skip
        raise self.retry(exc=exc, countdown=delay, max_retries=retries) from None


# --- submitting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    batch: str
    jobs: tuple[tuple[str, str], ...]  # (task id, page)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _absolute(page: Path | str) -> str:
    """Workers run elsewhere: a local page is named by its absolute path on the shared folder."""
    if isinstance(page, str) and is_url(page):
        return page
    path = Path(page)
    if not path.is_file():
        raise ListenError(f"page not found: {page}")
    return str(path.resolve())


def submit(
    pages: Sequence[Path | str | PostedPage],
    out: Path,
    config: SiteConfig,
    voice: str | None = None,
    fmt: str | None = None,
    feed: bool = True,
    batch: str | None = None,
    record: dict[str, str] | None = None,
) -> Submitted:
    """Enqueue a batch: a job per page, then `finish_batch` once they are all finished.
    Everything is checked before anything is enqueued. `batch` names it (default: a new id);
    `record` adds fields to its record (an API job's)."""
    if fmt is not None and fmt not in AUDIO_FORMATS:
        raise ListenError(f"unknown format {fmt!r} (use {' or '.join(AUDIO_FORMATS)})")
    find_preset(voice or config.render.voice, config)
    open_destination(out, config.state.dir).check()
    posted: dict[str, PostedPage | None] = {}
    for page in pages:
        given = page if isinstance(page, PostedPage) else None
        posted.setdefault(_absolute(given.source if given else page), given)  # type: ignore[arg-type]
    sources = list(posted)
    if not sources:
        raise ListenError("no pages given")
    client = connect(config)
    url = broker_url(config)
    batch = batch or uuid.uuid4().hex[:12]
    config_path = str(config.source.resolve()) if config.source else None
    out_path = str(out.resolve())
    jobs = [(str(uuid.uuid4()), page) for page in sources]
    keep = max(60, round(config.queue.keep_days * 86400))
    record = {"created": _now(), "out": out_path, "config": config_path or "",
              "total": len(jobs), "feed": "1" if feed else "0", "queue": config.queue.name,
              "voice": voice or "", "format": fmt or "", **(record or {})}  # fmt: skip
    with client.pipeline() as pipe:
        pipe.hset(_batch_key(batch), mapping=record)
        for start in range(0, len(jobs), 10_000):
            chunk = jobs[start : start + 10_000]
            pipe.rpush(_batch_key(batch, "jobs"), *(json.dumps(j) for j in chunk))
        pipe.zadd(BATCHES_KEY, {batch: time.time()})
        for part in ("", "jobs"):
            pipe.expire(_batch_key(batch, part), keep)
        pipe.execute()
    with app.connection_for_write(url) as connection:
        for task_id, page in largest_first(jobs):
            given = posted.get(page)
            job = PageJob(batch, page, out_path, config_path, voice, fmt,
                          given.url if given else None, given.slug if given else None)
            render_page.apply_async(args=[job.to_json()], task_id=task_id,
                                    queue=config.queue.name, connection=connection)  # fmt: skip
    return Submitted(batch, tuple(jobs))


def largest_first(jobs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The order jobs are handed to workers: the largest local pages first (a page's size
    stands for its work), so that the batch's end, when workers run out of pages while the
    last ones finish, is made of short pages; pages of unknown size (URLs, fetched by the
    worker) first, in the order given. The batch's record keeps the order given."""

    def size(job: tuple[str, str]) -> float:
        if is_url(job[1]):
            return math.inf
        try:
            return os.stat(job[1]).st_size
        except OSError:  # gone since it was checked: its job will say so
            return math.inf

    return sorted(jobs, key=size, reverse=True)


# --- status ---------------------------------------------------------------------------------

#: Celery's task states as the editor sees a job.
STATES = {"PENDING": "queued", "RECEIVED": "queued", "RETRY": "retrying", "STARTED": "running",
          "SUCCESS": "done", "FAILURE": "failed", "REVOKED": "failed"}  # fmt: skip
FINAL = ("done", "failed")


@dataclass(frozen=True)
class JobStatus:
    id: str
    page: str
    state: str  # queued, retrying, running, done, failed
    detail: str = ""  # the failure (or retry) reason, the audio file, or the worker
    worker: str = ""
    #: With `[check] after_render`: the episode, its suspect sentences (None: not checked, and
    #: `check` says why) and its word error rate.
    slug: str = ""
    suspects: int | None = None
    wer: float | None = None
    check: str = ""


@dataclass(frozen=True)
class BatchStatus:
    id: str
    created: str
    out: str
    jobs: tuple[JobStatus, ...]
    #: The batch's last step (feed rebuild): queued (not yet enqueued), running, done, failed.
    finish: str = "queued"
    finish_detail: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("queued", "retrying", "running", "done", "failed"), 0)
        for job in self.jobs:
            counts[job.state] += 1
        return counts

    @property
    def complete(self) -> bool:
        return all(j.state in FINAL for j in self.jobs) and self.finish in FINAL

    @property
    def failed(self) -> list[JobStatus]:
        return [j for j in self.jobs if j.state == "failed"]

    @property
    def checked(self) -> list[JobStatus]:
        """The done jobs whose episode was heard (`[check] after_render`)."""
        return [j for j in self.jobs if j.suspects is not None]

    def to_json(self) -> dict[str, Any]:
        return {"batch": self.id, "created": self.created, "out": self.out,
                "counts": self.counts, "finish": self.finish, "finish_detail": self.finish_detail,
                "complete": self.complete,
                "suspects": sum(j.suspects for j in self.checked) if self.checked else None,
                "jobs": [{"id": j.id, "page": j.page, "state": j.state, "detail": j.detail,
                          "worker": j.worker, "slug": j.slug or None, "suspects": j.suspects,
                          "wer": j.wer, "check": j.check or None}
                         for j in self.jobs]}  # fmt: skip


def _job_status(task_id: str, page: str, meta: dict[str, Any] | None) -> JobStatus:
    if not meta:
        return JobStatus(task_id, page, "queued")
    state = STATES.get(meta.get("status", "PENDING"), "queued")
    result = meta.get("result")
    detail, worker = "", str(meta.get("worker") or "")
    if state in ("failed", "retrying"):
        detail = _exception_text(result)
    elif state == "running" and isinstance(result, dict):
        worker = str(result.get("hostname") or worker)
    elif state == "done" and isinstance(result, dict):
        detail = str(result.get("audio", ""))
        suspects = result.get("suspects")
        return JobStatus(task_id, page, state, detail, worker, str(result.get("slug") or ""),
                         suspects if isinstance(suspects, int) else None, result.get("wer"),
                         str(result.get("check") or ""))  # fmt: skip
    return JobStatus(task_id, page, state, detail, worker)


def _exception_text(result: object) -> str:
    """The message of an exception as Celery's JSON result backend stores it."""
    if isinstance(result, dict) and "exc_message" in result:
        message = result["exc_message"]
        text = " ".join(map(str, message)) if isinstance(message, list | tuple) else str(message)
        return text or str(result.get("exc_type", "error"))
    return "" if result is None else str(result)


def task_metas(client: Any, task_ids: Sequence[str]) -> list[dict[str, Any] | None]:
    """The result-backend records of the tasks (None: not started yet), read in bulk."""
    metas: list[dict[str, Any] | None] = []
    for start in range(0, len(task_ids), 1000):
        chunk = task_ids[start : start + 1000]
        raw = client.mget([f"celery-task-meta-{task_id}" for task_id in chunk])
        metas += [json.loads(value) if value else None for value in raw]
    return metas


def batch_status(client: Any, batch: str) -> BatchStatus:
    record = {k.decode(): v.decode() for k, v in client.hgetall(_batch_key(batch)).items()}
    if not record:
        raise ListenError(f"no batch {batch} on the broker (expired or never submitted)")
    jobs = [json.loads(item) for item in client.lrange(_batch_key(batch, "jobs"), 0, -1)]
    finish_id = finish_task_id(batch)
    metas = task_metas(client, [task_id for task_id, _ in jobs] + [finish_id])
    statuses = tuple(_job_status(t, p, m) for (t, p), m in zip(jobs, metas, strict=False))
    finish = _job_status(finish_id, "", metas[-1])
    return BatchStatus(batch, record.get("created", ""), record.get("out", ""), statuses,
                       finish.state, finish.detail)  # fmt: skip


def list_batches(client: Any, limit: int = 10) -> list[BatchStatus]:
    """The most recent batches still on the broker, newest first."""
    ids = [b.decode() for b in client.zrevrange(BATCHES_KEY, 0, max(limit * 4, 40) - 1)]
    batches = []
    for batch in ids:
        if not client.exists(_batch_key(batch)):
            client.zrem(BATCHES_KEY, batch)  # expired
            continue
        batches.append(batch_status(client, batch))
        if len(batches) == limit:
            break
    return batches


def wait(client: Any, batch: str, on_change: Callable[[BatchStatus], None] | None = None,
         poll_seconds: float = 0.5, timeout: float | None = None) -> BatchStatus:  # fmt: skip
    """Until every job and the batch's last step have finished: the batch's state is read
    again whenever a worker says a job of it has ended (`changes_channel`), and at least every
    `poll_seconds` (less often for big batches: each read reads every job's state), which also
    shows jobs starting."""
    poll_seconds = max(poll_seconds, client.llen(_batch_key(batch, "jobs")) / 20_000)
    deadline = None if timeout is None else time.monotonic() + timeout
    previous = None
    changes = client.pubsub(ignore_subscribe_messages=True)
    changes.subscribe(changes_channel(batch))  # before the first read: no change is missed
    try:
        while True:
            status = batch_status(client, batch)
            key = (tuple(j.state for j in status.jobs), status.finish)
            if key != previous and on_change:
                on_change(status)
            previous = key
            if status.complete:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise ListenError(f"batch {batch} still running after {timeout:g} s")
            _next_change(changes, poll_seconds)
    finally:
        changes.close()


def _next_change(changes: Any, seconds: float) -> None:
    """Until a job of the batch ends or `seconds` pass; then whatever else ended meanwhile is
    taken too (one read of the batch sees them all)."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if changes.get_message(timeout=left) is not None:
            while changes.get_message(timeout=0) is not None:
                pass
            return


# --- the worker -----------------------------------------------------------------------------


def run_worker(config: SiteConfig, concurrency: int | None = None, hostname: str | None = None,
               loglevel: str = "INFO") -> None:  # fmt: skip
    """A Celery worker (prefork: `concurrency` processes, one page at a time each)."""
    connect(config, results=True)
    from listen.synthesize import default_jobs

    argv = ["worker", f"--concurrency={concurrency or default_jobs()}", "--pool=prefork",
            f"--queues={config.queue.name}", f"--loglevel={loglevel}", "--without-mingle",
            "--task-events"]  # fmt: skip
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


# `celery -A listen.queue flower` (or inspect, purge...) finds the broker the same way.
if os.environ.get(BROKER_ENV):
    configure(os.environ[BROKER_ENV], QueueConfig(), results=True)
