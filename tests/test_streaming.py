"""Synthesis that keeps every core busy: a concurrent engine shared by a thread per core (one
model in memory), and episodes mixed part by part while their later takes are still being
made (real espeak-ng and heart, real ffmpeg)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import fake_engine
import numpy as np
import pytest
from helpers import CONFIG, SEED

from listen import synthesize
from listen.cache import TakeCache
from listen.config import SiteConfig, VoicePreset, find_preset, load_config
from listen.errors import ListenError
from listen.mix import mix, part_ranges
from listen.mp3 import frame_samples
from listen.pipeline import script_page
from listen.synthesize import TakeStream, start_synthesis, synthesize_all, unit_key, voice_rate

SHARED = VoicePreset(name="shared-tone", engine="fake_engine:SharedToneEngine", voice="v1")


@pytest.fixture
def shared() -> VoicePreset:
    fake_engine.SharedToneEngine.reset()
    synthesize._local_engine.cache_clear()
    yield SHARED
    synthesize._local_engine.cache_clear()


def test_a_concurrent_engine_is_loaded_once_and_shared_by_a_thread_per_core(
    tmp_path: Path, shared: VoicePreset
) -> None:
    texts = [f"Sentence {n} of the shared voice." for n in range(8)]
    children = []

    def look(key: str, from_cache: bool) -> None:  # (a pool's workers would be listed here)
        children.append(multiprocessing.active_children())

    refs = synthesize_all(texts, shared, TakeCache(tmp_path / "two"), jobs=2, on_take=look)
    engine = fake_engine.SharedToneEngine
    assert engine.made == 1 and engine.most_active == 2 and len(engine.threads) == 2
    assert not any(children)  # no worker process: the engine lives in this one
    engine.reset()
    single = synthesize_all(texts, shared, TakeCache(tmp_path / "one"), jobs=1)
    assert engine.most_active == 1
    assert [r.samples for r in refs] == [r.samples for r in single]


def test_a_failing_take_fails_the_stream_with_its_error(tmp_path: Path) -> None:
    silent = VoicePreset(name="silent", engine="fake_engine:SilentEngine", voice="v1")
    # (The longer first: the last takes are dealt longest first.)
    units = [(silent, 16000, "Spoken at some length."), (silent, 16000, "silence here")]
    stream = start_synthesis(units, TakeCache(tmp_path), jobs=2)
    try:
        assert stream[0].samples > 0
        with pytest.raises(Exception, match="no audible audio"):
            stream[1]
    finally:
        stream.close()


@pytest.mark.hibari
def test_heart_in_two_threads_gives_the_takes_of_one(tmp_path: Path) -> None:
    heart = find_preset("heart", SiteConfig())
    texts = ["The first sentence is short.", "A second one, with a clause, runs a little longer.",
             "Dr. Smith arrived on Jan. 5.", "Numbers like forty-three are read out."]  # fmt: skip
    one, two = TakeCache(tmp_path / "one"), TakeCache(tmp_path / "two")
    single = synthesize_all(texts, heart, one, jobs=1)
    threaded = synthesize_all(texts, heart, two, jobs=2)
    for a, b in zip(single, threaded, strict=True):
        assert np.array_equal(one.read(a), two.read(b))


def test_a_part_is_encoded_while_later_takes_are_still_missing(tmp_path: Path) -> None:
    """mix takes its takes from a stream: the first part is encoded (and cached) before the
    stream has the rest, and the episode is the same file a mix of ready takes gives."""
    config = load_config(CONFIG)
    espeak = find_preset("espeak-en-us", config)
    script = script_page(SEED, config, "espeak-en-us")
    rate = voice_rate(espeak)
    units = [(espeak, rate, unit) for _, unit in script.voiced_units]
    cache = TakeCache(tmp_path / "cache")
    refs = synthesize_all([unit for *_, unit in units], espeak, cache, jobs=1)
    ranges = part_ranges(script, config.render.pauses, rate, frame_samples(rate))
    assert len(ranges) >= 3
    whole = mix(script, refs, cache, config.render, "mp3", _folder(tmp_path / "whole"), jobs=1)
    parts_made = {p.name for p in cache.directory.rglob("*.mp3")}
    for part in cache.directory.rglob("*.mp3"):
        part.unlink()

    stream = TakeStream([unit_key(unit) for unit in units])
    first_end = ranges[0][1]
    for ref in refs[:first_end]:
        stream.put(ref)
    mixed: dict = {}
    takes = stream.view(0, len(stream))
    streamed = _folder(tmp_path / "streamed")
    mixing = threading.Thread(target=lambda: mixed.update(
        audio=mix(script, takes, cache, config.render, "mp3", streamed, jobs=1)))  # fmt: skip
    mixing.start()
    deadline = time.monotonic() + 120  # only a hang fails this: no time is asserted
    while not list(cache.directory.rglob("*.mp3")):
        assert time.monotonic() < deadline and mixing.is_alive()
        time.sleep(0.02)
    assert mixing.is_alive()  # waiting for the takes it does not have yet
    assert len(list(cache.directory.rglob("*.mp3"))) == 1
    for ref in refs[first_end:]:
        stream.put(ref)
    stream.finish()
    mixing.join(120)
    audio = mixed["audio"]
    assert audio.path.read_bytes() == whole.path.read_bytes()
    assert audio.timeline == whole.timeline
    assert {p.name for p in cache.directory.rglob("*.mp3")} == parts_made


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_an_assistant_makes_takes_from_the_end_until_it_meets_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`assist` (what an idle queue worker runs for a long page) makes takes from the last
    towards the first and stops at one already made; the render, making them from the first,
    takes the assistant's from the cache instead of speaking them again."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(log))
    synthesize._local_engine.cache_clear()
    tone = VoicePreset(name="tone", engine="fake_engine:ToneEngine", voice="v1")
    texts = [f"Sentence number {n}." for n in range(8)]
    cache = TakeCache(tmp_path / "cache")
    synthesize_all(texts[:3], tone, cache, jobs=1)  # the render has made the first three
    log.unlink()
    made = synthesize.assist([(tone, 16000, text) for text in texts], cache)
    assert made == 5 and fake_engine.calls(log) == texts[:2:-1]

    # Helped while it speaks: the render's first take brings the assistant's in.
    helped = VoicePreset(name="tone", engine="fake_engine:HelpedEngine", voice="v1")
    texts = ["first", *(f"Another sentence, number {n}." for n in range(6))]
    (tmp_path / "helped.txt").write_text("\n".join(texts[4:]), encoding="utf-8")
    monkeypatch.setenv("HELPED_CACHE", str(tmp_path / "helped"))
    monkeypatch.setenv("HELPED_TEXTS", str(tmp_path / "helped.txt"))
    log.unlink()
    refs = synthesize_all(texts, helped, TakeCache(tmp_path / "helped"), jobs=1)
    assert fake_engine.calls(log) == [*texts[:3:-1], "first", *texts[1:4]]  # none twice
    alone = synthesize_all(texts, tone, TakeCache(tmp_path / "alone"), jobs=1)
    assert [r.samples for r in refs] == [r.samples for r in alone]
    synthesize._local_engine.cache_clear()


def test_a_closed_stream_waits_until_its_synthesis_has_ended() -> None:
    """`close` returns once the synthesis thread has noticed the stop and ended (it may have
    been inside a model's native code, under which the process must not exit)."""
    stream = TakeStream(["a", "b"])
    ended: list[bool] = []

    def synthesis() -> None:
        stream.stopped.wait()
        time.sleep(0.3)  # the take being spoken when the stop came
        ended.append(True)
        stream.finish(ListenError("the synthesis was stopped"))

    worker = threading.Thread(target=synthesis)
    worker.start()
    stream.close()
    assert ended == [True]
    worker.join()
