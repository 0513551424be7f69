"""Beats, downbeats, tempo and time signature, and the beat-grid maths.

:func:`analyze` runs madmom's recurrent downbeat network and its dynamic Bayesian
network tracker on audio; :func:`with_rhythm` stores the result in a
:class:`~drumtx.transcription.Transcription`. Compound metres (6/8, 9/8, 12/8) are
recognised from the drum hits: when most hits fall on thirds of the tracked beat, each
beat is split into three eighth-note beats.

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


def tempo_from_beats(times: np.ndarray) -> float | None:
    """Tempo (beats per minute) from the median inter-beat interval, or ``None``."""
    times = np.asarray(times, dtype=float)
    if len(times) < 2:
        return None
    intervals = np.diff(times)
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


def _triplet_share(hit_times: np.ndarray, beat_times: np.ndarray) -> tuple[float, int]:
    """Share of off-beat hits nearer to thirds than to quarters of a beat, and their number."""
    if len(beat_times) < 2 or not len(hit_times):
        return 0.0, 0
    inside = (hit_times >= beat_times[0]) & (hit_times < beat_times[-1])
    fraction = np.interp(hit_times[inside], beat_times, np.arange(len(beat_times))) % 1.0
    off_beat = np.minimum(fraction, 1.0 - fraction) > OFFBEAT_TOLERANCE
    fraction = fraction[off_beat]
    if not len(fraction):
        return 0.0, 0
    third_error = np.abs(fraction * 3 - np.round(fraction * 3)) / 3
    quarter_error = np.abs(fraction * 4 - np.round(fraction * 4)) / 4
    return float(np.mean(third_error < quarter_error)), int(len(fraction))


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


def _beat_activations(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """madmom's RNN beat/downbeat activations, shape (frames, 2)."""
    from drumtx._madmom import import_madmom

    import_madmom()
    from madmom.audio.signal import Signal
    from madmom.features.downbeats import RNNDownBeatProcessor

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim > 1:
        samples = samples.mean(axis=-1 if samples.shape[-1] <= 2 else 0)
    if sample_rate != MADMOM_SAMPLE_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=sample_rate, target_sr=MADMOM_SAMPLE_RATE)
    signal = Signal(samples, sample_rate=MADMOM_SAMPLE_RATE, num_channels=1)
    return np.asarray(RNNDownBeatProcessor()(signal))


def track_downbeats(activations: np.ndarray) -> np.ndarray:
    """Decode beat/downbeat activations with madmom's DBN: rows of ``(time_s, position)``."""
    from drumtx._madmom import import_madmom

    import_madmom()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor

    tracker = DBNDownBeatTrackingProcessor(
        beats_per_bar=list(TRACKED_BEATS_PER_BAR),
        min_bpm=MIN_BPM,
        max_bpm=MAX_BPM,
        transition_lambda=TRANSITION_LAMBDA,
        fps=MADMOM_FPS,
    )
    if len(activations) < 2:
        return np.zeros((0, 2))
    return np.asarray(tracker(activations)).reshape(-1, 2)


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
    tracked = track_downbeats(_beat_activations(samples, sample_rate))
    if len(tracked) < MIN_BEATS:
        return empty_beats(), None, None
    beats = pd.DataFrame(
        {"time_s": tracked[:, 0].astype(float), "position": tracked[:, 1].astype("int64")}
    )
    beats_per_bar = int(beats["position"].max())
    if drums is not None and len(drums):
        hit_times = drums["time_s"].to_numpy(dtype=float)
        share, count = _triplet_share(hit_times, beats["time_s"].to_numpy())
        if count >= MIN_OFFBEAT_HITS and share >= TRIPLET_FEEL_SHARE:
            beats, beats_per_bar = split_compound(beats, beats_per_bar)
        elif beats_per_bar == 3:
            compound = six_eight_from_three_four(beats, drums)
            if compound is not None:
                beats, beats_per_bar = compound
    return beats, tempo_from_beats(beats["time_s"].to_numpy()), beats_per_bar


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
