"""`listen serve`: preview the output folder on 127.0.0.1 as podcast apps and players will
see it once it is published.

- HTTP Range requests (podcast apps and browsers seek with them), with `If-Range` honoured: a
  resumed download whose copy is stale gets the whole new file, never a mix of two renders.
- The MIME types podcast clients expect (`application/json+chapters` for JSON chapters).
- `Access-Control-Allow-Origin` (configurable), so a player or web podcast app on another
  origin can read manifests, chapters, transcripts and the feed.
- `/` is a preview page: the show, its episodes with their players, the feed.
- Feeds are served with this server's own address in their URLs (the published files keep
  `base_url`), so a podcast app pointed at the preview finds every file.
- Dot-files (temp files of a render in progress) are never served, nor directory listings.
"""

from __future__ import annotations

import email.utils
import functools
import html
import io
import os
import re
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, unquote, urlsplit

from lxml import etree

from listen.errors import ListenError
from listen.feed import FEED_NAME, itunes_duration, newest_first
from listen.player import PLAYER, SCRIPT, STYLES
from listen.publish import EPISODES, Manifest, read_manifest

MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
#: The Podcasting 2.0 JSON chapters spec names its own type.
CHAPTERS_SUFFIX, CHAPTERS_TYPE = ".chapters.json", "application/json+chapters"
#: Default `Access-Control-Allow-Origin`: any origin may read the (public) files.
DEFAULT_CORS = "*"
ATOM_NS = "http://www.w3.org/2005/Atom"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _parse_xml(data: bytes) -> etree._Element:
    """A feed as published (untrusted only as far as DIR is): no entities, no network; a
    parser per call, as lxml parsers are not to be shared between the server's threads."""
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def etag(stat: os.stat_result) -> str:
    """A strong validator that changes whenever a render replaces the file (a new inode)."""
    return f'"{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def if_range_holds(value: str | None, stat: os.stat_result) -> bool:
    """RFC 9110 13.1.5: a range applies only if the client's validator is the file's current
    one (an entity tag compared strongly, or its exact Last-Modified date)."""
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag(stat)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    return moment.tzinfo is not None and int(moment.timestamp()) == int(stat.st_mtime)


def _none_match(value: str | None, current: str) -> bool:
    """If-None-Match names the current entity tag (compared weakly, RFC 9110 13.1.2)."""
    tags = [tag.strip().removeprefix("W/") for tag in (value or "").split(",")]
    return "*" in tags or current in tags


def preview_feed(data: bytes, feed_path: str, here: str, out: Path) -> tuple[bytes, str | None]:
    """The feed with `here` (this server) in place of the published base URL, in every URL
    that names a file of `out`; and that published base (None if this is not a listen feed).
    `feed_path` is the feed's path under `out` ("feed.xml")."""
    try:
        root = _parse_xml(data)
    except etree.XMLSyntaxError:
        return data, None
    self_link = root.find(f"channel/{{{ATOM_NS}}}link[@rel='self']")
    href = self_link.get("href", "") if self_link is not None else ""
    if root.tag != "rss" or not href.endswith("/" + feed_path):
        return data, None
    published = href[: -len(feed_path)]
    if published == here:
        return data, published

    def local(url: str) -> str | None:
        if not url.startswith(published):
            return None
        rest = unquote(urlsplit(url[len(published) :]).path)
        name = here + url[len(published) :]
        inside = rest and ".." not in Path(rest).parts
        is_ours = rest == feed_path or (inside and (out / rest).is_file())
        return name if is_ours else None

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("url", "href"):
            value = element.get(attribute)
            if value and (moved := local(value)):
                element.set(attribute, moved)
        if element.text and (moved := local(element.text.strip())):
            element.text = moved
    note = (f" A preview by listen serve: URLs point at {here}; the published feed points at "
            f"{published} ")  # fmt: skip
    root.addprevious(etree.Comment(note.replace("--", "- -")))
    body = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return body, published


PREVIEW_PAGE = """\
<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} (preview)</title>
<link rel="icon" href="data:,">
{feed_link}<link rel="stylesheet" href="{player}/{styles}">
<script defer src="{player}/{script}"></script>
<style>
body{{max-width:46rem;margin:0 auto;padding:1.5rem 1rem;font:1rem/1.5 system-ui,sans-serif}}
header{{display:flex;gap:1rem;align-items:center}}header img{{width:6rem;height:6rem}}
h1{{margin:0;font-size:1.6rem}}h2{{font-size:1.2rem;margin:2rem 0 .25rem}}
.note,.meta{{color:GrayText;font-size:.9rem}}.meta{{margin:0 0 .5rem}}
</style>
</head>
<body>
<header>{artwork}<div><h1>{title}</h1>{description}</div></header>
<p class="note">{feed} A preview of <code>{folder}</code> by <code>listen serve</code>.</p>
<main>
{episodes}
</main>
</body>
</html>
"""


def _episode_section(manifest: Manifest) -> str:
    slug = quote(manifest.slug)
    when = (manifest.published or manifest.added or "")[:10]
    meta = " · ".join(html.escape(part) for part in (manifest.byline, when,
                      itunes_duration(manifest.duration_ms)) if part)  # fmt: skip
    files = [(manifest.audio, quote(manifest.audio)), ("embed page", f"{slug}.html"),
             ("transcript", f"{slug}.vtt"), ("chapters", f"{slug}{CHAPTERS_SUFFIX}")]  # fmt: skip
    links = " · ".join(f'<a href="{EPISODES}/{href}">{html.escape(label)}</a>'
                       for label, href in files)  # fmt: skip
    return (f'<section>\n<h2>{html.escape(manifest.title)}</h2>\n<p class="meta">{meta}</p>\n'
            f'<listen-player src="{EPISODES}/{slug}.json"></listen-player>\n'
            f'<p class="meta">{links}</p>\n</section>')  # fmt: skip


def _text(root: etree._Element | None, path: str) -> str:
    found = root.find(path) if root is not None else None
    return (found.text or "").strip() if found is not None else ""


def preview_page(out: Path, feed: bytes | None) -> str:
    """The show (as its feed names it), each published episode with its player, the feed."""
    channel = None
    if feed is not None:
        try:
            channel = _parse_xml(feed).find("channel")
        except etree.XMLSyntaxError:
            channel = None
    title = _text(channel, "title") or out.resolve().name or "listen"
    description = _text(channel, "description")
    image = _text(channel, "image/url")
    manifests = [m for path in sorted((out / EPISODES).glob("*.json"))
                 if (m := read_manifest(path)) is not None]  # fmt: skip
    sections = [_episode_section(m) for m in newest_first(manifests)]
    if feed is None:
        feed_note, feed_link = "No feed yet (rendered with --no-feed?).", ""
    else:
        feed_note = (f'The podcast feed: <a href="{FEED_NAME}">{FEED_NAME}</a> (served here with '
                     "this server's address in its URLs).")  # fmt: skip
        feed_link = (f'<link rel="alternate" type="application/rss+xml" href="{FEED_NAME}" '
                     f'title="{html.escape(title)}">\n')  # fmt: skip
    return PREVIEW_PAGE.format(
        lang=html.escape(_text(channel, "language") or "en"),
        title=html.escape(title),
        description=f"<p>{html.escape(description)}</p>" if description else "",
        artwork=f'<img src="{html.escape(image)}" alt="">' if image else "",
        feed_link=feed_link,
        player=PLAYER,
        styles=STYLES,
        script=SCRIPT,
        feed=feed_note,
        folder=html.escape(str(out)),
        episodes="\n".join(sections) or "<p>No episodes yet: <code>listen render</code>.</p>",
    )


class PreviewHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        **MIME_TYPES,
    }

    def __init__(self, *args, cors: str | None = DEFAULT_CORS, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.cors = cors
        self._etag: str | None = None
        self._remaining: int | None = None
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        if os.environ.get("LISTEN_SERVE_LOG"):
            super().log_message(format, *args)

    def guess_type(self, path) -> str:  # type: ignore[no-untyped-def]
        if str(path).endswith(CHAPTERS_SUFFIX):
            return CHAPTERS_TYPE
        return super().guess_type(path)

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        if self._etag:
            self.send_header("ETag", self._etag)
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", self.cors)
            self.send_header("Access-Control-Expose-Headers",
                             "Content-Length, Content-Range, Accept-Ranges, ETag")  # fmt: skip
        super().end_headers()

    def do_OPTIONS(self) -> None:
        """A CORS preflight (a cross-origin fetch with a Range header, say)."""
        self._etag = None
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Allow", "GET, HEAD, OPTIONS")
        if self.cors:
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
            self.send_header("Access-Control-Allow-Headers",
                             "Range, If-Range, If-None-Match, If-Modified-Since")  # fmt: skip
            self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _here(self) -> str:
        """This server's address as the client reached it."""
        host = self.headers.get("Host", "")
        if not _HOST.match(host):
            name, port = self.server.server_address[:2]
            host = f"{name}:{port}"
        return f"http://{host}/"

    def _send_bytes(self, body: bytes, content_type: str) -> io.BytesIO:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return io.BytesIO(body)

    def send_head(self):  # type: ignore[no-untyped-def]
        self._etag, self._remaining = None, None
        root = Path(self.directory)
        path = Path(self.translate_path(self.path))
        relative = path.relative_to(root) if path.is_relative_to(root) else Path(".")
        if any(part.startswith(".") for part in relative.parts):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if urlsplit(self.path).path == "/":
            feed = root / FEED_NAME
            shown = None
            if feed.is_file():  # as previewed: its artwork's URL is here too
                shown = preview_feed(feed.read_bytes(), FEED_NAME, self._here(), root)[0]
            page = preview_page(root, shown)
            return self._send_bytes(page.encode("utf-8"), "text/html; charset=utf-8")
        if path.is_dir() and not (path / "index.html").is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "No directory listings")
            return None
        if not path.is_file():
            return super().send_head()
        if path.suffix == ".xml":
            body, published = preview_feed(path.read_bytes(), relative.as_posix(), self._here(),
                                           root)  # fmt: skip
            if published is not None:
                return self._send_bytes(body, self.guess_type(str(path)))
        stat = path.stat()
        self._etag = etag(stat)
        if _none_match(self.headers.get("If-None-Match"), self._etag):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.end_headers()
            return None
        header = self.headers.get("Range")
        if not header or not if_range_holds(self.headers.get("If-Range"), stat):
            return super().send_head()
        return self._send_range(path, stat, header)

    def _send_range(self, path: Path, stat: os.stat_result, header: str):  # type: ignore[no-untyped-def]
        size = stat.st_size
        match = _RANGE.match(header.strip())
        if not match or match.groups() == ("", ""):
            return super().send_head()  # unsupported (e.g. multi-range): the whole file
        first, last = match.groups()
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        handle = open(path, "rb")  # noqa: SIM115 - closed by copyfile below
        handle.seek(start)
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        self._remaining = end - start + 1
        return handle

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        remaining = self._remaining
        if remaining is None:
            return super().copyfile(source, outputfile)
        try:
            while remaining > 0:
                block = source.read(min(64 * 1024, remaining))
                if not block:
                    break
                outputfile.write(block)
                remaining -= len(block)
        finally:
            self._remaining = None
            source.close()


class PreviewServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a player that seeked or a download cancelled: the client hung up
        super().handle_error(request, client_address)


def make_server(out: Path, port: int = 8000, host: str = "127.0.0.1",
                cors: str | None = DEFAULT_CORS) -> ThreadingHTTPServer:  # fmt: skip
    """A server previewing `out`; `cors` is the Access-Control-Allow-Origin sent (None: none)."""
    if not out.is_dir():
        raise ListenError(f"output folder not found: {out}")
    handler = functools.partial(PreviewHandler, directory=str(out.resolve()), cors=cors)
    try:
        return PreviewServer((host, port), handler)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(out: Path, port: int = 8000, cors: str | None = DEFAULT_CORS) -> None:
    server = make_server(out, port, cors=cors)
    host, bound_port = server.server_address[:2]
    here = f"http://{host}:{bound_port}/"
    feed = out / FEED_NAME
    published = preview_feed(feed.read_bytes(), FEED_NAME, here, out)[1] if feed.is_file() else None
    print(f"Previewing {out} at {here} ; Ctrl-C stops.", flush=True)
    if published and published != here:
        print(f"The feed {here}{FEED_NAME} is a preview: its URLs point at this server (the "
              f"published {FEED_NAME} points at {published}).", flush=True)  # fmt: skip
    print(f"Access-Control-Allow-Origin: {cors}" if cors else "No CORS headers.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = ["make_server", "preview_feed", "preview_page", "serve"]
