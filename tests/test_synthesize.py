"""Synthesis: the real engines produce audio; the logic around them is checked with a fake."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIG, SAMPLES, SEED, run_listen

from listen.cache import TakeCache
from listen.config import SiteConfig, VoicePreset, find_preset, load_config
from listen.engines import load_engine
from listen.engines.piper import PiperEngine
from listen.engines.pyttsx3 import Pyttsx3Engine
from listen.errors import ListenError
from listen.synthesize import TAIL_TAKES_PER_WORKER, make_take, synthesize_all, voice_identity


def espeak_preset() -> VoicePreset:
    return find_preset("espeak-en-us", SiteConfig())


def test_pyttsx3_engine_speaks_every_chunk() -> None:
    engine = Pyttsx3Engine(espeak_preset())
    for text in ("Dr. Smith met the envoy on Jan. 5.", "Hello.", "Seventeen point six billion."):
        take = make_take(engine, text)
        assert take.sample_rate == 22050
        assert take.duration_ms > 300
        assert np.abs(take.samples.astype(np.int32)).max() > 3000


def test_faster_rate_gives_shorter_audio() -> None:
    text = "The quick brown fox jumps over the lazy dog, again and again."
    normal = make_take(Pyttsx3Engine(espeak_preset()), text)
    fast_preset = VoicePreset(name="fast", engine="pyttsx3", voice="en-us", rate=1.5)
    fast = make_take(Pyttsx3Engine(fast_preset), text)
    assert fast.duration_ms < 0.8 * normal.duration_ms


@pytest.mark.piper
def test_piper_reads_one_unit_without_splitting_it() -> None:
    engine = PiperEngine(find_preset("joe", SiteConfig()))
    take = make_take(engine, "Dr. Smith arrived on Jan. 5 at the U.S. embassy.")
    assert take.sample_rate == 22050
    assert 1500 < take.duration_ms < 8000
    assert np.abs(take.samples.astype(np.int32)).max() > 3000
    assert engine.identity()["model"] == "en_US-joe-medium.onnx"


@pytest.mark.hibari
def test_heart_reads_one_unit_the_same_every_time() -> None:
    engine = load_engine(find_preset("heart", SiteConfig()))
    text = "Dr. Smith arrived on Jan. 5 at the U.S. embassy."
    take = make_take(engine, text)
    assert take.sample_rate == 24000
    assert 1500 < take.duration_ms < 8000
    assert np.abs(take.samples.astype(np.int32)).max() > 3000
    # One phoneme string: hibari's own splitter would break it at "Jan." and at "U.S.".
    assert "." not in engine.phonemize(text)[:-1]
    assert np.array_equal(engine.synthesize(text), engine.synthesize(text))  # seeded noise
    identity = engine.identity()
    assert identity["model"] == "hibari.onnx" and len(str(identity["model_sha256"])) == 64
    assert voice_identity(find_preset("heart", SiteConfig())) == identity  # without loading


def test_hibari_never_downloads_a_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hibari fetches its other voices on first use; listen asks for them with
    download_missing=False, so a voice not on disk is a clear error and no connection."""
    import urllib.request

    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "empty"))

    def no_network(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("hibari tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    emma = VoicePreset(name="emma", engine="hibari", voice="emma", language="en-GB")
    with pytest.raises(ListenError, match=r"'emma' is not on this machine.*never downloads"):
        load_engine(emma)
    with pytest.raises(ListenError, match="has no voice 'nobody'"):
        load_engine(VoicePreset(name="x", engine="hibari", voice="nobody"))


def test_hibari_missing_is_an_error_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "hibari", None)  # as if hibari-tts were not installed
    with pytest.raises(ListenError, match="needs the Python package 'hibari-tts'"):
        load_engine(VoicePreset(name="heart", engine="hibari", voice="heart"))


class FakeEngine:
    """Returns preset audio per text, counting calls: for the logic around engines."""

    sample_rate = 8000

    def __init__(self, audio: dict[str, np.ndarray]) -> None:
        self.preset = VoicePreset(name="fake", engine="pyttsx3")
        self.audio = audio
        self.calls: list[str] = []

    def identity(self) -> dict[str, str | float]:
        return {"engine": "fake"}

    def synthesize(self, text: str) -> np.ndarray:
        self.calls.append(text)
        return self.audio[text]


def tone(ms: int, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(8 * ms) / 8000
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def test_silent_or_empty_chunk_is_an_error_not_a_gap() -> None:
    engine = FakeEngine({"silent": np.zeros(8000, np.int16), "empty": np.zeros(0, np.int16)})
    for text in ("silent", "empty"):
        with pytest.raises(ListenError, match="no audible audio"):
            make_take(engine, text)


def test_takes_are_trimmed_to_the_speech_and_faded() -> None:
    padded = np.concatenate([np.zeros(4000, np.int16), tone(500), np.zeros(4000, np.int16)])
    take = make_take(FakeEngine({"x": padded}), "x")
    assert 500 <= take.duration_ms <= 500 + 2 * 30 + 1
    # Faded ends: the first and last samples are near silence, so joins cannot click.
    assert abs(int(take.samples[0])) < 200 and abs(int(take.samples[-1])) < 200


@pytest.mark.slow  # a cold render
def test_rerender_after_no_change_synthesizes_nothing(tmp_path: Path) -> None:
    env = {"LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "public"
    cold = run_listen(
        "render", SEED, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us", env=env
    )
    assert "0 from cache" in cold.stdout
    mp3 = next((out / "episodes").glob("*.mp3"))
    audio, stamp = mp3.read_bytes(), mp3.stat().st_mtime_ns
    warm = run_listen(
        "render", SEED, "--out", out, "--config", CONFIG, "--voice", "espeak-en-us", env=env
    )
    assert "(unchanged)" in warm.stdout
    assert mp3.read_bytes() == audio
    assert mp3.stat().st_mtime_ns == stamp  # nothing changed: the episode is not even rewritten


@pytest.mark.slow  # a cold render
def test_edited_paragraph_resynthesizes_only_its_sentences(tmp_path: Path) -> None:
    env = {"LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    edited = tmp_path / "seed-article.html"
    html = SEED.read_text(encoding="utf-8")
    edited.write_text(html, encoding="utf-8")
    run_listen("render", edited, "--out", tmp_path / "a", "--voice", "espeak-en-us", env=env)
    edited.write_text(
        html.replace("in 17 distinct military missions.", "in 18 distinct military missions."),
        encoding="utf-8",
    )
    again = run_listen(
        "render", edited, "--out", tmp_path / "a", "--voice", "espeak-en-us", env=env
    )
    assert "(1 take synthesized" in again.stdout


def test_the_last_takes_are_made_longest_first(tmp_path: Path) -> None:
    """The tail of the work is dealt longest first, so that it ends on short takes (no worker
    waits long for the last one); every take still comes back in the texts' order."""
    preset = find_preset("espeak-en-us", load_config(CONFIG))
    texts = [f"Sentence {n} of the page." + " And so it goes on." * (n % 4) for n in range(14)]
    delivered: list[str] = []
    refs = synthesize_all(texts, preset, TakeCache(tmp_path / "cache"), jobs=2,
                          on_take=lambda key, from_cache: delivered.append(key))  # fmt: skip
    assert len(refs) == len(texts) and sorted(delivered) == sorted(ref.key for ref in refs)
    by_key = {ref.key: text for ref, text in zip(refs, texts, strict=True)}
    tail = TAIL_TAKES_PER_WORKER * 2
    assert [by_key[key] for key in delivered[:-tail]] == texts[:-tail]
    lengths = [len(by_key[key]) for key in delivered[-tail:]]
    assert lengths == sorted(lengths, reverse=True) and lengths != [len(t) for t in texts[-tail:]]
    # Each take is its own text's, however they were dealt: a longer text, a longer take.
    for short, long in itertools.combinations(range(len(texts)), 2):
        if len(texts[long]) > len(texts[short]) + 10:
            assert refs[long].samples > refs[short].samples


def test_an_unchanged_episode_is_not_spoken_again_into_an_empty_cache(tmp_path: Path) -> None:
    """The output folder already holds the episode exactly as this render would make it: a
    cleared cache (or a new machine syncing the published folder) costs no synthesis."""
    out = tmp_path / "public"
    command = ("render", SEED, SAMPLES / "blog-post.html", "--out", out, "--config", CONFIG,
               "--voice", "espeak-en-us")  # fmt: skip
    run_listen(*command, env={"LISTEN_CACHE_DIR": str(tmp_path / "first")})
    mp3s = {path: path.stat().st_mtime_ns for path in (out / "episodes").glob("*.mp3")}
    edited = tmp_path / "blog-post.html"
    edited.write_text((SAMPLES / "blog-post.html").read_text(encoding="utf-8")
                      .replace("<p>", "<p>Edited. ", 1), encoding="utf-8")  # fmt: skip
    empty = tmp_path / "second"
    again = run_listen(*command, env={"LISTEN_CACHE_DIR": str(empty)})
    assert again.stdout.count("(unchanged)") == 2
    assert {path: path.stat().st_mtime_ns for path in mp3s} == mp3s
    assert not list(empty.rglob("*.wav"))
    # In a batch with an edited page, only the edited page is spoken.
    both = run_listen("render", SEED, edited, "--out", out, "--config", CONFIG,
                      "--voice", "espeak-en-us", env={"LISTEN_CACHE_DIR": str(empty)})  # fmt: skip
    lines = [line for line in both.stdout.splitlines() if "sentences (" in line]
    assert len(lines) == 2 and lines[0].endswith("(unchanged)")
    assert re.search(r"\(\d+ takes synthesized, 0 from cache\)$", lines[1])
    assert not re.search(r"\(0 takes", lines[1])
