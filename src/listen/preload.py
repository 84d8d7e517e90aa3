"""Loading the narrator's voice while the pages are read (`start`): a Piper model takes a
quarter of a second to open, which then runs beside listen's imports, the extraction and the
script instead of after them. `listen render` starts it before it imports the pipeline and
hands it to `pipeline.render`, which starts it itself for every other caller.

A render that needs no voice (every take cached) must not load one: it would have to wait for
the load before it may exit. The take cache keeps a hint per local page for that
(`TakeCache.page_was_made`): a digest of the page's bytes, the voice and the speech settings,
noted after a render (`Loading.remember`)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from listen import __version__
from listen.cache import TakeCache
from listen.config import SiteConfig, VoicePreset, find_preset
from listen.errors import ListenError
from listen.fetch import is_url
from listen.pages import PostedPage

Hint = tuple[str, str]


@dataclass(frozen=True)
class Loading:
    """A render's early load: the loading thread (None: nothing to load) and its pages'
    hints."""

    thread: threading.Thread | None
    hints: tuple[Hint | None, ...]

    def wait(self) -> None:
        """Until the load has ended (a process may not exit before: onnxruntime aborts it)."""
        if self.thread is not None:
            self.thread.join()

    def remember(self, cache: TakeCache) -> None:
        """After the render: every take of these pages is in the cache."""
        for hint in self.hints:
            if hint:
                cache.remember_page(*hint)


def start(pages: Sequence[object], config: SiteConfig, voice: str | None,
          cache: TakeCache) -> Loading:  # fmt: skip
    """Start loading the voice that reads pages in the site's language, unless every page's
    hint says its takes are made (`synthesize.load_in_background`)."""
    from listen.synthesize import load_in_background

    narrator = likely_narrator(config, voice)
    if narrator is None:
        return Loading(None, ())
    hints = tuple(page_hint(page, narrator, config) for page in pages)
    if all(hint and cache.page_was_made(*hint) for hint in hints):
        return Loading(None, hints)
    return Loading(load_in_background(narrator), hints)


def likely_narrator(config: SiteConfig, voice: str | None) -> VoicePreset | None:
    """The voice that will read the pages if they are in the site's language."""
    try:
        if voice:  # (without listen.voices' imports: the sooner the load starts, the better)
            return find_preset(voice, config)
        from listen.voices import choose_voice

        return choose_voice(config.show.language, config, voice)
    except ListenError:
        return None


def page_hint(page: object, narrator: VoicePreset, config: SiteConfig) -> Hint | None:
    """A local page's source and a digest of what its takes are made from (its bytes, the
    voice, the speech settings); None for a fetched or posted page, known only once read."""
    if isinstance(page, PostedPage) or not isinstance(page, str | Path):
        return None
    if isinstance(page, str) and is_url(page):
        return None
    path = Path(page).resolve()
    try:
        data = path.read_bytes()
    except OSError:  # (the render says so)
        return None
    made_from = hashlib.sha256(data)
    made_from.update(repr((narrator, config.speech, __version__)).encode())
    return str(path), made_from.hexdigest()
