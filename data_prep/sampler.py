"""Play drum hits on a :class:`~data_prep.kits.Kit`.

Velocity layers, hi-hat choke, per-hit variation (gain, detune, start jitter) and, optionally,
a per-song character for each kit piece (tuning, level, EQ, decay: :class:`PieceCharacter`), so
that a few sampled kits sound like many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import GM_TO_CLASS

from .augment import biquad
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


PIECE_SEMITONES = 3.0
"""A piece is retuned by up to this many semitones either way (resampling: lower is longer)."""
PIECE_GAIN_DB = 6.0
"""A piece's level in the kit moves by up to this many dB either way."""
PIECE_EQ_DB = 9.0
"""Gain limit of a piece's peak filter (dB); its shelf gets two thirds of it."""
PIECE_EQ_PEAK_HZ = (80.0, 10000.0)
PIECE_EQ_Q = (0.5, 2.0)
PIECE_LOW_SHELF_HZ = (60.0, 250.0)
PIECE_HIGH_SHELF_HZ = (3000.0, 10000.0)
PIECE_DECAY_PROBABILITY = 0.3
"""Share of pieces damped (an exponential decay after :data:`PIECE_DECAY_HOLD_S`)."""
PIECE_DECAY_S = (0.04, 0.4)
"""Time constant range of that decay (seconds)."""
PIECE_DECAY_HOLD_S = 0.02
DECAY_FLOOR = 1e-3
"""A damped one-shot ends where its decay reaches this amplitude (-60 dB)."""


@dataclass(frozen=True)
class PieceCharacter:
    """How one kit piece sounds in one song: tuning, level, EQ and damping."""

    semitones: float
    gain_db: float
    eq: tuple[tuple[str, float, float, float], ...]
    """Biquads (kind, Hz, Q, dB) as in :func:`data_prep.augment.biquad`."""
    decay_s: float | None = None
    """Time constant of an added exponential decay (None: the sample's own)."""


def piece_key(gm_note: int) -> int:
    """The piece a GM note is played on: the hi-hat's notes are one piece, others their own."""
    return min(HIHAT_NOTES) if gm_note in HIHAT_NOTES else gm_note


def draw_piece_characters(kit: Kit, rng: np.random.Generator) -> dict[int, PieceCharacter]:
    """A random :class:`PieceCharacter` for every piece of ``kit``, keyed by :func:`piece_key`."""
    characters = {}
    for key in sorted({piece_key(n) for n in kit.instruments}):
        low, high = np.log(PIECE_EQ_PEAK_HZ[0]), np.log(PIECE_EQ_PEAK_HZ[1])
        peak = ("pk", float(np.exp(rng.uniform(low, high))), float(rng.uniform(*PIECE_EQ_Q)),
                float(rng.uniform(-PIECE_EQ_DB, PIECE_EQ_DB)))
        shelf_db = float(rng.uniform(-PIECE_EQ_DB, PIECE_EQ_DB)) * 2 / 3
        if rng.random() < 0.5:
            shelf = ("ls", float(rng.uniform(*PIECE_LOW_SHELF_HZ)), 0.7, shelf_db)
        else:
            shelf = ("hs", float(rng.uniform(*PIECE_HIGH_SHELF_HZ)), 0.7, shelf_db)
        damped = rng.random() < PIECE_DECAY_PROBABILITY
        decay = float(rng.uniform(*PIECE_DECAY_S)) if damped else None
        characters[key] = PieceCharacter(
            semitones=float(rng.uniform(-PIECE_SEMITONES, PIECE_SEMITONES)),
            gain_db=float(rng.uniform(-PIECE_GAIN_DB, PIECE_GAIN_DB)),
            eq=(peak, shelf),
            decay_s=decay,
        )
    return characters


def apply_character(samples: np.ndarray, character: PieceCharacter) -> np.ndarray:
    """Retune, filter, damp and scale a one-shot (n,); its onset stays at sample 0.

    Returns
    -------
    numpy.ndarray, shape (m,), float32: ``m`` differs from ``n`` after retuning or damping.
    """
    out = _detune(samples, 100.0 * character.semitones) if character.semitones else samples
    if character.decay_s is not None:
        hold = int(PIECE_DECAY_HOLD_S * SAMPLE_RATE)
        length = hold + int(-np.log(DECAY_FLOOR) * character.decay_s * SAMPLE_RATE)
        out = out[:length]
        t = np.maximum(np.arange(len(out)) - hold, 0) / SAMPLE_RATE
        out = out * np.exp(-t / character.decay_s).astype(np.float32)
    if character.eq:
        sos = np.concatenate([biquad(*band) for band in character.eq])
        out = signal.sosfilt(sos, out)
    return (out * 10 ** (character.gain_db / 20)).astype(np.float32)


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
    kit: Kit,
    hits: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
    vary_hits: bool = True,
    characters: dict[int, PieceCharacter] | None = None,
    stem_of: Callable[[int], str | None] | None = None,
) -> np.ndarray | dict[str, np.ndarray]:
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
    characters : dict, optional
        :class:`PieceCharacter` per :func:`piece_key` (see :func:`draw_piece_characters`);
        pieces without one keep their sound.
    stem_of : callable, optional
        GM note -> stem name (e.g. :func:`data_prep.room.piece_of_note`); when given, each
        stem is rendered on its own (same draws, same hits) and a dict is returned. Hits whose
        stem is None are left out.

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32, or dict of them by stem name
    """
    out = np.zeros(n_samples, dtype=np.float32)
    stems: dict[str, np.ndarray] = {}
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
    voiced: dict[int, np.ndarray] = {}  # id of a layer -> its re-voiced one-shot
    for i in range(n):
        gm = int(notes[i])
        instrument = choice.get(gm)
        if instrument is None:
            continue
        velocity = hits[i, 2] / 127.0
        layer = instrument.layer_for(velocity)
        samples = layer.samples
        character = characters.get(piece_key(gm)) if characters else None
        if character is not None:
            if id(layer) not in voiced:
                voiced[id(layer)] = apply_character(samples, character)
            samples = voiced[id(layer)]
        samples = samples[int(jitters[i]) :]
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
        if stem_of is None:
            out[start : start + length] += chunk
            continue
        name = stem_of(gm)
        if name is not None:
            if name not in stems:
                stems[name] = np.zeros(n_samples, dtype=np.float32)
            stems[name][start : start + length] += chunk
    return out if stem_of is None else stems


def label_rows(hits: np.ndarray) -> list[tuple[float, int, str, int]]:
    """Label rows (onset_s, gm_note, class, velocity) for labelled classes only."""
    rows = []
    for onset, gm, velocity in hits:
        cls = GM_TO_CLASS.get(int(gm))
        if cls is not None:
            rows.append((float(onset), int(gm), cls, int(velocity)))
    return rows
