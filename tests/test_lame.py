"""MP3 encoded in the render's own process with libmp3lame (`listen.lame`): the frames ffmpeg's
libmp3lame encoder writes, bit for bit, with LAME's own Info frame, and no ffmpeg started for
an MP3 episode (real espeak-ng speech, real ffmpeg to compare with and to decode)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIG, SEED, decode_pcm, id3_size

from listen import lame
from listen.cache import TakeCache
from listen.config import RenderConfig, find_preset, load_config
from listen.engines import load_engine
from listen.errors import ListenError
from listen.mix import MP3_ALGORITHM_QUALITY, encoder_args, pipe_to_ffmpeg
from listen.mp3 import ENCODER_DELAY, parse_frames
from listen.pipeline import render

RATE = 22050


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """A few sentences of real speech, as float samples in [-1, 1], with a quiet hiss under
    them so that every frame has something to encode."""
    engine = load_engine(find_preset("espeak-en-us", load_config(CONFIG)), threads=1)
    said = [engine.synthesize(text) for text in (
        "The ceasefire talks resumed on Tuesday, after a week of silence.",
        "Both sides said that the other had moved; neither said how far.",
    )]  # fmt: skip
    samples = np.concatenate([said[0], np.zeros(RATE // 3, np.int16), said[1]]) / 32768.0
    hiss = np.random.default_rng(7).normal(0, 0.002, len(samples))
    return (samples + hiss).astype(np.float32)


def chunks(samples: np.ndarray, size: int = 40_000) -> list[bytes]:
    return [samples[i : i + size].astype("<f4").tobytes() for i in range(0, len(samples), size)]


def test_the_frames_are_ffmpegs_bit_for_bit(speech: np.ndarray, tmp_path: Path) -> None:
    render_settings = RenderConfig()
    ours, theirs = tmp_path / "lame.mp3", tmp_path / "ffmpeg.mp3"
    lame.encode_file(chunks(speech), RATE, ours, lame.parse_kbps(render_settings.mp3_bitrate),
                     MP3_ALGORITHM_QUALITY)  # fmt: skip
    pipe_to_ffmpeg(iter(chunks(speech)), RATE, theirs,
                   encoder_args("mp3", render_settings))  # fmt: skip
    our_frames, their_frames = parse_frames(ours.read_bytes()), parse_frames(theirs.read_bytes())
    assert our_frames.info is not None and their_frames.info is not None
    assert len(our_frames.audio) == len(their_frames.audio) > 100
    assert our_frames.audio_bytes() == their_frames.audio_bytes()


def test_lames_info_frame_makes_the_file_decode_to_its_exact_samples(
    speech: np.ndarray, tmp_path: Path
) -> None:
    out = tmp_path / "speech.mp3"
    lame.encode_file(chunks(speech, 1000), RATE, out, 64, MP3_ALGORITHM_QUALITY)
    data = out.read_bytes()
    frames = parse_frames(data)
    assert frames.info is not None and frames.info[0] == 0
    start, length = frames.info
    tag = data[start : start + length]
    assert tag.find(b"Info") > 0 and tag.find(b"LAME") > 0
    # The LAME tag's delay and padding: a gapless decoder trims them and keeps the samples.
    delays = int.from_bytes(tag[tag.find(b"LAME") + 21 : tag.find(b"LAME") + 24], "big")
    assert delays >> 12 == ENCODER_DELAY
    decoded = decode_pcm(out)
    assert len(decoded) == len(speech)
    # What is decoded is the speech, in place (lossy: compared by correlation).
    original = speech.astype(np.float64)
    assert np.corrcoef(original, decoded.astype(np.float64))[0, 1] > 0.95


def test_chunking_does_not_change_the_encoding(speech: np.ndarray, tmp_path: Path) -> None:
    whole, pieces = tmp_path / "whole.mp3", tmp_path / "pieces.mp3"
    lame.encode_file([speech.astype("<f4").tobytes()], RATE, whole, 64, MP3_ALGORITHM_QUALITY)
    lame.encode_file(chunks(speech, 777), RATE, pieces, 64, MP3_ALGORITHM_QUALITY)
    assert whole.read_bytes() == pieces.read_bytes()


def test_encoders_in_threads_at_once_write_what_one_alone_writes(
    speech: np.ndarray, tmp_path: Path
) -> None:
    alone = tmp_path / "alone.mp3"
    lame.encode_file(chunks(speech), RATE, alone, 64, MP3_ALGORITHM_QUALITY)
    outs = [tmp_path / f"thread-{n}.mp3" for n in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda out: lame.encode_file(chunks(speech, 5000), RATE, out, 64,
                                                   MP3_ALGORITHM_QUALITY), outs))  # fmt: skip
    assert all(out.read_bytes() == alone.read_bytes() for out in outs)


@pytest.mark.parametrize(("spelled", "kbps"), [
    ("64k", 64), ("96K", 96), ("128000", 128), (" 48k ", 48), ("64.5k", 64),
    ("1M", None), ("fast", None), ("500", None), ("", None),
])  # fmt: skip
def test_bit_rates_are_read_as_ffmpeg_reads_them(spelled: str, kbps: int | None) -> None:
    assert lame.parse_kbps(spelled) == kbps


def test_what_lame_cannot_encode_is_a_clear_error() -> None:
    with pytest.raises(ListenError, match="MP3 has no 7000 Hz"):
        lame.Mp3Encoder(7000, 64, MP3_ALGORITHM_QUALITY)


def test_an_mp3_episode_starts_no_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording(args, *rest, **keywords):  # type: ignore[no-untyped-def]
        started.append([str(arg) for arg in args])
        return real_popen(args, *rest, **keywords)

    monkeypatch.setattr(subprocess, "Popen", recording)
    [result] = render([SEED], tmp_path / "out", load_config(CONFIG), voice="espeak-en-us",
                      cache=TakeCache(tmp_path / "cache"), feed=False, jobs=1)  # fmt: skip
    assert result.audio_path.stat().st_size > 100_000
    assert not [command for command in started if any("ffmpeg" in part for part in command)]


def test_without_libmp3lame_ffmpeg_encodes_the_same_audio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(CONFIG)
    # One take cache: the same takes, encoded by each encoder (a part's key names its encoder).
    cache = TakeCache(tmp_path / "cache")

    def rendered(name: str) -> bytes:
        [result] = render([SEED], tmp_path / name, config, voice="espeak-en-us", cache=cache,
                          feed=False, jobs=1)  # fmt: skip
        data = result.audio_path.read_bytes()
        return data[id3_size(data) :]

    ours = rendered("lame")
    monkeypatch.setattr(lame, "available", lambda: False)
    theirs = rendered("ffmpeg")
    # The same frames but for the Info frame each encoder writes (its encoder string, a flag).
    info = parse_frames(ours).info
    assert info is not None and info == parse_frames(theirs).info and len(ours) == len(theirs)
    differing = np.flatnonzero(np.frombuffer(ours, np.uint8) != np.frombuffer(theirs, np.uint8))
    assert len(differing) and differing[-1] < info[1]
    assert ours[info[1] :] == theirs[info[1] :]
