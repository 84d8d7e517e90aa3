"""Session fixtures: real renders of the sample pages, each made once per test run; and
`engines`, this process's engine cache, empty for a test.

Every test session gets its own empty chunk cache, so the first render of a page is cold.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import browser, open_page  # noqa: F401 (the browser tests' fixtures)
from helpers import ARTIFACTS, Rendered, render_page

from listen.config import VoicePreset
from listen.engines import Engine

#: Tests of a neural voice are slow by nature: `-m 'not slow'` leaves them out too.
NEURAL_VOICES = ("piper", "hibari")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in NEURAL_VOICES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("chunk-cache")
    os.environ["LISTEN_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def espeak_episode(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_page(tmp_path_factory.mktemp("espeak"), "--voice", "espeak-en-us")


@pytest.fixture(scope="session")
def espeak_m4a_episode(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_page(
        tmp_path_factory.mktemp("espeak-m4a"), "--voice", "espeak-en-us", "--format", "m4a"
    )


@pytest.fixture(scope="session")
def joe_episode(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_page(tmp_path_factory.mktemp("joe"), "--voice", "joe")


@pytest.fixture(scope="session")
def heart_episode(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_page(tmp_path_factory.mktemp("heart"), "--voice", "heart")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def engines() -> Iterator[Callable[[VoicePreset, int], Engine]]:
    """This process's engines (`listen.synthesize._local_engine`), none loaded before the test
    and none kept after it."""
    from listen import synthesize

    synthesize._local_engine.cache_clear()
    yield synthesize._local_engine
    synthesize._local_engine.cache_clear()
