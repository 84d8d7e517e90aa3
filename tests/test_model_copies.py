"""Neural models are opened from a copy onnxruntime optimized once (`listen.engines.onnx`):
made on first load into the user cache folder, the same graph (the same samples), and never
in the way: a damaged copy is made again, an unwritable cache falls back to the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from listen.config import SiteConfig
from listen.engines import load_engine, onnx
from listen.engines.hibari import HibariEngine
from listen.engines.onnx import optimized_copy_path
from listen.engines.piper import PiperEngine
from listen.voices import find_preset


@pytest.fixture
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def joe() -> PiperEngine:
    engine = load_engine(find_preset("joe", SiteConfig()))
    assert isinstance(engine, PiperEngine)
    return engine


def spoken(session: onnxruntime.InferenceSession) -> np.ndarray:
    """The model's audio for a fixed phoneme sequence, its noise off (Piper's is random)."""
    ids = np.array([[1, 0, 20, 0, 25, 0, 30, 0, 59, 0, 61, 0, 3, 0, 40, 0, 22, 0, 2]])
    return session.run(None, {"input": ids, "input_lengths": np.array([ids.shape[1]]),
                              "scales": np.array([0.0, 1.0, 0.0], np.float32)})[0]  # fmt: skip


def test_the_first_load_makes_the_copy_and_the_next_opens_it(model_cache: Path) -> None:
    first = joe()
    copies = list(model_cache.glob("*.onnx"))
    assert copies == [optimized_copy_path(first.model_path)]
    assert f"-ort{onnxruntime.__version__}-" in copies[0].name
    assert not list(model_cache.glob(".*"))  # no temp file left beside it
    second = joe()
    assert second.voice.session._model_path == str(copies[0])
    original = onnxruntime.InferenceSession(str(second.model_path),
                                            providers=["CPUExecutionProvider"])  # fmt: skip
    audio = spoken(second.voice.session)
    assert audio.size > 1000
    assert np.array_equal(audio, spoken(original))


def test_a_damaged_copy_is_set_aside_and_made_again(model_cache: Path) -> None:
    copy = optimized_copy_path(joe().model_path)
    copy.write_bytes(b"not a model")
    engine = joe()  # opened from the model itself
    assert engine.voice.session._model_path == str(engine.model_path)
    assert engine.synthesize("It still speaks.").size > 0
    assert not copy.exists()
    assert joe().voice.session._model_path == str(copy)
    assert copy.stat().st_size > 1_000_000


def test_a_cache_that_cannot_be_written_falls_back_to_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    engine = joe()
    assert engine.voice.session._model_path == str(engine.model_path)
    assert engine.synthesize("Spoken all the same.").size > 0


def test_heart_speaks_the_same_samples_from_its_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> None:
    preset = find_preset("heart", SiteConfig())
    with_copy = HibariEngine(preset)
    assert with_copy.tts.model_path == str(optimized_copy_path(with_copy.model_path))
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    without = HibariEngine(preset)
    assert without.tts.model_path == str(without.model_path)
    text = "The council met on Tuesday to vote on the new budget."
    assert np.array_equal(with_copy.synthesize(text), without.synthesize(text))


def test_a_cache_that_cannot_be_read_falls_back_to_the_model(
    monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> None:
    # (As a user's cache folder without search permission would; root reads every folder.)
    def unreadable(model: Path) -> Path:
        raise PermissionError(13, "Permission denied", str(model_cache))

    monkeypatch.setattr(onnx, "optimized_copy_path", unreadable)
    engine = joe()
    assert engine.voice.session._model_path == str(engine.model_path)
    assert engine.synthesize("Spoken all the same.").size > 0
