"""Shared test fixtures: small synthesized sounds with known timing."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLE_RATE = 44100


def click_track(times_s, duration_s: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 audio with a short decaying noise burst starting at each time."""
    rng = np.random.default_rng(0)
    samples = np.zeros(int(round(duration_s * sample_rate)), dtype=np.float32)
    burst_length = int(0.03 * sample_rate)
    envelope = np.exp(-np.arange(burst_length) / (0.005 * sample_rate))
    for time_s in times_s:
        start = int(round(time_s * sample_rate))
        burst = (rng.standard_normal(burst_length) * envelope * 0.5).astype(np.float32)
        stop = min(start + burst_length, len(samples))
        samples[start:stop] += burst[: stop - start]
    return samples


@pytest.fixture
def clicks():
    """Factory for click tracks: ``clicks(times_s, duration_s, sample_rate=44100)``."""
    return click_track
