"""Play drum hits on a :class:`~data_prep.kits.Kit`.

Velocity layers, hi-hat choke and per-hit variation (gain, detune, start jitter).
"""

from __future__ import annotations

import numpy as np

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import GM_TO_CLASS

from .kits import CHOKE_FADE_S, HIHAT_NOTES, VELOCITY_EXPONENT, Kit

HIT_GAIN_SD_DB = 1.0
"""Per-hit random gain (standard deviation, dB)."""
DETUNE_SD_CENTS = 12.0
DETUNE_MAX_CENTS = 30.0
"""Per-hit detune (resampling), standard deviation and limit in cents."""
START_JITTER_MAX = 24
"""A hit may start up to this many samples into its one-shot (transient variation, < 1 ms)."""
DETUNE_PROBABILITY = 0.5


def _detune(samples: np.ndarray, cents: float) -> np.ndarray:
    """Resample a one-shot so that it plays ``cents`` higher (shorter) or lower (longer)."""
    rate = 2.0 ** (cents / 1200.0)
    n_out = max(1, int(len(samples) / rate))
    positions = np.arange(n_out, dtype=np.float64) * rate
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


SAME_CLASS_MERGE_S = 0.010
"""Hits of one class closer than this are one hit (e.g. GM notes 35 and 36 played together): the
quieter is dropped, from the audio and the labels alike. Flams (grace notes 18–35 ms ahead) stay."""


def merge_same_class(hits: np.ndarray) -> np.ndarray:
    """Drop the quieter of two hits of the same class within :data:`SAME_CLASS_MERGE_S`.

    Parameters
    ----------
    hits : numpy.ndarray, shape (n, 3)
        onset seconds, GM note, velocity.

    Returns
    -------
    numpy.ndarray, shape (m, 3), sorted by onset.
    """
    if len(hits) < 2:
        return hits
    hits = hits[np.argsort(hits[:, 0], kind="stable")]
    keys = np.array([GM_TO_CLASS.get(int(n), f"gm{int(n)}") for n in hits[:, 1]])
    keep = np.ones(len(hits), dtype=bool)
    last: dict[str, int] = {}
    for i, key in enumerate(keys):
        j = last.get(key)
        if j is not None and hits[i, 0] - hits[j, 0] < SAME_CLASS_MERGE_S:
            loser = i if hits[i, 2] <= hits[j, 2] else j
            keep[loser] = False
            if loser == j:
                last[key] = i
        else:
            last[key] = i
    return hits[keep]


def resolve_hits(kit: Kit, hits: np.ndarray) -> np.ndarray:
    """Map requested GM notes to those the kit plays; drop hits it cannot play.

    Parameters
    ----------
    hits : numpy.ndarray, shape (n, 3)
        onset seconds, GM note, velocity.

    Returns
    -------
    numpy.ndarray, shape (m, 3): the hits as they will sound (GM note = the note played), with
    same-class doubles merged (:func:`merge_same_class`).
    """
    out = []
    for onset, gm, velocity in hits:
        played = kit.resolve(int(gm))
        if played is not None:
            out.append((onset, played, velocity))
    return merge_same_class(np.array(out, dtype=np.float64).reshape(-1, 3))


def render_drums(
    kit: Kit, hits: np.ndarray, n_samples: int, rng: np.random.Generator, vary_hits: bool = True
) -> np.ndarray:
    """Render resolved hits (see :func:`resolve_hits`) with the kit's one-shots.

    One instrument per GM note is chosen for the song when the kit has alternatives. Hi-hat hits
    (closed, pedal, open) choke the ringing hi-hat with a short fade.

    Parameters
    ----------
    hits : numpy.ndarray, shape (n, 3)
        onset seconds, GM note (present in ``kit``), velocity 1..127.
    n_samples : int
        Output length at :data:`SAMPLE_RATE`.
    vary_hits : bool
        Apply per-hit gain, detune and start jitter.

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32
    """
    out = np.zeros(n_samples, dtype=np.float32)
    choice = {
        gm: instruments[int(rng.integers(len(instruments)))]
        for gm, instruments in sorted(kit.instruments.items())
    }
    order = np.argsort(hits[:, 0], kind="stable")
    hits = hits[order]
    starts = np.round(hits[:, 0] * SAMPLE_RATE).astype(np.int64)
    notes = hits[:, 1].astype(int)
    is_hat = np.isin(notes, list(HIHAT_NOTES))
    hat_starts = starts[is_hat]
    fade_len = int(CHOKE_FADE_S * SAMPLE_RATE)
    n = len(hits)
    gains_db = rng.normal(0, HIT_GAIN_SD_DB, n) if vary_hits else np.zeros(n)
    detunes = np.clip(rng.normal(0, DETUNE_SD_CENTS, n), -DETUNE_MAX_CENTS, DETUNE_MAX_CENTS)
    detune_on = rng.random(n) < DETUNE_PROBABILITY if vary_hits else np.zeros(n, bool)
    jitters = rng.integers(0, START_JITTER_MAX + 1, n) if vary_hits else np.zeros(n, int)
    for i in range(n):
        gm = int(notes[i])
        instrument = choice.get(gm)
        if instrument is None:
            continue
        velocity = hits[i, 2] / 127.0
        layer = instrument.layer_for(velocity)
        samples = layer.samples[int(jitters[i]) :]
        if detune_on[i]:
            samples = _detune(samples, float(detunes[i]))
        start = int(starts[i])
        if start >= n_samples:
            continue
        stop = min(n_samples, start + len(samples))
        length = stop - start
        if is_hat[i]:
            later = hat_starts[hat_starts > start]
            if len(later):
                length = min(length, int(later[0] - start) + fade_len)
        if start < 0:
            continue
        gain = instrument.gain * layer.gain * velocity**VELOCITY_EXPONENT
        gain *= 10 ** (gains_db[i] / 20)
        chunk = samples[:length] * np.float32(gain)
        if is_hat[i] and length < min(n_samples - start, len(samples)) and length > fade_len:
            chunk[-fade_len:] *= np.linspace(1, 0, fade_len, dtype=np.float32)
        out[start : start + length] += chunk
    return out


def label_rows(hits: np.ndarray) -> list[tuple[float, int, str, int]]:
    """Label rows (onset_s, gm_note, class, velocity) for labelled classes only."""
    rows = []
    for onset, gm, velocity in hits:
        cls = GM_TO_CLASS.get(int(gm))
        if cls is not None:
            rows.append((float(onset), int(gm), cls, int(velocity)))
    return rows
