"""Everything under --out is public (a web server serves it as is, CDNs sync it): no local
path is published in any file, and no lock or state sits there. Those live in a state folder
outside it: beside it by default, wherever `[state] dir` says otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import (
    CONFIG,
    SAMPLES,
    SEED,
    Rendered,
    assert_nothing_private,
    run_listen,
    write_articles,
)

SEED_URL = (
    "https://www.example-news.org/idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate/"
)


@pytest.fixture(params=["espeak_episode",
                        pytest.param("espeak_m4a_episode", marks=pytest.mark.slow),
                        pytest.param("joe_episode", marks=pytest.mark.piper)])  # fmt: skip
def episode(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(request.param)


def test_a_render_publishes_no_local_path_and_no_dot_file(episode: Rendered) -> None:
    assert_nothing_private(episode.out, SAMPLES, SEED, CONFIG)
    # The manifest's "source" is the article's public URL, not the file it was read from.
    assert episode.manifest["source"] == episode.manifest["url"] == SEED_URL


def test_locks_and_the_private_record_live_beside_the_output_folder(
    espeak_episode: Rendered,
) -> None:
    out = espeak_episode.out
    state = out.parent / ".public.listen-state"
    slug = espeak_episode.manifest["slug"]
    assert {p.relative_to(state).as_posix() for p in state.rglob("*") if p.is_file()} == {
        "feed.lock", "assets.lock", f"episodes/{slug}.lock", f"episodes/{slug}.json",
    }  # fmt: skip
    record = json.loads((state / "episodes" / f"{slug}.json").read_text(encoding="utf-8"))
    assert record == {"slug": slug, "source": str(SEED), "config": str(CONFIG),
                      "voice": "espeak-en-us", "format": "mp3"}  # fmt: skip


def site(folder: Path, state: str) -> Path:
    """The samples' show settings with `[state] dir = state` (relative to the config)."""
    folder.mkdir(parents=True)
    shutil.copy(SAMPLES / "artwork.png", folder / "artwork.png")
    config = folder / "listen.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8") + f'\n[state]\ndir = "{state}"\n',
                      encoding="utf-8")  # fmt: skip
    return config


def test_a_configured_state_folder_and_a_feed_rebuild(tmp_path: Path) -> None:
    [page] = write_articles(tmp_path / "pages", 1, sentences_per_section=2)
    config = site(tmp_path / "site", "../shared/state")
    out = tmp_path / "public"
    # Lock files an earlier version left in the output folder are cleared on the next render.
    (out / "episodes").mkdir(parents=True)
    for stale in (".feed.lock", ".assets.lock", "episodes/.story-000.lock"):
        (out / stale).touch()
    run_listen("render", page, "--out", out, "--config", config, "--voice", "espeak-en-us")
    run_listen("feed", "--out", out, "--config", config)
    assert_nothing_private(out, page, config)
    state = tmp_path / "shared" / "state"
    record = json.loads((state / "episodes" / "story-001.json").read_text(encoding="utf-8"))
    assert record["source"] == str(page) and record["config"] == str(config)
    assert (state / "feed.lock").is_file() and (state / "episodes" / "story-001.lock").is_file()
    assert not (tmp_path / ".public.listen-state").exists()


def test_a_state_folder_inside_the_output_folder_is_refused(tmp_path: Path) -> None:
    config = site(tmp_path / "site", "../public/state")
    out = tmp_path / "public"
    done = run_listen("render", SEED, "--out", out, "--config", config, "--voice",
                      "espeak-en-us", check=False)  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the state folder") and "inside the output folder" in line
    assert not out.exists()
