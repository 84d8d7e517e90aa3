"""The `listen` command: parses arguments, calls `listen.pipeline`, reports. No logic of its own.

Exit status: 0 success; 1 the input or the work failed (one line `error: ...` on stderr);
2 a usage error; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), either with nothing
half-written and no process left behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from listen import __version__
from listen.allocator import share_one_arena
from listen.config import AUDIO_FORMATS, SiteConfig, load_config, load_presets
from listen.errors import ListenError
from listen.fetch import is_url
from listen.lifeline import TERMINATED_STATUS, Terminated, terminate_like_interrupt


def _config(args: argparse.Namespace) -> SiteConfig:
    return load_config(Path(args.config) if args.config else None)


def bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}]"


class ProgressBar:
    """A one-line bar on a terminal; silent in pipes, in CI and with --quiet."""

    def __init__(self, enabled: bool, unit: str = "takes") -> None:
        self.enabled, self.unit = enabled, unit
        self._last: tuple[str, int] | None = None

    def __call__(self, page: str, done: int, total: int) -> None:
        if not self.enabled or self._last == (page, done):
            return
        self._last = (page, done)
        name = Path(page).name[:30]
        sys.stderr.write(f"\r{name:<30} {bar(done, total)} {done}/{total} {self.unit}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty() and not os.environ.get("CI")


def format_duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def cmd_render(args: argparse.Namespace) -> int:
    from listen.pages import expand_pages

    config = _config(args)
    pages = expand_pages(args.pages)
    if args.queue:
        if args.check:
            raise ListenError("--check does not go with --queue (workers check with "
                              "[check] after_render = true)")  # fmt: skip
        return _render_queued(args, config, pages)
    if args.check:
        from listen.check import require_recognizer

        require_recognizer()  # before any work: the extra is missing, say so now
    if args.wait:
        raise ListenError("--wait goes with --queue")
    from listen import preload
    from listen.cache import TakeCache

    # Before the pipeline's imports, so that the voice's load runs beside them too.
    loading = preload.start(pages, config, args.voice, TakeCache(config.cache.dir))
    from listen.pipeline import render
    from listen.player import embed_snippet

    results = render(
        pages,
        out=Path(args.out),
        config=config,
        voice=args.voice,
        fmt=args.format,
        feed=not args.no_feed,
        jobs=args.jobs,
        progress=ProgressBar(_show_progress(args)),
        loading=loading,
    )
    if not args.quiet:
        for result in results:
            m = result.manifest
            made = f"{plural(result.synthesized, 'take')} synthesized, {result.cached} from cache"
            if result.unchanged:
                made = "unchanged"
            print(
                f"{result.audio_path}  {format_duration(m.duration_ms)}, "
                f"{plural(len(m.chapters), 'chapter')}, {plural(len(m.sentences), 'sentence')} "
                f"({made})"
            )
            print(f"Player snippet:\n{embed_snippet(m, config.show)}")
        if not args.no_feed:
            print(Path(args.out) / "feed.xml")
    if args.check:
        from listen.check import check_rendered

        reports = check_rendered(results, config.check.threshold,
                                 ProgressBar(_show_progress(args), "sentences heard"))  # fmt: skip
        for report in reports:
            print(check_summary(report, Path(args.out)))
    return 0


def check_summary(report, out: Path) -> str:  # type: ignore[no-untyped-def]
    """One line per checked episode: its WER and how many sentences are suspect."""
    if report.skipped:
        return f"check {report.episode}: skipped: {report.skipped}"
    suspects = len(report.suspects)
    line = (f"check {report.episode}: WER {report.wer:.1%}, "
            f"{plural(suspects, 'suspect sentence')} of {len(report.sentences)}")  # fmt: skip
    if suspects:
        line += f" (listen check {report.episode} --out {out})"
    return line


def cmd_check(args: argparse.Namespace) -> int:
    from listen.check import check, over_limit, suggestions

    config = _config(args)
    threshold = config.check.threshold if args.threshold is None else args.threshold
    progress = _show_progress(args)
    reports = check(args.episodes, Path(args.out), config, threshold=threshold,
                    progress=ProgressBar(progress, "sentences heard"), voice=args.voice,
                    render_progress=ProgressBar(progress))  # fmt: skip
    if args.json:
        for report in reports:
            print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for report in reports:
            print_check_report(report, Path(args.out))
        advice = suggestions(reports, args.voice, Path(args.config) if args.config else None)
        if advice:
            print("\nSuggested lexicon entries to try (words suspect in more than one sentence):")
            for item in advice:
                where = plural(item.sentences, "sentence")
                if item.episodes > 1:
                    where += f" in {item.episodes} episodes"
                heard = ", ".join(f'"{h}"' for h in item.heard)
                print(f"  {item.entry}    # {where}; heard {heard or 'nothing'}")
                print(f"    audition: {item.audition}")
    failed = over_limit(reports, args.fail_on)
    for report in failed:
        suspects = plural(len(report.suspects), "suspect sentence")
        print(f"listen check: {report.episode} has {suspects}, more than --fail-on "
              f"{args.fail_on}", file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def print_check_report(report, out: Path) -> None:  # type: ignore[no-untyped-def]
    print(check_summary(report, out).replace(f" (listen check {report.episode} --out {out})", ""))
    if report.skipped:
        return
    rule = (f"more than {report.threshold:.0%} of its words" if report.threshold
            else "a word")  # fmt: skip
    print(f"  {report.words} words in {format_duration(report.duration_ms)} of audio, voice "
          f"{', '.join(report.voices) or report.voice}, heard in {report.seconds:.0f} s "
          f"({report.speed:.1f}x real time); suspect: {rule} heard differently")  # fmt: skip
    for sentence in report.suspects:
        print(f"  {format_duration(sentence.start_ms)}  #{sentence.index + 1}  WER "
              f"{sentence.wer:.0%}  {sentence.text}")  # fmt: skip
        print(f"        heard: {sentence.heard or '(nothing)'}")
        differs = "; ".join(f"{d.expected or '(nothing)'} -> {d.heard or '(nothing)'}"
                            for d in sentence.differences)  # fmt: skip
        print(f"        differs: {differs}")


def _render_queued(args: argparse.Namespace, config: SiteConfig, pages: list) -> int:
    queue = _queue_module()
    if args.jobs is not None:
        raise ListenError("--jobs does not go with --queue (see listen worker --concurrency)")
    submitted = queue.submit(pages, Path(args.out), config, voice=args.voice, fmt=args.format,
                             feed=not args.no_feed)  # fmt: skip
    if not args.quiet:
        print(f"batch {submitted.batch}: {plural(len(submitted.jobs), 'page')} queued")
    if not args.wait:
        if not args.quiet:
            print(f"listen status --batch {submitted.batch}")
        return 0
    client = queue.connect(config)
    try:
        status = queue.wait(client, submitted.batch,
                            BatchProgress(args.quiet, _show_progress(args)))  # fmt: skip
    except KeyboardInterrupt:
        raise ListenError(f"stopped waiting; the batch goes on (listen status --batch "
                          f"{submitted.batch})") from None  # fmt: skip
    if status.finish == "failed":
        raise ListenError(status.finish_detail or "the batch's feed rebuild failed")
    if status.failed:
        raise ListenError(f"{len(status.failed)} of {plural(len(status.jobs), 'page')} failed "
                          f"(listen status --batch {status.id})")  # fmt: skip
    if not args.quiet and not args.no_feed:
        print(Path(args.out) / "feed.xml")
    return 0


class BatchProgress:
    """--wait's report: a bar on a terminal; elsewhere a line per finished page. Failures are
    always printed, with the page and the reason."""

    def __init__(self, quiet: bool, bar: bool) -> None:
        self.quiet, self.bar = quiet, bar
        self.reported: set[str] = set()

    def __call__(self, status) -> None:  # type: ignore[no-untyped-def]
        for job in status.jobs:
            if job.state not in ("done", "failed") or job.id in self.reported:
                continue
            self.reported.add(job.id)
            if job.state == "failed":
                self._line(f"failed {job.detail}", sys.stderr)
            elif not self.quiet and not self.bar:
                self._line(f"done   {job.detail}", sys.stdout)
        if self.bar and not self.quiet:
            c = status.counts
            finished = c["done"] + c["failed"]
            sys.stderr.write(
                f"\r{bar(finished, len(status.jobs))} {finished}/"
                f"{len(status.jobs)}: {c['done']} done, {c['running']} running, "
                f"{c['queued'] + c['retrying']} queued, {c['failed']} failed "
            )
            if status.complete:
                sys.stderr.write("\n")
            sys.stderr.flush()

    def _line(self, text: str, stream) -> None:  # type: ignore[no-untyped-def]
        if self.bar and not self.quiet:
            sys.stderr.write("\r\033[K")
        print(text, file=stream, flush=True)


def _queue_module():  # type: ignore[no-untyped-def]
    try:
        from listen import queue
    except ModuleNotFoundError as exc:
        raise ListenError(f"the queue needs {exc.name}: pip install 'listen[queue]'") from None
    return queue


def cmd_worker(args: argparse.Namespace) -> int:
    queue = _queue_module()
    queue.run_worker(_config(args), concurrency=args.concurrency, hostname=args.hostname,
                     loglevel=args.loglevel)  # fmt: skip
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    queue = _queue_module()
    config = _config(args)
    client = queue.connect(config)
    batches = ([queue.batch_status(client, args.batch)] if args.batch
               else queue.list_batches(client, args.limit))  # fmt: skip
    if args.json:
        print(json.dumps([b.to_json() for b in batches], ensure_ascii=False, indent=2))
        return 0
    workers = sorted(name for reply in queue.app.control.ping(timeout=1.0) for name in reply)
    print(
        f"broker {queue.redacted(queue.broker_url(config))}: "
        f"{plural(len(workers), 'worker')} online{': ' if workers else ''}{', '.join(workers)}"
    )
    if not batches:
        print("no batches")
    for batch in batches:
        c = batch.counts
        print(f"batch {batch.id}  {batch.created}  -> {batch.out}")
        finish = f"{batch.finish} ({batch.finish_detail})" if batch.finish_detail else batch.finish
        print(
            f"  {plural(len(batch.jobs), 'page')}: {c['done']} done, {c['running']} running, "
            f"{c['queued']} queued, {c['retrying']} retrying, {c['failed']} failed; "
            f"feed: {finish}"
        )
        checked = batch.checked
        if checked:
            suspects = sum(j.suspects or 0 for j in checked)
            print(f"  check: {plural(suspects, 'suspect sentence')} in "
                  f"{len([j for j in checked if j.suspects])} of {plural(len(checked), 'episode')}"
                  " heard")  # fmt: skip
        unheard = [j for j in batch.jobs if j.state == "done" and j.check and j.suspects is None]
        for job in unheard[: None if args.batch else 5]:
            print(f"  unheard  {job.page}: {job.check}")
        shown = [j for j in batch.jobs if j.state in ("running", "retrying", "failed")]
        shown += [j for j in checked if j.suspects]
        limit = None if args.batch else 20
        for job in shown[:limit]:
            where = f" on {job.worker}" if job.state == "running" and job.worker else ""
            if where and job.worker not in workers:  # its worker died: Redis will hand it on
                where += " (offline: the job goes to another worker after the timeout)"
            detail = job.detail if job.state != "running" else job.page
            if job.state == "done":  # heard, with suspect sentences
                print(f"  suspect  {job.page}: {plural(job.suspects or 0, 'sentence')} (listen "
                      f"check {job.slug} --out {batch.out})")  # fmt: skip
                continue
            print(f"  {job.state:<8} {detail}{where}")
        if limit is not None and len(shown) > limit:
            print(f"  ... and {len(shown) - limit} more (listen status --batch {batch.id})")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from listen.pipeline import script_page
    from listen.player import page_snippet
    from listen.render_text import script_as_json, script_as_markdown, script_as_text

    config = _config(args)
    page = args.page if is_url(args.page) else Path(args.page)
    script = script_page(page, config)
    snippet = page_snippet(script, Path(urlsplit(args.page).path or "page"), config.show)
    feeds = config.feed.feeds
    render = {
        "json": lambda script: script_as_json(script, feeds),
        "text": lambda script: script_as_text(script, feeds),
        "markdown": lambda script: script_as_markdown(script, snippet, feeds),
    }
    output = render[args.format](script)
    sys.stdout.write(
        json.dumps(output, ensure_ascii=False, indent=2) + "\n" if args.format == "json" else output
    )
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from listen.pipeline import say

    audition = say(args.text, Path(args.out), _config(args), voice=args.voice)
    print(f"{audition.path}  {audition.duration_ms / 1000:.1f} s")
    print(f"spoken: {audition.spoken}")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from listen.voices import system_voices

    presets = load_presets(_config(args))
    print("Presets:")
    for preset in presets.values():
        detail = preset.model or preset.voice or preset.language
        print(f"  {preset.name:<16} {preset.engine:<8} {detail:<20} {preset.description}")
    voices = system_voices()
    print(f"System voices (pyttsx3): {len(voices)}")
    for voice_id, name, languages in voices:
        print(f"  {voice_id:<24} {name:<28} {', '.join(languages)}")
    if voices:
        voice_id, _, languages = voices[0]
        print(f"\nUse one as it is: --voice system:LANGUAGE (--voice system:"
              f"{voice_id.rsplit('/', 1)[-1]}), or by its id or name. To make it a preset, save"
              f" voices/NAME.toml:\n  engine = \"pyttsx3\"\n  voice = \"{voice_id}\"\n"
              f"  language = \"{languages[0] if languages else ''}\"")
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    from listen.pipeline import rebuild_feed

    print(rebuild_feed(Path(args.out), _config(args)))
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    if args.new_token:
        from listen.service import new_token

        token, line = new_token()
        print(f"token (give it to the CMS): {token}\nline for [api] tokens_file: {line}")
        return 0
    try:
        from listen import api
    except ModuleNotFoundError as exc:
        raise ListenError(f"the API needs {exc.name}: pip install 'listen[api]'") from None
    api.run(Path(args.out), _config(args), host=args.host, port=args.port)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from listen.pipeline import remove

    for slug in remove(args.slugs, Path(args.out), _config(args)):
        print(f"removed {slug}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from listen.cache import TakeCache, parse_size

    config = _config(args)
    cache = TakeCache(Path(args.dir) if args.dir else config.cache.dir)
    if args.clear or args.prune is not None:
        try:
            limit = 0 if args.clear else parse_size(args.prune or config.cache.max_size)
        except ValueError as exc:
            raise ListenError(str(exc)) from None
        print(f"removed {cache.prune(limit)} takes")
    stats = cache.stats()
    print(
        f"{stats.directory}: {stats.takes} takes, {stats.bytes / 1024**2:.1f} MiB "
        f"(limit {config.cache.max_size})"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from listen.serve import serve

    serve(Path(args.out), port=args.port, cors=None if args.cors == "none" else args.cors)
    return 0


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (action.option_strings and default not in (None, False, argparse.SUPPRESS)
                and "default" not in text):  # fmt: skip
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """listen's parser: subcommands' parsers are of this class too, so their help shows
    defaults the same way."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high`, else the subcommand's usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value

    return parse


def share(text: str) -> float:
    """An argparse type: a share from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def cors_origin(text: str) -> str:
    if text in ("*", "none") or re.fullmatch(r"https?://[^/\s]+", text):
        return text
    raise argparse.ArgumentTypeError(
        f"an origin (https://www.example.org), * or none, not {text!r}"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="listen",
        description="Offline audio editions of "
        "HTML articles: chaptered episodes and a podcast feed.",
    )
    parser.add_argument("--version", action="version", version=f"listen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="FILE", help="site config (default: ./listen.toml)")
        return p

    render = with_config(sub.add_parser("render", help="render article pages into episodes"))
    render.add_argument(
        "pages",
        nargs="+",
        metavar="PAGE",
        help="HTML files, http(s) URLs, folders of pages, list files "
        "(.txt, a page per line) or sitemaps (.xml)",
    )
    render.add_argument("--out", default="public", metavar="DIR", help="output folder")
    render.add_argument("--voice", help="voice preset or system:LANGUAGE (default: the page's "
                        "language picks it; see listen voices)")
    render.add_argument("--format", choices=AUDIO_FORMATS, help="audio format (default: mp3)")
    render.add_argument("--no-feed", action="store_true", help="do not rebuild the feeds")
    render.add_argument("--jobs", type=number(1), metavar="N",
                        help="worker processes (default: cores)")  # fmt: skip
    render.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    render.add_argument(
        "--queue",
        action="store_true",
        help="enqueue the pages for `listen worker`s instead of rendering here",
    )
    render.add_argument(
        "--wait", action="store_true", help="with --queue: show progress until the batch is done"
    )
    render.add_argument("--check", action="store_true",
                        help="hear each episode after rendering it (listen check) and print "
                        "its summary line")  # fmt: skip
    render.set_defaults(func=cmd_render)

    check = with_config(sub.add_parser("check", help="hear episodes with an offline recognizer "
                                       "and report misreadings"))  # fmt: skip
    check.add_argument(
        "episodes", nargs="+", metavar="EPISODE",
        help="a published episode's slug (in --out) or manifest (.json), or an article page "
        "(rendered first, as listen render would)",
    )  # fmt: skip
    check.add_argument("--out", default="public", metavar="DIR", help="output folder")
    check.add_argument("--json", action="store_true", help="one JSON object per episode: "
                       "its WER and suspect sentences")  # fmt: skip
    check.add_argument("--threshold", type=share, metavar="X",
                       help="a sentence is suspect when more than this share of its words "
                       "differ (default: [check] threshold, else 0: any word)")  # fmt: skip
    check.add_argument("--fail-on", type=number(0), metavar="N",
                       help="exit 1 when an episode has more than N suspect sentences")  # fmt: skip
    check.add_argument("--voice", help="the voice for pages rendered first")
    check.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_check)

    extract = with_config(sub.add_parser("extract", help="print what would be narrated"))
    extract.add_argument("page", metavar="PAGE")
    extract.add_argument("--format", choices=("json", "text", "markdown"), default="json",
                         help="what to print")  # fmt: skip
    extract.set_defaults(func=cmd_extract)

    say = with_config(sub.add_parser("say", help="speak a snippet, to audition a pronunciation"))
    say.add_argument("text")
    say.add_argument("--voice", help="voice preset (default: the config's, else heart)")
    say.add_argument("--out", default="say.wav", metavar="FILE", help="WAV file to write")
    say.set_defaults(func=cmd_say)

    voices = with_config(sub.add_parser("voices", help="list voice presets and system voices"))
    voices.set_defaults(func=cmd_voices)

    feed = with_config(sub.add_parser("feed", help="rebuild feed.xml, the [[feeds]], the playlist"))
    feed.add_argument("--out", default="public", metavar="DIR", help="output folder")
    feed.set_defaults(func=cmd_feed)

    api = with_config(sub.add_parser("api", help="the HTTP API for CMSs (jobs, webhooks)"))
    api.add_argument("--out", default="public", metavar="DIR", help="output folder")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on")
    api.add_argument("--port", type=number(0, 65535), default=8080, metavar="N",
                     help="port to listen on")  # fmt: skip
    api.add_argument("--new-token", action="store_true",
                     help="print a new bearer token and its tokens-file line, and exit")
    api.set_defaults(func=cmd_api)

    remove = with_config(sub.add_parser("remove", help="unpublish episodes (the feeds follow)"))
    remove.add_argument("slugs", nargs="+", metavar="SLUG", help="the episodes' slugs")
    remove.add_argument("--out", default="public", metavar="DIR", help="output folder")
    remove.set_defaults(func=cmd_remove)

    cache = with_config(sub.add_parser("cache", help="show or prune the take cache"))
    cache.add_argument("--dir", help="cache folder (default: the config's, $LISTEN_CACHE_DIR)")
    cache.add_argument(
        "--prune",
        nargs="?",
        const="",
        metavar="SIZE",
        help="prune least recently used takes down to SIZE (default: the limit)",
    )
    cache.add_argument("--clear", action="store_true", help="remove every take")
    cache.set_defaults(func=cmd_cache)

    serve = sub.add_parser("serve", help="preview DIR on 127.0.0.1 (with HTTP Range requests)")
    serve.add_argument("--out", default="public", metavar="DIR", help="output folder")
    serve.add_argument(
        "--port",
        type=number(0, 65535),
        default=8000,
        metavar="N",
        help="port on 127.0.0.1; 0 picks a free one",
    )
    serve.add_argument(
        "--cors",
        type=cors_origin,
        default="*",
        metavar="ORIGIN",
        help="Access-Control-Allow-Origin to send: an origin, * or none",
    )
    serve.set_defaults(func=cmd_serve)

    worker = with_config(sub.add_parser("worker", help="render queued pages (a Celery worker)"))
    worker.add_argument(
        "--concurrency",
        type=number(1),
        metavar="N",
        help="pages rendered at once, one process each (default: cores)",
    )
    worker.add_argument("--hostname", metavar="NAME", help="worker name (default: celery@host)")
    worker.add_argument("--loglevel", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="what the worker logs")  # fmt: skip
    worker.set_defaults(func=cmd_worker)

    status = with_config(sub.add_parser("status", help="queued, running, done, failed jobs"))
    status.add_argument("--batch", metavar="ID", help="one batch, with every failure")
    status.add_argument("--limit", type=number(1), default=10, metavar="N",
                        help="recent batches")  # fmt: skip
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(func=cmd_status)
    return parser


def _warnings_to_stderr() -> None:
    """What a render skips and says so (a picture that cannot be had): `warning: ...` lines."""
    art = logging.getLogger("listen.art")
    if not art.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        art.addHandler(handler)
        art.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    _warnings_to_stderr()
    if threading.current_thread() is threading.main_thread():
        share_one_arena()  # before the render's threads: see listen.allocator
        terminate_like_interrupt()  # (the worker's and the API's servers install their own)
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except ListenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file system failure no stage anticipated: still one line
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Terminated:
        print("error: terminated", file=sys.stderr)
        return TERMINATED_STATUS
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
