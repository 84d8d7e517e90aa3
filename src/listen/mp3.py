"""MP3 parts joined at frame boundaries into one gapless file.

An episode is encoded in parts (`mix`: a chapter, or a run of paragraphs), each part on its own,
so that a re-render after an edit encodes only the parts that changed. Each part starts on the
episode's frame grid (its length is a whole number of frames, except the last's), and ends in
a pause. An encoder delays its output by ENCODER_DELAY + DECODER_DELAY samples and pads its
last frame, so a part's encoded frames cover its samples shifted by that delay, plus a frame or
two of the pause that follows: keeping exactly `length / frame` of them puts every part's audio
where the whole episode's encode would have put it; the samples dropped at a join are silence,
and the next part's own lead-in is the same silence. Frames are independent of what comes
before them in the file (each part's first frame borrows nothing from the bit reservoir), so
the joined stream decodes cleanly.

The joined file opens with one Info frame (Xing/LAME header, as LAME and ffmpeg write it) for
the whole episode: its frame and byte counts, seek table, and the encoder delay and padding
that gapless decoders trim, so that the decoded episode is exactly its planned samples and
chapter times hold to the sample.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from listen.errors import ListenError

#: LAME's own delay, and the decoder's (a gapless decoder trims both at the start).
ENCODER_DELAY = 576
DECODER_DELAY = 529

_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
#: Every sample rate MP3 has (MPEG-1, 2 and 2.5).
SAMPLE_RATES = tuple(sorted(rate for rates in _RATES.values() for rate in rates))


def frame_samples(rate: int) -> int:
    """Samples per Layer III frame: 1152 for MPEG-1 rates, 576 for MPEG-2 and 2.5."""
    return 1152 if rate >= 32000 else 576


@dataclass(frozen=True)
class Frames:
    """An encoder's output: its Info frame (None if it wrote none) and its audio frames, as
    (offset, length) in `data`."""

    data: bytes
    info: tuple[int, int] | None
    audio: tuple[tuple[int, int], ...]

    def audio_bytes(self, count: int | None = None) -> bytes:
        """The first `count` audio frames (all if None), as they are in the file."""
        frames = self.audio if count is None else self.audio[:count]
        if not frames:
            return b""
        return self.data[frames[0][0] : frames[-1][0] + frames[-1][1]]


_HEADER = struct.Struct(">I")


def _frame_length(header: int) -> int | None:
    if header >> 21 != 0x7FF or (header >> 17) & 3 != 1:  # sync, Layer III
        return None
    version, bitrate, rate = (header >> 19) & 3, (header >> 12) & 15, (header >> 10) & 3
    if version == 1 or bitrate in (0, 15) or rate == 3:
        return None
    kbps = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[bitrate]
    per_frame = 144 if version == 3 else 72
    return per_frame * kbps * 1000 // _RATES[version][rate] + ((header >> 9) & 1)


def _xing_offset(data: bytes, offset: int) -> int:
    """Where an Info/Xing tag would start in the frame at `offset` (after its side info)."""
    header = int.from_bytes(data[offset : offset + 4], "big")
    mpeg1, mono = (header >> 19) & 3 == 3, (header >> 6) & 3 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return offset + 4 + side_info


def parse_frames(data: bytes) -> Frames:
    """The frames of an MP3 stream with no ID3 tag (as `mix` has its parts written)."""
    offset, frames = 0, []
    lengths: dict[int, int | None] = {}  # a stream has a header or two, repeated
    while offset + 4 <= len(data):
        (header,) = _HEADER.unpack_from(data, offset)
        length = lengths.get(header, -1)
        if length == -1:
            length = lengths[header] = _frame_length(header)
        if length is None or offset + length > len(data):
            raise ListenError("the encoder wrote a damaged MP3 frame")
        frames.append((offset, length))
        offset += length
    if offset != len(data) or not frames:
        raise ListenError("the encoder wrote no whole MP3 frames")
    first = _xing_offset(data, frames[0][0])
    if data[first : first + 4] in (b"Info", b"Xing"):
        return Frames(data, frames[0], tuple(frames[1:]))
    return Frames(data, None, tuple(frames))


#: A frame index: its layout's revision, then (as little-endian uint32) the data's length and
#: CRC-32, the Info frame's offset and length (0, 0 if none), then every audio frame's offset
#: and the end of the last.
_INDEX_MAGIC = b"LFX1"


def frame_index(frames: Frames) -> bytes:
    """Where `frames` lie in their data, compactly: stored beside a cached part, it spares a
    re-render walking every frame header of every unchanged part (a 2-hour episode has
    300,000), and it is only ever used on the very bytes it was made from."""
    info = frames.info or (0, 0)
    ends = [frames.audio[-1][0] + frames.audio[-1][1]] if frames.audio else []
    fields = [len(frames.data), zlib.crc32(frames.data), *info,
              *(offset for offset, _ in frames.audio), *ends]  # fmt: skip
    return _INDEX_MAGIC + np.asarray(fields, "<u4").tobytes()


def frames_from_index(data: bytes, index: bytes) -> Frames | None:
    """`data`'s frames as `index` (`frame_index`) records them; None if the index was not
    made from these bytes, or is damaged."""
    if not index.startswith(_INDEX_MAGIC) or (len(index) - len(_INDEX_MAGIC)) % 4:
        return None
    fields = np.frombuffer(index, "<u4", offset=len(_INDEX_MAGIC)).astype(np.int64)
    if len(fields) < 6 or fields[0] != len(data) or fields[1] != zlib.crc32(data):
        return None
    info_offset, info_length = int(fields[2]), int(fields[3])
    bounds = fields[4:]
    lengths = np.diff(bounds)
    if bounds[-1] != len(data) or np.any(lengths <= 0):
        return None
    info = (info_offset, info_length) if info_length else None
    return Frames(data, info, tuple(zip(bounds[:-1].tolist(), lengths.tolist(), strict=True)))


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16 (ANSI, reflected), the checksum of LAME's tag."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def info_frame(template: Frames, frames: int, audio_bytes: int, samples: int,
               rate: int) -> bytes:  # fmt: skip
    """An Info frame for a stream of `frames` audio frames (`audio_bytes` long) that decodes
    to exactly `samples` samples: `template`'s (an encode with these settings), its counts,
    seek table, delay and padding rewritten."""
    if template.info is None:
        raise ListenError("the encoder wrote no Info frame")
    start, length = template.info
    frame = bytearray(template.data[start : start + length])
    tag = _xing_offset(frame, 0)
    flags = struct.unpack(">I", frame[tag + 4 : tag + 8])[0]
    if flags & 7 != 7:  # frames, bytes and seek table: ffmpeg and LAME write all three
        raise ListenError("the encoder's Info frame has no frame count or seek table")
    total = length + audio_bytes
    frame[tag + 8 : tag + 16] = struct.pack(">II", frames, total)
    # Constant bit rate: the seek table is a straight line through the file.
    frame[tag + 16 : tag + 116] = bytes(i * 256 // 100 for i in range(100))
    lame = tag + 116 + (4 if flags & 8 else 0)
    padding = frames * frame_samples(rate) - ENCODER_DELAY - samples
    if not 0 <= padding < 4096:
        raise ListenError("the MP3 parts do not add up to the episode")
    delays = (ENCODER_DELAY << 12) | padding
    frame[lame + 21 : lame + 24] = delays.to_bytes(3, "big")
    frame[lame + 28 : lame + 32] = struct.pack(">I", total)
    frame[lame + 32 : lame + 34] = b"\0\0"  # music CRC: left unset (decoders do not use it)
    frame[lame + 34 : lame + 36] = crc16(bytes(frame[: lame + 34])).to_bytes(2, "big")
    return bytes(frame)
