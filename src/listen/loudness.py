"""Loudness per EBU R128 / ITU-R BS.1770-4 and a true-peak limiter, planned from summaries.

Each take is summarized once, when it is synthesized (in the worker that made it), and the
summary is cached beside it: per group of ~0.7 ms, the K-weighted energy and the true peak (4x
oversampled). Takes are separated by silence longer than the K-weighting filter rings, so an
episode's summary is its takes' summaries laid end to end. Every later question ("how loud is
the episode at gain G once limited to ceiling C?") is answered from it in milliseconds, and
memory grows by 16 bytes per group (about 80 MB for a 2-hour episode), never by the audio.

Only numpy: scipy.signal alone takes longer to import than espeak-ng takes to read a page.
The final episode is checked with ffmpeg's ebur128 filter, the reference measurement.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: True peak: oversampling factor and taps per polyphase branch of the interpolation filter.
OVERSAMPLING = 4
TAPS_PER_PHASE = 12
#: K-weighting impulse response length: the 38 Hz high-pass rings with a 4 ms time constant,
#: so after 60 ms its tail is below -120 dB.
K_FIR_SECONDS = 0.06
#: Limiter look-ahead radius (the gain starts falling this long before a peak).
LIMITER_RADIUS_MS = 6.0


def k_weighting_biquads(rate: int) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """BS.1770's pre-filter (high shelf) and RLB high-pass for any sample rate, as
    (b, a) pairs: the coefficients libebur128 derives, equal to the standard's 48 kHz table."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0),
        (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0),
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = ((1.0, -2.0, 1.0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0))
    return [shelf, highpass]


@functools.cache
def k_weighting_fir(rate: int) -> np.ndarray:
    """The K-weighting filter's impulse response (the two biquads run on an impulse)."""
    signal = np.zeros(int(K_FIR_SECONDS * rate))
    signal[0] = 1.0
    for (b0, b1, b2), (_, a1, a2) in k_weighting_biquads(rate):
        out = np.empty_like(signal)
        x1 = x2 = y1 = y2 = 0.0
        for i, x in enumerate(signal.tolist()):
            y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            out[i] = y
            x2, x1, y2, y1 = x1, x, y1, y
        signal = out
    return signal


def interpolation_filter() -> np.ndarray:
    """A windowed-sinc low-pass for 4x oversampling, as (phase, tap) branches."""
    n = OVERSAMPLING * TAPS_PER_PHASE
    t = (np.arange(n) - (n - 1) / 2) / OVERSAMPLING
    taps = np.sinc(t) * np.kaiser(n, 8.0)
    branches = taps.reshape(TAPS_PER_PHASE, OVERSAMPLING).T
    return branches / branches.sum(axis=1, keepdims=True)


def smooth_fft_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: a length numpy's FFT handles fast."""
    best = 1 << max(n - 1, 0).bit_length()
    power3 = 1
    while power3 < best:
        power5 = power3
        while power5 < best:
            candidate = power5 * (1 << max(math.ceil(n / power5) - 1, 0).bit_length())
            best = min(best, candidate)
            power5 *= 5
        power3 *= 3
    return best


#: The FFT length of the K-weighting's overlap-add convolution: one length for every take, so
#: one filter spectrum per sample rate (and one FFT plan) serves them all.
K_BLOCK = 1 << 15


@functools.cache
def _k_weighting_spectrum(rate: int, dtype: type = np.complex128) -> np.ndarray:
    return np.fft.rfft(k_weighting_fir(rate), K_BLOCK).astype(dtype)


@functools.cache
def _interpolation_spectra(dtype: type = np.complex128) -> np.ndarray:
    return np.fft.rfft(interpolation_filter(), K_BLOCK, axis=1).astype(dtype)


def _block_step(rate: int) -> int:
    """Samples per block: a block convolved with the K-weighting (the longest filter here)
    still fits in K_BLOCK."""
    return K_BLOCK - int(K_FIR_SECONDS * rate) + 1


def _block_spectra(x: np.ndarray, rate: int) -> np.ndarray:
    """The spectra of `x` cut in blocks of `_block_step(rate)`, in `x`'s precision (numpy's
    FFT runs twice as fast on float32)."""
    step = _block_step(rate)
    blocks = max(1, -(-len(x) // step))
    padded = np.zeros(blocks * step, x.dtype)
    padded[: len(x)] = x
    return np.fft.rfft(padded.reshape(blocks, step), K_BLOCK, axis=1)


def _overlap_add(filtered: np.ndarray, step: int, taps: int, length: int) -> np.ndarray:
    """The full convolution (`length + taps - 1` samples) from its blocks' (`filtered`: one
    row of K_BLOCK samples per block), each block's ring-out added to the next."""
    blocks = len(filtered)
    out = np.zeros((blocks + 1) * step, filtered.dtype)
    out[: blocks * step] = filtered[:, :step].ravel()
    tails = np.zeros((blocks, step), filtered.dtype)
    tails[:, : taps - 1] = filtered[:, step : step + taps - 1]
    out[step:] += tails.ravel()
    return out[: length + taps - 1]


def k_weighted(x: np.ndarray, rate: int, spectra: np.ndarray | None = None) -> np.ndarray:
    """`x` through the K-weighting filter, ring-out included: an overlap-add FFT convolution,
    all blocks in one batched FFT (on `x`'s block spectra, `spectra`, if already made)."""
    spectra = _block_spectra(x, rate) if spectra is None else spectra
    weighting = _k_weighting_spectrum(rate, spectra.dtype.type)
    filtered = np.fft.irfft(spectra * weighting, K_BLOCK, axis=1)
    return _overlap_add(filtered, _block_step(rate), int(K_FIR_SECONDS * rate), len(x))


def true_peaks(x: np.ndarray, rate: int, spectra: np.ndarray | None = None) -> np.ndarray:
    """Per sample of `x`, the largest magnitude among it and the 3 points interpolated after it
    (4x oversampling, BS.1770's true peak): each polyphase branch is an overlap-add FFT
    convolution on the same block spectra as the K-weighting (`spectra`, if already made)."""
    spectra = _block_spectra(x, rate) if spectra is None else spectra
    step = _block_step(rate)
    interpolation = _interpolation_spectra(spectra.dtype.type)
    branches = np.fft.irfft(spectra[None] * interpolation[:, None], K_BLOCK, axis=2)
    # The interpolation filter delays by half its length; re-centre on the input samples.
    delay = (TAPS_PER_PHASE - 1) // 2
    peaks = np.zeros(len(x), branches.dtype)
    for filtered in branches:
        branch = _overlap_add(filtered, step, TAPS_PER_PHASE, len(x))[delay : delay + len(x)]
        np.maximum(peaks, np.abs(branch), out=peaks)
    return peaks


#: Summary groups are about this long: fine enough for a look-ahead limiter, coarse enough
#: that a two-hour episode's summary stays a few tens of megabytes.
GROUP_SECONDS = 0.0016


def group_size(rate: int) -> int:
    """Samples per summary group: the largest divisor of a 100 ms step up to GROUP_SECONDS,
    so that gating blocks are whole numbers of groups."""
    step = round(0.1 * rate)
    return max(d for d in range(1, max(2, int(rate * GROUP_SECONDS)) + 1) if step % d == 0)


@dataclass(frozen=True)
class TakeSummary:
    """A take's K-weighted energy and true peak per group. `energy` runs past the take by the
    K-weighting filter's ring-out (it belongs to the silence that follows)."""

    energy: np.ndarray
    peak: np.ndarray

    def scaled(self, gain: float) -> TakeSummary:
        """The summary of the take played at `gain` (linear)."""
        if gain == 1.0:
            return self
        return TakeSummary(self.energy * np.float32(gain * gain), self.peak * np.float32(gain))

    def to_bytes(self) -> bytes:
        header = np.array([len(self.energy), len(self.peak)], dtype="<u4").tobytes()
        body = np.concatenate([self.energy, self.peak]).astype("<f4").tobytes()
        return header + body

    @classmethod
    def from_bytes(cls, data: bytes) -> TakeSummary | None:
        if len(data) < 8:
            return None
        n_energy, n_peak = (int(v) for v in np.frombuffer(data[:8], dtype="<u4"))
        values = np.frombuffer(data[8:], dtype="<f4").astype(np.float32)
        if len(values) != n_energy + n_peak:
            return None
        return cls(values[:n_energy], values[n_energy:])


def summarize_take(samples: np.ndarray, rate: int) -> TakeSummary:
    """The loudness summary of one take (int16 samples), surrounded by silence."""
    group = group_size(rate)
    # float32: a summary is kept in float32, and its error (1e-7) is far below what loudness
    # (0.01 LU) and true peak (0.01 dB) are stated in.
    x = samples.astype(np.float32) / np.float32(32768.0)
    spectra = _block_spectra(x, rate)
    energy = _per_group(np.square(k_weighted(x, rate, spectra)), group, np.sum)
    peak = _per_group(true_peaks(x, rate, spectra), group, np.max)
    return TakeSummary(energy, peak)


def _per_group(values: np.ndarray, group: int, reduce) -> np.ndarray:  # type: ignore[no-untyped-def]
    whole = -(-len(values) // group) * group
    padded = np.concatenate([values, np.zeros(whole - len(values))])
    return reduce(padded.reshape(-1, group), axis=1)


@dataclass(frozen=True)
class Summary:
    """The whole episode's loudness summary, per group."""

    rate: int
    group: int
    energy: np.ndarray  # K-weighted energy per group
    peak: np.ndarray  # true peak per group

    @classmethod
    def assemble(
        cls, rate: int, total_samples: int, parts: list[tuple[int, TakeSummary]]
    ) -> Summary:
        """Place each take's summary at its start sample (a multiple of the group size)."""
        group = group_size(rate)
        groups = -(-total_samples // group)
        energy, peak = np.zeros(groups, np.float32), np.zeros(groups, np.float32)
        for start, part in parts:
            first = start // group
            n_energy = min(len(part.energy), groups - first)
            energy[first : first + n_energy] += part.energy[:n_energy]
            n_peak = min(len(part.peak), groups - first)
            np.maximum(peak[first : first + n_peak], part.peak[:n_peak],
                       out=peak[first : first + n_peak])  # fmt: skip
        return cls(rate, group, energy, peak)

    def loudness(self, gains: np.ndarray | float = 1.0) -> float:
        """Integrated loudness (LUFS, gated) with a gain per group applied; -inf if silent."""
        energy = self.energy * np.square(gains, dtype=np.float32)
        per_step = round(0.1 * self.rate) // self.group
        steps = len(energy) // per_step
        if steps < 4:
            return -math.inf
        sub = energy[: steps * per_step].reshape(steps, per_step).sum(axis=1, dtype=np.float64)
        blocks = np.convolve(sub, np.ones(4), mode="valid") / (4 * per_step * self.group)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness > ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
        return -0.691 + 10 * math.log10(blocks[loudness > max(relative, ABSOLUTE_GATE_LUFS)].mean())

    def limited_gains(self, gain: float, ceiling: float) -> np.ndarray:
        """Per-group gain: `gain`, lowered by a look-ahead limiter wherever the true peak would
        pass `ceiling` (linear). Every group within the look-ahead radius of a peak gets at most
        the gain that peak needs, and the smoothing window is narrower than that radius, so the
        smoothed curve (and a straight line between neighbouring groups) stays under it."""
        needed = np.minimum(1.0, ceiling / np.maximum(gain * self.peak, 1e-12), dtype=np.float32)
        if needed.min() >= 1.0:
            return np.full(len(self.peak), gain, dtype=np.float32)
        radius = max(4, round(self.rate * LIMITER_RADIUS_MS / 1000 / self.group))
        spread = sliding_min(needed, radius)
        # The narrower smoothing also covers the peak envelope's filter delay (under a group).
        return (gain * moving_average(spread, radius - 3)).astype(np.float32)


def sliding_min(values: np.ndarray, radius: int) -> np.ndarray:
    """Per value, the minimum of the values within `radius` of it (the ends extended): by
    doubling, a window of 2^k values being the minimum of two of 2^(k-1), then two windows of
    the largest such width overlapping to cover 2 * radius + 1 (log2 passes over the array, not
    one reduction per window, which numpy runs 20-70x slower)."""
    width = 2 * radius + 1
    padded = np.pad(values, radius, mode="edge")
    minima, span = padded, 1  # minima[i] = min(padded[i : i + span])
    while 2 * span <= width:
        minima = np.minimum(minima[:-span], minima[span:])
        span *= 2
    return np.minimum(minima[: len(values)], minima[width - span : width - span + len(values)])


def moving_average(values: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return values
    padded = np.pad(values, radius, mode="edge")
    sums = np.cumsum(np.concatenate([[0.0], padded]), dtype=np.float64)
    return ((sums[2 * radius + 1 :] - sums[: -2 * radius - 1]) / (2 * radius + 1)).astype(
        np.float32
    )


def sample_gains(gains: np.ndarray, group: int, start: int, count: int) -> np.ndarray:
    """Per-sample gains for samples [start, start+count): straight lines between group centres."""
    centres = np.arange(len(gains)) * group + (group - 1) / 2
    return np.interp(np.arange(start, start + count), centres, gains)
