"""MP3 encoding in this process with libmp3lame, the library ffmpeg's own `libmp3lame` encoder
wraps, called through ctypes.

Given what ffmpeg gives it (float samples scaled to 16-bit range, the bit rate, the algorithm
quality, the bit reservoir on), LAME writes the same audio frames, bit for bit, as
`ffmpeg -c:a libmp3lame` does (`tests/test_lame.py` compares them), without an ffmpeg process
per encoded part: no start-up for each (tens of ms), no second copy of the samples through a
pipe, and none of the ~50 MB that every ffmpeg running at once adds to a render. ctypes lets go
of the GIL for each call, so parts encode on every core while Python mixes the next.

The file opens with LAME's own Info frame (Xing and LAME tags), as the `lame` program writes
it: LAME leaves a frame's room for it at the start of its output and fills it in at the end.
Where no libmp3lame can be loaded (`available()` is false), `listen.mix` encodes with ffmpeg.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from listen.errors import ListenError
from listen.mp3 import SAMPLE_RATES

#: The library's names: its soname on Linux, then macOS's and Windows's.
_NAMES = ("libmp3lame.so.0", "libmp3lame.0.dylib", "libmp3lame.dylib", "libmp3lame.dll")
_MONO = 3  # LAME's MPEG_mode MONO
# lame_init and lame_init_params fill tables shared by every encoder in the process on first use.
_INIT_LOCK = threading.Lock()


@functools.cache
def _library() -> ctypes.CDLL | None:
    for name in _NAMES:
        if (lib := _load(name)) is not None:
            return lib
    # (find_library runs ldconfig or a compiler: only when the usual names fail.)
    found = ctypes.util.find_library("mp3lame")
    return _load(found) if found else None


def _load(name: str) -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(lib, "lame_get_lametag_frame"):  # LAME 3.98 and newer
        return None
    return _declare(lib)


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    handle, setting = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int]
    lib.lame_init.restype = handle
    lib.lame_init.argtypes = []
    for name in ("lame_set_num_channels", "lame_set_mode", "lame_set_in_samplerate",
                 "lame_set_out_samplerate", "lame_set_quality", "lame_set_brate",
                 "lame_set_bWriteVbrTag", "lame_set_disable_reservoir"):  # fmt: skip
        getattr(lib, name).argtypes = setting
        getattr(lib, name).restype = ctypes.c_int
    lib.lame_init_params.argtypes = [handle]
    lib.lame_close.argtypes = [handle]
    samples, out = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int], [ctypes.c_char_p, ctypes.c_int]
    lib.lame_encode_buffer_float.argtypes = [handle, *samples, *out]
    lib.lame_encode_flush.argtypes = [handle, *out]
    lib.lame_get_lametag_frame.argtypes = [handle, ctypes.c_char_p, ctypes.c_size_t]
    lib.lame_get_lametag_frame.restype = ctypes.c_size_t
    lib.get_lame_version.restype = ctypes.c_char_p
    lib.get_lame_version.argtypes = []
    return lib


def available() -> bool:
    """Whether libmp3lame can be loaded in this process."""
    return _library() is not None


@functools.cache
def version() -> str:
    lib = _library()
    return lib.get_lame_version().decode() if lib is not None else ""


def parse_kbps(bitrate: str) -> int | None:
    """An ffmpeg bit rate ("64k", "96000") in whole kbit/s, as ffmpeg hands it to LAME; None
    for a spelling only ffmpeg reads."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kK]?)\s*", bitrate)
    if not match:
        return None
    bits = float(match.group(1)) * (1000 if match.group(2) else 1)
    return int(bits) // 1000 or None


class Mp3Encoder:
    """One CBR mono MP3 stream: `encode` float samples (in [-1, 1]) as they come, `finish`
    for the last frames, then `info_frame` for the frame that belongs at the start."""

    def __init__(self, rate: int, kbps: int, quality: int) -> None:
        lib = _library()
        if lib is None:
            raise ListenError("libmp3lame is not installed")
        if rate not in SAMPLE_RATES:  # (LAME would resample it)
            raise ListenError(f"MP3 has no {rate} Hz sample rate")
        self._lib = lib
        with _INIT_LOCK:
            self._handle = lib.lame_init()
        if not self._handle:
            raise ListenError("libmp3lame could not start an encoder (out of memory?)")
        for name, value in (("num_channels", 1), ("mode", _MONO), ("in_samplerate", rate),
                            ("out_samplerate", rate), ("quality", quality), ("brate", kbps),
                            ("bWriteVbrTag", 1), ("disable_reservoir", 0)):  # fmt: skip
            getattr(lib, f"lame_set_{name}")(self._handle, value)
        with _INIT_LOCK:
            failed = lib.lame_init_params(self._handle) < 0
        if failed:
            self.close()
            raise ListenError(f"libmp3lame cannot encode {rate} Hz at {kbps} kbit/s")
        self._buffer = ctypes.create_string_buffer(7200)

    def encode(self, samples: np.ndarray) -> bytes:
        # LAME's float input is on the 16-bit scale, which is how ffmpeg hands samples over.
        scaled = np.ascontiguousarray(samples, dtype=np.float32) * np.float32(32768)
        self._reserve(int(1.25 * len(scaled)) + 7200)
        written = self._lib.lame_encode_buffer_float(
            self._handle, scaled.ctypes.data, scaled.ctypes.data, len(scaled), self._buffer,
            len(self._buffer))  # fmt: skip
        return self._take(written)

    def finish(self) -> bytes:
        return self._take(self._lib.lame_encode_flush(self._handle, self._buffer,
                                                      len(self._buffer)))  # fmt: skip

    def info_frame(self) -> bytes:
        """The Info frame for what was encoded (call after `finish`)."""
        size = self._lib.lame_get_lametag_frame(self._handle, self._buffer, len(self._buffer))
        if not 0 < size <= len(self._buffer):
            raise ListenError("libmp3lame wrote no Info frame")
        return ctypes.string_at(self._buffer, size)

    def close(self) -> None:
        if self._handle:
            self._lib.lame_close(self._handle)
            self._handle = None

    def __enter__(self) -> Mp3Encoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reserve(self, size: int) -> None:
        if len(self._buffer) < size:
            self._buffer = ctypes.create_string_buffer(size)

    def _take(self, written: int) -> bytes:
        if written < 0:
            raise ListenError(f"libmp3lame failed to encode (error {written})")
        return ctypes.string_at(self._buffer, written)


def encode_file(chunks: Iterable[bytes], rate: int, out: Path, kbps: int, quality: int) -> None:
    """Encode a stream of float32 sample bytes into `out`: an Info frame, then the audio."""
    with Mp3Encoder(rate, kbps, quality) as encoder, out.open("wb") as file:
        for chunk in chunks:
            file.write(encoder.encode(np.frombuffer(chunk, dtype="<f4")))
        file.write(encoder.finish())
        tag = encoder.info_frame()
        # LAME's first frame is the room it left for this one, of the same size.
        if file.tell() < len(tag):
            raise ListenError("libmp3lame wrote no room for its Info frame")
        file.seek(0)
        file.write(tag)
