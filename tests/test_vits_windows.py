"""A Piper voice's decoder speaks a long sentence a window of frames at a time
(`listen.engines.vits`): the same samples as the whole model, in memory that does not grow with
the sentence."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from listen.config import SiteConfig, VoicePreset
from listen.engines import Engine, load_engine
from listen.engines.piper import PiperEngine
from listen.engines.vits import (
    WINDOW_FRAMES,
    WindowedVoice,
    decoder_reach,
    find_cut,
    frame_windows,
    open_windowed,
)
from listen.voices import find_preset

LONG_TEXT = ("The committee met on Tuesday to consider the proposal, and after a long debate "
             "that ran well past midnight it voted, by a narrow margin, to send the plan back "
             "to the council for another review, with a list of questions that the mayor's "
             "office must answer in writing before the end of the month.")  # fmt: skip


@pytest.fixture
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LISTEN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@given(frames=st.integers(1, 5000), context=st.integers(0, 40), size=st.integers(16, 600))
def test_windows_speak_every_frame_once_with_their_context(frames: int, context: int,
                                                           size: int) -> None:  # fmt: skip
    windows = frame_windows(frames, context, size)
    assert windows[0].start == 0 and windows[-1].stop == frames
    assert all(a.stop == b.start for a, b in itertools.pairwise(windows))
    assert len(windows) == math.ceil(frames / size)
    assert all(0 < w.stop - w.start <= size for w in windows)
    assert max(w.stop - w.start for w in windows) - min(w.stop - w.start for w in windows) <= 1
    for w in windows:
        if len(windows) == 1:
            assert (w.before, w.after) == (0, 0)  # a short sentence is decoded whole
        else:
            assert (w.before, w.after) == (min(context, w.start), min(context, frames - w.stop))


def joe() -> PiperEngine:
    engine = load_engine(find_preset("joe", SiteConfig()))
    assert isinstance(engine, PiperEngine) and isinstance(engine.voice.session, WindowedVoice)
    return engine


def noiseless_feeds(engine: PiperEngine, text: str) -> dict[str, np.ndarray]:
    """The model's inputs for `text` with its noise off (Piper's is random)."""
    ids = np.array([engine.voice.phonemes_to_ids(
        [p for sentence in engine.voice.phonemize(text) for p in sentence])])  # fmt: skip
    return {"input": ids, "input_lengths": np.array([ids.shape[1]]),
            "scales": np.array([0.0, 1.0, 0.0], np.float32)}  # fmt: skip


class CountedDecoder:
    """The decoder's session, with the frames of every run it is given kept."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session, self.frames = session, []  # type: list[int]

    def run(self, names, feeds):  # type: ignore[no-untyped-def]
        (latent,) = feeds.values()
        self.frames.append(latent.shape[-1])
        return self.session.run(names, feeds)


def test_a_long_sentence_is_decoded_in_windows_and_sounds_the_same(model_cache: Path) -> None:
    engine = joe()
    windowed = engine.voice.session
    counted = windowed.decoder = CountedDecoder(windowed.decoder)
    feeds = noiseless_feeds(engine, LONG_TEXT)
    (audio,) = windowed.run(None, feeds)
    whole = onnxruntime.InferenceSession(str(engine.model_path),
                                         providers=["CPUExecutionProvider"])  # fmt: skip
    (expected,) = whole.run(None, feeds)
    assert audio.shape == expected.shape and audio.size > 10 * 22050  # over ten seconds
    assert np.array_equal(engine_samples(audio), engine_samples(expected))
    # Decoded in several windows, none longer than a window and its context on both sides.
    assert len(counted.frames) == math.ceil(audio.size / windowed.cut.hop / WINDOW_FRAMES) >= 4
    assert max(counted.frames) <= WINDOW_FRAMES + 2 * windowed.cut.context
    # And through the engine as a render speaks (Piper's noise on): windows all the same.
    counted.frames.clear()
    assert engine.synthesize(LONG_TEXT).size > 10 * 22050
    assert len(counted.frames) >= 4
    assert max(counted.frames) <= WINDOW_FRAMES + 2 * windowed.cut.context


def engine_samples(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio.reshape(-1), -1.0, 1.0) * 32767.0).astype(np.int16)


def test_the_context_worked_out_is_what_the_same_samples_need(model_cache: Path) -> None:
    """With the context found in joe's graph, windows speak the whole decode's very samples;
    with half of it, they do not (so the comparison can tell)."""
    windowed = joe().voice.session
    cut = windowed.cut
    assert (cut.hop, cut.channels) == (256, 192)
    latent = np.random.default_rng(1).standard_normal((1, cut.channels, 700)).astype(np.float32)
    (whole,) = windowed.decoder.run(None, {cut.latent: latent})
    assert np.array_equal(windowed.decode(latent), whole)
    short = WindowedVoice(windowed.encoder, windowed.decoder,
                          dataclasses.replace(cut, context=cut.context // 2))
    assert not np.allclose(short.decode(latent), whole, atol=1 / 32767)


class ThreadedDecoder(CountedDecoder):
    """The decoder's session, with the frames and the thread of every run kept."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        super().__init__(session)
        self.threads: set[int] = set()

    def run(self, names, feeds):  # type: ignore[no-untyped-def]
        self.threads.add(threading.get_ident())
        return super().run(names, feeds)


@pytest.mark.parametrize("frames, windows", [(20, 1), (234, 2), (731, 4)])
def test_one_sentence_on_idle_cores_is_decoded_windows_side_by_side(
        model_cache: Path, frames: int, windows: int) -> None:  # fmt: skip
    """An edit's single sentence on two cores: its windows are decoded two at a time, from the
    same one-thread sessions, into the whole decode's very samples; a sentence too short to
    share stays one window."""
    windowed = joe().voice.session
    cut = windowed.cut
    latent = np.random.default_rng(frames).standard_normal((1, cut.channels, frames))
    latent = latent.astype(np.float32)
    (whole,) = windowed.decoder.run(None, {cut.latent: latent})
    two = windowed.sharing(2)
    assert (two.encoder, two.decoder, two.parallel) == (windowed.encoder, windowed.decoder, 2)
    counted = two.decoder = ThreadedDecoder(two.decoder)
    assert np.array_equal(two.decode(latent), whole)
    assert len(counted.frames) == windows
    spoken = two.windows(frames)  # (decoded in whatever order the threads took them)
    assert sorted(counted.frames) == sorted(w.stop - w.start + w.before + w.after for w in spoken)
    assert all(frames // windows <= w.stop - w.start <= -(-frames // windows) for w in spoken)
    # Two at a time: on two threads of the voice's own, the caller waiting.
    assert len(counted.threads) == min(windows, 2)
    assert threading.get_ident() not in counted.threads or windows == 1


def test_engines_for_any_threads_share_one_model(model_cache: Path,
        engines: Callable[[VoicePreset, int], Engine]) -> None:  # fmt: skip
    """A render's engine (one core a call) and an edit's (two cores for its one sentence) are
    one model: the second is made from the first without loading it again, and takes turns at
    the phonemizer with it."""
    preset = find_preset("joe", SiteConfig())
    one = engines(preset, 1)
    two = engines(preset, 2)
    assert isinstance(one, PiperEngine) and isinstance(two, PiperEngine)
    assert two.voice.session.encoder is one.voice.session.encoder
    assert two.voice.session.decoder is one.voice.session.decoder
    assert (one.voice.session.parallel, two.voice.session.parallel) == (1, 2)
    assert two._phonemizer_turn is one._phonemizer_turn
    assert engines(preset, 2) is two
    for session in (one.voice.session.encoder, one.voice.session.decoder):
        assert session.get_session_options().intra_op_num_threads == 1
    assert two.synthesize("A sentence spoken on two cores.").size > 22050


def test_without_onnx_the_model_is_run_whole(model_cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "onnx", None)  # (import onnx raises ImportError)
    engine = load_engine(find_preset("joe", SiteConfig()))
    assert isinstance(engine.voice.session, onnxruntime.InferenceSession)
    assert engine.synthesize("Spoken all the same.").size > 0
    assert not list(model_cache.glob("*-plan.json"))  # cut at a later load, with onnx back
    # A session's threads are fixed when it opens: an engine of two threads is loaded anew.
    assert engine.with_threads(2) is None
    two = load_engine(find_preset("joe", SiteConfig()), threads=2)
    assert two.voice.session.get_session_options().intra_op_num_threads == 2


# A model of another make: a toy "VITS" (embedding, then a decoder that upsamples by 4) with
# random weights, named as Piper's export names its nodes.

def conv(name: str, source: str, weight: np.ndarray, dilation: int = 1,
         transpose: int = 0) -> tuple[helper.NodeProto, list[TensorProto]]:  # fmt: skip
    kernel = weight.shape[-1]
    if transpose:
        pads = [(kernel - transpose) // 2, (kernel - transpose + 1) // 2]
        node = helper.make_node("ConvTranspose", [source, f"{name}.w"], [f"{name}_out"],
                                name=name, kernel_shape=[kernel], strides=[transpose],
                                pads=pads)  # fmt: skip
    else:
        pad = dilation * (kernel - 1) // 2
        node = helper.make_node("Conv", [source, f"{name}.w"], [f"{name}_out"], name=name,
                                kernel_shape=[kernel], dilations=[dilation],
                                pads=[pad, pad])  # fmt: skip
    return node, [numpy_helper.from_array(weight.astype(np.float32), f"{name}.w")]


def toy_voice(path: Path, decoder_ops: tuple[str, ...] = ()) -> Path:
    rng = np.random.default_rng(7)
    nodes = [helper.make_node("Gather", ["table", "input"], ["/emb/out"], name="/emb/Gather"),
             helper.make_node("Transpose", ["/emb/out"], ["/Transpose_latent"],
                              name="/Transpose", perm=[0, 2, 1])]  # fmt: skip
    weights = [numpy_helper.from_array(rng.standard_normal((40, 8)).astype(np.float32), "table")]
    source = "/Transpose_latent"
    for name, weight, dilation, transpose in (
        ("/dec/conv_pre/Conv", rng.standard_normal((6, 8, 5)), 1, 0),
        ("/dec/ups.0/ConvTranspose", rng.standard_normal((6, 4, 8)) * 0.3, 1, 4),
        ("/dec/resblocks.0/Conv", rng.standard_normal((4, 4, 3)) * 0.3, 3, 0),
        ("/dec/conv_post/Conv", rng.standard_normal((1, 4, 7)) * 0.3, 1, 0),
    ):
        node, tensors = conv(name, source, weight, dilation, transpose)
        nodes.append(node)
        weights += tensors
        source = node.output[0]
        if name.startswith("/dec/ups"):
            nodes.append(helper.make_node("LeakyRelu", [source], ["/dec/act"], name="/dec/act",
                                          alpha=0.1))  # fmt: skip
            source = "/dec/act"
    for op in decoder_ops:  # e.g. an operator whose effect on time is not known
        nodes.append(helper.make_node(op, [source, "", "/dec/scale"], [f"/dec/{op}_out"],
                                      name=f"/dec/{op}", mode="nearest"))  # fmt: skip
        weights.append(numpy_helper.from_array(np.array([1, 1, 1.0], np.float32), "/dec/scale"))
        source = f"/dec/{op}_out"
    nodes.append(helper.make_node("Tanh", [source], ["output"], name="/dec/Tanh"))
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("input", TensorProto.INT64, [1, None])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, None])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_a_model_of_another_make_is_cut_where_its_decoder_starts(
    model_cache: Path, tmp_path: Path
) -> None:
    model = toy_voice(tmp_path / "toy.onnx")
    cut = find_cut(onnx.load(str(model)))
    assert cut is not None and cut.latent == "/Transpose_latent"
    # conv_pre: 2 frames; the upsampling: 2; at 4 samples a frame, a kernel of 3 with dilation
    # 3: 3/4 frame; conv_post: 3/4 frame.
    assert (cut.channels, cut.hop) == (8, 4)
    assert decoder_reach(list(onnx.load(str(model)).graph.node), cut.latent) == (4, 5.5)
    assert cut.context == 7
    voice = open_windowed(model, lambda part: onnxruntime.InferenceSession(str(part)))
    assert voice is not None
    whole = onnxruntime.InferenceSession(str(model))
    ids = np.random.default_rng(3).integers(0, 40, (1, 3 * WINDOW_FRAMES + 17))
    (expected,) = whole.run(None, {"input": ids})
    (audio,) = voice.run(None, {"input": ids})
    assert audio.shape == expected.shape == (1, 1, ids.shape[1] * 4)
    assert np.max(np.abs(audio - expected)) < 0.5 / 32767


def test_a_model_whose_decoder_cannot_be_cut_is_run_whole(
    model_cache: Path, tmp_path: Path
) -> None:
    model = toy_voice(tmp_path / "resized.onnx", decoder_ops=("Resize",))
    assert find_cut(onnx.load(str(model))) is None
    assert open_windowed(model, lambda part: onnxruntime.InferenceSession(str(part))) is None
    # The plan says so, so that the next load does not try again; no part is written.
    (plan,) = model_cache.glob("*-plan.json")
    assert json.loads(plan.read_text()) == {"cut": None}
    assert not list(model_cache.glob("*.onnx")) and not list(model_cache.glob(".*"))
