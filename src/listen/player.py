"""The embeddable player: what a web team drops into an article page.

DIR/player/listen-player.js    the <listen-player> web component (no dependencies)
DIR/player/listen-player.css   its styles
DIR/episodes/<slug>.html       a standalone embed page, for an <iframe>

`embed_snippet` is the copy-paste HTML for an article page. The player reads only the episode
manifest (DIR/episodes/<slug>.json) and the playlist (DIR/playlist.json, for "Up next") and,
once the listener presses play, the audio.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urljoin

from listen.atomic import write_bytes_if_changed, write_text
from listen.config import ShowConfig
from listen.errors import ListenError
from listen.feed import base_url
from listen.playlist import PLAYLIST_NAME
from listen.publish import EPISODES, Manifest, slug_for
from listen.script import Script

PLAYER = "player"
SCRIPT = "listen-player.js"
STYLES = "listen-player.css"
ASSETS = (SCRIPT, STYLES)

EMBED_PAGE = """\
<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../{player}/{styles}">
<script defer src="../{player}/{script}"></script>
<style>html,body{{margin:0;background:transparent}}body{{padding:8px}}listen-player{{margin:0}}</style>
</head>
<body>
<main>
<listen-player src="{src}" open="transcript"></listen-player>
</main>
</body>
</html>
"""


def asset(name: str) -> bytes:
    """A player file as shipped in the package (src/listen/static)."""
    return resources.files("listen").joinpath("static", name).read_bytes()


def write_player_assets(out: Path) -> None:
    """Write DIR/player/listen-player.js and .css; files already up to date are left alone."""
    try:
        for name in ASSETS:
            write_bytes_if_changed(out / PLAYER / name, asset(name))
    except OSError as exc:
        raise ListenError(f"cannot write the player to {out}: {exc.strerror or exc}") from None


def embed_page(manifest: Manifest, show: ShowConfig) -> str:
    title = f"{manifest.title} – {show.title}" if show.title else manifest.title
    return EMBED_PAGE.format(
        lang=html.escape(manifest.language or "en"),
        title=html.escape(title),
        player=PLAYER,
        styles=STYLES,
        script=SCRIPT,
        src=html.escape(f"{quote(manifest.slug)}.json"),
    )


def write_embed_page(out: Path, manifest: Manifest, show: ShowConfig) -> Path:
    """Write DIR/episodes/<slug>.html, the player alone on a page (for an <iframe>)."""
    target = out / EPISODES / f"{manifest.slug}.html"
    try:
        write_text(target, embed_page(manifest, show))
    except OSError as exc:
        raise ListenError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return target


def snippet_for(slug: str, show: ShowConfig) -> str:
    """The article-page HTML for the episode `slug`, with absolute URLs under the show's base."""
    base = base_url(show)
    urls = {
        "css": urljoin(base, f"{PLAYER}/{STYLES}"),
        "js": urljoin(base, f"{PLAYER}/{SCRIPT}"),
        "src": urljoin(base, f"{EPISODES}/{quote(slug)}.json"),
        "playlist": urljoin(base, PLAYLIST_NAME),
    }
    attr = {key: html.escape(url, quote=True) for key, url in urls.items()}
    return (
        f'<link rel="stylesheet" href="{attr["css"]}">\n'
        f'<script defer src="{attr["js"]}"></script>\n'
        f'<listen-player src="{attr["src"]}" playlist="{attr["playlist"]}"></listen-player>'
    )


def embed_snippet(manifest: Manifest, show: ShowConfig) -> str:
    """The copy-paste HTML that puts the player for `manifest` on an article page."""
    return snippet_for(manifest.slug, show)


def page_snippet(script: Script, page: Path, show: ShowConfig) -> str:
    """The snippet a render of `page` will need (for `listen extract`, before any render)."""
    return snippet_for(slug_for(script.article.url, str(page)), show)


__all__ = [
    "embed_page",
    "embed_snippet",
    "page_snippet",
    "snippet_for",
    "write_embed_page",
    "write_player_assets",
]
