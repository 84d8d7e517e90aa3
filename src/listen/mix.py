"""Stage 4, mix: takes -> one loudness-normalized, encoded episode with an exact timeline.

Takes come from the cache already trimmed and faded (pydub, in `synthesize.make_take`), each
with its loudness summary. The timeline lays them out with pauses between sentences,
paragraphs and chapters, counted in samples. The loudness plan (`listen.loudness`) finds one
gain and a true-peak limiter curve for the whole episode from the summaries, and the takes are
then streamed, one at a time, through that gain into the encoder: libmp3lame in this process
for MP3 (`listen.lame`; ffmpeg where it is missing), ffmpeg for AAC/M4A. The episode is never
held in memory, and no intermediate WAV is written. Both formats are encoded in parts, joined
at frame boundaries (`listen.mp3`, `listen.adts`), so that an edit encodes only what it changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from listen import adts, lame
from listen.cache import PART_SUFFIXES, TakeCache, TakeRef
from listen.config import Pauses, RenderConfig
from listen.errors import ListenError
from listen.lifeline import child_command
from listen.loudness import Summary, group_size, sample_gains
from listen.mp3 import (
    DECODER_DELAY,
    ENCODER_DELAY,
    Frames,
    frame_index,
    frame_samples,
    frames_from_index,
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
#: Encodes before giving up on the targets (MP3 almost always lands in one; how far AAC
#: overshoots its true peak varies from one encode to the next).
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


#: The samples an MP3 part's audio lags its input by, decoded: LAME's delay and the decoder's.
MP3_LEAD = ENCODER_DELAY + DECODER_DELAY
#: A part is cut after a paragraph whose text hashes to 0 modulo this (besides every chapter's
#: end): about one cut in so many paragraphs, at places an edit elsewhere does not move. An
#: MP3 part costs little more than its audio (LAME runs in this process), so an MP3 is cut
#: after every paragraph: an edit re-encodes one paragraph (after an edit of the seed with
#: joe, 0.07 s of encoding instead of 0.16 s; the 2-hour article's cold render spent 4% more
#: CPU, within the noise of its runs, and its edit gained nothing measurable: bench/README).
#: Each AAC part starts an ffmpeg: four paragraphs.
MP3_PARAGRAPHS_PER_PART = 1
AAC_PARAGRAPHS_PER_PART = 4


@dataclass(frozen=True)
class PartStream:
    """How a format's parts are encoded and joined: the stream a part is written as (`mp3`,
    or `adts` for an M4A's AAC), its samples per frame, the samples its encoder and decoder
    delay the audio by (which a cut's pause must cover), how its frames are found, and about
    how many paragraphs a part holds (`part_ends`)."""

    name: str
    frame: int
    lead: int
    parse: Callable[[bytes], Frames]
    paragraphs_per_part: int


def part_stream(fmt: str, rate: int) -> PartStream:
    if fmt == "mp3":
        return PartStream("mp3", frame_samples(rate), MP3_LEAD, parse_frames,
                          MP3_PARAGRAPHS_PER_PART)  # fmt: skip
    return PartStream("adts", adts.FRAME, adts.ENCODER_DELAY, adts.parse_adts,
                      AAC_PARAGRAPHS_PER_PART)  # fmt: skip


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
    frame: int, lead: int = MP3_LEAD, paragraphs_per_part: int = MP3_PARAGRAPHS_PER_PART,
) -> Timeline:  # fmt: skip
    """Where every sentence and chapter lies, from the takes' sample counts (a take per
    synthesis unit; a long sentence has several). Each take starts on a loudness-summary group
    boundary of its part (pauses grow by under two milliseconds for it).

    The episode is cut into parts that can be encoded on their own (`part_ranges`; `frame`:
    samples per encoded frame): each part is laid out from its own start (`lay_out_part`),
    and its length rounded up to whole frames (its closing pause grows by under one frame),
    so a part is the same audio wherever it lands in the episode (`lead`: the encoder's
    delay, and about how many paragraphs a part holds: `part_ends`)."""
    gaps = take_gaps_ms(script, pauses)
    ranges = part_ranges(script, pauses, sample_rate, frame, lead, paragraphs_per_part)
    starts: list[int] = []
    parts: list[Part] = []
    base = 0  # where the current part starts in the episode
    for number, (first, end) in enumerate(ranges):
        span = lay_out_part(take_lengths[first:end], gaps[first:end], sample_rate, frame,
                            last=number == len(ranges) - 1)  # fmt: skip
        starts += [base + start for start in span.starts]
        parts.append(Part(base, span.total_samples, first, end))
        base += span.total_samples
    total = base
    sentences: list[TimedSentence] = []
    chapter_starts: list[int] = []
    take = 0
    for index, chapter in enumerate(script.chapters):
        chapter_starts.append(0 if index == 0 else starts[take] if take < len(starts) else total)
        for sentence in chapter.sentences:
            first, take = take, take + len(sentence.units)
            end = starts[take - 1] + take_lengths[take - 1]
            sentences.append(TimedSentence(
                sentence.text, _ms(starts[first], sample_rate), _ms(end, sample_rate), index,
                sentence.voice, sentence.block,
            ))  # fmt: skip
    ends = [*chapter_starts[1:], total]
    chapters = tuple(
        TimedChapter(c.title, _ms(start, sample_rate), _ms(end, sample_rate))
        for c, start, end in zip(script.chapters, chapter_starts, ends, strict=True)
    )
    return Timeline(chapters, tuple(sentences), _ms(total, sample_rate), tuple(starts),
                    total, tuple(parts))  # fmt: skip


def take_gaps_ms(script: Script, pauses: Pauses) -> list[int]:
    """The pause after each take: a clause's within a sentence, else the sentence's."""
    gaps: list[int] = []
    for index, chapter in enumerate(script.chapters):
        for number, sentence in enumerate(chapter.sentences):
            gaps += [pauses.clause_ms] * (len(sentence.units) - 1)
            gaps.append(_pause_ms(script, index, number, pauses))
    return gaps


def lay_out_part(lengths: Sequence[int], gaps_ms: Sequence[int], rate: int, frame: int,
                 last: bool = True) -> Span:  # fmt: skip
    """A part's takes laid out from its start, each on a loudness-summary group boundary; a
    part before the last is rounded up to whole `frame`s, so that the next starts on one."""
    group = group_size(rate)
    starts: list[int] = []
    position = 0
    for length, gap_ms in zip(lengths, gaps_ms, strict=True):
        starts.append(position)
        gap = round(gap_ms * rate / 1000)
        position = -(-(position + length + gap) // group) * group
    if not last:
        position = -(-position // frame) * frame
    return Span(tuple(starts), position)


def part_ranges(script: Script, pauses: Pauses, rate: int, frame: int, lead: int = MP3_LEAD,
                paragraphs_per_part: int = MP3_PARAGRAPHS_PER_PART,
                ) -> list[tuple[int, int]]:  # fmt: skip
    """The takes [first, end) of each part the episode is cut in (`part_ends`): known from the
    script alone, so that a part can be mixed as soon as its own takes are made."""
    cuts = part_ends(script, pauses, rate, frame, lead, paragraphs_per_part)
    ranges: list[tuple[int, int]] = []
    first = take = 0
    number = -1
    for chapter in script.chapters:
        for sentence in chapter.sentences:
            number += 1
            take += len(sentence.units)
            if number in cuts:
                ranges.append((first, take))
                first = take
    if take > first or not ranges:
        ranges.append((first, take))
    return ranges


#: A paragraph shorter than this (a heading, a one-line paragraph) is never a part's end: each
#: part is normalized on its own, and a heading alone came out 0.7 dB louder than the
#: paragraph it opens. It joins the part of the paragraph after it.
MIN_CUT_PARAGRAPH_CHARS = 160
#: Silence a cut needs after the last take: the encoder's delay plus two frames.
CUT_SILENCE_FRAMES = 2


def part_ends(script: Script, pauses: Pauses, rate: int, frame: int, lead: int = MP3_LEAD,
              paragraphs_per_part: int = MP3_PARAGRAPHS_PER_PART) -> set[int]:  # fmt: skip
    """The sentences (numbered through the episode) after which a part ends: every chapter's
    last, a long enough paragraph's last where its text says so (content-defined, so parts
    stay the same when another part changes), and the last but one paragraph's, wherever the
    pause after it is long enough to cut in. The episode's last paragraph is a part of its own
    because its encoding is the one that waits for the last take: a render's tail is then one
    paragraph's encoding, not a few paragraphs'. `lead`: the samples the encoder and decoder
    delay the audio by."""
    needed = lead + CUT_SILENCE_FRAMES * frame
    cuts: set[int] = set()
    last_paragraph_end: int | None = None
    number = -1
    for index, chapter in enumerate(script.chapters):
        paragraph_chars = 0  # spoken so far in the current paragraph
        for position, sentence in enumerate(chapter.sentences):
            number += 1
            last_of_chapter = position == len(chapter.sentences) - 1
            paragraph_chars += len(sentence.spoken)
            spoken_in_paragraph = paragraph_chars
            if sentence.ends_paragraph:
                paragraph_chars = 0
            if last_of_chapter and index == len(script.chapters) - 1:
                continue  # the episode's end is the last part's end
            if round(_pause_ms(script, index, position, pauses) * rate / 1000) < needed:
                continue
            if sentence.ends_paragraph or last_of_chapter:
                last_paragraph_end = number
            if last_of_chapter or (sentence.ends_paragraph
                                   and spoken_in_paragraph >= MIN_CUT_PARAGRAPH_CHARS
                                   and _one_in(paragraphs_per_part, sentence.text)):  # fmt: skip
                cuts.add(number)
    if last_paragraph_end is not None:
        cuts.add(last_paragraph_end)
    return cuts


def _one_in(every: int, text: str) -> bool:
    """Whether `text` is one of about one in `every` texts (by its digest, so always the same
    for the same text)."""
    return every == 1 or hashlib.sha256(text.encode()).digest()[0] % every == 0


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
    command, keywords = child_command([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args])
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              check=False, **keywords)  # fmt: skip
    except OSError as exc:
        raise ListenError(f"cannot run ffmpeg: {exc}") from None
    if done.returncode != 0:
        last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "")
        raise ListenError(f"ffmpeg failed: {last.strip()}")
    return done.stderr


def encoder_args(fmt: str, render: RenderConfig) -> list[str]:
    """ffmpeg's output options for a part of an episode in `fmt`, to be joined (`mix`)."""
    if fmt == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", render.mp3_bitrate,
                "-compression_level", str(MP3_ALGORITHM_QUALITY), "-f", "mp3",
                *PART_ARGS]  # fmt: skip
    if fmt == "m4a":
        # Without perceptual noise substitution: with it, ffmpeg's encoder turned a few of
        # espeak-ng's limited sibilants into clicks 3-7 dB above the input's true peak (at some
        # gains and not others), and iPods play PNS as a squeak (miraclx/freyr-js#359).
        # The "fast" coder rather than the default "twoloop": on the seed at 64 kbps mono it
        # encodes 4-7x faster, its error is 3-10 dB further below the speech in every band up
        # to 9 kHz (espeak-ng and joe), and it adds at most 1.4 dB to the true peak.
        return ["-c:a", "aac", "-b:a", render.aac_bitrate, "-aac_pns", "0", "-aac_coder", "fast",
                *adts.PART_ARGS]  # fmt: skip
    raise ListenError(f"unknown audio format {fmt!r} (use mp3 or m4a)")


def lame_kbps(fmt: str, render: RenderConfig) -> int | None:
    """The bit rate at which this process encodes `fmt` itself with libmp3lame, or None when
    ffmpeg encodes it (AAC; no libmp3lame here; a bit rate only ffmpeg can read)."""
    if fmt != "mp3" or not lame.available():
        return None
    return lame.parse_kbps(render.mp3_bitrate)


def encoder_identity(fmt: str, render: RenderConfig) -> list[str | int]:
    """What encodes `fmt`, with its settings (part of a part's cache key)."""
    if (kbps := lame_kbps(fmt, render)) is not None:
        return ["libmp3lame", lame.version(), kbps, MP3_ALGORITHM_QUALITY]
    return encoder_args(fmt, render)


def encode_stream(stream: Iterator[bytes], rate: int, out: Path, fmt: str,
                  render: RenderConfig) -> None:  # fmt: skip
    """Encode float32 sample bytes into `out`, a part of an episode in `fmt`."""
    if (kbps := lame_kbps(fmt, render)) is not None:
        lame.encode_file(stream, rate, out, kbps, MP3_ALGORITHM_QUALITY)
    else:
        pipe_to_ffmpeg(stream, rate, out, encoder_args(fmt, render))


def pipe_to_ffmpeg(stream: Iterator[bytes], rate: int, out: Path, args: Sequence[str]) -> None:
    command, keywords = child_command([
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-f", "f32le", "-ar", str(rate),
        "-ac", "1", "-i", "pipe:0", "-ac", "1", "-map_metadata", "-1", *args, str(out),
    ])  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors,
                                       **keywords)  # fmt: skip
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
    per core); return the audio and its timeline. `takes` may be a `TakeStream`'s: each part
    is mixed as soon as its own takes are made.

    The episode is mixed in parts (chapters, runs of paragraphs: `plan_timeline`), each
    normalized and encoded on its own and cached by everything it is made of, then joined at
    frame boundaries into one gapless file (MP3: `listen.mp3`; M4A: AAC parts as ADTS, put in
    the MP4 container as they are, `listen.adts`): a re-render after an edit encodes only the
    parts the edit touched."""
    if not len(takes):
        raise ListenError("nothing to narrate")
    # (Every take is made at the narrator's rate: any one made already tells it.)
    first_made = next((i for i in range(len(takes)) if _all_made(takes, i, i + 1)), 0)
    rate = takes[first_made].sample_rate
    voices = [voice for voice, _ in script.voiced_units]
    out = workdir / f"episode.{fmt}"
    stream = part_stream(fmt, rate)
    frame = stream.frame
    gaps = take_gaps_ms(script, render.pauses)
    ranges = part_ranges(script, render.pauses, rate, frame, stream.lead,
                         stream.paragraphs_per_part)  # fmt: skip
    keys: dict[int, str] = {}  # per part
    # Per part: where the frames it keeps are in its cached file, and how many.
    pieces: dict[int, tuple[int, int, int]] = {}
    templates: dict[int, Frames] = {}

    def place(number: int, span: Span, frames: Frames) -> None:
        last = number == len(ranges) - 1
        keep = len(frames.audio) if last else span.total_samples // frame
        if len(frames.audio) < keep or not keep:
            raise ListenError("the encoder wrote fewer frames than the audio needs")
        first, final = frames.audio[0], frames.audio[keep - 1]
        pieces[number] = (first[0], final[0] + final[1], keep)
        if number == 0:
            templates[0] = Frames(frames.data[: frames.audio[0][0]], frames.info, ())

    def encode(number: int, key: str, span: Span, part_takes: list[TakeRef],
               part_voices: list[str]) -> None:  # fmt: skip
        path = workdir / f"part-{number}{PART_SUFFIXES[stream.name]}"
        encode_normalized(part_takes, span, part_voices, script.voice, cache, render, fmt, path)
        data = path.read_bytes()
        path.unlink()
        frames = stream.parse(data)  # (a damaged encode fails here, before it is cached)
        stored = cache.store_part(key, data, functools.partial(_parses, stream), stream.name)
        if stored is not data:  # another process stored this part first: its bytes are used
            frames = stream.parse(stored)
        cache.store_part_index(key, frame_index(frames), stream.name)
        place(number, span, frames)

    # Each part is mixed as soon as its takes are in (the later ones may still be being
    # spoken), and encoded beside the others, each in a thread of its own (`encode_stream`).
    # Parts whose takes are all made go first: after an edit, the cached parts are read while
    # the edited one's take is still being spoken. The rest follow in order.
    order = sorted(range(len(ranges)), key=lambda n: not _all_made(takes, *ranges[n]))
    encoding = []
    with ThreadPoolExecutor(max(1, jobs or default_jobs())) as pool:
        try:
            for number in order:
                first, end = ranges[number]
                part_takes = [takes[index] for index in range(first, end)]
                span = lay_out_part([t.samples for t in part_takes], gaps[first:end], rate,
                                    frame, last=number == len(ranges) - 1)  # fmt: skip
                part_voices = voices[first:end]
                key = part_key(part_takes, span, part_voices, script.voice, render, fmt)
                keys[number] = key
                if (frames := _cached_part(cache, key, stream)) is not None:
                    place(number, span, frames)
                else:
                    encoding.append(pool.submit(encode, number, key, span, part_takes,
                                                part_voices))  # fmt: skip
            for job in encoding:
                job.result()
        except BaseException:
            for job in encoding:
                job.cancel()
            raise
    timeline = plan_timeline(script, [t.samples for t in takes], rate, render.pauses, frame,
                             stream.lead, stream.paragraphs_per_part)  # fmt: skip
    # Joined one part at a time, so that the episode is never held in memory.
    joined = out if fmt == "mp3" else workdir / f"episode{PART_SUFFIXES[stream.name]}"
    with joined.open("wb") as file:
        if fmt == "mp3":
            count = sum(kept for _, _, kept in pieces.values())
            size = sum(end - start for start, end, _ in pieces.values())
            file.write(info_frame(templates[0], count, size, timeline.total_samples, rate))
        for number in range(len(ranges)):
            data = cache.lookup_part(keys[number], stream.name)
            if data is None:
                raise ListenError("an encoded part left the take cache during the render")
            start, end, _ = pieces[number]
            file.write(data[start:end])
    if joined != out:
        run_ffmpeg(adts.mux_command(joined, rate, out))
        joined.unlink()
    return MixedAudio(path=out, format=fmt, timeline=timeline, encoded=len(encoding))


#: ffmpeg's MP3 muxer options for a part, where ffmpeg encodes it: an Info frame (its delay and
#: padding tell the decoder what to trim when the part is measured), no ID3 tag, nothing that
#: varies by build.
PART_ARGS = ("-write_xing", "1", "-id3v2_version", "0", "-fflags", "+bitexact")
#: Changes whenever what a part's key stands for changes.
PART_REVISION = 1


def part_key(takes: Sequence[TakeRef], span: Span, voices: Sequence[str], narrator: str,
             render: RenderConfig, fmt: str) -> str:  # fmt: skip
    """Everything a part's encoded audio is made of: its takes and where they lie, its voices,
    the loudness targets, the encoder's settings."""
    blob = json.dumps({
        "revision": PART_REVISION, "format": fmt, "encoder": encoder_identity(fmt, render),
        "loudness": render.loudness_lufs, "true_peak": render.true_peak_db,
        "takes": [[t.key, t.sample_rate] for t in takes], "starts": span.starts,
        "length": span.total_samples, "voices": voices, "narrator": narrator,
    }, sort_keys=True)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()


def _all_made(takes: Sequence[TakeRef], first: int, end: int) -> bool:
    """Whether takes[first:end] are all there to read without waiting (a stream's are read as
    they are made)."""
    is_made = getattr(takes, "is_made", None)
    return is_made is None or all(is_made(index) for index in range(first, end))


def _parses(stream: PartStream, data: bytes) -> bool:
    try:
        stream.parse(data)
    except ListenError:
        return False
    return True


def _cached_part(cache: TakeCache, key: str, stream: PartStream) -> Frames | None:
    """A cached part's frames, from its stored frame index when that was made from these very
    bytes, else parsed (and the index stored); None if the part is missing or damaged."""
    data = cache.lookup_part(key, stream.name)
    if data is None:
        return None
    index = cache.lookup_part_index(key, stream.name)
    if index is not None and (frames := frames_from_index(data, index)) is not None:
        return frames
    try:
        frames = stream.parse(data)
    except ListenError:  # damaged: encode it again
        return None
    cache.store_part_index(key, frame_index(frames), stream.name)
    return frames


def encode_normalized(
    takes: Sequence[TakeRef], span: Timeline | Span, voices: Sequence[str], narrator: str,
    cache: TakeCache, render: RenderConfig, fmt: str, out: Path,
) -> None:  # fmt: skip
    """Normalize and encode takes laid out as `span` into `out`, a part of an episode.

    The plan aims past what the encoder is known to do (ENCODER_LOUDNESS_SHIFT_LU). LAME
    does that so evenly that the plan is the measurement (MEASURED_FORMATS); an AAC file is
    measured with ffmpeg's ebur128 and, if it still misses the target, encoded once more with
    the measured error planned in (up to ENCODE_ATTEMPTS; the closest attempt is kept)."""
    rate = takes[0].sample_rate
    target = render.loudness_lufs - ENCODER_LOUDNESS_SHIFT_LU[fmt]
    ceiling_db = render.true_peak_db - ENCODER_PEAK_OVERSHOOT_DB[fmt]
    take_gains, summary = match_voices(voices, narrator, takes, span, cache, target,
                                       10 ** (ceiling_db / 20))  # fmt: skip
    best: tuple[float, Path] | None = None  # the measured attempt closest to the targets
    for attempt in range(ENCODE_ATTEMPTS):
        gains = plan_gains(summary, target, 10 ** (ceiling_db / 20))
        stream = normalized_stream(takes, span, cache, gains, summary.group, take_gains)
        encode_stream(stream, rate, out, fmt, render)
        if fmt not in MEASURED_FORMATS:
            return
        # AAC's overshoot between samples is larger than MP3's: measure its true peak.
        true_peak = fmt == "m4a"
        result = measure_file(out, true_peak=true_peak)
        allowance = 0.0 if true_peak else INTER_SAMPLE_ALLOWANCE_DB
        error_lu = render.loudness_lufs - result.integrated_lufs
        overshoot_db = result.peak_db + allowance - render.true_peak_db
        if abs(error_lu) <= LOUDNESS_TOLERANCE_LU and overshoot_db <= 0:
            if best is not None:
                best[1].unlink()
            return
        # AAC's overshoot varies from one encode to the next (a lower ceiling has given a
        # higher peak), so a correction can land further off: the closest attempt is kept.
        miss = max(abs(error_lu) - LOUDNESS_TOLERANCE_LU, 0.0) + max(overshoot_db, 0.0)
        if best is None or miss < best[0]:
            kept = out.with_name(f"{out.name}.attempt-{attempt}")
            out.replace(kept)
            if best is not None:
                best[1].unlink()
            best = (miss, kept)
        target += error_lu
        if overshoot_db > 0:
            ceiling_db -= overshoot_db + 0.3
    if best is not None:
        best[1].replace(out)
