"""A Piper voice's decoder turns a sentence into audio a window of frames at a time.

Piper's models are VITS: a text encoder, a duration predictor and a flow make a latent sequence
at the frame rate (one frame is 256 samples for joe), and a HiFi-GAN decoder upsamples it to
audio. The decoder's activations are what a sentence costs in memory, in proportion to its
length: for joe about 0.23 MB a frame, 160 MB for an 8-second sentence, twice that for the two
sentences that two synthesis threads speak at once. Its convolutions see only a few frames
either side (joe's reach 11.8 frames; the context given is 13), so a long sentence is decoded in
windows, each with that much of its neighbours' frames as context: the very same samples, in
memory that no longer grows with the sentence.

The model is cut in two once per machine, with the `onnx` package, where the decoder's only
input leaves the flow. The two parts are made, optimized as `listen.engines.onnx` optimizes a
model, and checked once: a window's samples must equal a whole decode's. A model whose decoder
cannot be cut that way (another architecture, a multi-speaker decoder, an operator whose reach
is not known here) is run whole, as before.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from listen.atomic import atomic_path
from listen.engines import onnx as copies

if TYPE_CHECKING:
    import onnx
    import onnxruntime

log = logging.getLogger(__name__)

#: Changes whenever how a model is cut changes (the parts' and the plan's file names carry it).
CUT_REVISION = 1

#: Frames a decoder window speaks, besides its context. 256 of joe's frames are 3.0 s: a window
#: takes about 65 MB while it runs. Measured on joe's render of a 1,500-word article (two
#: threads): peak RSS about 510 MB decoded whole, 312-331 MB with 256 frames, 376 MB with 384;
#: CPU time 0-6% more with 256, the same with 384 (windows of long sentences fit the caches
#: better than the whole does, which pays for their context).
WINDOW_FRAMES = 256

#: The shortest window a sentence is cut into so that its windows can be decoded at once on
#: idle cores: each window decodes its context besides its own frames (13 either side for
#: joe), so windows much shorter cost more than the second core gives. Measured with joe
#: (every third unit of the seed, one at a time on two cores): 4.04-4.26 s with windows of at
#: least 32 or 64 frames on two threads, against 4.10-4.94 s for whole sentences on a session
#: of two onnxruntime threads.
MIN_PARALLEL_FRAMES = 32

#: Operators that act on each sample alone: they change neither the rate nor the reach.
POINTWISE = frozenset({"Add", "Sub", "Mul", "Div", "LeakyRelu", "Relu", "Tanh", "Sigmoid",
                       "Identity", "Unsqueeze", "Squeeze"})  # fmt: skip


@dataclass(frozen=True)
class DecoderCut:
    """Where a model is cut and what its decoder does with a frame."""

    #: The name of the latent tensor the decoder takes (batch, channels, frames).
    latent: str
    #: Its channels.
    channels: int
    #: Samples per frame.
    hop: int
    #: Frames either side a decoder window needs to speak its own frames exactly.
    context: int


@dataclass(frozen=True)
class Window:
    """Frames [start, stop) are spoken by decoding [start - before, stop + after)."""

    start: int
    stop: int
    before: int
    after: int


def frame_windows(frames: int, context: int, size: int = WINDOW_FRAMES) -> list[Window]:
    """The windows that speak `frames` frames: as few as hold at most `size` frames each, all of
    about one length (an even split costs no more context than a short last window), each with
    up to `context` frames of context on both sides."""
    if frames <= size:
        return [Window(0, frames, 0, 0)]
    count = math.ceil(frames / size)
    bounds = [frames * n // count for n in range(count + 1)]
    return [Window(start, stop, min(context, start), min(context, frames - stop))
            for start, stop in itertools.pairwise(bounds)]  # fmt: skip


def decoder_reach(nodes: Sequence[onnx.NodeProto], latent: str) -> tuple[int, float] | None:
    """The decoder's samples per frame and how far, in frames, a sample depends on the latent
    either side of its own frame (an upper bound: an upsampling is taken to reach over its whole
    kernel); None when a node's effect on time is not known here. Nodes must come in the
    graph's order (ONNX's is topological); a node that joins branches reaches as far as the
    farthest."""
    from onnx import helper

    reach: dict[str, tuple[int, float]] = {latent: (1, 0.0)}  # tensor -> (rate, frames either side)
    output: tuple[int, float] | None = None
    for node in nodes:
        inputs = [reach[name] for name in node.input if name in reach]
        if not inputs:
            continue  # built from constants only
        rates = {rate for rate, _ in inputs}
        if len(rates) != 1:
            return None
        rate, frames = rates.pop(), max(far for _, far in inputs)
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type in POINTWISE:
            result = (rate, frames)
        elif node.op_type in ("Conv", "ConvTranspose") and node.input[0] in reach:
            (kernel,) = attributes.get("kernel_shape", [0]) or [0]
            (dilation,) = attributes.get("dilations", [1])
            (stride,) = attributes.get("strides", [1])
            pads = attributes.get("pads", [0, 0])
            if not kernel or attributes.get("group", 1) != 1 or len(pads) != 2:
                return None
            if node.op_type == "Conv":
                if stride != 1 or pads[0] + pads[1] != dilation * (kernel - 1):
                    return None  # not a length-keeping convolution
                result = (rate, frames + dilation * (kernel - 1) / 2 / rate)
            else:
                if dilation != 1 or kernel - pads[0] - pads[1] != stride:
                    return None  # not an exact upsampling by `stride`
                result = (rate * stride, frames + math.ceil(kernel / stride) / rate)
        else:
            return None
        for name in node.output:
            reach[name] = result
        output = result
    return output if output is not None and output[0] >= 2 else None


def find_cut(model: onnx.ModelProto) -> DecoderCut | None:
    """The cut of a Piper VITS model: the one tensor from outside that its decoder's nodes
    (`/dec/...`, as Piper's export names them) read, or None."""
    graph = model.graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    decoder = [node for node in graph.node if node.name.startswith("/dec/")]
    made_inside = {name for node in decoder for name in node.output}
    outside = {name for node in decoder for name in node.input
               if name and name not in made_inside and name not in shapes}  # fmt: skip
    outside -= {node.output[0] for node in graph.node if node.op_type == "Constant"}
    if len(outside) != 1 or len(graph.output) < 1:
        return None
    (latent,) = outside
    channels = {shapes[node.input[1]][1] for node in decoder if node.op_type == "Conv"
                and node.input[0] == latent and len(shapes.get(node.input[1], [])) == 3}
    if len(channels) != 1 or (found := decoder_reach(list(graph.node), latent)) is None:
        return None
    hop, frames = found
    return DecoderCut(latent, channels.pop(), hop, context=math.ceil(frames) + 1)


class WindowedVoice:
    """A session-like pair for `piper.PiperVoice`: `run` gives what the whole model's session
    gives for its audio output, made by the encoder part once and the decoder part a window at a
    time. Safe to run from several threads at once, as its two sessions are.

    With `parallel` above 1, one sentence's windows are decoded that many at a time (each on
    its own thread; onnxruntime runs outside the GIL), a sentence too short for two windows cut
    into shorter ones: what a single sentence to speak on idle cores needs, from the same
    one-thread sessions that several sentences at once use (`sharing`)."""

    def __init__(self, encoder: onnxruntime.InferenceSession,
                 decoder: onnxruntime.InferenceSession, cut: DecoderCut,
                 window_frames: int = WINDOW_FRAMES, parallel: int = 1) -> None:  # fmt: skip
        self.encoder, self.decoder, self.cut = encoder, decoder, cut
        self.window_frames = window_frames
        self.parallel = max(1, parallel)
        self._pool = (ThreadPoolExecutor(self.parallel, thread_name_prefix="listen-decoder")
                      if self.parallel > 1 else None)  # fmt: skip

    def sharing(self, parallel: int) -> WindowedVoice:
        """This voice's sessions, decoding `parallel` windows of a sentence at a time."""
        return WindowedVoice(self.encoder, self.decoder, self.cut, self.window_frames, parallel)

    def run(self, output_names: Sequence[str] | None,
            feeds: dict[str, np.ndarray]) -> list[np.ndarray]:  # fmt: skip
        (latent,) = self.encoder.run(None, feeds)
        return [self.decode(latent)]

    def windows(self, frames: int) -> list[Window]:
        """The windows a sentence of `frames` frames is decoded in: at most `window_frames`
        each, and with `parallel`, a multiple of `parallel` in number, but none shorter than
        MIN_PARALLEL_FRAMES (its context would cost more than sharing the work saves)."""
        size = self.window_frames
        if self.parallel > 1 and frames:
            count = -(-math.ceil(frames / size) // self.parallel) * self.parallel
            count = min(count, max(1, frames // MIN_PARALLEL_FRAMES))
            size = math.ceil(frames / count)
        return frame_windows(frames, self.cut.context, size)

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """The audio of `latent` (1, channels, frames): its windows' audio, joined in time."""
        hop = self.cut.hop

        def speak(window: Window) -> np.ndarray:
            frames = np.ascontiguousarray(latent[..., window.start - window.before:
                                                 window.stop + window.after])  # fmt: skip
            (audio,) = self.decoder.run(None, {self.cut.latent: frames})
            return audio[..., window.before * hop: (window.before + window.stop
                                                   - window.start) * hop]  # fmt: skip

        windows = self.windows(latent.shape[-1])
        if self._pool is None or len(windows) == 1:
            pieces = [speak(window) for window in windows]
        else:
            pieces = list(self._pool.map(speak, windows))
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=-1)


def open_windowed(model: Path, open_part: Callable[[Path], onnxruntime.InferenceSession]
                  ) -> WindowedVoice | None:  # fmt: skip
    """`model` as a `WindowedVoice` whose parts are opened by `open_part(path)`, or None when it
    cannot be cut (then it is opened whole). The parts are made the first time, beside the
    optimized copies."""
    try:
        plan_path, encoder, decoder = _part_paths(model)
    except OSError as exc:  # a cache folder that cannot be read
        log.debug("%s is run whole: %s", model.name, exc)
        return None
    if (cut := _cut_of(model, plan_path, encoder, decoder)) is None:
        return None
    try:
        return WindowedVoice(open_part(encoder), open_part(decoder), cut)
    except Exception as exc:  # damaged parts: made again at the next load
        log.warning("parts of %s unreadable (%s); using the model", model.name, exc)
        for path in (plan_path, encoder, decoder):
            with contextlib.suppress(OSError):
                path.unlink()
        return None


def _part_paths(model: Path) -> tuple[Path, Path, Path]:
    """The plan's, the encoder's and the decoder's files, named after the optimized copy."""
    copy = copies.optimized_copy_path(model)
    stem = f"{copy.stem}-cut{CUT_REVISION}"
    return (copy.with_name(f"{stem}-plan.json"), copy.with_name(f"{stem}-encoder.onnx"),
            copy.with_name(f"{stem}-decoder.onnx"))  # fmt: skip


def _cut_of(model: Path, plan_path: Path, encoder: Path, decoder: Path) -> DecoderCut | None:
    """The cut, with the parts made now if the plan is not there; None if the model is not to
    be cut, or the parts cannot be had (no `onnx`, a read-only cache)."""
    try:
        if not plan_path.is_file():
            _make_parts(model, plan_path, encoder, decoder)
        plan = json.loads(plan_path.read_text("utf-8"))
        if not plan.get("cut") or not (encoder.is_file() and decoder.is_file()):
            return None
        return DecoderCut(**plan["cut"])
    except (OSError, ValueError, TypeError) as exc:
        log.debug("%s is run whole: %s", model.name, exc)
        return None


def _make_parts(model: Path, plan_path: Path, encoder: Path, decoder: Path) -> None:
    """Cut `model`, optimize both parts and check the decoder's windows; the plan, written last,
    names the cut (or says there is none, so that the next load does not try again)."""
    try:
        import onnx
    except ImportError:
        return  # nothing is written: with `onnx` installed later, the next load cuts
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        cut = _cut_into(onnx.load(str(model)), plan_path.parent, encoder, decoder)
    except OSError:
        raise
    except Exception as exc:  # a model onnx cannot read or cut: it is run whole
        log.debug("%s cannot be cut: %s", model.name, exc)
        cut = None
    with atomic_path(plan_path) as tmp:
        tmp.write_text(json.dumps({"cut": asdict(cut) if cut else None}), "utf-8")


def _cut_into(source: onnx.ModelProto, folder: Path, encoder: Path,
              decoder: Path) -> DecoderCut | None:  # fmt: skip
    """Write `source`'s two parts, optimized, to `encoder` and `decoder`; the cut, if it is
    found and its windows speak what the whole decoder does."""
    import onnx
    import onnx.utils

    if (cut := find_cut(source)) is None:
        return None
    if not any(value.name == cut.latent for value in source.graph.value_info):
        # (The extractor types the tensors it cuts at; a model exported without shapes has
        # no entry for it. The decoder's convolutions take floats.)
        source.graph.value_info.append(
            onnx.helper.make_tensor_value_info(cut.latent, onnx.TensorProto.FLOAT, None))
    with tempfile.TemporaryDirectory(prefix=".cut-", dir=folder) as scratch:
        extractor = onnx.utils.Extractor(source)
        inputs = [value.name for value in source.graph.input]
        halves = ((encoder, extractor.extract_model(inputs, [cut.latent])),
                  (decoder, extractor.extract_model([cut.latent], [source.graph.output[0].name])))
        for target, half in halves:
            raw = Path(scratch) / target.name
            onnx.save(half, str(raw))
            copies.make_optimized(raw, target)
            if not target.is_file():
                raise OSError(f"no optimized {target.name}")
    if not windows_match(decoder, cut):
        log.warning("windowed decoding of %s differs; it is run whole", decoder.name)
        return None
    return cut


def windows_match(decoder: Path, cut: DecoderCut) -> bool:
    """Whether windows of `decoder`'s input, each with `cut.context` frames of context, speak the
    same samples as the whole input (within half an int16 step: windows of another length may
    sum a convolution's products in another order)."""
    import onnxruntime

    session = copies.cpu_session(decoder, onnxruntime.SessionOptions())
    frames = 4 * cut.context + 24
    shape = (1, cut.channels, frames)
    latent = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    (whole,) = session.run(None, {cut.latent: latent})
    windowed = WindowedVoice(session, session, cut, window_frames=frames // 3).decode(latent)
    return (whole.shape == windowed.shape and whole.shape[-1] == frames * cut.hop
            and float(np.max(np.abs(whole - windowed))) < 0.5 / 32767)  # fmt: skip
