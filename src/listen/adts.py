"""AAC parts joined at frame boundaries into one gapless M4A: `listen.mp3`'s scheme for AAC.

ffmpeg's AAC encoder opens its output with one frame of priming (ENCODER_DELAY samples,
which an MP4's edit list tells players to skip), and every frame's transform overlaps the
one before it. A part's length is a whole number of frames and it ends in a pause (at least
ENCODER_DELAY and two frames long, `mix.part_ends`), so keeping exactly `length / FRAME` of
its encoded frames, the priming frame first, puts its audio where one encode of the whole
episode would have: the frames dropped at a join held the pause's last samples, and the next
part's priming frame decodes to the same silence, overlapping the last kept frame, which is
silent too.

Parts are encoded as ADTS (a header per frame, nothing else), joined, and put into an MP4
container without re-encoding (`mux_command`): its edit list skips the first part's
priming, so chapter times hold to the sample, as in the MP3.
"""

from __future__ import annotations

from pathlib import Path

from listen.errors import ListenError
from listen.mp3 import Frames

#: Samples per AAC-LC frame, and the priming ffmpeg's encoder puts before the audio.
FRAME = 1024
ENCODER_DELAY = 1024
#: ffmpeg's muxer options for a part: ADTS, nothing that varies by build.
PART_ARGS = ("-f", "adts", "-fflags", "+bitexact")
_HEADER_BYTES = 7


def parse_adts(data: bytes) -> Frames:
    """The frames of an ADTS stream, as ffmpeg writes it (one raw data block per frame)."""
    offset, frames = 0, []
    while offset + _HEADER_BYTES <= len(data):
        header = data[offset : offset + _HEADER_BYTES]
        # 12 sync bits, layer 0; the frame's length (header included) in 13 bits.
        length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
        if (header[0] != 0xFF or header[1] & 0xF6 != 0xF0 or header[6] & 3
                or length < _HEADER_BYTES or offset + length > len(data)):  # fmt: skip
            raise ListenError("the encoder wrote a damaged AAC frame")
        frames.append((offset, length))
        offset += length
    if offset != len(data) or not frames:
        raise ListenError("the encoder wrote no whole AAC frames")
    return Frames(data, None, tuple(frames))


def mux_command(adts: Path, rate: int, out: Path) -> list[str]:
    """ffmpeg's arguments that put a joined ADTS stream into an M4A as it is (no re-encoding),
    its first frame's priming skipped by the edit list: the stream is read as starting that
    long before zero, which the MP4 muxer writes as the edit list's start."""
    return [
        "-f", "aac", "-itsoffset", f"-{ENCODER_DELAY / rate:.9f}", "-i", str(adts),
        "-map", "0:a", "-c:a", "copy", "-map_metadata", "-1", "-fflags", "+bitexact",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip
