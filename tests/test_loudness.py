"""The loudness summary's filters, against their direct definitions."""

from __future__ import annotations

import numpy as np
import pytest

from listen.loudness import K_BLOCK, k_weighted, k_weighting_fir


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 48000])
@pytest.mark.parametrize("length", [1, 100, 5000, K_BLOCK - 1, K_BLOCK, 100_000, 333_333])
def test_k_weighting_by_overlap_add_is_the_direct_convolution(rate: int, length: int) -> None:
    x = np.random.default_rng(length).standard_normal(length)
    direct = np.convolve(x, k_weighting_fir(rate))
    assert np.allclose(k_weighted(x, rate), direct, rtol=0, atol=1e-9)
