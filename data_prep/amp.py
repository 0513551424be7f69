"""Amplifier distortion for guitar and bass parts: drive, asymmetric clipping, a speaker cabinet.

GM soundfonts' "overdriven" and "distortion" guitars are mild next to a real high-gain amp,
whose dense upper harmonics and sustained noise-like bursts are what a drum transcriber
confuses with cymbals, and whose low mids mask the kick. :func:`draw` picks an amp for one
song and :func:`distort` runs it. Clipping is memoryless and the filters are minimum-phase,
so note onsets move by well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from drumtx.features import SAMPLE_RATE

GUITAR_PROGRAMS = frozenset(range(24, 32))
"""GM programs 25–32 (0-based 24–31): the guitars."""
BASS_PROGRAMS = frozenset(range(32, 40))
"""GM programs 33–40 (0-based 32–39): the basses."""
P_GUITAR_AMP = 0.6
"""Probability that a song's guitars go through an amp."""
P_BASS_AMP = 0.3
"""Probability that a song's basses go through an amp."""
GUITAR_DRIVE_DB = (12.0, 40.0)
BASS_DRIVE_DB = (6.0, 20.0)
"""Gain before the clipper (dB above a signal whose peak is 1)."""
CLIP_BIAS = (0.0, 0.3)
"""Offset before the tanh: above zero, the clipping is asymmetric (even harmonics)."""
GUITAR_CABINET_HZ = (3000.0, 6500.0)
BASS_CABINET_HZ = (1500.0, 4000.0)
"""Cut-off of the cabinet's fourth-order low-pass."""
TIGHTEN_HZ = 90.0
"""High-pass before the clipper, as a guitar amp's input stage (keeps the lows from flubbing)."""
LEVEL_DB = (-3.0, 6.0)
"""Level of the distorted part against the clean one (RMS, dB)."""


@dataclass(frozen=True)
class Amp:
    """One amp setting: drive (dB), clipping bias, cabinet cut-off (Hz), level (dB)."""

    drive_db: float
    bias: float
    cabinet_hz: float
    level_db: float

    def describe(self, name: str) -> str:
        """Text for the manifest, e.g. ``amp(guitar:drive30,cab4500)``."""
        return f"amp({name}:drive{self.drive_db:.0f},cab{self.cabinet_hz:.0f})"


def draw(rng: np.random.Generator, bass: bool = False) -> Amp:
    """Random amp for a guitar (or, with ``bass``, a bass) part."""
    drive = BASS_DRIVE_DB if bass else GUITAR_DRIVE_DB
    cabinet = BASS_CABINET_HZ if bass else GUITAR_CABINET_HZ
    return Amp(
        drive_db=float(rng.uniform(*drive)),
        bias=float(rng.uniform(*CLIP_BIAS)),
        cabinet_hz=float(rng.uniform(*cabinet)),
        level_db=float(rng.uniform(*LEVEL_DB)),
    )


def distort(x: np.ndarray, amp: Amp) -> np.ndarray:
    """Run mono audio through ``amp``.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_samples,)
    amp : Amp

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32
        Distorted audio whose RMS is ``x``'s times ``amp.level_db``; silence stays silent.
    """
    x = np.asarray(x, dtype=np.float32)
    clean_rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0
    if clean_rms == 0.0:
        return x.copy()
    tighten = signal.butter(2, TIGHTEN_HZ, "high", fs=SAMPLE_RATE, output="sos")
    y = signal.sosfilt(tighten, x / np.max(np.abs(x)))
    drive = 10.0 ** (amp.drive_db / 20.0)
    y = np.tanh(drive * y + amp.bias) - np.tanh(amp.bias)
    cabinet = signal.butter(4, amp.cabinet_hz, "low", fs=SAMPLE_RATE, output="sos")
    y = signal.sosfilt(cabinet, signal.sosfilt(tighten, y))
    rms = float(np.sqrt(np.mean(y**2))) + 1e-12
    return (y * (clean_rms / rms * 10.0 ** (amp.level_db / 20.0))).astype(np.float32)
