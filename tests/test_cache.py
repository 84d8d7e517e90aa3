"""The take cache and the synthesis batch around it: keys, reuse, corruption, the pool."""

from __future__ import annotations

import os
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import fake_engine
import numpy as np
import pytest

from listen import synthesize
from listen.cache import TakeCache, parse_size, take_key
from listen.config import SiteConfig, VoicePreset, find_preset
from listen.synthesize import synthesize_all, voice_identity


@pytest.fixture
def counting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VoicePreset]:
    """The deterministic tone voice; its calls are logged to a file (across processes too)."""
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(tmp_path / "calls.log"))
    synthesize._local_engine.cache_clear()
    synthesize.voice_identity.cache_clear()
    yield VoicePreset(name="tone", engine="fake_engine:ToneEngine", voice="v1")
    synthesize._local_engine.cache_clear()
    synthesize.voice_identity.cache_clear()


def engine_calls() -> list[str]:
    return fake_engine.calls(Path(os.environ["FAKE_ENGINE_LOG"]))


def reset_calls() -> None:
    Path(os.environ["FAKE_ENGINE_LOG"]).unlink(missing_ok=True)


IDENTITY = {"engine": "piper", "model": "m.onnx", "model_sha256": "ab", "rate": 1.0}


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "pyttsx3"},
        {"model": "other.onnx"},
        {"model_sha256": "cd"},
        {"rate": 1.1},
        {"engine_version": "1.9.0"},
    ],
)
def test_every_voice_ingredient_changes_the_key(change: dict) -> None:
    assert take_key({**IDENTITY, **change}, "Hello.") != take_key(IDENTITY, "Hello.")


def test_text_changes_the_key_and_nothing_else_does() -> None:
    key = take_key(IDENTITY, "Hello.")
    assert take_key(IDENTITY, "Hello!") != key
    assert take_key(dict(reversed(list(IDENTITY.items()))), "Hello.") == key  # order is no part
    assert take_key(dict(IDENTITY), "Hello.") == key  # a fresh process computes the same key


def test_real_voice_identities_differ() -> None:
    config = SiteConfig()
    espeak = find_preset("espeak-en-us", config)
    assert voice_identity(espeak) != voice_identity(replace(espeak, rate=1.2))
    joe = voice_identity(find_preset("joe", config))
    assert joe["model"] == "en_US-joe-medium.onnx" and len(str(joe["model_sha256"])) == 64
    assert joe["engine_version"]


def test_edit_resynthesizes_only_changed_sentences(tmp_path: Path, counting: VoicePreset) -> None:
    cache = TakeCache(tmp_path)
    article = [f"Sentence number {i} of the story." for i in range(10)]
    synthesize_all(article, counting, cache, jobs=1)
    assert len(engine_calls()) == 10
    reset_calls()
    edited = [*article[:4], "Sentence number 4, corrected.", *article[5:]]
    refs = synthesize_all(edited, counting, cache, jobs=1)
    assert engine_calls() == ["Sentence number 4, corrected."]
    assert len(refs) == 10
    reset_calls()
    synthesize_all(edited, counting, cache, jobs=1)
    assert engine_calls() == []


def test_repeated_text_is_synthesized_once(tmp_path: Path, counting: VoicePreset) -> None:
    refs = synthesize_all(["Yes.", "No.", "Yes."], counting, TakeCache(tmp_path), jobs=1)
    assert engine_calls() == ["Yes.", "No."]
    assert refs[0] == refs[2]


def test_truncated_take_is_detected_and_redone(tmp_path: Path, counting: VoicePreset) -> None:
    cache = TakeCache(tmp_path)
    (ref,) = synthesize_all(["A sentence that gets damaged."], counting, cache, jobs=1)
    good = cache.read(ref)
    path = cache.path(ref.key)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert cache.lookup(ref.key) is None
    reset_calls()
    (again,) = synthesize_all(["A sentence that gets damaged."], counting, cache, jobs=1)
    assert engine_calls() == ["A sentence that gets damaged."]
    assert np.array_equal(cache.read(again), good)


def test_a_take_is_found_by_its_header_as_wave_reads_it(tmp_path: Path,
                                                       counting: VoicePreset) -> None:  # fmt: skip
    cache = TakeCache(tmp_path)
    (ref,) = synthesize_all(["A sentence to look up."], counting, cache, jobs=1)
    with wave.open(str(cache.path(ref.key)), "rb") as wav:
        assert (ref.samples, ref.sample_rate) == (wav.getnframes(), wav.getframerate())
    os.utime(cache.path(ref.key), (1_000_000, 1_000_000))
    assert cache.lookup(ref.key) == ref
    assert cache.path(ref.key).stat().st_mtime > 1_000_000  # a lookup marks it as recently used


@pytest.mark.parametrize("channels, width", [(2, 2), (1, 1), (1, 3)])
def test_a_take_of_another_layout_counts_as_missing(tmp_path: Path, counting: VoicePreset,
                                                    channels: int, width: int) -> None:  # fmt: skip
    """A file at a take's place that listen did not write (stereo, 8 or 24 bits) is made
    again, not read as 16-bit mono."""
    cache = TakeCache(tmp_path)
    (ref,) = synthesize_all(["A sentence in another layout."], counting, cache, jobs=1)
    with wave.open(str(cache.path(ref.key)), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(ref.sample_rate)
        wav.writeframes(b"\1" * channels * width * 4000)
    assert cache.lookup(ref.key) is None
    reset_calls()
    (again,) = synthesize_all(["A sentence in another layout."], counting, cache, jobs=1)
    assert engine_calls() == ["A sentence in another layout."]
    assert again == ref and cache.lookup(ref.key) == ref


def test_damaged_loudness_summary_is_rebuilt(tmp_path: Path, counting: VoicePreset) -> None:
    cache = TakeCache(tmp_path)
    (ref,) = synthesize_all(["Summaries can be rebuilt."], counting, cache, jobs=1)
    original = cache.read_summary(ref)
    cache.summary_path(ref.key).write_bytes(b"\x00\x01")
    rebuilt = cache.read_summary(ref)
    assert np.allclose(rebuilt.energy, original.energy, rtol=1e-5)
    assert np.allclose(rebuilt.peak, original.peak, rtol=1e-5)


def test_prune_removes_least_recently_used(tmp_path: Path, counting: VoicePreset) -> None:
    cache = TakeCache(tmp_path)
    refs = synthesize_all([f"Take {i} is here." for i in range(6)], counting, cache, jobs=1)
    for age, ref in enumerate(refs):  # take 0 is the oldest
        stamp = 1_000_000 + age
        os.utime(cache.path(ref.key), (stamp, stamp))
    size = cache.stats().bytes
    removed = cache.prune(max_bytes=size // 2)
    assert removed >= 3
    assert cache.lookup(refs[0].key) is None and cache.lookup(refs[-1].key) is not None
    assert cache.stats().bytes <= size // 2
    assert not list(tmp_path.glob(f"??/{refs[0].key}.*"))


def test_pool_gives_the_same_takes_as_one_process(tmp_path: Path, counting: VoicePreset) -> None:
    texts = [f"This is sentence {i}, spoken by the tone voice." for i in range(12)]
    texts.append(texts[3])
    one = TakeCache(tmp_path / "one")
    pool = TakeCache(tmp_path / "pool")
    single = synthesize_all(texts, counting, one, jobs=1)
    reset_calls()
    pooled = synthesize_all(texts, counting, pool, jobs=2)
    assert sorted(engine_calls()) == sorted(set(texts))  # each distinct text once, in workers
    assert [r.samples for r in single] == [r.samples for r in pooled]
    for a, b in zip(single, pooled, strict=True):
        assert np.array_equal(one.read(a), pool.read(b))


@pytest.mark.parametrize(
    ("text", "size"),
    [("500M", 500 * 1024**2), ("2G", 2 * 1024**3), ("1024", 1024), ("1.5GiB", int(1.5 * 1024**3))],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_cache_command_shows_and_prunes(tmp_path: Path) -> None:
    from helpers import run_listen

    cache = TakeCache(tmp_path)
    espeak = find_preset("espeak-en-us", SiteConfig())
    synthesize_all(["One take.", "Another take."], espeak, cache, jobs=1)
    shown = run_listen("cache", "--dir", tmp_path).stdout
    assert f"{tmp_path}: 2 takes" in shown
    cleared = run_listen("cache", "--dir", tmp_path, "--clear").stdout
    assert "removed 2 takes" in cleared and ": 0 takes" in cleared
    bad = run_listen("cache", "--dir", tmp_path, "--prune", "lots", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")


def test_the_usage_log_counts_what_the_pool_processes_store(
    tmp_path: Path, counting: VoicePreset
) -> None:
    cache = TakeCache(tmp_path)
    synthesize_all(["A first take.", "A second take."], counting, cache, jobs=1)
    assert cache.estimated_bytes() is None  # no full scan yet
    cache.prune()  # a full scan, under the limit: nothing removed, the total recorded
    assert cache.estimated_bytes() == cache.stats().bytes
    synthesize_all([f"Pooled take {i}." for i in range(8)], counting, cache, jobs=2)
    assert cache.stats().takes == 10
    assert cache.estimated_bytes() == cache.stats().bytes


def test_a_render_scans_the_cache_only_when_it_may_be_over_its_limit(
    tmp_path: Path, counting: VoicePreset, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TakeCache(tmp_path)
    synthesize_all([f"Take {i} is here." for i in range(4)], counting, cache, jobs=1)
    cache.prune()
    size = cache.stats().bytes
    scans = []
    full_scan = cache._files
    monkeypatch.setattr(cache, "_files", lambda: scans.append(1) or full_scan())
    assert cache.prune_if_over(max_bytes=2 * size) == 0
    assert scans == []  # the log says it fits: no file is looked at
    synthesize_all([f"Take {i} is here." for i in range(4, 12)], counting, cache, jobs=1)
    assert cache.prune_if_over(max_bytes=2 * size) > 0  # now over: scanned and pruned
    assert scans == [1] and cache.stats().bytes <= 2 * size
    # A day after the last full scan, the next render scans again, whatever the log says.
    (tmp_path / "usage.log").write_text(f"scan {time.time() - 25 * 3600:.0f} 0\n")
    cache.prune_if_over(max_bytes=2 * size)
    assert len(scans) == 3  # (stats above is the second)


def test_a_render_keeps_the_cache_within_its_configured_size(tmp_path: Path) -> None:
    from helpers import SEED, config_with, run_listen

    config = config_with(tmp_path, "cache", 'max_size = "2M"')
    env = {"LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    run_listen("render", SEED, "--out", tmp_path / "public", "--config", config,
               "--voice", "espeak-en-us", env=env)  # fmt: skip
    cache = TakeCache(tmp_path / "cache")
    assert 0 < cache.stats().bytes <= 2 * 1024**2  # of about 12 MiB the render made
    assert cache.estimated_bytes() == cache.stats().bytes
