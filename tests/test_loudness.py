"""The loudness summary's filters, against their direct definitions."""

from __future__ import annotations

import numpy as np
import pytest

from listen.loudness import (
    K_BLOCK,
    TAPS_PER_PHASE,
    group_size,
    interpolation_filter,
    k_weighted,
    k_weighting_fir,
    sliding_min,
    summarize_take,
    true_peaks,
)


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 48000])
@pytest.mark.parametrize("length", [1, 100, 5000, K_BLOCK - 1, K_BLOCK, 100_000, 333_333])
def test_k_weighting_by_overlap_add_is_the_direct_convolution(rate: int, length: int) -> None:
    x = np.random.default_rng(length).standard_normal(length)
    direct = np.convolve(x, k_weighting_fir(rate))
    assert np.allclose(k_weighted(x, rate), direct, rtol=0, atol=1e-9)


def direct_true_peaks(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude of the 4x oversampled signal: each polyphase branch
    of the interpolation filter convolved directly, re-centred on the input."""
    full = [np.abs(np.convolve(x, branch)) for branch in interpolation_filter()]
    delay = (TAPS_PER_PHASE - 1) // 2
    return np.max(full, axis=0)[delay : delay + len(x)]


@pytest.mark.parametrize("rate", [16000, 22050, 48000])
@pytest.mark.parametrize("length", [1, 11, 5000, K_BLOCK, 100_000, 333_333])
def test_true_peaks_by_overlap_add_are_the_direct_ones(rate: int, length: int) -> None:
    x = np.random.default_rng(length).standard_normal(length)
    direct = direct_true_peaks(x)
    assert np.allclose(true_peaks(x, rate), direct, rtol=0, atol=1e-9)
    # The summaries' float32 path: within float32's precision of the signal's scale.
    single = true_peaks(x.astype(np.float32), rate)
    assert single.dtype == np.float32
    assert np.allclose(single, direct, rtol=0, atol=1e-5 * np.abs(x).max())


def test_a_take_summary_holds_its_energy_and_its_true_peak() -> None:
    rate, group = 24000, group_size(24000)
    t = np.arange(rate) / rate
    # A sine at a quarter of the rate sampled off its crests: the sample peak is 0.707 of
    # the true peak, which 4x oversampling recovers (to within the filter's ripple).
    tone = (0.5 * 32767 * np.sin(2 * np.pi * rate / 4 * t + np.pi / 4)).astype(np.int16)
    summary = summarize_take(tone, rate)
    assert len(summary.peak) == -(-len(tone) // group)
    assert np.abs(tone).max() / 32768 == pytest.approx(0.5 * 0.7071, abs=1e-3)
    assert summary.peak[10:-10].max() == pytest.approx(0.5, abs=0.01)
    weighted = k_weighted(tone / 32768.0, rate)
    expected = np.square(weighted[: len(summary.energy) * group]).sum()
    assert summary.energy.sum() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("length", [1, 2, 9, 1000])
@pytest.mark.parametrize("radius", [0, 1, 4, 5, 9, 16])
def test_sliding_min_is_the_minimum_of_each_window(length: int, radius: int) -> None:
    values = np.random.default_rng(length + radius).random(length).astype(np.float32)
    padded = np.concatenate([[values[0]] * radius, values, [values[-1]] * radius])
    direct = [padded[i : i + 2 * radius + 1].min() for i in range(length)]
    assert np.array_equal(sliding_min(values, radius), np.array(direct, np.float32))
