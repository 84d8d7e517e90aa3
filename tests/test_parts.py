"""MP3 episodes mixed in parts: an edit encodes only what it changed, and the joins are
gapless (real espeak-ng, real ffmpeg, decoded as a player decodes them)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import CONFIG, SEED, decode_pcm, ebur128, ffprobe, id3_size

import listen.mix
from listen.cache import TakeCache
from listen.config import find_preset, load_config
from listen.mix import MIN_CUT_PARAGRAPH_CHARS, mix, part_ends, part_ranges
from listen.mp3 import frame_samples, frames_from_index, parse_frames
from listen.pipeline import RenderResult, render, script_page
from listen.publish import Manifest
from listen.synthesize import TakeStream, unit_key, voice_rate

RATE = 22050  # espeak-ng's
FRAME = frame_samples(RATE)


def render_once(page: Path, out: Path, cache: TakeCache) -> RenderResult:
    [result] = render([page], out, load_config(CONFIG), voice="espeak-en-us", cache=cache,
                      feed=False, jobs=1)  # fmt: skip
    return result


def edited(page: Path, into: Path) -> Path:
    """The page with one word added to the first paragraph of its second chapter."""
    html = page.read_text(encoding="utf-8")
    start = html.index("<p>", html.index("<h2"))
    into.write_text(html[: start + 3] + "Indeed, " + html[start + 3 :], encoding="utf-8")
    return into


def onset_ms(samples: np.ndarray, from_ms: int) -> float:
    """When the audio first gets loud after `from_ms`."""
    start = round(from_ms * RATE / 1000)
    loud = np.flatnonzero(np.abs(samples[start:].astype(np.int32)) > 1500)
    return 1000 * (start + loud[0]) / RATE


Render = Callable[[Path, Path, TakeCache], RenderResult]


def cold_edit_again(folder: Path, render_with: Render) -> dict:
    """The seed rendered cold, then again after a one-word edit (into the same folder), then
    the edited page into another folder, all with one take cache."""
    cache = TakeCache(folder / "cache")
    page = folder / "page.html"
    shutil.copy(SEED, page)
    cold = render_with(page, folder / "cold", cache)
    cold_audio = folder / f"cold{cold.audio_path.suffix}"
    shutil.copy(cold.audio_path, cold_audio)  # the edit's render replaces it
    edit = render_with(edited(SEED, page), folder / "cold", cache)
    again = render_with(page, folder / "again", cache)
    return {"cold": cold, "cold_audio": cold_audio, "edit": edit, "again": again,
            "cache": cache, "page": page, "folder": folder}  # fmt: skip


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return cold_edit_again(tmp_path_factory.mktemp("parts"), render_once)


def test_an_edit_encodes_only_the_part_it_changed(renders: dict) -> None:
    cold, edit, again = renders["cold"], renders["edit"], renders["again"]
    assert cold.parts >= 3 and cold.encoded_parts == cold.parts  # a cold cache encodes all
    assert edit.synthesized == 1  # the edited sentence
    assert edit.parts == cold.parts and edit.encoded_parts == 1
    # The same episode into another folder: every part comes from the cache.
    assert again.encoded_parts == 0 and again.audio_path.read_bytes() == (
        edit.audio_path.read_bytes())  # fmt: skip


def test_the_last_paragraph_is_a_part_of_its_own() -> None:
    """Its encoding is the one that waits for the last take: the render's tail."""
    config = load_config(CONFIG)
    for page in (SEED, *SEED.parent.glob("*.html")):
        script = script_page(page, config, "espeak-en-us")
        sentences = script.chapters[-1].sentences
        ends = [n for n, sentence in enumerate(sentences[:-1]) if sentence.ends_paragraph]
        takes = sum(len(s.units) for s in sentences[ends[-1] + 1 if ends else 0 :])
        ranges = part_ranges(script, config.render.pauses, RATE, FRAME)
        first, end = ranges[-1]
        assert end - first == takes and end == len(script.voiced_units)
        assert len(ranges) > 1


def paragraphs_of(script) -> list[tuple[int, int, bool]]:  # type: ignore[no-untyped-def]
    """Each paragraph as (its last sentence's number in the episode, its spoken characters,
    whether it ends its chapter)."""
    paragraphs, number, chars = [], -1, 0
    for chapter in script.chapters:
        for position, sentence in enumerate(chapter.sentences):
            number += 1
            chars += len(sentence.spoken)
            last = position == len(chapter.sentences) - 1
            if sentence.ends_paragraph or last:
                paragraphs.append((number, chars, last))
                chars = 0
    return paragraphs


def test_an_mp3_is_cut_after_every_paragraph_but_short_ones() -> None:
    """So an edit re-encodes its own paragraph only. A heading or a one-line paragraph is
    never a part of its own (each part is normalized on its own): it goes with the paragraph
    after it. An M4A, whose every part starts an ffmpeg, is cut less often."""
    config = load_config(CONFIG)
    pauses = config.render.pauses
    for page in (SEED, *SEED.parent.glob("*.html")):
        script = script_page(page, config, "espeak-en-us")
        cuts = part_ends(script, pauses, RATE, FRAME)
        paragraphs = paragraphs_of(script)
        *body, (episode_end, _, _) = paragraphs
        before_last = body[-1][0] if body else None
        assert episode_end not in cuts
        long_ones = 0
        for end, chars, ends_chapter in body:
            if ends_chapter or end == before_last:
                assert end in cuts
            elif chars >= MIN_CUT_PARAGRAPH_CHARS:
                assert end in cuts, (page.name, end)
                long_ones += 1
            else:
                assert end not in cuts, (page.name, end, chars)
        assert long_ones, page.name  # (the rule was tried on each sample)
        assert len(part_ends(script, pauses, RATE, FRAME, paragraphs_per_part=4)) < len(cuts)


def test_cached_parts_are_read_while_a_take_is_still_being_made(
    renders: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts whose takes are all there go first: after an edit, the unchanged parts are
    read from the cache while the edited sentence is still being spoken (they used to wait
    for it, in order). The episode is the same."""
    config = load_config(CONFIG)
    cache: TakeCache = renders["cache"]
    script = script_page(renders["page"], config, "espeak-en-us")
    rate = voice_rate(find_preset(script.voice, config))
    keys = [unit_key((find_preset(voice, config), rate, text))
            for voice, text in script.voiced_units]  # fmt: skip
    refs = [cache.lookup(key) for key in keys]
    assert all(refs) and keys.count(keys[0]) == 1
    stream = TakeStream(keys)
    for ref in refs[1:]:
        stream.put(ref)  # all but the first part's first take: "still being spoken"
    parts = len(part_ranges(script, config.render.pauses, RATE, FRAME))
    first_take_made: list[bool] = []  # at each cached part read
    read_part = listen.mix._cached_part

    def watched(cache: TakeCache, key: str, part_stream):  # type: ignore[no-untyped-def]
        first_take_made.append(stream.is_made(0))
        if len(first_take_made) == parts - 1:
            stream.put(refs[0])
        return read_part(cache, key, part_stream)

    monkeypatch.setattr(listen.mix, "_cached_part", watched)
    unblock = threading.Timer(30, stream.put, [refs[0]])  # (mixed in order, it would hang)
    unblock.start()
    try:
        audio = mix(script, stream, cache, config.render, "mp3", tmp_path, jobs=1)
    finally:
        unblock.cancel()
    assert first_take_made == [False] * (parts - 1) + [True]
    assert audio.encoded == 0
    tagged = renders["again"].audio_path.read_bytes()
    assert audio.path.read_bytes() == tagged[id3_size(tagged) :]


def test_parts_before_and_after_the_edit_are_the_same_audio(renders: dict) -> None:
    assert_edit_left_the_other_chapters_alone(renders, FRAME)


def assert_edit_left_the_other_chapters_alone(renders: dict, frame: int) -> None:
    """The first chapter (before the edit) decodes to the very same samples after it; the last
    (after the edit) too, counted back from the end, past its first frames (where the decoder
    still overlaps the frames before the join); the edited chapter grew by the added word."""
    before, after = decode_pcm(renders["cold_audio"]), decode_pcm(renders["edit"].audio_path)
    chapters_before = renders["cold"].manifest.chapters
    chapters_after = renders["edit"].manifest.chapters
    head = round(chapters_before[0].end_ms * RATE / 1000) - 2 * frame
    assert np.array_equal(before[:head], after[:head])
    last = chapters_before[-1]
    tail = round((last.end_ms - last.start_ms) * RATE / 1000) - 2 * frame
    # (Its length in whole milliseconds: start and end are each rounded, so within 1 ms.)
    moved = chapters_after[-1]
    assert abs((last.end_ms - last.start_ms) - (moved.end_ms - moved.start_ms)) <= 1
    assert np.array_equal(before[-tail:], after[-tail:])
    assert chapters_after[1].end_ms > chapters_before[1].end_ms


def rendered_episode(renders: dict, which: str) -> tuple[Manifest, Path, np.ndarray]:
    """The manifest, audio file and decoded audio of the `cold_edit_again` render `which`."""
    result = renders[which]
    audio = renders["cold_audio"] if which == "cold" else result.audio_path
    return result.manifest, audio, decode_pcm(audio)


def assert_chapters_where_planned(audio: Path, decoded: np.ndarray, manifest: Manifest) -> None:
    """The chapters ffprobe lists are the manifest's, within 50 ms, and the audio is where each
    says: silence just before it, speech from it."""
    chapters = ffprobe(audio, "-show_chapters")["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in manifest.chapters]
    for listed, planned_chapter in zip(chapters, manifest.chapters, strict=True):
        assert abs(float(listed["start_time"]) * 1000 - planned_chapter.start_ms) <= 50
        if planned_chapter.start_ms:
            start = round(planned_chapter.start_ms * RATE / 1000)
            pause = decoded[start - round(0.3 * RATE) : start - round(0.05 * RATE)]
            assert int(np.abs(pause.astype(np.int32)).max()) < 300
        assert abs(onset_ms(decoded, max(planned_chapter.start_ms - 50, 0))
                   - planned_chapter.start_ms) <= 50  # fmt: skip


@pytest.mark.parametrize("which", ["cold", "edit"])
def test_joined_parts_are_gapless_with_exact_chapters(renders: dict, which: str) -> None:
    manifest, audio, decoded = rendered_episode(renders, which)
    # No added silence at the joins: the decoded episode is the sum of its parts (one Info
    # frame's delay and padding trimmed), within one frame.
    planned = manifest.duration_ms * RATE / 1000
    assert abs(len(decoded) - planned) <= FRAME
    assert_chapters_where_planned(audio, decoded, manifest)
    integrated, _ = ebur128(audio)
    assert abs(integrated - load_config(CONFIG).render.loudness_lufs) <= 0.5


def test_the_info_frame_counts_every_frame(renders: dict) -> None:
    """What a player reads to seek and to trim: the Info frame's counts match the stream."""
    data = renders["edit"].audio_path.read_bytes()
    tag_size = id3_size(data)
    frames = parse_frames(data[tag_size:])
    assert frames.info is not None
    info = data[tag_size + frames.info[0] : tag_size + frames.info[0] + frames.info[1]]
    tag = info.find(b"Info")
    count = int.from_bytes(info[tag + 8 : tag + 12], "big")
    size = int.from_bytes(info[tag + 12 : tag + 16], "big")
    assert count == len(frames.audio) and size == len(data) - tag_size


def test_damaged_cached_parts_are_encoded_again(renders: dict) -> None:
    cache: TakeCache = renders["cache"]
    parts = sorted(cache.directory.glob("??/*.mp3"))
    assert len(parts) == renders["cold"].parts + 1  # the edited one besides
    for damaged in parts:  # as a killed writer or a full disk would leave them
        damaged.write_bytes(damaged.read_bytes()[:-100])
    result = render_once(renders["page"], renders["folder"] / "repaired", cache)
    assert result.encoded_parts == result.parts
    # Encoding is deterministic: the same parts again, the same file.
    assert result.audio_path.read_bytes() == renders["edit"].audio_path.read_bytes()


def render_both_versions(renders: dict, name: str) -> list[RenderResult]:
    """The page before and after the edit, into new folders: every cached part is used."""
    original = renders["folder"] / f"{name}-original" / "page.html"
    original.parent.mkdir()
    shutil.copy(SEED, original)
    return [render_once(page, renders["folder"] / name / str(number), renders["cache"])
            for number, page in enumerate([original, renders["page"]])]  # fmt: skip


def test_every_cached_part_has_a_frame_index_true_to_its_bytes(renders: dict) -> None:
    cache: TakeCache = renders["cache"]
    render_both_versions(renders, "indexed")
    parts = sorted(cache.directory.glob("??/*.mp3"))
    assert parts
    for part in parts:
        data, index = part.read_bytes(), part.with_suffix(".frames").read_bytes()
        assert frames_from_index(data, index) == parse_frames(data)
        # Never used on other bytes: a changed byte, a truncation, another part's index.
        changed = bytearray(data)
        changed[len(data) // 2] ^= 1
        assert frames_from_index(bytes(changed), index) is None
        assert frames_from_index(data[:-1], index) is None
        assert frames_from_index(data, b"LFX1" + index[4:-4]) is None
        assert frames_from_index(data, b"garbage") is None
    other = parts[0].with_suffix(".frames").read_bytes()
    assert frames_from_index(parts[1].read_bytes(), other) is None


def test_a_damaged_frame_index_is_made_again_and_changes_nothing(renders: dict) -> None:
    cache: TakeCache = renders["cache"]
    indexes = sorted(cache.directory.glob("??/*.frames"))
    for index in indexes[::2]:
        index.write_bytes(index.read_bytes()[:-8])  # a stale or torn index
    for index in indexes[1::2]:
        index.unlink()
    before, after = render_both_versions(renders, "reindexed")
    assert before.encoded_parts == after.encoded_parts == 0  # only the indexes were bad
    assert before.audio_path.read_bytes() == renders["cold_audio"].read_bytes()
    assert after.audio_path.read_bytes() == renders["edit"].audio_path.read_bytes()
    for index in indexes:
        data = index.with_suffix(".mp3").read_bytes()
        assert frames_from_index(data, index.read_bytes()) == parse_frames(data)


def test_pruning_a_part_takes_its_frame_index_with_it(renders: dict) -> None:
    cache: TakeCache = renders["cache"]
    assert cache.directory.glob("??/*.frames")
    with_index = cache.stats().bytes
    parts = sum(p.stat().st_size for p in cache.directory.glob("??/*.mp3"))
    indexes = sum(p.stat().st_size for p in cache.directory.glob("??/*.frames"))
    takes = sum(p.stat().st_size for p in cache.directory.glob("??/*.wav"))
    summaries = sum(p.stat().st_size for p in cache.directory.glob("??/*.loudness"))
    assert with_index == parts + indexes + takes + summaries  # what the size limit counts
    cache.prune(max_bytes=0)
    assert not list(cache.directory.glob("??/*.*"))
