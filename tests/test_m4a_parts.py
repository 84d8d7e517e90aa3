"""M4A episodes mixed in parts, as MP3's are: an edit encodes only what it changed, and the
AAC parts join gaplessly, at exact chapter times, with no sound at the joins (real espeak-ng,
real ffmpeg, decoded as a player decodes them)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIG, ebur128, ffprobe
from test_parts import (
    assert_chapters_where_planned,
    assert_edit_left_the_other_chapters_alone,
    cold_edit_again,
    onset_ms,
    rendered_episode,
)

from listen.adts import FRAME, parse_adts
from listen.cache import TakeCache
from listen.config import load_config
from listen.errors import ListenError
from listen.mp3 import frames_from_index
from listen.pipeline import RenderResult, render

pytestmark = pytest.mark.slow
RATE = 22050  # espeak-ng's


def render_m4a(page: Path, out: Path, cache: TakeCache) -> RenderResult:
    [result] = render([page], out, load_config(CONFIG), voice="espeak-en-us", fmt="m4a",
                      cache=cache, feed=False, jobs=2)  # fmt: skip
    return result


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The seed as M4A, cold, then after a one-word edit, then again elsewhere."""
    return cold_edit_again(tmp_path_factory.mktemp("m4a-parts"), render_m4a)


def test_an_m4a_edit_encodes_only_the_part_it_changed(renders: dict) -> None:
    cold, edit, again = renders["cold"], renders["edit"], renders["again"]
    assert cold.parts >= 3 and cold.encoded_parts == cold.parts
    assert edit.synthesized == 1
    assert edit.parts == cold.parts and edit.encoded_parts == 1
    assert again.encoded_parts == 0
    assert again.audio_path.read_bytes() == edit.audio_path.read_bytes()
    assert len(list(renders["cache"].directory.glob("??/*.aac"))) == cold.parts + 1


@pytest.mark.parametrize("which", ["cold", "edit"])
def test_joined_aac_parts_are_gapless_with_exact_chapters(renders: dict, which: str) -> None:
    manifest, audio, decoded = rendered_episode(renders, which)
    # The first part's priming is skipped (the MP4's edit list), no later part adds any: the
    # decoded episode is the sum of its parts, within the last frame's padding.
    planned = manifest.duration_ms * RATE / 1000
    assert planned - 1 <= len(decoded) <= planned + FRAME
    streams = ffprobe(audio, "-show_streams")["streams"]
    (sound,) = [stream for stream in streams if stream["codec_type"] == "audio"]
    assert sound["codec_name"] == "aac" and float(sound["start_time"]) == 0
    assert_chapters_where_planned(audio, decoded, manifest)
    # Every pause is silent, the joins' among them (the frames before a join and after it
    # came from two encodes: a mismatch would sound there), up to the last 50 ms, where the
    # next sentence's first frame spreads its coding noise, and every sentence starts on time.
    for before, sentence in itertools.pairwise(manifest.sentences):
        if sentence.start_ms - before.end_ms < 150:
            continue
        start = round(sentence.start_ms * RATE / 1000)
        pause = decoded[round((before.end_ms + 20) * RATE / 1000) : start - round(0.05 * RATE)]
        assert int(np.abs(pause.astype(np.int32)).max()) < 300, sentence.text
        assert abs(onset_ms(decoded, sentence.start_ms - 10) - sentence.start_ms) <= 50
    integrated, true_peak = ebur128(audio)
    render_config = load_config(CONFIG).render
    assert abs(integrated - render_config.loudness_lufs) <= 0.5
    assert true_peak <= render_config.true_peak_db


def test_aac_parts_before_and_after_the_edit_are_the_same_audio(renders: dict) -> None:
    # (Counted back from the end, the last part's padding included: it is the same part.)
    assert_edit_left_the_other_chapters_alone(renders, FRAME)


def test_cached_aac_parts_have_frame_indexes_and_damaged_ones_are_encoded_again(
    renders: dict,
) -> None:
    cache: TakeCache = renders["cache"]
    parts = sorted(cache.directory.glob("??/*.aac"))
    for part in parts:
        data = part.read_bytes()
        frames = parse_adts(data)
        assert frames_from_index(data, part.with_suffix(".frames").read_bytes()) == frames
        assert all(length > 7 for _, length in frames.audio)
    for damaged in parts:
        damaged.write_bytes(damaged.read_bytes()[:-50])
    repaired = render_m4a(renders["page"], renders["folder"] / "repaired", cache)
    assert repaired.encoded_parts == repaired.parts
    assert repaired.audio_path.read_bytes() == renders["edit"].audio_path.read_bytes()


def test_adts_streams_that_are_not_whole_are_refused() -> None:
    header = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC])  # one 16-byte frame
    frame = header + bytes(9)
    assert parse_adts(frame * 3).audio == ((0, 16), (16, 16), (32, 16))
    for damaged in (b"", frame[:-1], frame + b"\xff", b"ID3" + frame, frame * 2 + bytes(16)):
        with pytest.raises(ListenError):
            parse_adts(damaged)
