"""M4A episodes: AAC audio with chapters that ffprobe (and Apple players) list, and tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CONFIG, SEED, Rendered, ebur128, ffprobe
from mutagen.mp4 import MP4

from listen import mix
from listen.cli import main
from listen.config import load_config

#: AAC is measured after encoding (and encoded again if it misses): seconds an episode.
pytestmark = pytest.mark.slow


def test_m4a_chapters_and_tags(espeak_m4a_episode: Rendered) -> None:
    episode = espeak_m4a_episode
    assert episode.audio.suffix == ".m4a"
    probe = ffprobe(episode.audio, "-show_chapters", "-show_streams", "-show_format")
    titles = [c["tags"]["title"] for c in probe["chapters"]]
    assert titles == [c["title"] for c in episode.manifest["chapters"]]
    assert len(titles) == 3
    starts = [round(float(c["start_time"]) * 1000) for c in probe["chapters"]]
    assert starts == [c["start_ms"] for c in episode.manifest["chapters"]]
    audio = [s for s in probe["streams"] if s["codec_type"] == "audio"]
    assert audio[0]["codec_name"] == "aac" and audio[0]["channels"] == 1
    assert float(probe["format"]["duration"]) * 1000 == pytest.approx(
        episode.manifest["duration_ms"], abs=150
    )
    tags = MP4(episode.audio).tags
    assert tags["©nam"] == [episode.manifest["title"]]
    assert tags["©ART"] == ["Daniel Sharon"]
    assert tags["©alb"] == ["Example News: Audio Edition"]
    assert tags["covr"][0].startswith(b"\x89PNG")
    assert tags["aART"] == ["Example News"]
    assert episode.manifest["mime_type"] == "audio/mp4"  # what browsers' players are given
    feed = (episode.out / "feed.xml").read_bytes()
    assert b'type="audio/x-m4a"' in feed and b'type="audio/mp4"' not in feed


def test_m4a_loudness_meets_the_podcast_target(espeak_m4a_episode: Rendered) -> None:
    integrated, true_peak = ebur128(espeak_m4a_episode.audio)
    assert integrated == pytest.approx(-16, abs=1.0)
    assert true_peak <= -1.0


def test_the_aac_encoder_adds_no_clicks(
    espeak_m4a_episode: Rendered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each render encodes the seed once, uncorrected, under a limiter ceiling where ffmpeg's
    AAC encoder (its default coder, with perceptual noise substitution, encoding the episode
    whole) put a click on a sibilant, 3-6 dB above the ceiling. The encoder may add no more
    than the overshoot the render allows for. (With the fast coder, and in parts, these
    ceilings no longer make PNS click: this bounds the overshoot, it does not catch PNS.)"""
    monkeypatch.setattr(mix, "ENCODE_ATTEMPTS", 1)
    allowed = mix.ENCODER_PEAK_OVERSHOOT_DB["m4a"]
    true_peak_target = load_config(CONFIG).render.true_peak_db
    for ceiling in (-3.0, -3.25):
        monkeypatch.setitem(mix.ENCODER_PEAK_OVERSHOOT_DB, "m4a", true_peak_target - ceiling)
        out = tmp_path / str(ceiling)
        args = ["render", str(SEED), "--out", str(out), "--config", str(CONFIG),
                "--voice", "espeak-en-us", "--format", "m4a", "--quiet"]  # fmt: skip
        assert main(args) == 0
        (audio,) = (out / "episodes").glob("*.m4a")
        _, true_peak = ebur128(audio)
        assert true_peak <= ceiling + allowed, ceiling
