"""Beats, downbeats, tempo and time signature, and the beat-grid maths.

:func:`analyze` runs madmom's recurrent downbeat networks on audio and decodes their
activations with :func:`beats_from_beat_activations` (madmom's dynamic Bayesian network
tracker, cheaply and in bounded memory); :func:`with_rhythm` stores the result in a
:class:`~drumtx.transcription.Transcription`. A model with a beat head (see
:mod:`drumtx.model`) needs no audio: its activations go through the same decoder.
Compound metres (6/8, 9/8, 12/8) are recognised from the drum hits
(:func:`refine_metre`): when most hits fall on thirds of a slow tracked beat, each beat is
split into three eighth-note beats. Triplets on a faster beat are a shuffle: the metre stays
simple and the score writes them as triplets.

Conventions
-----------
``beats_per_bar`` is the time-signature numerator. Numerators 6, 9 and 12 mean a
compound metre with an eighth-note denominator; the beat table then holds eighth-note
beats and ``tempo_bpm`` counts eighth notes. All other numerators have a quarter-note
denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from drumtx.transcription import Transcription, empty_beats

DEFAULT_TEMPO_BPM = 120.0
"""Tempo assumed when a transcription has no beats."""

DEFAULT_BEATS_PER_BAR = 4

MADMOM_SAMPLE_RATE = 44100
"""Sample rate madmom's downbeat network expects."""

MADMOM_FPS = 100
"""Frame rate of madmom's downbeat activations."""

TRACKED_BEATS_PER_BAR = (2, 3, 4)
"""Bar lengths (in tracked beats) the downbeat tracker chooses between."""

MIN_BPM = 55.0
MAX_BPM = 215.0
"""Tempo range of the beat tracker."""

TRANSITION_LAMBDA = 100.0
"""madmom's tempo-change penalty (higher = steadier tempo)."""

COMPOUND_NUMERATORS = (6, 9, 12)
"""Time-signature numerators written over an eighth-note denominator."""

TRIPLET_FEEL_SHARE = 0.6
"""Share of off-beat hits that must sit on thirds of a beat to call the metre compound."""

MIN_OFFBEAT_HITS = 8
"""Fewest off-beat hits needed before the metre may be called compound."""

MAX_COMPOUND_BEAT_BPM = 90.0
"""Fastest tracked beat (a dotted quarter once split) that triplets make a compound metre.

12/8 and 6/8 songs have slow dotted-quarter beats (about 40 to 80 per minute); triplets on a
faster beat are a shuffle, notated in 4/4 (or 3/4) with triplets. On the factory's 33 val and
test songs (all 4/4, shuffles included) the triplet rule alone called 9 songs 12/8: 8
shuffles whose beat was tracked at the right tempo (117 to 164 per minute) and a straight
song tracked at 4/3 of its tempo."""

OFFBEAT_TOLERANCE = 0.06
"""Beat fraction a hit may be from a grid point and still count as on it."""

MIN_BEATS = 4
"""Fewer tracked beats than this are treated as no beats at all."""

ACCENT_WEIGHTS: dict[str, float] = {"KD": 1.0, "SD": 1.0, "SS": 0.5, "CR": 0.5}
"""Weight of each class's hits as evidence of where beats fall (others count 0.2)."""
OTHER_ACCENT_WEIGHT = 0.2
SIX_EIGHT_MARGIN = 1.15
"""How much stronger the 6/8 reading of a tracked 3/4 must explain the accents."""


def is_compound(beats_per_bar: int) -> bool:
    """Whether a time-signature numerator means a compound metre (eighth-note beats)."""
    return int(beats_per_bar) in COMPOUND_NUMERATORS


def time_signature(beats_per_bar: int | None) -> tuple[int, int]:
    """Time signature ``(numerator, denominator)`` for a ``beats_per_bar`` value.

    Examples
    --------
    >>> time_signature(3)
    (3, 4)
    >>> time_signature(6)
    (6, 8)
    >>> time_signature(None)
    (4, 4)
    """
    numerator = int(beats_per_bar or DEFAULT_BEATS_PER_BAR)
    return numerator, 8 if is_compound(numerator) else 4


def default_beats(
    duration_s: float,
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    beats_per_bar: int = DEFAULT_BEATS_PER_BAR,
) -> pd.DataFrame:
    """A steady beat table from time zero covering ``duration_s`` (at least one beat)."""
    period = 60.0 / tempo_bpm
    count = max(1, int(np.ceil(max(duration_s, 0.0) / period)) + 1)
    times = np.arange(count) * period
    positions = np.arange(count) % beats_per_bar + 1
    return pd.DataFrame({"time_s": times, "position": positions.astype("int64")})


TEMPO_SPAN_BEATS = 4
"""Inter-beat intervals are measured over this many beats: beat times are whole frames, and
a longer span divides that rounding error (up to 1.5 % at 190 BPM per beat) by the span."""


def tempo_from_beats(times: np.ndarray) -> float | None:
    """Tempo (beats per minute) from the median inter-beat interval, or ``None``.

    The interval is the median of ``(times[k + m] - times[k]) / m`` with ``m`` =
    :data:`TEMPO_SPAN_BEATS` (fewer when there are fewer beats).
    """
    times = np.asarray(times, dtype=float)
    if len(times) < 2:
        return None
    span = min(TEMPO_SPAN_BEATS, len(times) - 1)
    intervals = (times[span:] - times[:-span]) / span
    intervals = intervals[intervals > 0]
    if not len(intervals):
        return None
    return float(60.0 / np.median(intervals))


def regular_grid(
    beat_times: np.ndarray,
    positions: np.ndarray,
    beats_per_bar: int,
    start_s: float,
    end_s: float,
    lead: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beat times extended to whole bars covering ``[start_s, end_s]``.

    Positions are renumbered from the first downbeat so that every bar has exactly
    ``beats_per_bar`` beats; beats before the first and after the last tracked beat are
    extrapolated with the mean of the nearest intervals. The result starts on a downbeat
    at or before ``start_s`` and ends on a downbeat after ``end_s`` (the end of the last bar).

    Parameters
    ----------
    beat_times : numpy.ndarray
        Increasing beat times in seconds (at least two).
    positions : numpy.ndarray
        Position of each beat in its bar (1 = downbeat).
    beats_per_bar : int
        Beats in every bar.
    start_s, end_s : float
        Time span the grid must cover.
    lead : float
        Fraction of a beat by which ``start_s`` may precede the first downbeat (a hit
        slightly early still belongs to that beat).

    Returns
    -------
    times : numpy.ndarray
        Beat times; ``len(times) - 1`` is a multiple of ``beats_per_bar``.
    positions : numpy.ndarray of int
        1-based positions; ``positions[0] == 1``.
    """
    times = np.asarray(beat_times, dtype=float)
    positions = np.asarray(positions, dtype=int)
    if len(times) < 2:
        raise ValueError("a beat grid needs at least two beats")
    downbeats = np.flatnonzero(positions == 1)
    first_downbeat = int(downbeats[0]) if len(downbeats) else 0
    index = np.arange(len(times)) - first_downbeat
    edge = min(4, len(times) - 1)
    head_period = float(np.mean(np.diff(times[: edge + 1])))
    tail_period = float(np.mean(np.diff(times[-edge - 1 :])))
    # Prepend beats until the grid starts on a downbeat at or before start_s.
    n_before = 0
    while (
        times[0] - n_before * head_period > start_s + lead * head_period
        or (index[0] - n_before) % beats_per_bar
    ):
        n_before += 1
    # Append beats until the grid ends on a downbeat after end_s.
    n_after = 0
    while times[-1] + n_after * tail_period <= end_s or (index[-1] + n_after) % beats_per_bar:
        n_after += 1
    before = times[0] - head_period * np.arange(n_before, 0, -1)
    after = times[-1] + tail_period * np.arange(1, n_after + 1)
    grid = np.concatenate([before, times, after])
    grid_positions = np.arange(len(grid)) % beats_per_bar + 1
    return grid, grid_positions


def _triplet_share(beat_fractions: np.ndarray) -> tuple[float, int]:
    """Share of off-beat hits nearer to thirds than to quarters of a beat, and their number.

    Parameters
    ----------
    beat_fractions : numpy.ndarray
        Position of each hit within its beat (beats; taken modulo 1).

    Returns
    -------
    share : float
        0 when no hit is off the beat (by more than :data:`OFFBEAT_TOLERANCE`).
    count : int
        Number of off-beat hits.
    """
    fraction = np.asarray(beat_fractions, dtype=float) % 1.0
    off_beat = np.minimum(fraction, 1.0 - fraction) > OFFBEAT_TOLERANCE
    fraction = fraction[off_beat]
    if not len(fraction):
        return 0.0, 0
    third_error = np.abs(fraction * 3 - np.round(fraction * 3)) / 3
    quarter_error = np.abs(fraction * 4 - np.round(fraction * 4)) / 4
    return float(np.mean(third_error < quarter_error)), int(len(fraction))


def has_triplet_feel(beat_fractions: np.ndarray) -> bool:
    """Whether at least :data:`MIN_OFFBEAT_HITS` hits are off the beat and at least
    :data:`TRIPLET_FEEL_SHARE` of them sit nearer to thirds than to quarters of it.

    Parameters
    ----------
    beat_fractions : numpy.ndarray
        Position of each hit within its beat (beats; taken modulo 1).
    """
    share, count = _triplet_share(beat_fractions)
    return count >= MIN_OFFBEAT_HITS and share >= TRIPLET_FEEL_SHARE


def _beat_fractions(hit_times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Positions (in beats) of the hits between the first and the last beat."""
    if len(beat_times) < 2:
        return np.zeros(0)
    inside = (hit_times >= beat_times[0]) & (hit_times < beat_times[-1])
    return np.interp(hit_times[inside], beat_times, np.arange(len(beat_times)))


def split_compound(beats: pd.DataFrame, beats_per_bar: int) -> tuple[pd.DataFrame, int]:
    """Split every tracked beat into three eighth-note beats (6/8, 9/8, 12/8 notation)."""
    times = beats["time_s"].to_numpy(dtype=float)
    positions = beats["position"].to_numpy(dtype=int)
    new_times = []
    new_positions = []
    for index, (time, position) in enumerate(zip(times, positions, strict=False)):
        if index + 1 < len(times):
            period = times[index + 1] - time
        else:
            period = times[index] - times[index - 1]
        for third in range(3):
            new_times.append(time + third * period / 3)
            new_positions.append((position - 1) * 3 + third + 1)
    table = pd.DataFrame(
        {"time_s": np.asarray(new_times), "position": np.asarray(new_positions, dtype="int64")}
    )
    return table, beats_per_bar * 3


MADMOM_NETWORKS = 4
"""How many of madmom's eight downbeat networks are averaged. On 33 held-out factory songs
(validation and test splits) four gave the tempo accuracy and beat F of all eight (tempo
within 2 % on 84.8 %, beat F 0.82) at half the cost; two lost three points of tempo accuracy."""


def _mono(samples: np.ndarray) -> np.ndarray:
    """float32 mono samples (channels last or first are averaged)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim > 1:
        samples = samples.mean(axis=-1 if samples.shape[-1] <= 2 else 0)
    return samples


def _beat_activations(
    samples: np.ndarray, sample_rate: int, n_networks: int = MADMOM_NETWORKS
) -> np.ndarray:
    """madmom's RNN activations ``(beat that is not a downbeat, downbeat)``, shape (frames, 2)."""
    from drumtx._madmom import import_madmom

    import_madmom()
    from madmom.audio.signal import Signal
    from madmom.features.downbeats import RNNDownBeatProcessor
    from madmom.ml.nn import NeuralNetworkEnsemble
    from madmom.models import DOWNBEATS_BLSTM

    samples = _mono(samples)
    if sample_rate != MADMOM_SAMPLE_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=sample_rate, target_sr=MADMOM_SAMPLE_RATE)
    signal = Signal(samples, sample_rate=MADMOM_SAMPLE_RATE, num_channels=1)
    processor = RNNDownBeatProcessor()  # features, network ensemble, column selection
    processor.processors[1] = NeuralNetworkEnsemble.load(DOWNBEATS_BLSTM[:n_networks])
    return np.asarray(processor(signal))


def downbeat_tracker(
    beats_per_bar: tuple[int, ...], fps: float, bpm_range: tuple[float, float] = (MIN_BPM, MAX_BPM)
):
    """madmom's DBN downbeat tracker with this module's transition settings, tempi in
    ``bpm_range`` (default: this module's whole range)."""
    from drumtx._madmom import import_madmom

    import_madmom()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor

    return DBNDownBeatTrackingProcessor(
        beats_per_bar=list(beats_per_bar),
        min_bpm=bpm_range[0],
        max_bpm=bpm_range[1],
        transition_lambda=TRANSITION_LAMBDA,
        fps=fps,
    )


BEAT_HEAD_BEATS_PER_BAR = (3, 4)
"""Bar lengths (in beats) the tracker chooses between for beat-head activations; 6/8 is
recognised afterwards from the drums (:func:`refine_metre`)."""

BEAT_HEAD_POOL = 2
"""The tracker runs on beat activations (the beat head's or madmom's) max-pooled over this
many frames (50 fps): a quarter of the work and memory of 100 fps (both scale with frames
times tempo states); beat times are refined back to the full frame rate afterwards. On 33
held-out factory songs madmom's activations tracked this way gave beat F 0.82 against 0.81
at 100 fps, in a fifth of the time."""

BEAT_CHUNK_S = 60.0
BEAT_CHUNK_OVERLAP_S = 8.0
"""Long activations are tracked in chunks of this length overlapping by this much, joined in
the middle of each overlap, so that the tracker's memory (about 70 MB per chunk) does not grow
with the recording."""

ACTIVATION_EPSILON = 1e-6


def madmom_beat_activations(beat_activations: np.ndarray) -> np.ndarray:
    """Beat-head activations in madmom's convention.

    Parameters
    ----------
    beat_activations : numpy.ndarray, shape (n_frames, 2)
        The model's ``beats`` output: column 0 any beat (downbeats included), column 1
        downbeats.

    Returns
    -------
    numpy.ndarray, shape (n_frames, 2), float64
        Column 0 a beat that is *not* a downbeat, column 1 a downbeat, as madmom's
        ``RNNDownBeatProcessor`` gives them: both in (0, 1) and summing to less than 1.
    """
    values = np.clip(np.asarray(beat_activations, dtype=np.float64), 0.0, 1.0)
    downbeat = np.clip(values[:, 1], ACTIVATION_EPSILON, 1.0 - 2 * ACTIVATION_EPSILON)
    beat = np.clip(values[:, 0] - downbeat, ACTIVATION_EPSILON, None)
    beat = np.minimum(beat, 1.0 - ACTIVATION_EPSILON - downbeat)
    return np.stack([beat, downbeat], axis=1)


def _chunk_bounds(n_frames: int, chunk: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Chunks ``(start, stop, keep_from, keep_to)`` in frames covering ``n_frames``.

    Chunks are ``chunk`` frames long (the last one ends at ``n_frames``) and overlap by at
    least ``overlap``; the kept spans tile ``[0, n_frames)``, each seam in the middle of an
    overlap.
    """
    if n_frames <= chunk:
        return [(0, n_frames, 0, n_frames)]
    step = chunk - overlap
    starts = list(range(0, n_frames - chunk, step)) + [n_frames - chunk]
    stops = [start + chunk for start in starts]
    seams = [(stops[i] + starts[i + 1]) // 2 for i in range(len(starts) - 1)]
    keeps = [0, *seams, n_frames]
    return [(starts[i], stops[i], keeps[i], keeps[i + 1]) for i in range(len(starts))]


def beats_from_beat_activations(
    beat_activations: np.ndarray,
    drums: pd.DataFrame | None = None,
    frames_per_second: float = MADMOM_FPS,
    beats_per_bar: tuple[int, ...] = BEAT_HEAD_BEATS_PER_BAR,
    bpm_range: tuple[float, float] = (MIN_BPM, MAX_BPM),
) -> tuple[pd.DataFrame, float | None, int | None]:
    """Beats, tempo and metre from beat activations: the model's beat head or madmom's.

    The activations are max-pooled by :data:`BEAT_HEAD_POOL` frames and decoded with madmom's
    ``DBNDownBeatTrackingProcessor`` in chunks of :data:`BEAT_CHUNK_S` (see there); each beat
    is then moved to the strongest full-rate beat frame of its pooled frame and neighbours,
    and compound metres are recognised from ``drums`` (:func:`refine_metre`).

    Parameters
    ----------
    beat_activations : numpy.ndarray, shape (n_frames, 2)
        Any beat (downbeats included), downbeat, at ``frames_per_second``: the model's
        ``beats`` output, or madmom's activations summed into that form (:func:`analyze`).
    drums : pandas.DataFrame, optional
        Detected hits (``time_s``, ``cls``, ``velocity``), for compound metres.
    frames_per_second : float
        Frame rate of the activations.
    beats_per_bar : tuple of int
        Bar lengths the tracker chooses between.
    bpm_range : tuple of float
        Lowest and highest tempo (BPM) the tracker considers.

    Returns
    -------
    beats, tempo_bpm, beats_per_bar
        As :func:`analyze`.
    """
    values = np.asarray(beat_activations, dtype=np.float64)
    if len(values) < frames_per_second:
        return empty_beats(), None, None
    pooled_fps = frames_per_second / BEAT_HEAD_POOL
    n_pooled = int(np.ceil(len(values) / BEAT_HEAD_POOL))
    padded = np.zeros((n_pooled * BEAT_HEAD_POOL, values.shape[1]))
    padded[: len(values)] = values
    pooled = madmom_beat_activations(padded.reshape(n_pooled, BEAT_HEAD_POOL, -1).max(axis=1))
    tracker = downbeat_tracker(beats_per_bar, pooled_fps, bpm_range)
    rows = []
    bounds = _chunk_bounds(
        n_pooled, int(BEAT_CHUNK_S * pooled_fps), int(BEAT_CHUNK_OVERLAP_S * pooled_fps)
    )
    for start, stop, keep_from, keep_to in bounds:
        if stop - start < 2:
            continue
        tracked = np.asarray(tracker(pooled[start:stop])).reshape(-1, 2)
        frames = np.round(tracked[:, 0] * pooled_fps).astype(np.int64) + start
        keep = (frames >= keep_from) & (frames < keep_to)
        rows += [(frame, position) for frame, position in zip(
            frames[keep], tracked[keep, 1], strict=True)]
    if len(rows) < MIN_BEATS:
        return empty_beats(), None, None
    tracked = np.asarray(rows, dtype=np.float64)
    # Back to the full frame rate: the strongest beat frame in and next to the pooled frame.
    strength = np.concatenate([values[:, 0], np.zeros(2 * BEAT_HEAD_POOL)])
    offsets = np.arange(-1, BEAT_HEAD_POOL + 1)
    candidates = np.maximum(tracked[:, :1].astype(np.int64) * BEAT_HEAD_POOL + offsets, 0)
    best = candidates[np.arange(len(candidates)), np.argmax(strength[candidates], axis=1)]
    times = best / frames_per_second
    # A seam may leave two beats of one: keep the first of beats closer than half a beat.
    period = np.median(np.diff(times)) if len(times) > 1 else 0.0
    distinct = np.concatenate([[True], np.diff(times) > period / 2])
    tracked = np.column_stack([times, tracked[:, 1]])[distinct]
    return _rhythm_of_tracked(tracked, drums)


def _eighth_strengths(
    eighths: np.ndarray, drums: pd.DataFrame, bar_eighths: int
) -> tuple[np.ndarray, np.ndarray]:
    """Accent weight per eighth-note position in the bar, and each hit's eighth index."""
    times = drums["time_s"].to_numpy(dtype=float)
    position = np.interp(times, eighths, np.arange(len(eighths)))
    nearest = np.round(position).astype(int)
    on_grid = np.abs(position - nearest) < 2 * OFFBEAT_TOLERANCE
    weights = drums["cls"].map(ACCENT_WEIGHTS).fillna(OTHER_ACCENT_WEIGHT).to_numpy(float)
    velocity = drums["velocity"].to_numpy(dtype=float) / 127.0
    strengths = np.zeros(bar_eighths)
    np.add.at(strengths, nearest[on_grid] % bar_eighths, (weights * velocity)[on_grid])
    return strengths, nearest


def six_eight_from_three_four(
    beats: pd.DataFrame, drums: pd.DataFrame
) -> tuple[pd.DataFrame, int] | None:
    """Re-read a tracked 3/4 as 6/8 when the drum accents fall on every third eighth.

    Each tracked beat is split into two eighth notes. The 3/4 reading accents every
    second eighth, the 6/8 reading every third; the 6/8 reading wins when the mean accent
    on its beats exceeds the best 3/4 phase by :data:`SIX_EIGHT_MARGIN`. Returns the
    eighth-note beat table and 6, or ``None`` to keep 3/4.
    """
    times = beats["time_s"].to_numpy(dtype=float)
    positions = beats["position"].to_numpy(dtype=int)
    if len(times) < MIN_BEATS or len(drums) < MIN_OFFBEAT_HITS:
        return None
    eighths = np.empty(2 * len(times) - 1)
    eighths[0::2] = times
    eighths[1::2] = (times[:-1] + times[1:]) / 2
    # Eighth index of the first tracked downbeat: bars of six eighths start there.
    downbeats = np.flatnonzero(positions == 1)
    origin = 2 * int(downbeats[0]) if len(downbeats) else 0
    strengths, _ = _eighth_strengths(eighths, drums, 6)
    strengths = np.roll(strengths, -(origin % 6))
    mean = strengths.mean()
    if mean <= 0:
        return None
    simple = max(strengths[[p, p + 2, p + 4]].mean() for p in (0, 1))
    phase = max(range(3), key=lambda p: strengths[[p, p + 3]].mean())
    compound = strengths[[phase, phase + 3]].mean()
    if compound < SIX_EIGHT_MARGIN * simple:
        return None
    # The downbeat is the dotted-quarter beat with more kick drum.
    kicks, _ = _eighth_strengths(eighths, drums[drums["cls"] == "KD"], 6)
    kicks = np.roll(kicks, -(origin % 6))
    first = phase if kicks[phase] >= kicks[phase + 3] else phase + 3
    index = np.arange(len(eighths))
    new_positions = (index - origin - first) % 6 + 1
    table = pd.DataFrame({"time_s": eighths, "position": new_positions.astype("int64")})
    return table, 6


def refine_metre(
    beats: pd.DataFrame, beats_per_bar: int, drums: pd.DataFrame | None
) -> tuple[pd.DataFrame, int]:
    """Recognise a compound metre from the drum hits on tracked beats.

    When most off-beat hits fall on thirds of a beat and the beat is no faster than
    :data:`MAX_COMPOUND_BEAT_BPM`, every beat is split into three eighth-note beats
    (:func:`split_compound`); a tracked 3/4 whose accents fall on every
    third eighth becomes 6/8 (:func:`six_eight_from_three_four`). Otherwise the beats are
    returned unchanged.

    Parameters
    ----------
    beats : pandas.DataFrame
        Tracked beats, columns ``time_s`` and ``position`` (1 = downbeat).
    beats_per_bar : int
        Tracked beats per bar.
    drums : pandas.DataFrame, optional
        Drum hits (``time_s``, ``cls``, ``velocity``).

    Returns
    -------
    beats : pandas.DataFrame
    beats_per_bar : int
        Time-signature numerator (see the module notes).
    """
    if drums is None or not len(drums):
        return beats, beats_per_bar
    beat_times = beats["time_s"].to_numpy(dtype=float)
    beat_bpm = tempo_from_beats(beat_times)
    slow_beat = beat_bpm is not None and beat_bpm <= MAX_COMPOUND_BEAT_BPM
    fractions = _beat_fractions(drums["time_s"].to_numpy(dtype=float), beat_times)
    if slow_beat and has_triplet_feel(fractions):
        return split_compound(beats, beats_per_bar)
    if beats_per_bar == 3:
        compound = six_eight_from_three_four(beats, drums)
        if compound is not None:
            return compound
    return beats, beats_per_bar


def _rhythm_of_tracked(
    tracked: np.ndarray, drums: pd.DataFrame | None
) -> tuple[pd.DataFrame, float | None, int | None]:
    """Beat table, tempo and numerator from tracked ``(time_s, position)`` rows."""
    if len(tracked) < MIN_BEATS:
        return empty_beats(), None, None
    beats = pd.DataFrame(
        {"time_s": tracked[:, 0].astype(float), "position": tracked[:, 1].astype("int64")}
    )
    beats, beats_per_bar = refine_metre(beats, int(beats["position"].max()), drums)
    return beats, tempo_from_beats(beats["time_s"].to_numpy()), beats_per_bar


def analyze(
    samples: np.ndarray, sample_rate: int, drums: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, float | None, int | None]:
    """Beats, tempo and time-signature numerator of a piece of audio.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono audio (stereo is mixed down).
    sample_rate : int
        Sample rate of ``samples`` in Hz.
    drums : pandas.DataFrame, optional
        Drum hits (``time_s``, ``cls``, ``velocity``), used to recognise compound metres.

    Returns
    -------
    beats : pandas.DataFrame
        Columns ``time_s`` and ``position`` (1 = downbeat); empty if too few beats.
    tempo_bpm : float or None
        Median tempo of the beats in the table.
    beats_per_bar : int or None
        Time-signature numerator (see the module notes for compound metres).
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < sample_rate:
        return empty_beats(), None, None
    activations = _beat_activations(samples, sample_rate)
    any_beat = np.column_stack([activations.sum(axis=1), activations[:, 1]])
    return beats_from_beat_activations(any_beat, drums, beats_per_bar=TRACKED_BEATS_PER_BAR)


TEMPO_EXCERPT_S = 20.0
"""Seconds of audio (from the middle of the recording) madmom tracks to fix the tempo of the
beat head's beats (:func:`beats_with_tempo_hint`)."""

TEMPO_HINT_TOLERANCE = 1.15
"""The beat head's beats are tracked between the excerpt's tempo divided and multiplied by
this (room for tempo drift, none for octave errors). On 33 held-out factory songs, with the
20-s excerpt and the stage-3 model (`215dffc1…`; the model card has the current figures):
tempo within 2 % on 81.8 % of songs, beat F 0.739, downbeat F 0.683, against 72.7 % / 0.705
/ 0.666 from the beat head alone and 84.8 % / 0.806 / 0.696 from madmom on the whole audio;
a tolerance of 1.08 gave 81.8 % / 0.754 / 0.698, a 30-s excerpt the same as 20 s."""


def tempo_hint(samples: np.ndarray, sample_rate: int) -> float | None:
    """madmom's tempo (BPM) of :data:`TEMPO_EXCERPT_S` seconds from the middle of ``samples``.

    Returns ``None`` for audio too short or too quiet to track.
    """
    samples = _mono(samples)
    half = int(TEMPO_EXCERPT_S * sample_rate / 2)
    middle = len(samples) // 2
    _, tempo_bpm, _ = analyze(samples[max(0, middle - half) : middle + half], sample_rate)
    return tempo_bpm


def beats_with_tempo_hint(
    beat_activations: np.ndarray,
    samples: np.ndarray,
    sample_rate: int,
    drums: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, float | None, int | None]:
    """Beats from the beat head, at the tempo madmom finds on an excerpt of the audio.

    The beat head places beats well but sometimes at half or double (or 2/3) the tempo;
    madmom's networks rarely do, but cost several seconds per audio-minute. Tracking madmom
    on :data:`TEMPO_EXCERPT_S` seconds and the head's activations within
    :data:`TEMPO_HINT_TOLERANCE` of that tempo gets most of both (figures there).

    Parameters
    ----------
    beat_activations : numpy.ndarray, shape (n_frames, 2)
        The model's ``beats`` output (any beat, downbeat) at 100 frames per second.
    samples : numpy.ndarray
        The audio (mono, or stereo mixed down), for the excerpt.
    sample_rate : int
        Sample rate of ``samples`` in Hz.
    drums : pandas.DataFrame, optional
        Detected hits, for compound metres (:func:`refine_metre`).

    Returns
    -------
    beats, tempo_bpm, beats_per_bar
        As :func:`analyze`; the head's own tempo range is used when no hint is found.
    """
    hint = tempo_hint(samples, sample_rate)
    bpm_range = (MIN_BPM, MAX_BPM)
    if hint:
        bpm_range = (
            max(MIN_BPM, hint / TEMPO_HINT_TOLERANCE), min(MAX_BPM, hint * TEMPO_HINT_TOLERANCE)
        )
    return beats_from_beat_activations(beat_activations, drums, bpm_range=bpm_range)


def with_rhythm(
    transcription: Transcription, samples: np.ndarray, sample_rate: int | None = None
) -> Transcription:
    """Return a copy of ``transcription`` with beats, tempo and time signature from ``samples``.

    Parameters
    ----------
    transcription : Transcription
        Drum hits (used to recognise compound metres).
    samples : numpy.ndarray
        The audio the transcription was made from.
    sample_rate : int, optional
        Sample rate of ``samples``; defaults to :data:`drumtx.features.SAMPLE_RATE`.
    """
    if sample_rate is None:
        from drumtx.features import SAMPLE_RATE

        sample_rate = SAMPLE_RATE
    beats, tempo_bpm, beats_per_bar = analyze(samples, sample_rate, transcription.drums)
    return transcription.replace(beats=beats, tempo_bpm=tempo_bpm, beats_per_bar=beats_per_bar)


DOWNBEAT_CLASSES = ("KD", "CR", "CS")
"""Drums whose hits mark the start of bars (used when beats come from drum activations)."""
DOWNBEAT_TOLERANCE_S = 0.05
TEMPO_CHUNK_S = 60.0
"""Length of the pieces whose tempi are estimated separately (their median is used)."""
MIN_TEMPO_CHUNK_S = 8.0


def beats_from_drum_activations(
    drum_onsets: np.ndarray,
    drums: pd.DataFrame,
    beats_per_bar: int = DEFAULT_BEATS_PER_BAR,
    frames_per_second: float = MADMOM_FPS,
) -> tuple[pd.DataFrame, float | None, int | None]:
    """Beats and tempo from the drum network's onset activations (no audio needed).

    A cheaper, lower-quality alternative to :func:`analyze` for long recordings: the
    summed drum onset activations serve as the onset envelope of librosa's dynamic-
    programming beat tracker (time and memory linear in length), and the bar phase is
    the one whose beats carry the most kick, crash and china/splash hits. The metre is
    assumed, not detected.

    Parameters
    ----------
    drum_onsets : numpy.ndarray, shape (n_frames, 13)
        Onset activations at ``frames_per_second``.
    drums : pandas.DataFrame
        Detected hits (``time_s``, ``cls``, ``velocity``).
    beats_per_bar : int
        Assumed time-signature numerator.

    Returns
    -------
    beats, tempo_bpm, beats_per_bar
        As :func:`analyze`.
    """
    import librosa

    envelope = np.asarray(drum_onsets, dtype=np.float64).sum(axis=1)
    if len(envelope) < frames_per_second or not np.any(envelope > 0):
        return empty_beats(), None, None
    hop_length = 512
    rate = int(frames_per_second * hop_length)
    chunk = int(TEMPO_CHUNK_S * frames_per_second)
    # librosa's tempo estimate builds a tempogram of the whole envelope (hundreds of lags
    # per frame); estimating it chunk by chunk keeps memory independent of the length.
    chunk_tempi = [
        float(
            librosa.feature.tempo(
                onset_envelope=envelope[start : start + chunk], sr=rate, hop_length=hop_length,
                start_bpm=DEFAULT_TEMPO_BPM,
            )[0]
        )
        for start in range(0, len(envelope), chunk)
        if len(envelope[start : start + chunk]) >= frames_per_second * MIN_TEMPO_CHUNK_S
    ] or [DEFAULT_TEMPO_BPM]
    _, beat_frames = librosa.beat.beat_track(
        onset_envelope=envelope,
        sr=rate,
        hop_length=hop_length,
        bpm=float(np.median(chunk_tempi)),
        units="frames",
    )
    if len(beat_frames) < MIN_BEATS:
        return empty_beats(), None, None
    times = np.asarray(beat_frames, dtype=float) / frames_per_second
    accents = drums.loc[drums["cls"].isin(DOWNBEAT_CLASSES), "time_s"].to_numpy(dtype=float)
    phase_scores = [
        _hits_near(times[phase::beats_per_bar], accents) for phase in range(beats_per_bar)
    ]
    phase = int(np.argmax(phase_scores))
    positions = (np.arange(len(times)) - phase) % beats_per_bar + 1
    beats = pd.DataFrame({"time_s": times, "position": positions.astype("int64")})
    return beats, tempo_from_beats(times), beats_per_bar


def _hits_near(beat_times: np.ndarray, hit_times: np.ndarray) -> int:
    """Number of beats with a hit within :data:`DOWNBEAT_TOLERANCE_S`."""
    if len(beat_times) == 0 or len(hit_times) == 0:
        return 0
    index = np.clip(np.searchsorted(hit_times, beat_times), 1, len(hit_times) - 1)
    nearest = np.minimum(
        np.abs(hit_times[index] - beat_times), np.abs(hit_times[index - 1] - beat_times)
    )
    return int(np.sum(nearest <= DOWNBEAT_TOLERANCE_S))
