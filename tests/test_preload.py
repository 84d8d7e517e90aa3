"""The narrator's voice loads while the pages are read (`listen.preload`), unless
the take cache's hints say the render will need no voice (`TakeCache.page_was_made`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import fake_engine
import pytest
from helpers import write_articles

from listen import pipeline, preload
from listen.cache import TakeCache
from listen.config import SiteConfig, find_preset


@pytest.fixture
def site(tmp_path: Path, engines) -> Iterator[SiteConfig]:  # type: ignore[no-untyped-def]
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "concurrent-tone.toml").write_text('engine = "fake_engine:ConcurrentToneEngine"\n')
    config = SiteConfig(voice_dirs=(voices,))
    config = replace(config, render=replace(config.render, voice="concurrent-tone"),
                     cache=replace(config.cache, dir=tmp_path / "cache"))  # fmt: skip
    fake_engine.ConcurrentToneEngine.loaded_in.clear()
    yield config


def until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_voice_loads_while_the_page_is_read(tmp_path: Path, site: SiteConfig, engines,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    [page] = write_articles(tmp_path / "pages", 1)
    preset = find_preset("concurrent-tone", site)
    read = pipeline.extract_page
    loaded_during_reading = []

    def slow_reading(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The engine is loaded before the page's article is known only if it loads beside it.
        loaded_during_reading.append(until(lambda: engines.has(preset)))
        return read(*args, **kwargs)

    monkeypatch.setattr(pipeline, "extract_page", slow_reading)
    [result] = pipeline.render([page], tmp_path / "out", site, feed=False)

    assert loaded_during_reading == [True]
    assert fake_engine.ConcurrentToneEngine.loaded_in == ["listen-preload"]  # loaded once
    assert result.synthesized > 0 and result.audio_path.is_file()
    assert not [t for t in threading.enumerate() if t.name == "listen-preload"]


@pytest.mark.piper
def test_joe_loads_while_the_page_is_read_and_heart_after(tmp_path: Path, engines,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Piper loads in onnxruntime, outside the GIL: beside the reading. hibari's G2P is Python,
    which would only take turns with the reading: it loads when its first take is due."""
    page = tmp_path / "page.html"
    page.write_text("<html lang='en'><head><title>A short one</title></head><body><article>"
                    "<h1>A short one</h1><p>It is a short page. It has two sentences.</p>"
                    "</article></body></html>", encoding="utf-8")  # fmt: skip
    config = replace(SiteConfig(), cache=replace(SiteConfig().cache, dir=tmp_path / "cache"))
    read = pipeline.extract_page
    loaded_while_reading: dict[str, bool] = {}

    for name in ("joe", "heart"):
        preset = find_preset(name, config)

        def reading(*args, preset=preset, name=name, **kwargs):  # type: ignore[no-untyped-def]
            wait = 30.0 if name == "joe" else 1.0
            loaded_while_reading[name] = until(lambda: engines.has(preset), wait)
            return read(*args, **kwargs)

        monkeypatch.setattr(pipeline, "extract_page", reading)
        [result] = pipeline.render([page], tmp_path / f"out-{name}", config, voice=name,
                                   feed=False)  # fmt: skip
        assert result.synthesized > 0 and engines.has(preset)
    assert loaded_while_reading == {"joe": True, "heart": False}


def test_a_render_that_needs_no_take_loads_no_voice(tmp_path: Path, site: SiteConfig,
                                                    engines) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    [page] = write_articles(tmp_path / "pages", 1)
    preset = find_preset("concurrent-tone", site)
    out = tmp_path / "out"
    pipeline.render([page], out, site, feed=False)
    engines.cache_clear()

    [again] = pipeline.render([page], out, site, feed=False)  # nothing changed
    assert again.unchanged and not engines.has(preset)
    [elsewhere] = pipeline.render([page], tmp_path / "out2", site, feed=False)  # all cached
    assert elsewhere.synthesized == 0 and not engines.has(preset)

    page.write_text(page.read_text(encoding="utf-8").replace("<p>", "<p>A new sentence. ", 1),
                    encoding="utf-8")  # fmt: skip
    [edited] = pipeline.render([page], out, site, feed=False)
    assert edited.synthesized == 1 and engines.has(preset)
    assert fake_engine.ConcurrentToneEngine.loaded_in == ["listen-preload", "listen-preload"]


def test_the_cache_remembers_which_page_it_made_every_take_of(tmp_path: Path) -> None:
    cache = TakeCache(tmp_path / "cache")
    assert not cache.page_was_made("/site/a.html", "d1")
    cache.remember_page("/site/a.html", "d1")
    assert cache.page_was_made("/site/a.html", "d1")
    assert not cache.page_was_made("/site/a.html", "d2")  # the page (or its voice) changed
    assert not cache.page_was_made("/site/b.html", "d1")
    cache.remember_page("/site/a.html", "d2")
    assert cache.page_was_made("/site/a.html", "d2")
    assert not cache.page_was_made("/site/a.html", "d1")
    assert cache.stats().takes == 0 and cache.prune(0) == 0  # hints are not takes
    assert cache.page_was_made("/site/a.html", "d2")


def test_a_second_start_finds_the_load_under_way(tmp_path: Path, site: SiteConfig, engines,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """A start while the voice is loading (another render in this process) joins that load
    instead of beginning another; once the hints are noted, a start loads nothing."""
    [page] = write_articles(tmp_path / "pages", 1)
    release = threading.Event()
    made = fake_engine.ConcurrentToneEngine.__init__

    def slow_load(self, preset):  # type: ignore[no-untyped-def]
        release.wait(10)
        made(self, preset)

    monkeypatch.setattr(fake_engine.ConcurrentToneEngine, "__init__", slow_load)
    cache = TakeCache(site.cache.dir)
    first = preload.start([page], site, None, cache)
    again = preload.start([page], site, None, cache)
    assert first.thread is not None and again.thread is first.thread and first.thread.is_alive()
    release.set()
    first.wait()
    assert fake_engine.ConcurrentToneEngine.loaded_in == ["listen-preload"]
    [hint] = first.hints
    assert hint and not cache.page_was_made(*hint)
    first.remember(cache)
    assert cache.page_was_made(*hint)
    assert preload.start([page], site, None, cache).thread is None  # every take made: no load
