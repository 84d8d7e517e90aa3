"""Neural models are opened from a copy onnxruntime optimized once (`listen.engines.onnx`),
and hibari's G2P reads its data from marshal copies (`listen.engines.assets`): made on first
load into the user cache folder, the same graph (the same samples) and the same data, and never
in the way: a damaged copy is made again, an unwritable cache falls back to the original."""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnxruntime
import pytest

from listen.config import SiteConfig, VoicePreset
from listen.engines import Engine, base, load_engine, onnx
from listen.engines.hibari import HibariEngine
from listen.engines.onnx import optimized_copy_path
from listen.engines.piper import PiperEngine
from listen.engines.vits import CUT_REVISION, WindowedVoice
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


def test_the_first_load_makes_the_parts_and_the_next_opens_them(model_cache: Path) -> None:
    """joe is cut into its encoder and its decoder (`listen.engines.vits`), each an optimized
    copy; the next load opens them, and they speak what the model itself does."""
    first = joe()
    stem = optimized_copy_path(first.model_path).stem
    parts = sorted(p.name for p in model_cache.glob("*.onnx"))
    assert parts == [f"{stem}-cut{CUT_REVISION}-decoder.onnx",
                     f"{stem}-cut{CUT_REVISION}-encoder.onnx"]  # fmt: skip
    assert f"-ort{onnxruntime.__version__}-" in stem
    assert not list(model_cache.glob(".*"))  # no temp file or folder left beside them
    second = joe()
    assert isinstance(second.voice.session, WindowedVoice)
    assert second.voice.session.encoder._model_path == str(model_cache / parts[1])
    assert second.voice.session.decoder._model_path == str(model_cache / parts[0])
    original = onnxruntime.InferenceSession(str(second.model_path),
                                            providers=["CPUExecutionProvider"])  # fmt: skip
    audio = spoken(second.voice.session)
    assert audio.size > 1000
    assert np.array_equal(audio, spoken(original))


def test_damaged_parts_are_set_aside_and_made_again(model_cache: Path) -> None:
    joe()
    (encoder,) = model_cache.glob("*-encoder.onnx")
    encoder.write_bytes(b"not a model")
    engine = joe()  # opened whole, from the model's optimized copy
    assert engine.voice.session._model_path == str(optimized_copy_path(engine.model_path))
    assert engine.synthesize("It still speaks.").size > 0
    assert not encoder.exists()
    again = joe()
    assert isinstance(again.voice.session, WindowedVoice)
    assert again.voice.session.encoder._model_path == str(encoder)
    assert encoder.stat().st_size > 1_000_000


def test_a_damaged_copy_is_set_aside_and_made_again(model_cache: Path) -> None:
    """(The copy of a model that is not cut: heart's, or a Piper model of another make.)"""
    model, options = joe().model_path, onnx.session_options(1)
    copy = optimized_copy_path(model)
    assert onnx.open_session(model, options)._model_path == str(copy)
    copy.write_bytes(b"not a model")
    assert onnx.open_session(model, options)._model_path == str(model)
    assert not copy.exists()
    assert onnx.open_session(model, options)._model_path == str(copy)
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


def test_heart_for_more_threads_shares_its_g2p(model_cache: Path,
        engines: Callable[[VoicePreset, int], Engine]) -> None:  # fmt: skip
    """An edit's hibari engine (two cores for its one sentence), made from a render's: its own
    session of two threads, the same G2P (what loading a hibari voice costs) and the same
    turns at it; the samples of an engine loaded for two threads."""
    preset = find_preset("heart", SiteConfig())
    one = engines(preset, 1)
    two = engines(preset, 2)
    assert isinstance(one, HibariEngine) and isinstance(two, HibariEngine)
    assert two.tts.g2p is one.tts.g2p and two._g2p_turn is one._g2p_turn
    assert two.tts.sess is not one.tts.sess
    assert [e.tts.sess.get_session_options().intra_op_num_threads for e in (one, two)] == [1, 2]
    text = "The council met on Tuesday to vote on the new budget."
    assert np.array_equal(two.synthesize(text), HibariEngine(preset, 2).synthesize(text))


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


G2P_SENTENCE = "The council's read-through of the 2025 budget was lively, said Ms. Ortiz."


def heart_g2p():  # type: ignore[no-untyped-def]
    """A new hibari G2P (which reads its data afresh), made the way `HibariEngine` has it."""
    from hibari.g2p import G2P

    HibariEngine(find_preset("heart", SiteConfig()))
    return G2P()


@pytest.mark.hibari
def test_heart_reads_its_g2p_data_from_marshal_copies(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hibari's lexicons and tagger are read from marshal copies made on first use: the same
    data (so the same phonemes), and no JSON read at all the next time."""
    import hibari.g2p

    first = heart_g2p()
    copies = sorted(p.name.split("-")[0] for p in model_cache.glob("*.marshal"))
    assert copies == ["lexicon_us_gold", "lexicon_us_silver", "tagger", "tokenizer_exceptions"]
    assert not list(model_cache.glob(".*"))  # no temp file left beside them
    read_json = hibari.g2p._load_json.reads
    for copy in model_cache.glob("*.marshal"):
        stem = copy.name.split("-")[0]
        name = next(n for n in os.listdir(hibari.g2p.ASSETS) if n.split(".")[0] == stem)
        assert marshal.loads(copy.read_bytes()) == read_json(name)

    def no_json(*args: object, **kwargs: object) -> object:
        raise AssertionError("JSON read although a marshal copy is there")

    monkeypatch.setattr(hibari.g2p, "json", SimpleNamespace(load=no_json))  # its reader's only
    second = hibari.g2p.G2P()
    assert second(G2P_SENTENCE) == first(G2P_SENTENCE) and first(G2P_SENTENCE)


@pytest.mark.hibari
def test_a_damaged_marshal_copy_is_made_again(model_cache: Path) -> None:
    expected = heart_g2p()(G2P_SENTENCE)
    assert len(list(model_cache.glob("*.marshal"))) == 4
    for copy in model_cache.glob("*.marshal"):
        copy.write_bytes(copy.read_bytes()[: len(copy.read_bytes()) // 2])
    assert heart_g2p()(G2P_SENTENCE) == expected
    for copy in model_cache.glob("*.marshal"):
        assert isinstance(marshal.loads(copy.read_bytes()), dict)


@pytest.mark.hibari
def test_g2p_data_without_a_writable_cache_is_read_from_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    assert heart_g2p()(G2P_SENTENCE)


def test_a_models_digest_is_remembered_until_the_file_is_written_again(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"first model" * 1000)
    first = base.model_digest(model)
    assert first == hashlib.sha256(model.read_bytes()).hexdigest()
    assert [p.read_text() for p in (model_cache / "digests").iterdir()] == [first]

    # A new process (a cleared memo) reads the digest instead of hashing the file again.
    base._remembered_digest.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(base, "file_digest", lambda _: pytest.fail("hashed again"))
        assert base.model_digest(model) == first

    # Rewritten with the same size and its old modification time: hashed again. (The kernel's
    # file times tick every few milliseconds: the change time must have moved on.)
    stat = model.stat()
    time.sleep(0.05)
    model.write_bytes(b"other model" * 1000)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert base.model_digest(model) == hashlib.sha256(model.read_bytes()).hexdigest() != first


def test_an_unwritable_cache_still_gives_the_digest(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(blocker))
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"model" * 1000)
    assert base.model_digest(model) == hashlib.sha256(model.read_bytes()).hexdigest()


def test_the_neural_voices_keep_no_memory_plan_per_sentence_length(model_cache: Path) -> None:
    """onnxruntime's memory plans are per input shape, and every sentence has its own: kept,
    they grew joe's render of a 2-hour article to 1166 MB (bench/render.py). Both voices still
    run the optimized copy, and hibari's own session is replaced by one of listen's."""
    piper = joe()
    hibari = load_engine(find_preset("heart", SiteConfig()))
    assert isinstance(hibari, HibariEngine)
    assert isinstance(piper.voice.session, WindowedVoice)
    for session in (piper.voice.session.encoder, piper.voice.session.decoder, hibari.tts.sess):
        assert not session.get_session_options().enable_mem_pattern
        assert session._model_path == str(model_cache / Path(session._model_path).name)
    # hibari speaks through the session listen opened (its own was set aside).
    runs = []
    session = hibari.tts.sess

    class Counted:
        def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            runs.append(args)
            return session.run(*args, **kwargs)

    hibari.tts.sess = Counted()
    assert hibari.synthesize("A short sentence to speak.").size > 10_000
    assert runs
