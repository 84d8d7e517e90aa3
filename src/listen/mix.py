"""Stage 4, mix: takes -> one loudness-normalized, encoded episode with an exact timeline.

Takes come from the cache already trimmed and faded (pydub, in `synthesize.make_take`), each
with its loudness summary. The timeline lays them out with pauses between sentences,
paragraphs and chapters, counted in samples. The loudness plan (`listen.loudness`) finds one
gain and a true-peak limiter curve for the whole episode from the summaries, and the takes are
then streamed, one at a time, through that gain into ffmpeg to encode MP3 or AAC/M4A: the
episode is never held in memory, and no intermediate WAV is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from listen.cache import TakeCache, TakeRef
from listen.config import Pauses, RenderConfig
from listen.errors import ListenError
from listen.lifeline import CHILD_PROCESS
from listen.loudness import Summary, group_size, sample_gains
from listen.mp3 import (
    DECODER_DELAY,
    ENCODER_DELAY,
    Frames,
    frame_samples,
    info_frame,
    parse_frames,
)
from listen.script import Script
from listen.synthesize import default_jobs

#: Silence after the last sentence, so players do not clip the final word.
TAIL_MS = 600
#: What the lossy encoders do to a normalized episode, measured here with ffmpeg's ebur128 on
#: speech from both voices: MP3 (LAME) comes out about 0.45 LU quieter, AAC slightly quieter;
#: both overshoot the true peak they were given (AAC at 64 kbps by up to 2 dB). The plan aims
#: past them so that one encode usually lands on target; a measured miss is encoded again.
ENCODER_LOUDNESS_SHIFT_LU = {"mp3": -0.45, "m4a": -0.1}
ENCODER_PEAK_OVERSHOOT_DB = {"mp3": 0.9, "m4a": 2.2}
#: The check after encoding reads the sample peak; the true peak of speech at these rates
#: stays within this of it (the limiter before the encoder works on the true peak).
INTER_SAMPLE_ALLOWANCE_DB = 0.5
#: An encoded episode this close to the loudness target is not encoded again.
LOUDNESS_TOLERANCE_LU = 0.2
#: Formats whose encoded files are decoded and measured after encoding. MP3 is not: every
#: part of the seed and sample pages, with espeak-ng, joe and heart, measured exactly on target
#: (-16.0 LUFS, peaks -2.3 to -2.8 dBFS) after its first encode, so decoding it again would
#: only double the cost of a mix.
MEASURED_FORMATS = frozenset({"m4a"})
#: Encodes before giving up on the targets (MP3 almost always lands in one; AAC at 64 kbps
#: overshoots its true peak unevenly and may need two or three).
ENCODE_ATTEMPTS = 4
#: How close the plan must come to the loudness it aims at.
PLAN_TOLERANCE_LU = 0.05
#: LAME's speed/quality setting: 7 is twice as fast as the default 5, with no audible
#: difference on speech at 64 kbps.
MP3_ALGORITHM_QUALITY = 7

#: Two voices of one episode (a quotation voice) are kept this close in loudness, measured as
#: heard, in at most this many rounds of correction.
VOICE_MATCH_LU = 0.2
VOICE_MATCH_ROUNDS = 5

MIME_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


@dataclass(frozen=True)
class TimedSentence:
    text: str
    start_ms: int
    end_ms: int
    chapter: int
    #: The voice preset that reads it.
    voice: str = ""
    #: The page block it reads (an index into the manifest's `blocks`), None if none.
    block: int | None = None


@dataclass(frozen=True)
class TimedChapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Part:
    """A stretch of the episode mixed and encoded on its own: samples [start, start + length)
    and takes [first_take, end_take)."""

    start: int
    length: int
    first_take: int
    end_take: int


@dataclass(frozen=True)
class Timeline:
    chapters: tuple[TimedChapter, ...]
    sentences: tuple[TimedSentence, ...]
    duration_ms: int
    #: Where each take starts, and the episode's length, in samples.
    starts: tuple[int, ...]
    total_samples: int
    #: The parts the episode is mixed in (one, unless planned on a frame grid).
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Span:
    """Takes laid out in a stretch of audio: where each starts, and its length, in samples."""

    starts: tuple[int, ...]
    total_samples: int


@dataclass(frozen=True)
class MixedAudio:
    path: Path
    format: str
    timeline: Timeline
    #: How many of the timeline's parts were encoded by this mix (the rest were reused).
    encoded: int = 1

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


def _ms(samples: int, rate: int) -> int:
    return round(1000 * samples / rate)


def _pause_ms(script: Script, chapter: int, number: int, pauses: Pauses) -> int:
    sentences = script.chapters[chapter].sentences
    if number == len(sentences) - 1:
        return TAIL_MS if chapter == len(script.chapters) - 1 else pauses.chapter_ms
    return pauses.paragraph_ms if sentences[number].ends_paragraph else pauses.sentence_ms


def plan_timeline(
    script: Script, take_lengths: Sequence[int], sample_rate: int, pauses: Pauses,
    frame: int | None = None,
) -> Timeline:  # fmt: skip
    """Where every sentence and chapter lies, from the takes' sample counts (a take per
    synthesis unit; a long sentence has several). Each take starts on a loudness-summary group
    boundary of its part (pauses grow by under two milliseconds for it).

    With a `frame` (samples per encoded frame), the episode is cut into parts that can be
    encoded on their own (`part_ends`): each part is laid out from its own start, and its
    length rounded up to whole frames (its closing pause grows by under one frame), so a part
    is the same audio wherever it lands in the episode. Without, the episode is one part."""
    group = group_size(sample_rate)
    sentences: list[TimedSentence] = []
    chapter_starts: list[int] = []
    starts: list[int] = []
    parts: list[Part] = []
    base = 0  # where the current part starts in the episode
    position = 0  # within the current part
    cuts = part_ends(script, pauses, sample_rate, frame) if frame else set()
    lengths = iter(take_lengths)

    def advance(length: int, gap_ms: int) -> None:
        nonlocal position
        gap = round(gap_ms * sample_rate / 1000)
        position = -(-(position + length + gap) // group) * group

    number_in_episode = -1
    for index, chapter in enumerate(script.chapters):
        chapter_starts.append(0 if index == 0 else base + position)
        for number, sentence in enumerate(chapter.sentences):
            number_in_episode += 1
            first = base + position
            for part, _unit in enumerate(sentence.units):
                length = next(lengths)
                starts.append(base + position)
                end = base + position + length
                last = part == len(sentence.units) - 1
                advance(length, _pause_ms(script, index, number, pauses) if last
                        else pauses.clause_ms)  # fmt: skip
            sentences.append(TimedSentence(
                sentence.text, _ms(first, sample_rate), _ms(end, sample_rate), index,
                sentence.voice, sentence.block,
            ))  # fmt: skip
            if frame and number_in_episode in cuts:
                part_length = -(-position // frame) * frame
                first_take = parts[-1].end_take if parts else 0
                parts.append(Part(base, part_length, first_take, len(starts)))
                base, position = base + part_length, 0
    total = base + position
    if position or not parts:
        parts.append(Part(base, position, parts[-1].end_take if parts else 0, len(starts)))
    ends = [*chapter_starts[1:], total]
    chapters = tuple(
        TimedChapter(c.title, _ms(start, sample_rate), _ms(end, sample_rate))
        for c, start, end in zip(script.chapters, chapter_starts, ends, strict=True)
    )
    return Timeline(chapters, tuple(sentences), _ms(total, sample_rate), tuple(starts),
                    total, tuple(parts))  # fmt: skip


#: A part is cut after a paragraph whose text hashes to 0 modulo this (besides every chapter's
#: end): about one cut in so many paragraphs, at places an edit elsewhere does not move.
PARAGRAPHS_PER_PART = 4
#: Silence a cut needs after the last take: the encoder's delay plus two frames.
CUT_SILENCE_FRAMES = 2


def part_ends(script: Script, pauses: Pauses, rate: int, frame: int) -> set[int]:
    """The sentences (numbered through the episode) after which a part ends: every chapter's
    last, and a paragraph's last where its text says so (content-defined, so parts stay the
    same when another part changes), wherever the pause after it is long enough to cut in."""
    needed = ENCODER_DELAY + DECODER_DELAY + CUT_SILENCE_FRAMES * frame
    cuts: set[int] = set()
    number = -1
    for index, chapter in enumerate(script.chapters):
        for position, sentence in enumerate(chapter.sentences):
            number += 1
            last_of_chapter = position == len(chapter.sentences) - 1
            if last_of_chapter and index == len(script.chapters) - 1:
                continue  # the episode's end is the last part's end
            if round(_pause_ms(script, index, position, pauses) * rate / 1000) < needed:
                continue
            digest = hashlib.sha256(sentence.text.encode()).digest()
            if last_of_chapter or (sentence.ends_paragraph
                                   and digest[0] % PARAGRAPHS_PER_PART == 0):  # fmt: skip
                cuts.add(number)
    return cuts


def episode_summary(takes: Sequence[TakeRef], timeline: Timeline | Span, cache: TakeCache,
                    take_gains: Sequence[float] | None = None) -> Summary:  # fmt: skip
    """The episode's loudness summary, each take at its voice's gain (`take_gains`)."""
    rate = takes[0].sample_rate
    if any(t.sample_rate != rate for t in takes):
        raise ListenError("takes of one episode must share a sample rate")
    take_gains = take_gains or [1.0] * len(takes)
    placed = zip(timeline.starts, takes, take_gains, strict=True)
    parts = [(start, cache.read_summary(take).scaled(gain)) for start, take, gain in placed]
    return Summary.assemble(rate, timeline.total_samples, parts)


def _voice_labels(voices: Sequence[str], timeline: Timeline | Span, group: int) -> np.ndarray:
    """For each summary group, the index (in sorted voice order) of the voice whose take it
    belongs to: from a take's start to the next take's (its ring-out and pause go with it)."""
    names = sorted(set(voices))
    labels = np.zeros(-(-timeline.total_samples // group), np.int8)
    ends = [*timeline.starts[1:], timeline.total_samples]
    for start, end, voice in zip(timeline.starts, ends, voices, strict=True):
        labels[start // group : -(-end // group)] = names.index(voice)
    return labels


def match_voices(
    voices: Sequence[str], narrator: str, takes: Sequence[TakeRef], timeline: Timeline | Span,
    cache: TakeCache, target_lufs: float, ceiling: float,
) -> tuple[list[float], Summary]:  # fmt: skip
    """A gain per take that keeps every voice at the narrator's loudness, and the episode's
    summary with those gains. Each voice is measured on its own stretches of the episode as
    it will be heard (after the episode's gain and limiter, which hold back a peaky voice more
    than a smooth one), and its gain corrected until all voices are within VOICE_MATCH_LU."""
    take_gains = [1.0] * len(takes)
    summary = episode_summary(takes, timeline, cache, take_gains)
    names = sorted(set(voices))
    if len(names) < 2:
        return take_gains, summary
    labels = _voice_labels(voices, timeline, summary.group)
    voice_gain = dict.fromkeys(names, 1.0)
    gains: np.ndarray | float = 1.0  # the first round matches the voices as synthesized
    for _ in range(VOICE_MATCH_ROUNDS):
        loudness = {
            name: replace(summary, energy=np.where(labels == index, summary.energy, 0)
                          ).loudness(gains)
            for index, name in enumerate(names)
        }  # fmt: skip
        reference = loudness.get(narrator, max(loudness.values()))
        errors = {name: reference - value for name, value in loudness.items()
                  if math.isfinite(value) and math.isfinite(reference)}  # fmt: skip
        if all(abs(error) <= VOICE_MATCH_LU for error in errors.values()):
            break
        for name, error in errors.items():
            voice_gain[name] *= 10 ** (error / 20)
        take_gains = [voice_gain[voice] for voice in voices]
        summary = episode_summary(takes, timeline, cache, take_gains)
        gains = plan_gains(summary, target_lufs, ceiling)
    return take_gains, summary


def normalized_stream(
    takes: Sequence[TakeRef], timeline: Timeline | Span, cache: TakeCache, gains: np.ndarray,
    group: int, take_gains: Sequence[float] | None = None,
) -> Iterator[bytes]:  # fmt: skip
    """The episode as float32 bytes: each take at its voice's gain, through its stretch of the
    gain curve, the pauses as silence. One take in memory at a time."""
    position = 0
    take_gains = take_gains or [1.0] * len(takes)
    for start, take, voice_gain in zip(timeline.starts, takes, take_gains, strict=True):
        if start > position:
            yield bytes(4 * (start - position))
        samples = cache.read(take) * (voice_gain / 32768.0)
        yield (samples * sample_gains(gains, group, start, len(samples))).astype("<f4").tobytes()
        position = start + len(samples)
    if timeline.total_samples > position:
        yield bytes(4 * (timeline.total_samples - position))


def plan_gains(summary: Summary, target_lufs: float, ceiling: float) -> np.ndarray:
    """Per-group gains that bring the episode to `target_lufs` with its true peak limited to
    `ceiling`. Limiting takes back a little of every gain step, so the gain is found by secant
    steps (loudness against gain in dB is close to a straight line)."""
    measured = summary.loudness()
    if measured == -math.inf:
        raise ListenError("the episode is silent")
    gain_db = target_lufs - measured
    previous: tuple[float, float] | None = None
    for _ in range(8):
        gains = summary.limited_gains(10 ** (gain_db / 20), ceiling)
        loudness = summary.loudness(gains)
        if abs(loudness - target_lufs) <= PLAN_TOLERANCE_LU:
            break
        slope = 1.0
        if previous is not None and previous[0] != gain_db:
            slope = min(max((loudness - previous[1]) / (gain_db - previous[0]), 0.2), 1.0)
        previous = (gain_db, loudness)
        gain_db += (target_lufs - loudness) / slope
    return gains


# --- ffmpeg ----------------------------------------------------------------------------------


@cache
def ffmpeg_exe() -> str:
    """The system's ffmpeg, else the one the imageio-ffmpeg wheel ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise ListenError("ffmpeg not found: install ffmpeg or imageio-ffmpeg") from None


def run_ffmpeg(args: Sequence[str]) -> str:
    """Run ffmpeg; return its stderr (where it reports measurements). One-line error on failure."""
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args],
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            **CHILD_PROCESS,
        )
    except OSError as exc:
        raise ListenError(f"cannot run ffmpeg: {exc}") from None
    if done.returncode != 0:
        last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "")
        raise ListenError(f"ffmpeg failed: {last.strip()}")
    return done.stderr


def encoder_args(fmt: str, render: RenderConfig) -> list[str]:
    if fmt == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", render.mp3_bitrate,
                "-compression_level", str(MP3_ALGORITHM_QUALITY), "-f", "mp3"]  # fmt: skip
    if fmt == "m4a":
        return ["-c:a", "aac", "-b:a", render.aac_bitrate, "-movflags", "+faststart", "-f", "mp4"]
    raise ListenError(f"unknown audio format {fmt!r} (use mp3 or m4a)")


def pipe_to_ffmpeg(stream: Iterator[bytes], rate: int, out: Path, args: Sequence[str]) -> None:
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-f", "f32le", "-ar", str(rate),
        "-ac", "1", "-i", "pipe:0", "-ac", "1", "-map_metadata", "-1", *args, str(out),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors,
                                       **CHILD_PROCESS)  # fmt: skip
        except OSError as exc:
            raise ListenError(f"cannot run ffmpeg: {exc}") from None
        assert process.stdin is not None
        try:
            for chunk in stream:
                process.stdin.write(chunk)
            process.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:  # interrupted: a half-encoded file is of no use
            process.kill()
            process.wait()
            raise
        finally:
            if process.poll() is None and not process.stdin.closed:
                process.stdin.close()
        if process.wait() != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise ListenError(f"ffmpeg failed: {lines[-1] if lines else 'no output'}")


@dataclass(frozen=True)
class LoudnessReport:
    integrated_lufs: float
    peak_db: float


def measure_file(path: Path, true_peak: bool = False) -> LoudnessReport:
    """EBU R128 integrated loudness and peak of an encoded file, as ffmpeg's `ebur128` filter
    measures it on the decoded audio (the reference measurement). The sample peak is measured
    unless `true_peak` (2.5 times slower: it oversamples)."""
    peak_mode = "true" if true_peak else "sample"
    stderr = run_ffmpeg([
        "-nostats", "-i", str(path), "-map", "0:a",
        "-af", f"ebur128=peak={peak_mode}:framelog=verbose", "-f", "null", "-",
    ])  # fmt: skip
    summary = stderr[stderr.rfind("Integrated loudness:") :]
    loudness = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not loudness or not peak:
        raise ListenError(f"ffmpeg could not measure the loudness of {path.name}")
    return LoudnessReport(float(loudness.group(1)), float(peak.group(1)))


def mix(
    script: Script,
    takes: Sequence[TakeRef],
    cache: TakeCache,
    render: RenderConfig,
    fmt: str,
    workdir: Path,
    jobs: int | None = None,
) -> MixedAudio:
    """Lay out, normalize and encode into `workdir`, up to `jobs` parts at once (default: one
    per core); return the audio and its timeline.

    MP3 is mixed in parts (chapters, runs of paragraphs: `plan_timeline`), each normalized and
    encoded on its own and cached by everything it is made of, then joined at frame boundaries
    into one gapless file (`listen.mp3`): a re-render after an edit encodes only the parts the
    edit touched. M4A is mixed as one part."""
    if not takes:
        raise ListenError("nothing to narrate")
    rate = takes[0].sample_rate
    frame = frame_samples(rate) if fmt == "mp3" else None
    timeline = plan_timeline(script, [t.samples for t in takes], rate, render.pauses, frame)
    voices = [voice for voice, _ in script.voiced_units]
    out = workdir / f"episode.{fmt}"
    if frame is None:
        encode_normalized(takes, timeline, voices, script.voice, cache, render, fmt, out)
        return MixedAudio(path=out, format=fmt, timeline=timeline)
    keys = []
    for part in timeline.parts:
        starts = timeline.starts[part.first_take : part.end_take]
        span = Span(tuple(start - part.start for start in starts), part.length)
        part_takes = takes[part.first_take : part.end_take]
        part_voices = voices[part.first_take : part.end_take]
        keys.append((part_key(part_takes, span, part_voices, script.voice, render, fmt),
                     span, part_takes, part_voices))  # fmt: skip

    # Per part: where the frames it keeps are in its cached file, and how many.
    pieces: dict[int, tuple[int, int, int]] = {}
    templates: dict[int, Frames] = {}

    def place(number: int, frames: Frames) -> None:
        last = number == len(timeline.parts) - 1
        keep = len(frames.audio) if last else timeline.parts[number].length // frame
        if len(frames.audio) < keep or not keep:
            raise ListenError("the encoder wrote fewer frames than the audio needs")
        first, final = frames.audio[0], frames.audio[keep - 1]
        pieces[number] = (first[0], final[0] + final[1], keep)
        if number == 0:
            templates[0] = Frames(frames.data[: frames.audio[0][0]], frames.info, ())

    def encode(number: int) -> None:
        key, span, part_takes, part_voices = keys[number]
        path = workdir / f"part-{number}.mp3"
        encode_normalized(part_takes, span, part_voices, script.voice, cache, render, fmt, path,
                          PART_ARGS)  # fmt: skip
        data = path.read_bytes()
        path.unlink()
        frames = parse_frames(data)  # (a damaged encode fails here, before it is cached)
        stored = cache.store_part(key, data, _usable_part)
        place(number, frames if stored is data else parse_frames(stored))

    todo = []
    for number, (key, *_) in enumerate(keys):
        if (frames := _cached_part(cache, key)) is None:
            todo.append(number)
        else:
            place(number, frames)
    # Parts are encoded side by side: each is a Python stream into an ffmpeg of its own.
    with ThreadPoolExecutor(max(1, min(jobs or default_jobs(), len(todo)))) as pool:
        list(pool.map(encode, todo))
    # Joined one part at a time, so that the episode is never held in memory.
    count = sum(kept for _, _, kept in pieces.values())
    size = sum(end - start for start, end, _ in pieces.values())
    with out.open("wb") as file:
        file.write(info_frame(templates[0], count, size, timeline.total_samples, rate))
        for number, (key, *_) in enumerate(keys):
            data = cache.lookup_part(key)
            if data is None:
                raise ListenError("an encoded part left the take cache during the render")
            start, end, _ = pieces[number]
            file.write(data[start:end])
    return MixedAudio(path=out, format=fmt, timeline=timeline, encoded=len(todo))


#: ffmpeg's MP3 muxer options for a part: an Info frame (its delay and padding tell the
#: decoder what to trim when the part is measured), no ID3 tag, nothing that varies by build.
PART_ARGS = ("-write_xing", "1", "-id3v2_version", "0", "-fflags", "+bitexact")
#: Changes whenever what a part's key stands for changes.
PART_REVISION = 1


def part_key(takes: Sequence[TakeRef], span: Span, voices: Sequence[str], narrator: str,
             render: RenderConfig, fmt: str) -> str:  # fmt: skip
    """Everything a part's encoded audio is made of: its takes and where they lie, its voices,
    the loudness targets, the encoder's settings."""
    blob = json.dumps({
        "revision": PART_REVISION, "format": fmt, "encoder": [*encoder_args(fmt, render),
                                                              *PART_ARGS],
        "loudness": render.loudness_lufs, "true_peak": render.true_peak_db,
        "takes": [[t.key, t.sample_rate] for t in takes], "starts": span.starts,
        "length": span.total_samples, "voices": voices, "narrator": narrator,
    }, sort_keys=True)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()


def _usable_part(data: bytes) -> bool:
    try:
        parse_frames(data)
    except ListenError:
        return False
    return True


def _cached_part(cache: TakeCache, key: str) -> Frames | None:
    data = cache.lookup_part(key)
    if data is None:
        return None
    try:
        return parse_frames(data)
    except ListenError:  # damaged: encode it again
        return None


def encode_normalized(
    takes: Sequence[TakeRef], span: Timeline | Span, voices: Sequence[str], narrator: str,
    cache: TakeCache, render: RenderConfig, fmt: str, out: Path, extra: Sequence[str] = (),
) -> None:  # fmt: skip
    """Normalize and encode takes laid out as `span` into `out`.

    The plan aims past what the encoder is known to do (ENCODER_LOUDNESS_SHIFT_LU). LAME
    does that so evenly that the plan is the measurement (MEASURED_FORMATS); an AAC file is
    measured with ffmpeg's ebur128 and, if it still misses the target, encoded once more with
    the measured error planned in."""
    rate = takes[0].sample_rate
    target = render.loudness_lufs - ENCODER_LOUDNESS_SHIFT_LU[fmt]
    ceiling_db = render.true_peak_db - ENCODER_PEAK_OVERSHOOT_DB[fmt]
    take_gains, summary = match_voices(voices, narrator, takes, span, cache, target,
                                       10 ** (ceiling_db / 20))  # fmt: skip
    for _ in range(ENCODE_ATTEMPTS):
        gains = plan_gains(summary, target, 10 ** (ceiling_db / 20))
        stream = normalized_stream(takes, span, cache, gains, summary.group, take_gains)
        pipe_to_ffmpeg(stream, rate, out, [*encoder_args(fmt, render), *extra])
        if fmt not in MEASURED_FORMATS:
            break
        # AAC's overshoot between samples is larger than MP3's: measure its true peak.
        true_peak = fmt == "m4a"
        result = measure_file(out, true_peak=true_peak)
        allowance = 0.0 if true_peak else INTER_SAMPLE_ALLOWANCE_DB
        error_lu = render.loudness_lufs - result.integrated_lufs
        overshoot_db = result.peak_db + allowance - render.true_peak_db
        if abs(error_lu) <= LOUDNESS_TOLERANCE_LU and overshoot_db <= 0:
            break
        target += error_lu
        if overshoot_db > 0:
            ceiling_db -= overshoot_db + 0.3
