"""Stage 4, mix: takes -> one loudness-normalized, encoded episode with an exact timeline.

Takes are stitched with pydub (short fades at every join, silences between sentences,
paragraphs and chapters) and streamed into a WAV file, so the episode is never held in memory
twice. Loudness is measured while stitching (EBU R128, `listen.loudness`), set to the target with
one gain and a true-peak limiter, and streamed into ffmpeg to encode MP3 or AAC/M4A. Every
time in the timeline is counted in samples, never estimated.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from listen.config import Pauses, RenderConfig
from listen.errors import ListenError
from listen.loudness import LoudnessMeter, limiter_gain
from listen.script import Script
from listen.synthesize import Take

#: Fade at each end of a take, so that joins never click.
FADE_MS = 8
#: Silence after the last sentence, so players do not clip the final word.
TAIL_MS = 600
#: Encoded sample rate: 44.1 kHz MPEG-1 Layer III is what every podcast client plays.
OUTPUT_SAMPLE_RATE = 44100

#: Blocks of this many seconds are normalized at a time: memory stays flat with length.
BLOCK_SECONDS = 20
#: The limiter target sits this far under the configured true peak, for the lossy encoder's
#: own overshoot.
ENCODER_OVERSHOOT_DB = 0.5
#: An encoded episode this close to the loudness target is not encoded again.
LOUDNESS_TOLERANCE_LU = 0.2
#: How close a dry run must come to the loudness it aims at.
PLAN_TOLERANCE_LU = 0.05
#: A block whose sample peak stays under this share of the ceiling cannot reach it between
#: samples either (inter-sample peaks of band-limited speech stay well within 3 dB).
UNSAFE_SAMPLE_PEAK = 0.7

MIME_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


@dataclass(frozen=True)
class TimedSentence:
    text: str
    start_ms: int
    end_ms: int
    chapter: int


@dataclass(frozen=True)
class TimedChapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Timeline:
    chapters: tuple[TimedChapter, ...]
    sentences: tuple[TimedSentence, ...]
    duration_ms: int
    #: Samples of silence after each take, in order.
    pauses: tuple[int, ...]


@dataclass(frozen=True)
class MixedAudio:
    path: Path
    format: str
    timeline: Timeline

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


def _ms(samples: int, rate: int) -> int:
    return round(1000 * samples / rate)


def plan_timeline(
    script: Script, take_lengths: Sequence[int], sample_rate: int, pauses: Pauses
) -> Timeline:
    """Where every sentence and chapter lies, from the takes' sample counts."""
    sentences: list[TimedSentence] = []
    chapter_starts: list[int] = []
    pause_samples: list[int] = []
    position = 0
    lengths = iter(take_lengths)
    for index, chapter in enumerate(script.chapters):
        chapter_starts.append(0 if index == 0 else position)
        for number, sentence in enumerate(chapter.sentences):
            length = next(lengths)
            sentences.append(
                TimedSentence(
                    sentence.text,
                    _ms(position, sample_rate),
                    _ms(position + length, sample_rate),
                    index,
                )
            )
            position += length
            if number == len(chapter.sentences) - 1:
                gap = TAIL_MS if index == len(script.chapters) - 1 else pauses.chapter_ms
            elif sentence.ends_paragraph:
                gap = pauses.paragraph_ms
            else:
                gap = pauses.sentence_ms
            pause_samples.append(round(gap * sample_rate / 1000))
            position += pause_samples[-1]
    ends = [*chapter_starts[1:], position]
    chapters = tuple(
        TimedChapter(c.title, _ms(start, sample_rate), _ms(end, sample_rate))
        for c, start, end in zip(script.chapters, chapter_starts, ends, strict=True)
    )
    return Timeline(chapters, tuple(sentences), _ms(position, sample_rate), tuple(pause_samples))


def stitch_to_wav(takes: Sequence[Take], pauses: Sequence[int], path: Path) -> LoudnessMeter:
    """Write takes and silences to a WAV file one piece at a time, measuring loudness as it
    goes (the meter is returned)."""
    rate = takes[0].sample_rate
    meter = LoudnessMeter(rate)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for take, pause in zip(takes, pauses, strict=True):
            if take.sample_rate != rate:
                raise ListenError("takes of one episode must share a sample rate")
            segment = AudioSegment(
                data=take.samples.tobytes(), sample_width=2, frame_rate=rate, channels=1
            )
            fade = min(FADE_MS, len(segment) // 4)
            segment = segment.fade_in(fade).fade_out(fade)
            for piece in (segment.raw_data, b"\x00\x00" * pause):
                out.writeframes(piece)
                meter.feed(np.frombuffer(piece, dtype=np.int16) / 32768.0)
    return meter


def normalized_blocks(wav: Path, gain: float, ceiling: float) -> Iterator[np.ndarray]:
    """The WAV's samples times `gain`, true-peak limited to `ceiling`, in float32 blocks.
    Each block is limited with context on both sides, so block edges are seamless."""
    with wave.open(str(wav), "rb") as source:
        rate, total = source.getframerate(), source.getnframes()
        block, context = rate * BLOCK_SECONDS, rate // 20
        for start in range(0, total, block):
            low, high = max(0, start - context), min(total, start + block + context)
            source.setpos(low)
            x = np.frombuffer(source.readframes(high - low), dtype=np.int16) * (gain / 32768.0)
            if np.abs(x).max(initial=0.0) > ceiling * UNSAFE_SAMPLE_PEAK:
                x = x * limiter_gain(x, ceiling, rate)
            yield x[start - low : start - low + min(block, total - start)].astype(np.float32)


def limited_loudness(wav: Path, rate: int, gain: float, ceiling: float) -> float:
    meter = LoudnessMeter(rate)
    for block in normalized_blocks(wav, gain, ceiling):
        meter.feed(block)
    return meter.integrated()


def plan_gain(wav: Path, meter: LoudnessMeter, target_lufs: float, ceiling: float) -> float:
    """The gain that brings the episode to `target_lufs` after true-peak limiting. Limiting
    takes back a little of every gain step, so the gain is found by secant steps on dry runs
    (gain in dB against loudness is close to a straight line)."""
    measured = meter.integrated()
    if measured == -math.inf:
        raise ListenError("the episode is silent")
    points: list[tuple[float, float]] = []
    gain_db = target_lufs - measured
    for _ in range(4):
        loudness = limited_loudness(wav, meter.rate, 10 ** (gain_db / 20), ceiling)
        if abs(loudness - target_lufs) <= PLAN_TOLERANCE_LU:
            break
        points.append((gain_db, loudness))
        slope = 1.0
        if len(points) >= 2:
            (g0, l0), (g1, l1) = points[-2:]
            slope = min(max((l1 - l0) / (g1 - g0), 0.2), 1.0) if g1 != g0 else 1.0
        gain_db += (target_lufs - loudness) / slope
    return 10 ** (gain_db / 20)


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
        )
    except OSError as exc:
        raise ListenError(f"cannot run ffmpeg: {exc}") from None
    if done.returncode != 0:
        last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "")
        raise ListenError(f"ffmpeg failed: {last.strip()}")
    return done.stderr


def encoder_args(fmt: str, render: RenderConfig) -> list[str]:
    if fmt == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", render.mp3_bitrate, "-f", "mp3"]
    if fmt == "m4a":
        return ["-c:a", "aac", "-b:a", render.aac_bitrate, "-movflags", "+faststart", "-f", "mp4"]
    raise ListenError(f"unknown audio format {fmt!r} (use mp3 or m4a)")


def _encode_once(
    wav: Path, rate: int, gain: float, ceiling: float, out: Path, fmt: str, render: RenderConfig
) -> None:
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-f", "f32le", "-ar", str(rate),
        "-ac", "1", "-i", "pipe:0", "-ar", str(OUTPUT_SAMPLE_RATE), "-ac", "1",
        "-map_metadata", "-1", *encoder_args(fmt, render), str(out),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise ListenError(f"cannot run ffmpeg: {exc}") from None
        assert process.stdin is not None
        try:
            for block in normalized_blocks(wav, gain, ceiling):
                process.stdin.write(block.tobytes())
            process.stdin.close()
        except BrokenPipeError:
            pass
        if process.wait() != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise ListenError(f"ffmpeg failed: {lines[-1] if lines else 'no output'}")


@dataclass(frozen=True)
class LoudnessReport:
    integrated_lufs: float
    true_peak_db: float


def measure_file(path: Path) -> LoudnessReport:
    """EBU R128 integrated loudness and true peak of an encoded file, as ffmpeg's `ebur128`
    filter measures it on the decoded audio (the reference measurement)."""
    stderr = run_ffmpeg(
        [
            "-nostats",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            "ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ]
    )
    summary = stderr[stderr.rfind("Integrated loudness:") :]
    loudness = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not loudness or not peak:
        raise ListenError(f"ffmpeg could not measure the loudness of {path.name}")
    return LoudnessReport(float(loudness.group(1)), float(peak.group(1)))


def encode(wav: Path, meter: LoudnessMeter, out: Path, fmt: str, render: RenderConfig) -> None:
    """Normalize loudness and encode, streaming the samples through ffmpeg's stdin.

    A lossy encoder moves loudness and peaks a little (measured here: MP3 about -0.5 LU, AAC
    up to +2 dB of true peak), so the encoded file is measured with ffmpeg's ebur128 and, when
    it misses the target, encoded once more with the encoder's error planned in."""
    target = render.loudness_lufs
    ceiling_db = render.true_peak_db - ENCODER_OVERSHOOT_DB
    for _ in range(2):
        gain = plan_gain(wav, meter, target, 10 ** (ceiling_db / 20))
        _encode_once(wav, meter.rate, gain, 10 ** (ceiling_db / 20), out, fmt, render)
        result = measure_file(out)
        error_lu = render.loudness_lufs - result.integrated_lufs
        overshoot_db = result.true_peak_db - render.true_peak_db
        if abs(error_lu) <= LOUDNESS_TOLERANCE_LU and overshoot_db <= 0:
            return
        target += error_lu
        if overshoot_db > 0:
            ceiling_db -= overshoot_db + 0.1


def mix(
    script: Script, takes: Sequence[Take], render: RenderConfig, fmt: str, workdir: Path
) -> MixedAudio:
    """Stitch, normalize and encode into `workdir`; return the audio and its timeline."""
    if not takes:
        raise ListenError("nothing to narrate")
    rate = takes[0].sample_rate
    timeline = plan_timeline(script, [len(t.samples) for t in takes], rate, render.pauses)
    wav = workdir / "episode.wav"
    meter = stitch_to_wav(takes, timeline.pauses, wav)
    out = workdir / f"episode.{fmt}"
    encode(wav, meter, out, fmt, render)
    wav.unlink()
    return MixedAudio(path=out, format=fmt, timeline=timeline)
