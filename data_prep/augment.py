"""Audio augmentation: EQ, compression, reverb (synthetic impulse responses), noise, low-pass, gain.

:func:`draw` picks the parameters for one song (recorded in the manifest); :func:`apply` runs the
same chain on the drum stem and on the mix. No effect moves the dry signal in time by more than a
fraction of a millisecond, so labels stay on the audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from drumtx.features import SAMPLE_RATE

P_EQ = 0.7
P_COMPRESSION = 0.4
P_REVERB = 0.5
P_NOISE = 0.3
P_LOWPASS = 0.3
EQ_MAX_DB = 6.0
COMP_THRESHOLD_DB = (-30.0, -10.0)
COMP_RATIO = (2.0, 8.0)
COMP_RELEASE_S = (0.03, 0.2)
REVERB_RT60_S = (0.2, 2.0)
REVERB_WET = (0.05, 0.35)
NOISE_SNR_DB = (20.0, 50.0)
LOWPASS_HZ = (6000.0, 16000.0)
PEAK_DBFS = (-12.0, -1.0)
"""Range of the final peak level of the mix (the 'gain' augmentation)."""


@dataclass
class Chain:
    """Augmentation parameters for one song; ``None`` = effect off."""

    eq: list[tuple[str, float, float, float]] | None = None  # (kind, Hz, Q, dB)
    compression: tuple[float, float, float] | None = None  # threshold dB re peak, ratio, release s
    reverb: tuple[float, float, float] | None = None  # RT60 s, wet, pre-delay s
    noise_snr_db: float | None = None
    lowpass_hz: float | None = None
    peak_dbfs: float = -1.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        """Compact text for the manifest, e.g. ``eq(pk1200q1.0:+3.0);reverb(rt0.80,wet0.20)``."""
        parts = []
        if self.eq:
            bands = ",".join(f"{k}{f:.0f}q{q:.1f}:{g:+.1f}" for k, f, q, g in self.eq)
            parts.append(f"eq({bands})")
        if self.compression:
            t, r, rel = self.compression
            parts.append(f"comp(thr{t:.0f},ratio{r:.1f},rel{rel * 1000:.0f}ms)")
        if self.reverb:
            rt, wet, pre = self.reverb
            parts.append(f"reverb(rt{rt:.2f},wet{wet:.2f},pre{pre * 1000:.0f}ms)")
        if self.noise_snr_db is not None:
            parts.append(f"noise(snr{self.noise_snr_db:.0f})")
        if self.lowpass_hz is not None:
            parts.append(f"lowpass({self.lowpass_hz:.0f})")
        parts.append(f"gain({self.peak_dbfs:.1f}dBFS)")
        return ";".join(parts)


def draw(rng: np.random.Generator, enabled: bool = True) -> Chain:
    """Random augmentation parameters for one song (only the gain when ``enabled`` is False)."""
    chain = Chain(peak_dbfs=float(rng.uniform(*PEAK_DBFS)), seed=int(rng.integers(2**31)))
    if not enabled:
        return chain
    if rng.random() < P_EQ:
        chain.eq = [
            ("ls", float(rng.uniform(60, 300)), 0.7, float(rng.uniform(-EQ_MAX_DB, EQ_MAX_DB))),
            ("pk", float(np.exp(rng.uniform(np.log(250), np.log(6000)))),
             float(rng.uniform(0.5, 2.5)), float(rng.uniform(-EQ_MAX_DB, EQ_MAX_DB))),
            ("hs", float(rng.uniform(3000, 10000)), 0.7, float(rng.uniform(-EQ_MAX_DB, EQ_MAX_DB))),
        ]
    if rng.random() < P_COMPRESSION:
        chain.compression = (
            float(rng.uniform(*COMP_THRESHOLD_DB)),
            float(rng.uniform(*COMP_RATIO)),
            float(rng.uniform(*COMP_RELEASE_S)),
        )
    if rng.random() < P_REVERB:
        chain.reverb = (float(rng.uniform(*REVERB_RT60_S)), float(rng.uniform(*REVERB_WET)),
                        float(rng.uniform(0.0, 0.02)))
    if rng.random() < P_NOISE:
        chain.noise_snr_db = float(rng.uniform(*NOISE_SNR_DB))
    if rng.random() < P_LOWPASS:
        chain.lowpass_hz = float(rng.uniform(*LOWPASS_HZ))
    return chain


def biquad(kind: str, frequency: float, q: float, gain_db: float) -> np.ndarray:
    """RBJ cookbook biquad as second-order sections, shape (1, 6)."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * frequency / SAMPLE_RATE
    cos, sin = np.cos(w0), np.sin(w0)
    alpha = sin / (2 * q)
    if kind == "pk":
        b = [1 + alpha * a, -2 * cos, 1 - alpha * a]
        den = [1 + alpha / a, -2 * cos, 1 - alpha / a]
    else:
        sq = 2 * np.sqrt(a) * alpha
        if kind == "ls":
            b = [a * ((a + 1) - (a - 1) * cos + sq), 2 * a * ((a - 1) - (a + 1) * cos),
                 a * ((a + 1) - (a - 1) * cos - sq)]
            den = [(a + 1) + (a - 1) * cos + sq, -2 * ((a - 1) + (a + 1) * cos),
                   (a + 1) + (a - 1) * cos - sq]
        else:
            b = [a * ((a + 1) + (a - 1) * cos + sq), -2 * a * ((a - 1) + (a + 1) * cos),
                 a * ((a + 1) + (a - 1) * cos - sq)]
            den = [(a + 1) - (a - 1) * cos + sq, 2 * ((a - 1) - (a + 1) * cos),
                   (a + 1) - (a - 1) * cos - sq]
    return np.array([[*(np.array(b) / den[0]), 1.0, den[1] / den[0], den[2] / den[0]]])


def impulse_response(rt60_s: float, pre_delay_s: float, seed: int) -> np.ndarray:
    """Synthetic room impulse response: exponentially decaying, darkening noise; shape (n,)."""
    rng = np.random.default_rng(seed)
    n = int((rt60_s * 1.2 + pre_delay_s) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    noise = rng.standard_normal(n)
    decay = np.exp(-6.9078 * t / rt60_s)
    sos = signal.butter(2, 5000.0, "low", fs=SAMPLE_RATE, output="sos")
    ir = signal.sosfilt(sos, noise) * decay
    ir[: int(pre_delay_s * SAMPLE_RATE)] = 0.0
    return (ir / (np.sqrt(np.sum(ir**2)) + 1e-12)).astype(np.float32)


def reverberate(
    x: np.ndarray, rt60_s: float, wet: float, pre_delay_s: float, seed: int
) -> np.ndarray:
    """Mix ``x`` (n,) with its convolution by :func:`impulse_response`, the tail at the dry RMS.

    ``wet`` is the tail's share: ``(1 - wet) * x + wet * tail``; the length stays ``n``.
    """
    ir = impulse_response(rt60_s, pre_delay_s, seed)
    tail = signal.fftconvolve(x, ir)[: len(x)].astype(np.float32)
    dry_rms = np.sqrt(np.mean(x**2)) + 1e-12
    tail *= dry_rms / (np.sqrt(np.mean(tail**2)) + 1e-12)
    return ((1 - wet) * x + wet * tail).astype(np.float32)


def compress(x: np.ndarray, threshold_db: float, ratio: float, release_s: float) -> np.ndarray:
    """Feed-forward peak compressor with instant attack; threshold relative to the input peak."""
    peak = float(np.max(np.abs(x))) + 1e-12
    coeff = np.exp(-1.0 / (release_s * SAMPLE_RATE))
    rectified = np.abs(x).astype(np.float64)
    # one-pole release smoothing (attack is instantaneous through the max below)
    smoothed = signal.lfilter([1 - coeff], [1, -coeff], rectified)
    env = np.maximum(rectified, smoothed)
    level_db = 20 * np.log10(env / peak + 1e-9)
    over = np.maximum(level_db - threshold_db, 0.0)
    gain_db = -over * (1 - 1 / ratio)
    return (x * 10 ** (gain_db / 20)).astype(np.float32)


def apply(chain: Chain, x: np.ndarray, noise_reference_rms: float | None = None) -> np.ndarray:
    """Run the effect chain (without the final gain, see :func:`finish`) on mono audio (n,)."""
    y = x.astype(np.float32)
    if chain.eq:
        sos = np.concatenate([biquad(*band) for band in chain.eq])
        y = signal.sosfilt(sos, y).astype(np.float32)
    if chain.compression:
        y = compress(y, *chain.compression)
    if chain.reverb:
        y = reverberate(y, *chain.reverb, seed=chain.seed)
    if chain.lowpass_hz is not None:
        sos = signal.butter(6, chain.lowpass_hz, "low", fs=SAMPLE_RATE, output="sos")
        y = signal.sosfilt(sos, y).astype(np.float32)
    if chain.noise_snr_db is not None:
        rms = noise_reference_rms if noise_reference_rms else float(np.sqrt(np.mean(y**2)))
        noise = np.random.default_rng(chain.seed + 1).standard_normal(len(y)).astype(np.float32)
        y = y + noise * np.float32(rms * 10 ** (-chain.noise_snr_db / 20))
    return y.astype(np.float32)


def peak_gain(x: np.ndarray, peak_dbfs: float) -> float:
    """Gain that brings the peak of ``x`` to ``peak_dbfs``."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 10 ** (peak_dbfs / 20) / peak if peak > 0 else 1.0
