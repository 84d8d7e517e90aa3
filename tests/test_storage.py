"""Publishing goes through one seam, `listen.storage.Destination`: a render publishes only
through the destination it is given, so an object store can be added as another one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import CONFIG, write_articles

from listen.config import load_config
from listen.errors import ListenError
from listen.pipeline import rebuild_feed, render
from listen.storage import Destination, FolderDestination, open_destination


class RecordingDestination:
    """A destination of its own (here a folder underneath), recording what it is asked."""

    def __init__(self, root: Path) -> None:
        self.folder = FolderDestination(root)
        self.calls: list[str] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        method = getattr(self.folder, name)

        def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(name)
            return method(*args, **kwargs)

        return recorded


def test_a_render_publishes_only_through_its_destination(tmp_path: Path) -> None:
    [page] = write_articles(tmp_path / "pages", 1, sentences_per_section=2)
    config = load_config(CONFIG)
    destination = RecordingDestination(tmp_path / "store")
    [result] = render([page], destination, config, voice="espeak-en-us", jobs=1)  # type: ignore[arg-type]

    assert destination.calls == [
        "check", "published", "sweep", "previous", "publish_episode", "remember",
        "publish_shared", "rebuild_feed",
    ]  # fmt: skip
    assert result.audio_path == tmp_path / "store" / "episodes" / "story-001.mp3"
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["audio"] == "story-001.mp3" and manifest["audio_bytes"] > 0
    assert (tmp_path / "store" / "feed.xml").is_file()

    # Unchanged: the destination's published episode is reused, and only its page refreshed.
    destination.calls.clear()
    [again] = render([page], destination, config, voice="espeak-en-us", jobs=1)  # type: ignore[arg-type]
    assert "publish_episode" not in destination.calls and "publish_page" in destination.calls
    assert again.manifest == result.manifest
    destination.calls.clear()
    rebuild_feed(destination, config)  # type: ignore[arg-type]
    assert destination.calls == ["rebuild_feed"]


def test_the_folder_destination_is_a_destination(tmp_path: Path) -> None:
    assert isinstance(open_destination(tmp_path), Destination)
    assert open_destination(str(tmp_path)).root == tmp_path


@pytest.mark.parametrize("where", ["s3://bucket/listen", "gs://bucket/public"])
def test_object_stores_are_refused_clearly_for_now(where: str) -> None:
    with pytest.raises(ListenError, match=r"publishing to \w+:// is not supported yet"):
        open_destination(where)
