"""Loudness per EBU R128 / ITU-R BS.1770-4, measured and corrected in streaming blocks.

ffmpeg's `loudnorm` does this too, but it resamples everything to 192 kHz and costs more than
synthesizing with espeak-ng; this meter runs the K-weighting filter with carried state over
blocks of the episode, so memory stays flat however long the article is. The limiter works on a
4x-oversampled peak envelope, so what it bounds is the true peak, not just the sample peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter, lfilter_zi, resample_poly

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
OVERSAMPLING = 4
#: Limiter look-ahead/attack window and its smoothing, in ms.
LIMITER_WINDOW_MS = 6.0


def k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The BS.1770 pre-filter (high shelf) and RLB high-pass for any sample rate (the
    coefficients libebur128 derives, which match the standard's 48 kHz tables)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = np.array(
        [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    )
    shelf_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass_b = np.array([1.0, -2.0, 1.0])
    highpass_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return (shelf_b, shelf_a), (highpass_b, highpass_a)


@dataclass
class LoudnessMeter:
    """Integrated (gated) loudness of a mono signal fed in blocks."""

    rate: int
    _filters: tuple = field(init=False)
    _states: list = field(init=False)
    _step: int = field(init=False)
    _pending: np.ndarray = field(init=False)
    _energies: list[float] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._filters = k_weighting(self.rate)
        self._states = [lfilter_zi(b, a) * 0.0 for b, a in self._filters]
        self._step = round(0.1 * self.rate)  # 100 ms: 400 ms gating blocks overlap by 75%
        self._pending = np.zeros(0)

    def feed(self, samples: np.ndarray) -> None:
        x = samples.astype(np.float64)
        for i, (b, a) in enumerate(self._filters):
            x, self._states[i] = lfilter(b, a, x, zi=self._states[i])
        x = np.concatenate([self._pending, x])
        whole = len(x) // self._step * self._step
        if whole:
            self._energies.extend(np.square(x[:whole]).reshape(-1, self._step).mean(axis=1))
        self._pending = x[whole:]

    def integrated(self) -> float:
        """LUFS; -inf for silence."""
        sub = np.asarray(self._energies)
        if len(sub) < 4:
            return -math.inf
        blocks = np.convolve(sub, np.ones(4) / 4, mode="valid")
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness > ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
        final = blocks[loudness > max(relative, ABSOLUTE_GATE_LUFS)]
        return -0.691 + 10 * math.log10(final.mean())


def true_peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value of the 4x-oversampled signal around it."""
    if x.size == 0:
        return np.zeros(0)
    up = np.abs(resample_poly(x, OVERSAMPLING, 1))
    return up[: len(x) * OVERSAMPLING].reshape(-1, OVERSAMPLING).max(axis=1)


def limiter_gain(x: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """A gain curve that keeps the true peak of `x * gain` at or below `ceiling` (linear):
    the needed gain, spread by a look-ahead minimum and smoothed, so it never overshoots."""
    needed = np.minimum(1.0, ceiling / np.maximum(true_peak_envelope(x), 1e-12))
    if needed.min() >= 1.0:
        return needed
    width = max(3, int(rate * LIMITER_WINDOW_MS / 1000) | 1)
    # Every value within `width` of a peak is <= the gain the peak needs, and a moving average
    # no wider than that window cannot rise above it: the peak stays bounded.
    return uniform_filter1d(minimum_filter1d(needed, 2 * width + 1), width)
