"""The groove generator: drum patterns from scratch, variations of human parts, and performance.

Patterns live in quarter-note beats (arrays of ``beat, GM note, velocity``). :func:`generate`
writes a groove in one of several styles; :func:`vary` varies any drum part (ride or hi-hat,
open and pedal hi-hat, crashes on downbeats, ghost notes, fills, side stick, china and splash,
ride bell) with probabilities that deliberately boost the rare classes; :func:`perform` turns beats
into seconds with a tempo, swing, flams and humanised timing (within ±10 ms) and velocity.

GM notes are only ever named through :mod:`drumtx.vocab` (class name -> written note).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from drumtx.vocab import DRUM_BY_NAME, GM_TO_CLASS

MIN_TEMPO_BPM = 60.0
MAX_TEMPO_BPM = 220.0
HUMANISE_MAX_S = 0.010
"""Humanised timing never moves a hit by more than this."""
FLAM_GAP_S = (0.018, 0.035)
"""Grace note lead of a flam (seconds)."""
GRID = 4
"""Sixteenth notes per beat."""


def note(cls: str, index: int = 0) -> int:
    """GM note of a drum class (``index`` picks among the class's GM notes)."""
    notes = DRUM_BY_NAME[cls].gm_notes
    return notes[min(index, len(notes) - 1)]


KD, SD, SS, CHH, PHH, OHH = (note(c) for c in ("KD", "SD", "SS", "CHH", "PHH", "OHH"))
HT, MT, LT, CR, RD, RB, CS = (note(c) for c in ("HT", "MT", "LT", "CR", "RD", "RB", "CS"))
SPLASH = note("CS", 1)
CRASH2 = note("CR", 1)
RIDE2 = note("RD", 1)
FLOOR_TOM_HIGH = note("LT", 1)
RACK_TOM_LOW = note("MT", 1)
RACK_TOM_HIGH = note("HT", 1)
TOMS: tuple[int, ...] = (RACK_TOM_HIGH, HT, RACK_TOM_LOW, MT, FLOOR_TOM_HIGH, LT)
"""Toms from high to low."""
HIHATS = frozenset((CHH, PHH, OHH))
SNARES = frozenset(DRUM_BY_NAME["SD"].gm_notes)


class Part:
    """A drum part under construction: hits as (beat, GM note, velocity)."""

    def __init__(self) -> None:
        self.hits: list[tuple[float, int, int]] = []

    def add(self, beat: float, gm: int, velocity: float) -> None:
        """Add one hit (velocity is clipped to 1..127)."""
        self.hits.append((float(beat), int(gm), int(np.clip(round(velocity), 1, 127))))

    def array(self) -> np.ndarray:
        """Hits as an array, shape (n, 3), sorted by beat."""
        return np.array(sorted(self.hits), dtype=np.float64).reshape(-1, 3)


# ----------------------------------------------------------------------------- styles


def _hats(part: Part, bar0: float, beats: int, rng, step: float, gm: int, accent: float) -> None:
    for i in range(int(round(beats / step))):
        beat = bar0 + i * step
        on_beat = abs(beat % 1.0) < 1e-6
        part.add(beat, gm, (95 if on_beat else 95 - accent) + rng.normal(0, 6))


def _style_rock(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.5, CHH, 20)
    part.add(bar0, KD, 110)
    if beats >= 4:
        part.add(bar0 + 2, KD, 105)
        options = [1.5, 2.5, 3.5, 0.75, 2.75]
        for extra in rng.choice(options, size=rng.integers(0, 3), replace=False):
            part.add(bar0 + extra, KD, 90)
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 112)


def _style_sixteenths(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.25, CHH, 30)
    part.add(bar0, KD, 112)
    for pos in np.flatnonzero(rng.random(beats * GRID) < 0.22):
        if pos % GRID or pos // GRID % 2 == 0:
            part.add(bar0 + pos / GRID, KD, 85 + rng.normal(0, 8))
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 110)


def _style_disco(part: Part, bar0: float, beats: int, rng) -> None:
    for b in range(beats):
        part.add(bar0 + b, KD, 108)
        part.add(bar0 + b + 0.5, OHH, 90)
        part.add(bar0 + b, CHH, 80)
        part.add(bar0 + b + 0.75, CHH, 60)
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 108)


def _style_halftime(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.5 if rng.random() < 0.6 else 0.25, CHH, 25)
    part.add(bar0, KD, 112)
    part.add(bar0 + rng.choice([1.5, 1.75, 2.5, 3.5]), KD, 95)
    part.add(bar0 + beats // 2, SD, 115)


def _style_shuffle(part: Part, bar0: float, beats: int, rng) -> None:
    ride = rng.random() < 0.4
    for b in range(beats):
        part.add(bar0 + b, RD if ride else CHH, 95)
        part.add(bar0 + b + 2 / 3, RD if ride else CHH, 70)
    part.add(bar0, KD, 108)
    if beats >= 4:
        part.add(bar0 + 2, KD, 100)
        part.add(bar0 + 2 + 2 / 3, KD, 80)
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 105)


def _style_jazz(part: Part, bar0: float, beats: int, rng) -> None:
    for b in range(beats):
        part.add(bar0 + b, RD, 90 + rng.normal(0, 6))
        if b % 2 == 1:
            part.add(bar0 + b + 2 / 3, RD, 70)
            part.add(bar0 + b, PHH, 75)
        part.add(bar0 + b, KD, 40 + rng.normal(0, 5))  # feathered
    for pos in np.flatnonzero(rng.random(beats * 3) < 0.18):
        part.add(bar0 + pos / 3, SD if rng.random() < 0.8 else SS, 45 + rng.normal(0, 10))
    if rng.random() < 0.3:
        part.add(bar0 + rng.integers(beats), RB, 85)


def _style_metal(part: Part, bar0: float, beats: int, rng) -> None:
    cymbal = rng.choice([CHH, RD, RB, CR, CS])
    for b in range(beats):
        part.add(bar0 + b, cymbal, 100)
        for s in range(GRID):
            part.add(bar0 + b + s / GRID, KD, 95 + rng.normal(0, 6))
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 118)


def _style_bossa(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.5, CHH if rng.random() < 0.6 else RD, 25)
    for b in range(0, beats, 2):
        part.add(bar0 + b, KD, 90)
        part.add(bar0 + b + 1.5, KD, 80)
    clave = (0, 0.75, 1.5, 2.5, 3) if beats >= 4 else (0, 0.75, 1.5)
    for c in clave:
        part.add(bar0 + c, SS, 85)


def _style_reggae(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.5, CHH, 25)
    drop = beats // 2
    part.add(bar0 + drop, KD, 105)
    part.add(bar0 + drop, SS if rng.random() < 0.6 else SD, 100)
    if rng.random() < 0.5:
        part.add(bar0 + beats - 0.5, OHH, 85)


def _style_punk(part: Part, bar0: float, beats: int, rng) -> None:
    cymbal = CHH if rng.random() < 0.6 else RD
    for b in range(beats):
        part.add(bar0 + b, cymbal, 105)
        part.add(bar0 + b + 0.5, cymbal, 95)
        part.add(bar0 + b, KD, 110)
        part.add(bar0 + b + 0.5, SD, 112)


def _style_toms(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 1.0, PHH, 0)
    for pos in range(beats * 2):
        tom = TOMS[int(rng.integers(len(TOMS)))] if rng.random() < 0.5 else LT
        part.add(bar0 + pos / 2, tom, 90 + rng.normal(0, 10))
    part.add(bar0, KD, 110)
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 100)


def _style_ride(part: Part, bar0: float, beats: int, rng) -> None:
    _hats(part, bar0, beats, rng, 0.5, RD, 20)
    for b in range(beats):
        if rng.random() < 0.3:
            part.add(bar0 + b, RB, 90)
        if b % 2 == 1:
            part.add(bar0 + b, PHH, 70)
    part.add(bar0, KD, 108)
    if beats >= 4:
        part.add(bar0 + 2.5, KD, 95)
    for b in range(1, beats, 2):
        part.add(bar0 + b, SD, 108)


STYLES: dict[str, tuple[Callable, float, tuple[float, float]]] = {
    # name: (bar writer, weight, tempo range BPM)
    "rock": (_style_rock, 3.0, (70, 170)),
    "sixteenths": (_style_sixteenths, 2.0, (70, 130)),
    "disco": (_style_disco, 1.0, (100, 135)),
    "halftime": (_style_halftime, 1.0, (60, 160)),
    "shuffle": (_style_shuffle, 1.0, (70, 150)),
    "jazz": (_style_jazz, 1.0, (90, 220)),
    "metal": (_style_metal, 1.0, (90, 200)),
    "bossa": (_style_bossa, 1.0, (70, 150)),
    "reggae": (_style_reggae, 1.0, (60, 100)),
    "punk": (_style_punk, 1.0, (150, 220)),
    "toms": (_style_toms, 1.0, (70, 150)),
    "ride": (_style_ride, 1.5, (80, 180)),
}
"""Generator styles."""


def generate(
    rng: np.random.Generator, duration_s: float, beats_per_bar: int = 4
) -> tuple[np.ndarray, str, float, int]:
    """Write a groove from scratch, long enough for ``duration_s`` seconds.

    Returns
    -------
    drums : numpy.ndarray, shape (n, 3)
        beat, GM note, velocity.
    style : str
    tempo_bpm : float
        A tempo suited to the style (within 60–220 BPM).
    bars : int
    """
    names = list(STYLES)
    weights = np.array([STYLES[n][1] for n in names])
    style = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    writer, _, (low, high) = STYLES[style]
    tempo = float(np.clip(rng.uniform(low, high), MIN_TEMPO_BPM, MAX_TEMPO_BPM))
    bars = int(np.ceil(duration_s * tempo / 60.0 / beats_per_bar)) + 1
    part = Part()
    for bar in range(bars):
        writer(part, bar * beats_per_bar, beats_per_bar, rng)
    return part.array(), style, tempo, bars


# ----------------------------------------------------------------------------- variations

VARIATION_PROBABILITIES: dict[str, float] = {
    "ride": 0.25,
    "ride_bell": 0.15,
    "open_hh": 0.35,
    "pedal_hh": 0.3,
    "crash_downbeats": 0.55,
    "china_splash": 0.3,
    "ghosts": 0.35,
    "fills": 0.6,
    "side_stick": 0.15,
    "flams": 0.25,
    "drop_hits": 0.2,
}
"""Probability that a song gets each variation (rare classes boosted on purpose)."""


def _replace(drums: np.ndarray, mask: np.ndarray, gm: int) -> np.ndarray:
    out = drums.copy()
    out[mask, 1] = gm
    return out


def vary(
    drums: np.ndarray, beats_per_bar: float, length_beats: float, rng: np.random.Generator,
    probabilities: dict[str, float] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Vary a drum part in beats.

    Parameters
    ----------
    drums : numpy.ndarray, shape (n, 3)
        beat, GM note, velocity.
    beats_per_bar, length_beats : float
    rng : numpy.random.Generator
    probabilities : dict, optional
        Overrides of :data:`VARIATION_PROBABILITIES`.

    Returns
    -------
    drums : numpy.ndarray, shape (m, 3), sorted by beat
    applied : list of str
        Names of the variations applied (recorded in the manifest).
    """
    p = dict(VARIATION_PROBABILITIES, **(probabilities or {}))
    applied: list[str] = []
    drums = drums.copy()
    beats, notes = drums[:, 0], drums[:, 1].astype(int)
    frac = np.round(beats % 1.0, 4)
    hats_closed = notes == CHH
    bpb = max(1, int(round(beats_per_bar)))
    n_bars = max(1, int(np.ceil(length_beats / bpb)))
    extra = Part()

    if rng.random() < p["ride"] and hats_closed.any():
        drums = _replace(drums, hats_closed, RD if rng.random() < 0.7 else RIDE2)
        applied.append("ride")
        if rng.random() < 0.6:
            for b in np.arange(0, length_beats, 1.0):
                if int(b) % 2 == 1:
                    extra.add(b, PHH, 65 + rng.normal(0, 8))
    elif rng.random() < p["open_hh"] and hats_closed.any():
        mask = hats_closed & (frac == 0.5) & (rng.random(len(drums)) < 0.35)
        drums = _replace(drums, mask, OHH)
        applied.append("open_hh")
    notes = drums[:, 1].astype(int)
    if rng.random() < p["ride_bell"]:
        cymbal = np.isin(notes, [RD, RIDE2, CHH])
        mask = cymbal & (frac == 0.0) & (rng.random(len(drums)) < 0.5)
        if mask.any():
            drums = _replace(drums, mask, RB)
            applied.append("ride_bell")
    if rng.random() < p["pedal_hh"]:
        step = float(rng.choice([1.0, 2.0, 2.0]))
        for b in np.arange(0, length_beats, step):
            extra.add(b + (1.0 if step == 2.0 else 0.0), PHH, 60 + rng.normal(0, 10))
        applied.append("pedal_hh")
    if rng.random() < p["side_stick"]:
        mask = np.isin(notes, list(SNARES)) & (rng.random(len(drums)) < 0.8)
        drums = _replace(drums, mask, SS)
        applied.append("side_stick")
    if rng.random() < p["ghosts"]:
        occupied = set(np.round(beats * GRID).astype(int))
        for pos in range(int(length_beats * GRID)):
            if pos not in occupied and rng.random() < 0.12:
                extra.add(pos / GRID, SD, 22 + rng.normal(0, 7))
        applied.append("ghosts")
    phrase = int(rng.choice([2, 4, 8]))
    if rng.random() < p["fills"]:
        for bar in range(phrase - 1, n_bars, phrase):
            _fill(extra, drums, bar * bpb, bpb, rng)
        applied.append("fills")
    if rng.random() < p["crash_downbeats"]:
        chinas = rng.random() < p["china_splash"]
        for bar in range(0, n_bars, phrase):
            gm = CR if rng.random() < 0.6 else CRASH2
            if chinas and rng.random() < 0.5:
                gm = CS if rng.random() < 0.5 else SPLASH
            extra.add(bar * bpb, gm, 110 + rng.normal(0, 8))
            extra.add(bar * bpb, KD, 110)
        applied.append("crash_downbeats" + ("+china_splash" if chinas else ""))
    if rng.random() < p["china_splash"]:
        for bar in range(n_bars):
            if rng.random() < 0.4:
                beat = bar * bpb + float(rng.choice([0.0, 1.5, 2.0, 2.5, 3.5])) % bpb
                extra.add(beat, CS if rng.random() < 0.5 else SPLASH, 95 + rng.normal(0, 10))
        applied.append("china_splash")
    if rng.random() < p["drop_hits"]:
        keep = rng.random(len(drums)) >= 0.08
        drums = drums[keep]
        applied.append("drop_hits")
    merged = np.concatenate([drums, _without_doubles(extra.array(), drums)])
    merged = merged[(merged[:, 0] >= 0) & (merged[:, 0] < length_beats)]
    return _dedupe(merged[np.argsort(merged[:, 0], kind="stable")]), applied


def _fill(extra: Part, drums: np.ndarray, bar0: float, bpb: int, rng) -> None:
    """Write a fill over the last one or two beats of a bar (existing hits there are kept)."""
    n_beats = 1 if bpb < 2 or rng.random() < 0.5 else 2
    start = bar0 + bpb - n_beats
    step = float(rng.choice([0.25, 0.5, 1 / 3]))
    toms = list(TOMS) if rng.random() < 0.7 else [SD, *TOMS]
    positions = np.arange(start, bar0 + bpb - 1e-6, step)
    for i, beat in enumerate(positions):
        index = min(len(toms) - 1, int(i * len(toms) / max(1, len(positions))))
        extra.add(beat, toms[index], 95 + rng.normal(0, 10))


DOUBLE_TOLERANCE_BEATS = 0.12
"""An added hit is dropped if the part already has a hit of the same class this close."""


def _without_doubles(extra: np.ndarray, drums: np.ndarray) -> np.ndarray:
    """Added hits (n, 3) minus those doubling an existing hit of the same class."""
    if len(extra) == 0 or len(drums) == 0:
        return extra
    classes = np.array([GM_TO_CLASS.get(int(n), str(int(n))) for n in drums[:, 1]])
    keep = np.ones(len(extra), dtype=bool)
    for i, (beat, gm, _) in enumerate(extra):
        cls = GM_TO_CLASS.get(int(gm), str(int(gm)))
        near = np.abs(drums[:, 0] - beat) < DOUBLE_TOLERANCE_BEATS
        keep[i] = not np.any(near & (classes == cls))
    return extra[keep]


def _dedupe(drums: np.ndarray) -> np.ndarray:
    """Drop exact duplicates of (beat, note), keeping the loudest."""
    if len(drums) == 0:
        return drums
    keys = np.round(drums[:, 0] * 960).astype(np.int64) * 128 + drums[:, 1].astype(np.int64)
    order = np.lexsort((-drums[:, 2], keys))
    _, first = np.unique(keys[order], return_index=True)
    kept = drums[order[first]]
    return kept[np.argsort(kept[:, 0], kind="stable")]


# ----------------------------------------------------------------------------- performance


def swing_warp(beats: np.ndarray, ratio: float, subdivision: float = 0.5) -> np.ndarray:
    """Swing: within each ``2 * subdivision`` span, move the middle to ``ratio`` of the span.

    ``ratio`` 0.5 is straight, 2/3 a triplet shuffle. Piecewise linear, so order is kept.
    """
    span = 2 * subdivision
    base = np.floor(beats / span) * span
    f = (beats - base) / span
    warped = np.where(f < 0.5, f * 2 * ratio, ratio + (f - 0.5) * 2 * (1 - ratio))
    return base + warped * span


def perform(
    drums: np.ndarray,
    notes: np.ndarray,
    tempo_bpm: float,
    rng: np.random.Generator,
    swing: float = 0.5,
    swing_subdivision: float = 0.5,
    timing_sd_s: float = 0.004,
    velocity_sd: float = 0.08,
    flam_probability: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beats -> seconds with tempo, swing, humanised timing and velocity, and flams.

    Parameters
    ----------
    drums : numpy.ndarray, shape (n, 3)
        beat, GM note, velocity.
    notes : numpy.ndarray, shape (m, 5)
        onset beat, offset beat, pitch, velocity, program.

    Returns
    -------
    drums : numpy.ndarray, shape (n', 3)
        onset seconds, GM note, velocity (1..127), sorted by time.
    notes : numpy.ndarray, shape (m, 5)
        onset seconds, offset seconds, pitch, velocity, program.
    """
    spb = 60.0 / tempo_bpm
    d = drums.copy()
    d[:, 0] = swing_warp(d[:, 0], swing, swing_subdivision) * spb
    jitter = np.clip(rng.normal(0, timing_sd_s, len(d)), -HUMANISE_MAX_S, HUMANISE_MAX_S)
    d[:, 0] += jitter
    d[:, 2] = np.clip(np.round(d[:, 2] * rng.normal(1.0, velocity_sd, len(d))), 1, 127)
    if flam_probability > 0 and len(d):
        flammable = np.isin(d[:, 1].astype(int), [*SNARES, *TOMS]) & (d[:, 2] > 70)
        chosen = flammable & (rng.random(len(d)) < flam_probability)
        grace = d[chosen].copy()
        grace[:, 0] -= rng.uniform(*FLAM_GAP_S, len(grace))
        grace[:, 2] = np.clip(grace[:, 2] * 0.45, 1, 127)
        d = np.concatenate([d, grace])
    d = d[np.argsort(d[:, 0], kind="stable")]
    n = notes.copy()
    if len(n):
        n[:, 0] = swing_warp(n[:, 0], swing, swing_subdivision) * spb
        n[:, 1] = swing_warp(n[:, 1], swing, swing_subdivision) * spb
        shift = np.clip(rng.normal(0, timing_sd_s, len(n)), -HUMANISE_MAX_S, HUMANISE_MAX_S)
        n[:, 0] += shift
        n[:, 1] = np.maximum(n[:, 1] + shift, n[:, 0] + 0.02)
        n[:, 3] = np.clip(np.round(n[:, 3] * rng.normal(1.0, velocity_sd / 2, len(n))), 1, 127)
    return d, n


def class_counts(drums: np.ndarray) -> dict[str, int]:
    """Hits per drum class in a drum array (GM note in column 1)."""
    out: dict[str, int] = {}
    for gm in drums[:, 1].astype(int):
        cls = GM_TO_CLASS.get(int(gm))
        if cls:
            out[cls] = out.get(cls, 0) + 1
    return out
