"""From drum hits in seconds to a notated grid: bars, beats, subdivisions, note values.

:func:`quantize` places every hit of a :class:`~drumtx.transcription.Transcription` on
the best grid of its beat (16ths, 8th-note triplets or 16th-note triplets), merges
same-class hits on one grid point, marks ghost notes (quiet snare hits) and flams (two
close hits of one drum, the first quieter). :func:`layout_beat` turns the hits of one
beat and one voice into notes and rests with written durations, so that every bar adds
up exactly; the score writers share it.

Times inside a bar are ticks at :data:`DIVISION` per quarter note (MuseScore's unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from drumtx import rhythm, vocab
from drumtx.transcription import Transcription

DIVISION = 480
"""Ticks per quarter note."""

STRAIGHT = 4
EIGHTH_TRIPLETS = 3
SIXTEENTH_TRIPLETS = 6

SUBDIVISION_PENALTY: dict[int, float] = {
    STRAIGHT: 0.0,
    EIGHTH_TRIPLETS: 0.02,
    SIXTEENTH_TRIPLETS: 0.04,
}
"""Cost (in beats of mean timing error) of choosing a grid: simpler grids win ties."""

SHUFFLE_PENALTY: dict[int, float] = {
    STRAIGHT: 0.02,
    EIGHTH_TRIPLETS: 0.0,
    SIXTEENTH_TRIPLETS: 0.02,
}
"""Grid costs in a shuffle: 8th-note triplets are the plain grid, 16ths the exception.

A piece whose beats are not split into compound eighths (:func:`drumtx.rhythm.refine_metre`)
is a shuffle when its off-beat hits sit on thirds of the beat by the same rule
(:func:`drumtx.rhythm.has_triplet_feel`). Hits between a 16th and a triplet (a loose swing,
beats tracked a little off) then read as triplets, as a drummer would write them, rather
than flipping between grids beat by beat."""

COMPOUND_SUBDIVISIONS = (2,)
"""Grids of an eighth-note beat in compound metres: 16th notes."""

BEAT_WINDOW_LEAD = 0.125
"""Hits up to this fraction of a beat early belong to the beat (not the one before)."""

GHOST_CLASSES = ("SD",)
GHOST_MAX_VELOCITY = 60
GHOST_RATIO = 0.5
"""A snare hit is a ghost note when quieter than both ``GHOST_MAX_VELOCITY`` and
``GHOST_RATIO`` times the median snare velocity of the piece."""
MIN_HITS_FOR_GHOSTS = 4

FLAM_CLASSES = ("SD", "HT", "MT", "LT")
FLAM_MIN_GAP_S = 0.008
FLAM_MAX_GAP_S = 0.050
FLAM_VELOCITY_RATIO = 0.9
"""Two hits of one drum on one grid point form a flam when they are between
``FLAM_MIN_GAP_S`` and ``FLAM_MAX_GAP_S`` apart and the first is quieter than
``FLAM_VELOCITY_RATIO`` times the second."""

TEMPO_CHANGE_RATIO = 0.04
"""A new tempo mark is written when a bar's tempo differs this much from the last mark."""

NOTE_TYPES: dict[int, str] = {
    1920: "whole",
    960: "half",
    480: "quarter",
    240: "eighth",
    120: "16th",
    60: "32nd",
}
"""Undotted written durations in ticks."""

DOTTED_TYPES: dict[int, str] = {ticks * 3 // 2: name for ticks, name in NOTE_TYPES.items()}
"""Single-dotted written durations in ticks."""

HIT_COLUMNS = (
    "measure",
    "beat",
    "step",
    "cls",
    "velocity",
    "ghost",
    "flam",
    "time_s",
    "n_merged",
)


@dataclass(frozen=True)
class Measure:
    """One bar of the quantized score.

    Attributes
    ----------
    index : int
        0-based bar number.
    numerator, denominator : int
        Time signature.
    start_s : float
        Time of the downbeat in the audio (may be negative for a lead-in bar).
    beat_times : tuple of float
        Times of the bar's beats plus the next downbeat (``len == numerator + 1``).
    subdivisions : tuple of int
        Grid chosen for each beat (1, 2, 3, 4 or 6 steps per beat).
    tempo_bpm : float
        Quarter notes per minute in this bar.
    tempo_mark : bool
        Whether a tempo mark is written at this bar.
    """

    index: int
    numerator: int
    denominator: int
    start_s: float
    beat_times: tuple[float, ...]
    subdivisions: tuple[int, ...]
    tempo_bpm: float
    tempo_mark: bool

    @property
    def beat_ticks(self) -> int:
        """Ticks per beat (a quarter or, in compound metres, an eighth note)."""
        return DIVISION * 4 // self.denominator

    @property
    def ticks(self) -> int:
        """Length of the bar in ticks."""
        return self.beat_ticks * self.numerator

    def tick_of(self, beat: int, step: int) -> int:
        """Tick (from the bar start) of grid point ``step`` in beat ``beat``."""
        return beat * self.beat_ticks + step * self.beat_ticks // self.subdivisions[beat]


@dataclass(frozen=True)
class QuantizedScore:
    """Drum hits on a notated grid.

    Attributes
    ----------
    title : str
        Title of the piece.
    measures : list of Measure
        The bars in order.
    hits : pandas.DataFrame
        One row per written note, columns :data:`HIT_COLUMNS`: bar, beat, grid step,
        class, velocity, ghost / flam flags, the (first) original time and how many
        detected hits were merged into it.
    """

    title: str
    measures: list[Measure]
    hits: pd.DataFrame = field(repr=False)

    @property
    def numerator(self) -> int:
        """Time-signature numerator of the first bar."""
        return self.measures[0].numerator

    @property
    def denominator(self) -> int:
        """Time-signature denominator of the first bar."""
        return self.measures[0].denominator

    def hit_ticks(self) -> pd.DataFrame:
        """Hits with their absolute tick from the start of the score (column ``tick``)."""
        starts = np.cumsum([0] + [m.ticks for m in self.measures])
        ticks = [
            int(starts[m]) + self.measures[m].tick_of(b, s)
            for m, b, s in zip(
                self.hits["measure"], self.hits["beat"], self.hits["step"], strict=False
            )
        ]
        return self.hits.assign(tick=np.asarray(ticks, dtype="int64"))


@dataclass(frozen=True)
class Event:
    """One written note or rest of one voice.

    Attributes
    ----------
    tick : int
        Start in ticks from the bar start.
    ticks : int
        Sounding length in ticks.
    type : str
        Written note value (``"quarter"``, ``"eighth"``, ..., or ``"measure"``).
    dots : int
        Number of augmentation dots.
    hits : tuple of dict
        The notes of a chord (rows of :attr:`QuantizedScore.hits`); empty for a rest.
    tuplet : tuple of int or None
        ``(actual, normal, base_ticks)`` when the event is inside a tuplet.
    tuplet_start, tuplet_end : bool
        Whether the event opens / closes its tuplet.
    """

    tick: int
    ticks: int
    type: str
    dots: int = 0
    hits: tuple = ()
    tuplet: tuple[int, int, int] | None = None
    tuplet_start: bool = False
    tuplet_end: bool = False

    @property
    def is_rest(self) -> bool:
        """Whether this event is a rest."""
        return not self.hits


def voice_of(cls: str) -> int:
    """Score voice (0 = hands, stems up; 1 = feet, stems down) of a drum class."""
    return vocab.DRUM_BY_NAME[cls].voice


def _choose_subdivision(
    offsets: np.ndarray,
    candidates: tuple[int, ...],
    penalties: dict[int, float] = SUBDIVISION_PENALTY,
) -> int:
    """The grid with the lowest mean rounding error plus its complexity penalty."""
    if not len(offsets):
        return candidates[0]
    best, best_cost = candidates[0], np.inf
    for steps in candidates:
        error = np.mean(np.abs(offsets * steps - np.round(offsets * steps))) / steps
        cost = error + penalties.get(steps, 0.0)
        if cost < best_cost - 1e-12:
            best, best_cost = steps, cost
    return best


def _grid_penalties(offsets: np.ndarray, candidates: tuple[int, ...]) -> dict[int, float]:
    """The grid costs of a piece: :data:`SHUFFLE_PENALTY` for a shuffle, else the usual ones.

    Parameters
    ----------
    offsets : numpy.ndarray
        Position of every hit from the start of its beat (beats).
    candidates : tuple of int
        The grids a beat may take (a shuffle needs :data:`EIGHTH_TRIPLETS` among them).
    """
    if EIGHTH_TRIPLETS in candidates and rhythm.has_triplet_feel(offsets):
        return SHUFFLE_PENALTY
    return SUBDIVISION_PENALTY


def _simplify(steps: int, used: set[int]) -> tuple[int, dict[int, int]]:
    """Coarsest grid holding all used steps, with the mapping old step -> new step."""
    for factor in (steps, 3, 2):
        if factor > 1 and steps % factor == 0 and all(k % factor == 0 for k in used):
            coarse = steps // factor
            mapping = {k: k // factor for k in used}
            simpler, more = _simplify(coarse, set(mapping.values()))
            return simpler, {k: more[v] for k, v in mapping.items()}
    return steps, {k: k for k in used}


def _ghost_flags(drums: pd.DataFrame) -> np.ndarray:
    """Boolean mask of ghost notes among ``drums``."""
    flags = np.zeros(len(drums), dtype=bool)
    for cls in GHOST_CLASSES:
        mask = (drums["cls"] == cls).to_numpy()
        if mask.sum() < MIN_HITS_FOR_GHOSTS:
            continue
        velocity = drums["velocity"].to_numpy()
        limit = min(GHOST_MAX_VELOCITY, GHOST_RATIO * float(np.median(velocity[mask])))
        flags |= mask & (velocity < limit)
    return flags


def _merge(group: pd.DataFrame) -> dict:
    """Merge the hits of one class on one grid point into one written note."""
    loudest = group.loc[group["velocity"].idxmax()]
    first = group.iloc[0]
    flam = False
    if group["cls"].iloc[0] in FLAM_CLASSES and len(group) >= 2:
        gap = float(loudest["time_s"] - first["time_s"])
        flam = (
            FLAM_MIN_GAP_S <= gap <= FLAM_MAX_GAP_S
            and first["velocity"] < FLAM_VELOCITY_RATIO * loudest["velocity"]
        )
    return {
        "cls": loudest["cls"],
        "velocity": int(loudest["velocity"]),
        "ghost": bool(group["ghost"].all()),
        "flam": bool(flam),
        "time_s": float(first["time_s"]),
        "n_merged": int(len(group)),
    }


GRID_POINT = ["beat_abs", "step", "cls"]
"""Hits with equal values of these columns are written as one note."""
GRID_HIT_COLUMNS = ["beat_abs", "step", *HIT_COLUMNS[3:]]
"""Columns of :func:`_merge_grid_points`' table."""


def _merge_grid_points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per grid point and class (:func:`_merge` where several hits share one).

    Returns columns :data:`GRID_HIT_COLUMNS`, sorted by grid point.
    """
    shared = table.duplicated(GRID_POINT, keep=False).to_numpy()
    single = table.loc[~shared]
    rows = pd.DataFrame({
        "beat_abs": single["beat_abs"].to_numpy(dtype=int),
        "step": single["step"].to_numpy(dtype=int),
        "cls": single["cls"].to_numpy(),
        "velocity": single["velocity"].to_numpy(dtype=int),
        "ghost": single["ghost"].to_numpy(dtype=bool),
        "flam": np.zeros(len(single), dtype=bool),
        "time_s": single["time_s"].to_numpy(dtype=float),
        "n_merged": np.ones(len(single), dtype=int),
    })
    merged = pd.DataFrame(
        [
            {"beat_abs": int(beat), "step": int(step), **_merge(group)}
            for (beat, step, _), group in table.loc[shared].groupby(GRID_POINT, sort=True)
        ],
        columns=rows.columns,
    )
    parts = [part for part in (rows, merged) if len(part)]
    if not parts:
        return rows.reindex(columns=GRID_HIT_COLUMNS)
    every = pd.concat(parts, ignore_index=True).sort_values(GRID_POINT, kind="stable")
    return every.reset_index(drop=True).reindex(columns=GRID_HIT_COLUMNS)


def _tempo_marks(bpms: list[float]) -> list[bool]:
    """Which bars get a tempo mark: the first, and each drift beyond the change ratio."""
    marks = []
    last = None
    for bpm in bpms:
        mark = last is None or abs(bpm - last) > TEMPO_CHANGE_RATIO * last
        if mark:
            last = bpm
        marks.append(mark)
    return marks


def quantize(transcription: Transcription, title: str | None = None) -> QuantizedScore:
    """Place the drum hits of ``transcription`` on a notated grid.

    Without beats (``transcription.beats`` empty) the grid is plain 16th notes at
    :data:`drumtx.rhythm.DEFAULT_TEMPO_BPM` in 4/4 from time zero. With beats, each beat
    gets the grid among 16ths, 8th-note triplets and 16th-note triplets that fits its
    hits best (16ths only in compound metres, whose beats are eighth notes).

    Parameters
    ----------
    transcription : Transcription
        Drum hits and (optionally) beats.
    title : str, optional
        Title of the score; defaults to ``transcription.source``.

    Returns
    -------
    QuantizedScore
    """
    drums = transcription.drums.reset_index(drop=True)
    hit_times = drums["time_s"].to_numpy(dtype=float)
    end_s = max(
        float(transcription.duration_s or 0.0),
        float(hit_times.max()) if len(hit_times) else 0.0,
    )
    beats = transcription.beats
    if len(beats) >= 2:
        beats_per_bar = int(transcription.beats_per_bar or beats["position"].max())
        candidates: tuple[int, ...] = (
            COMPOUND_SUBDIVISIONS
            if rhythm.is_compound(beats_per_bar)
            else (STRAIGHT, EIGHTH_TRIPLETS, SIXTEENTH_TRIPLETS)
        )
        beat_times = beats["time_s"].to_numpy(dtype=float)
        positions = beats["position"].to_numpy(dtype=int)
    else:
        beats_per_bar = rhythm.DEFAULT_BEATS_PER_BAR
        candidates = (STRAIGHT,)
        default = rhythm.default_beats(end_s)
        beat_times = default["time_s"].to_numpy()
        positions = default["position"].to_numpy()
    start_s = min(0.0, float(hit_times.min()) if len(hit_times) else 0.0)
    grid, _ = rhythm.regular_grid(
        beat_times, positions, beats_per_bar, start_s, end_s, lead=BEAT_WINDOW_LEAD
    )
    numerator, denominator = rhythm.time_signature(beats_per_bar)
    n_beats = len(grid) - 1
    n_measures = n_beats // beats_per_bar

    position = np.interp(hit_times, grid, np.arange(len(grid)))
    # Hits a little early belong to the next beat (on its first grid point or later).
    beat_index = np.floor(position + BEAT_WINDOW_LEAD).astype(int)
    beat_index = np.clip(beat_index, 0, n_beats - 1)
    offsets = position - beat_index

    subdivisions = np.full(n_beats, candidates[0], dtype=int)
    steps = np.zeros(len(hit_times), dtype=int)
    order = np.argsort(beat_index, kind="stable")
    boundaries = np.flatnonzero(np.diff(beat_index[order])) + 1
    penalties = _grid_penalties(offsets, candidates)
    for members in np.split(order, boundaries):
        if not len(members):
            continue
        beat = int(beat_index[members[0]])
        chosen = _choose_subdivision(offsets[members], candidates, penalties)
        subdivisions[beat] = chosen
        steps[members] = np.clip(np.round(offsets[members] * chosen), 0, chosen).astype(int)
    # A hit rounded onto the end of its beat moves to the first point of the next beat.
    carried = steps == subdivisions[beat_index]
    beat_index = np.where(carried, beat_index + 1, beat_index)
    steps = np.where(carried, 0, steps)
    keep = beat_index < n_beats
    table = drums.assign(beat_abs=beat_index, step=steps, ghost=_ghost_flags(drums)).loc[keep]

    # Coarsest grid per beat that still holds its hits (16ths used only on 8ths -> 8ths).
    kept_beats = table["beat_abs"].to_numpy(dtype=int)
    kept_steps = table["step"].to_numpy(dtype=int).copy()
    order = np.argsort(kept_beats, kind="stable")
    boundaries = np.flatnonzero(np.diff(kept_beats[order])) + 1
    for members in np.split(order, boundaries) if len(order) else []:
        beat = int(kept_beats[members[0]])
        simpler, mapping = _simplify(int(subdivisions[beat]), set(kept_steps[members].tolist()))
        subdivisions[beat] = simpler
        kept_steps[members] = [mapping[step] for step in kept_steps[members].tolist()]
    table = table.assign(step=kept_steps)
    empty = np.ones(n_beats, dtype=bool)
    empty[kept_beats] = False
    subdivisions[empty] = 1

    hits = _merge_grid_points(table)
    hits = hits.assign(
        measure=(hits["beat_abs"] // beats_per_bar).astype("int64"),
        beat=(hits["beat_abs"] % beats_per_bar).astype("int64"),
        step=hits["step"].astype("int64"),
        velocity=hits["velocity"].astype("int64"),
        ghost=hits["ghost"].astype(bool),
        flam=hits["flam"].astype(bool),
        n_merged=hits["n_merged"].astype("int64"),
    )
    hits = hits.assign(_order=hits["cls"].map(vocab.CLASS_INDEX))
    hits = hits.sort_values(["measure", "beat", "step", "_order"], kind="stable")
    hits = hits[list(HIT_COLUMNS)].reset_index(drop=True)

    quarter_per_beat = 4.0 / denominator
    bpms = []
    for index in range(n_measures):
        span = grid[index * beats_per_bar : (index + 1) * beats_per_bar + 1]
        bpms.append(60.0 * beats_per_bar * quarter_per_beat / float(span[-1] - span[0]))
    marks = _tempo_marks(bpms)
    measures = [
        Measure(
            index=index,
            numerator=numerator,
            denominator=denominator,
            start_s=float(grid[index * beats_per_bar]),
            beat_times=tuple(
                float(t) for t in grid[index * beats_per_bar : (index + 1) * beats_per_bar + 1]
            ),
            subdivisions=tuple(
                int(s) for s in subdivisions[index * beats_per_bar : (index + 1) * beats_per_bar]
            ),
            tempo_bpm=float(bpms[index]),
            tempo_mark=bool(marks[index]),
        )
        for index in range(n_measures)
    ]
    return QuantizedScore(
        title=title if title is not None else transcription.source,
        measures=measures,
        hits=hits,
    )


def split_ticks(ticks: int, allow_dots: bool) -> list[tuple[int, str, int]]:
    """Split a length into written values, longest first: ``[(ticks, type, dots), ...]``.

    Raises
    ------
    ValueError
        The length cannot be written with values down to a 32nd note.
    """
    parts = []
    remaining = ticks
    values = sorted(
        [(t, name, 0) for t, name in NOTE_TYPES.items()]
        + ([(t, name, 1) for t, name in DOTTED_TYPES.items()] if allow_dots else []),
        reverse=True,
    )
    while remaining > 0:
        for value, name, dots in values:
            if value <= remaining:
                parts.append((value, name, dots))
                remaining -= value
                break
        else:
            raise ValueError(f"cannot write a length of {ticks} ticks")
    return parts


def _tuplet_of(beat_ticks: int, steps: int) -> tuple[int, int, int] | None:
    """``(actual, normal, nominal_step_ticks)`` of a beat grid, or ``None`` if not a tuplet."""
    if beat_ticks % steps == 0 and (beat_ticks // steps) in NOTE_TYPES:
        return None
    normal = 1 << int(np.floor(np.log2(steps)))
    if normal == steps:
        return None
    return steps, normal, beat_ticks // normal


def layout_beat(
    beat_tick: int, beat_ticks: int, steps: int, onsets: dict[int, tuple]
) -> list[Event]:
    """Notes and rests filling one beat of one voice.

    Each chord lasts until the next onset (or the end of the beat) when that length can
    be written as one (possibly dotted) value; otherwise the rest of its span is filled
    with rests. Leading silence is written as undotted rests. Beats on a triplet grid
    become one tuplet.

    Parameters
    ----------
    beat_tick : int
        Tick of the beat's start in the bar.
    beat_ticks : int
        Length of the beat in ticks.
    steps : int
        Grid points in the beat.
    onsets : dict
        Grid step -> tuple of hit rows sounding there (empty tuples are ignored).

    Returns
    -------
    list of Event
        Sounding lengths sum to ``beat_ticks``.
    """
    tuplet = _tuplet_of(beat_ticks, steps)
    if tuplet is None:
        step_sound = beat_ticks // steps
        step_written = step_sound
    else:
        step_sound = beat_ticks // steps
        step_written = tuplet[2]
    used = sorted(k for k, hits in onsets.items() if hits)
    events: list[Event] = []
    cursor = 0
    points = used + [steps]
    if not used or used[0] > 0:
        first = used[0] if used else steps
        for written, name, dots in split_ticks(first * step_written, allow_dots=False):
            events.append(Event(0, written, name, dots))
        cursor = first
    for here, following in zip(points[:-1], points[1:], strict=False):
        length = (following - here) * step_written
        parts = split_ticks(length, allow_dots=True)
        head_ticks, head_name, head_dots = parts[0]
        events.append(Event(0, head_ticks, head_name, head_dots, hits=tuple(onsets[here])))
        for written, name, dots in split_ticks(length - head_ticks, allow_dots=False):
            events.append(Event(0, written, name, dots))
        cursor = following
    assert cursor == steps
    # Convert written lengths to sounding ticks and positions.
    result = []
    position = beat_tick
    for index, event in enumerate(events):
        sounding = event.ticks * step_sound // step_written
        result.append(
            Event(
                tick=position,
                ticks=sounding,
                type=event.type,
                dots=event.dots,
                hits=event.hits,
                tuplet=tuplet,
                tuplet_start=tuplet is not None and index == 0,
                tuplet_end=tuplet is not None and index == len(events) - 1,
            )
        )
        position += sounding
    return result


def layout_measure(
    score: QuantizedScore, measure: Measure, voice: int, hits: pd.DataFrame | None = None
) -> list[Event]:
    """Notes and rests of one drum voice of one bar; empty if that voice has no hits.

    A bar without hits in voice 0 is one whole-bar rest (type ``"measure"``). Empty
    pairs of beats starting on an even beat of 2/4 and 4/4 are merged into half rests,
    empty groups of three eighth-note beats of compound metres into dotted-quarter rests.
    """
    if hits is None:
        hits = score.hits[score.hits["measure"] == measure.index]
    mine = hits[hits["cls"].map(voice_of) == voice]
    if mine.empty:
        return [Event(0, measure.ticks, "measure")] if voice == 0 else []
    subdivisions = list(measure.subdivisions)
    return layout_rows(measure, subdivisions, mine.to_dict("records"))


def layout_rows(measure: Measure, subdivisions: list[int], rows: list[dict]) -> list[Event]:
    """Notes and rests of one voice of one bar from rows with ``beat`` and ``step`` keys.

    ``subdivisions[beat]`` is the grid the steps of that beat refer to.
    """
    if not rows:
        return [Event(0, measure.ticks, "measure")]
    by_beat: dict[int, dict[int, list]] = {}
    for row in rows:
        by_beat.setdefault(int(row["beat"]), {}).setdefault(int(row["step"]), []).append(row)
    events: list[Event] = []
    beat = 0
    # Empty beats are merged into half rests (2/4, 4/4) or dotted-quarter rests (x/8).
    group = 3 if measure.denominator == 8 else 2 if measure.numerator in (2, 4) else 1
    while beat < measure.numerator:
        start = measure.tick_of(beat, 0)
        if beat not in by_beat:
            span = range(beat, beat + group)
            if group > 1 and beat % group == 0 and not any(b in by_beat for b in span):
                for ticks, name, dots in split_ticks(group * measure.beat_ticks, True):
                    events.append(Event(start, ticks, name, dots))
                beat += group
                continue
            events.extend(
                Event(start, ticks, name, dots)
                for ticks, name, dots in split_ticks(measure.beat_ticks, allow_dots=True)
            )
            beat += 1
            continue
        # Each voice uses the coarsest grid holding its own hits in this beat.
        steps, mapping = _simplify(subdivisions[beat], set(by_beat[beat]))
        onsets = {mapping[step]: tuple(rows) for step, rows in by_beat[beat].items()}
        events.extend(layout_beat(start, measure.beat_ticks, steps, onsets))
        beat += 1
    return events


def layout_pitched(
    score: QuantizedScore, notes: pd.DataFrame, low: int, high: int
) -> list[list[Event]]:
    """Notes and rests per bar of a pitched staff holding pitches ``low <= pitch < high``.

    Onsets go on the best grid of each beat (chosen from the pitched onsets alone);
    notes with one onset form a chord lasting until the next onset or the end of the
    beat (notes are not tied across beats).
    """
    notes = notes[(notes["pitch"] >= low) & (notes["pitch"] < high)]
    grid = np.array(
        [t for m in score.measures for t in m.beat_times[:-1]] + [score.measures[-1].beat_times[-1]]
    )
    beats_per_bar = score.measures[0].numerator
    candidates = (
        COMPOUND_SUBDIVISIONS
        if score.measures[0].denominator == 8
        else (STRAIGHT, EIGHTH_TRIPLETS, SIXTEENTH_TRIPLETS)
    )
    position = np.interp(notes["onset_s"].to_numpy(float), grid, np.arange(len(grid)))
    beat_index = np.clip(np.floor(position + BEAT_WINDOW_LEAD).astype(int), 0, len(grid) - 2)
    offsets = position - beat_index
    rows_by_measure: dict[int, list[dict]] = {}
    subdivisions = np.full(len(grid) - 1, candidates[0], dtype=int)
    for beat in np.unique(beat_index):
        members = np.flatnonzero(beat_index == beat)
        chosen = _choose_subdivision(offsets[members], candidates)
        subdivisions[beat] = chosen
        seen: set[tuple[int, int]] = set()
        for member in members:
            step = int(np.clip(np.round(offsets[member] * chosen), 0, chosen - 1))
            pitch = int(notes["pitch"].iloc[member])
            if (step, pitch) in seen:
                continue
            seen.add((step, pitch))
            rows_by_measure.setdefault(int(beat) // beats_per_bar, []).append(
                {
                    "beat": int(beat) % beats_per_bar,
                    "step": step,
                    "pitch": pitch,
                    "velocity": int(notes["velocity"].iloc[member]),
                }
            )
    result = []
    for measure in score.measures:
        first = measure.index * beats_per_bar
        bar_subdivisions = [int(s) for s in subdivisions[first : first + beats_per_bar]]
        result.append(
            layout_rows(measure, bar_subdivisions, rows_by_measure.get(measure.index, []))
        )
    return result
