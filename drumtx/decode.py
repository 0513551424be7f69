"""From activations to events: adaptive peak picking for drums, note tracking for pitched heads.

Peak picking follows Böck et al. / madmom's ``peak_picking``: a frame is a hit when its
activation is (1) at least the moving average around it plus ``threshold`` and (2) the
maximum of its neighbourhood; hits closer than ``combine_s`` are merged (first kept).
Unlike madmom, the signal is extended with its edge values (not zeros) for the moving
average and maximum, so a constant activation, e.g. the network's answer to silence,
never becomes a hit at the start or end.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from drumtx import vocab
from drumtx.features import FRAMES_PER_SECOND
from drumtx.transcription import empty_notes, make_drums, make_notes

MAX_MIDI_VELOCITY = 127
MIN_MIDI_VELOCITY = 1


@dataclass(frozen=True)
class PeakPickingParams:
    """Parameters of adaptive peak picking for one class.

    Attributes
    ----------
    threshold : float
        Minimum height of a peak above the moving average (activation units, 0-1).
    pre_avg_s, post_avg_s : float
        Moving-average window before / after the frame, in seconds.
    pre_max_s, post_max_s : float
        Local-maximum window before / after the frame, in seconds.
    combine_s : float
        Minimum gap between two hits of the class, in seconds; closer hits are merged.
    """

    threshold: float = 0.35
    pre_avg_s: float = 0.10
    post_avg_s: float = 0.03
    pre_max_s: float = 0.03
    post_max_s: float = 0.03
    combine_s: float = 0.03


DEFAULT_PEAK_PICKING = PeakPickingParams()

EDGE_MODE = "nearest"
"""How the activation is extended beyond its ends for the moving filters (scipy.ndimage)."""


def peak_frames(
    activation: np.ndarray,
    params: PeakPickingParams = DEFAULT_PEAK_PICKING,
    frames_per_second: float = FRAMES_PER_SECOND,
) -> np.ndarray:
    """Frame indices of the hits in one activation curve.

    Matches ``madmom.features.onsets.peak_picking`` followed by madmom's
    ``combine_events(..., combine='left')``, except within a window of the signal's ends
    (see the module docstring).

    Parameters
    ----------
    activation : numpy.ndarray, shape (n_frames,)
    params : PeakPickingParams
    frames_per_second : float

    Returns
    -------
    numpy.ndarray, shape (n_hits,), int64
        Increasing frame indices.

    Examples
    --------
    >>> import numpy as np
    >>> curve = np.zeros(100); curve[[10, 50]] = 1.0
    >>> peak_frames(curve).tolist()
    [10, 50]
    """
    activation = np.asarray(activation, dtype=np.float64)
    if activation.size == 0:
        return np.zeros(0, dtype=np.int64)
    pre_avg, post_avg, pre_max, post_max = (
        int(round(seconds * frames_per_second))
        for seconds in (params.pre_avg_s, params.post_avg_s, params.pre_max_s, params.post_max_s)
    )
    avg_length = pre_avg + post_avg + 1
    if avg_length > 1:
        origin = int(np.floor((pre_avg - post_avg) / 2))
        moving_average = uniform_filter1d(activation, avg_length, mode=EDGE_MODE, origin=origin)
    else:
        moving_average = np.zeros_like(activation)
    detections = activation * (activation >= moving_average + params.threshold)
    max_length = pre_max + post_max + 1
    if max_length > 1:
        origin = int(np.floor((pre_max - post_max) / 2))
        moving_maximum = maximum_filter1d(detections, max_length, mode=EDGE_MODE, origin=origin)
        detections = detections * (detections == moving_maximum)
    frames = np.nonzero(detections)[0]
    return _combine(frames, params.combine_s * frames_per_second)


def _combine(frames: np.ndarray, min_gap_frames: float) -> np.ndarray:
    """Keep the first of each run of frames closer than ``min_gap_frames`` to the last kept."""
    kept: list[int] = []
    for frame in frames:
        if not kept or frame - kept[-1] > min_gap_frames:
            kept.append(int(frame))
    return np.asarray(kept, dtype=np.int64)


def pick_drum_hits(
    activations: dict[str, np.ndarray],
    params: dict[str, PeakPickingParams] | None = None,
    frames_per_second: float = FRAMES_PER_SECOND,
    playable: bool = True,
) -> pd.DataFrame:
    """Drum hits from the model's drum heads, as a drummer can play them.

    Parameters
    ----------
    activations : dict
        ``"drum_onsets"``: shape (n_frames, 13), values 0-1, columns in
        :data:`drumtx.vocab.DRUM_CLASSES` order; optional ``"drum_velocity"`` of the same
        shape (0-1, scaled to MIDI 1-127 at each hit; 100 when absent).
    params : dict, optional
        Class name -> :class:`PeakPickingParams`; missing classes use the defaults.
    frames_per_second : float
    playable : bool
        Keep only what two hands and two feet can play at one instant
        (:func:`playable_mask`); False keeps every peak of every class.

    Returns
    -------
    pandas.DataFrame
        Columns ``time_s``, ``cls``, ``velocity`` sorted by time.
    """
    params = params or {}
    onsets = np.asarray(activations["drum_onsets"])
    velocities = activations.get("drum_velocity")
    times, classes, hit_velocities, strengths = [], [], [], []
    for index, name in enumerate(vocab.DRUM_CLASSES):
        class_params = params.get(name, DEFAULT_PEAK_PICKING)
        frames = peak_frames(onsets[:, index], class_params, frames_per_second)
        times.append(frames / frames_per_second)
        classes.extend([name] * len(frames))
        strengths.append(onsets[frames, index] / max(class_params.threshold, MIN_STRENGTH_DIVISOR))
        if velocities is None:
            hit_velocities.append(np.full(len(frames), DEFAULT_VELOCITY))
        else:
            hit_velocities.append(velocity_to_midi(np.asarray(velocities)[frames, index]))
    time_s, velocity = np.concatenate(times), np.concatenate(hit_velocities)
    if playable and len(time_s):
        keep = playable_mask(time_s, np.asarray(classes), np.concatenate(strengths))
        time_s, velocity = time_s[keep], velocity[keep]
        classes = [c for c, k in zip(classes, keep, strict=True) if k]
    return make_drums(time_s, classes, velocity)


SIMULTANEOUS_S = 0.02
"""Hits within this many seconds of the first hit of a group are played at one instant."""
MAX_HANDS = 2
MAX_FEET = 2
HIHAT_CLASSES: tuple[str, ...] = vocab.coarse_members("HH")
"""One hi-hat, one state at a time: closed, open or the pedal alone."""
CRASH_CLASSES: tuple[str, ...] = ("CR", "CS")
RIDE_CLASSES: tuple[str, ...] = ("RD", "RB")
CLEAR_STRENGTH = 2.0
"""A crash and a ride at one instant are both kept only when the weaker one's activation is
at least this many times its class threshold (both clearly there)."""
MIN_STRENGTH_DIVISOR = 0.01
TIME_EPSILON_S = 1e-9
"""Frame times are multiples of 1/100 s in floating point: 0.52 - 0.50 must count as 0.02."""


def playable_mask(time_s: np.ndarray, classes: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """Which hits a drummer can play together, the strongest kept where they cannot.

    Hits are grouped by instant (within :data:`SIMULTANEOUS_S` of a group's first hit). In a
    group: at most one hi-hat class (:data:`HIHAT_CLASSES`); a crash (or china/splash) and a
    ride (or its bell) both only when both are strong (:data:`CLEAR_STRENGTH`); at most
    :data:`MAX_HANDS` hand pieces and :data:`MAX_FEET` foot pieces (the limbs of
    :data:`drumtx.vocab.DRUMS`' voices). Each rule keeps the strongest hits.

    Parameters
    ----------
    time_s : numpy.ndarray, shape (n,)
        Hit times (seconds).
    classes : numpy.ndarray, shape (n,)
        13-class names.
    strengths : numpy.ndarray, shape (n,)
        Activation at the hit divided by its class threshold (1 = just picked).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)

    Examples
    --------
    >>> playable_mask(np.array([1.0, 1.0, 2.0]), np.array(["CHH", "OHH", "CHH"]),
    ...               np.array([1.5, 3.0, 1.2])).tolist()
    [False, True, True]
    """
    keep = np.ones(len(time_s), dtype=bool)
    order = np.argsort(time_s, kind="stable")
    start = 0
    while start < len(order):
        stop = start + 1
        while (stop < len(order)
               and time_s[order[stop]] - time_s[order[start]] <= SIMULTANEOUS_S + TIME_EPSILON_S):
            stop += 1
        if stop - start > 1:
            _thin_group(order[start:stop], classes, strengths, keep)
        start = stop
    return keep


def _thin_group(group: np.ndarray, classes: np.ndarray, strengths: np.ndarray,
                keep: np.ndarray) -> None:
    """Apply :func:`playable_mask`'s rules to one instant (indices ``group``), in place."""

    def strongest_first(members):
        return sorted(members, key=lambda i: -strengths[i])

    hats = strongest_first([i for i in group if classes[i] in HIHAT_CLASSES])
    keep[hats[1:]] = False
    crashes = strongest_first([i for i in group if classes[i] in CRASH_CLASSES and keep[i]])
    rides = strongest_first([i for i in group if classes[i] in RIDE_CLASSES and keep[i]])
    if crashes and rides:
        weaker = min(crashes[0], rides[0], key=lambda i: strengths[i])
        if strengths[weaker] < CLEAR_STRENGTH:
            keep[crashes if weaker == crashes[0] else rides] = False
    for voice, limit in ((vocab.HANDS_VOICE, MAX_HANDS), (vocab.FEET_VOICE, MAX_FEET)):
        limb = strongest_first([i for i in group if keep[i]
                                and vocab.DRUM_BY_NAME[classes[i]].voice == voice])
        keep[limb[limit:]] = False


DEFAULT_VELOCITY = 100


def velocity_to_midi(velocity: np.ndarray) -> np.ndarray:
    """Map velocity-head outputs (0-1) to MIDI velocities (1-127)."""
    scaled = np.round(np.asarray(velocity, dtype=np.float64) * MAX_MIDI_VELOCITY)
    return np.clip(scaled, MIN_MIDI_VELOCITY, MAX_MIDI_VELOCITY).astype(np.int64)


ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MIN_NOTE_FRAMES = 3
"""Shortest pitched note kept (30 ms at 100 fps)."""


@dataclass(frozen=True)
class NoteThresholds:
    """Thresholds of pitched-note decoding (:func:`pick_pitched_notes`), activation units.

    Attributes
    ----------
    onset_threshold : float
        Minimum height of an onset-activation peak that starts a note.
    frame_threshold : float
        A note lasts while its frame activation stays at or above this.
    """

    onset_threshold: float = ONSET_THRESHOLD
    frame_threshold: float = FRAME_THRESHOLD


NOTES_KEY = "pitched_notes"
"""Entry of the peak-picking file holding the :class:`NoteThresholds`."""


def pick_pitched_notes(
    activations: dict[str, np.ndarray],
    thresholds: NoteThresholds = NoteThresholds(),
    frames_per_second: float = FRAMES_PER_SECOND,
) -> pd.DataFrame:
    """Pitched notes from onset and frame activations (Onsets-and-Frames style decoding).

    A note starts at an onset peak above ``thresholds.onset_threshold`` and lasts while the
    frame activation stays above ``thresholds.frame_threshold``, or until the next onset of
    that pitch.

    Parameters
    ----------
    activations : dict
        ``"pitch_onsets"`` and ``"pitch_frames"``, each shape (n_frames, 88), 0-1.
    thresholds : NoteThresholds
        The decoding thresholds (a model's tuned ones are in its peak-picking file).

    Returns
    -------
    pandas.DataFrame
        Columns ``onset_s``, ``offset_s``, ``pitch``, ``velocity``.
    """
    if "pitch_onsets" not in activations:
        return empty_notes()
    onsets = np.asarray(activations["pitch_onsets"])
    frames = np.asarray(activations["pitch_frames"])
    n_frames = onsets.shape[0]
    note_params = PeakPickingParams(
        threshold=thresholds.onset_threshold, pre_avg_s=0.0, post_avg_s=0.0
    )
    starts, ends, pitches, velocities = [], [], [], []
    for key in range(onsets.shape[1]):
        onset_frames = peak_frames(onsets[:, key], note_params, frames_per_second)
        for position, start in enumerate(onset_frames):
            limit = onset_frames[position + 1] if position + 1 < len(onset_frames) else n_frames
            end = start + 1
            while end < limit and frames[end, key] >= thresholds.frame_threshold:
                end += 1
            if end - start < MIN_NOTE_FRAMES:
                end = min(start + MIN_NOTE_FRAMES, n_frames)
            starts.append(start)
            ends.append(end)
            pitches.append(vocab.PITCH_MIN + key)
            velocities.append(velocity_to_midi(onsets[start, key]))
    return make_notes(
        np.asarray(starts) / frames_per_second,
        np.asarray(ends) / frames_per_second,
        pitches,
        velocities,
    )


def save_peak_picking(
    params: dict[str, PeakPickingParams],
    path: str | os.PathLike,
    notes: NoteThresholds | None = None,
) -> None:
    """Write per-class peak-picking parameters (and pitched-note thresholds) as JSON."""
    data = {name: asdict(value) for name, value in params.items()}
    if notes is not None:
        data[NOTES_KEY] = asdict(notes)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")


def load_peak_picking(path: str | os.PathLike) -> dict[str, PeakPickingParams]:
    """Read per-class peak-picking parameters written by :func:`save_peak_picking`."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    known = {field.name for field in fields(PeakPickingParams)}
    return {
        name: PeakPickingParams(**{k: float(v) for k, v in values.items() if k in known})
        for name, values in data.items()
        if name in vocab.CLASS_INDEX
    }


def load_note_thresholds(path: str | os.PathLike) -> NoteThresholds:
    """The pitched-note thresholds stored by :func:`save_peak_picking` (defaults if none)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle).get(NOTES_KEY, {})
    known = {field.name for field in fields(NoteThresholds)}
    return NoteThresholds(**{k: float(v) for k, v in data.items() if k in known})


def load_decoding(
    path: str | os.PathLike,
) -> tuple[dict[str, PeakPickingParams], NoteThresholds]:
    """Peak-picking parameters and note thresholds from ``path`` (defaults if it is missing)."""
    if not Path(path).exists():
        return {}, NoteThresholds()
    return load_peak_picking(path), load_note_thresholds(path)


MIN_SCALED_THRESHOLD = 0.01
MAX_SCALED_THRESHOLD = 0.99
"""Bounds of a peak threshold after :func:`with_sensitivity` (a threshold of 0 or 1 would
pick every frame's local maximum or nothing)."""


def check_sensitivity(sensitivity: float) -> float:
    """Return ``sensitivity`` if it is a positive, finite number, else raise ValueError."""
    if not np.isfinite(sensitivity) or sensitivity <= 0:
        raise ValueError(f"sensitivity must be a positive number, got {sensitivity}")
    return sensitivity


def with_sensitivity(
    params: dict[str, PeakPickingParams], sensitivity: float
) -> dict[str, PeakPickingParams]:
    """Return ``params`` with every class's threshold divided by ``sensitivity``.

    One knob for a whole song: above 1 more hits are kept (quiet drums deep in a dense mix),
    below 1 fewer (a noisy recording). Thresholds stay within
    [:data:`MIN_SCALED_THRESHOLD`, :data:`MAX_SCALED_THRESHOLD`]; the other parameters and
    the pitched-note thresholds do not change. Classes missing from ``params`` get
    :data:`DEFAULT_PEAK_PICKING` scaled.

    Parameters
    ----------
    params : dict of str to PeakPickingParams
    sensitivity : float
        Positive and finite; 1 returns ``params`` unchanged.

    Examples
    --------
    >>> params = {"SD": PeakPickingParams(threshold=0.5)}
    >>> with_sensitivity(params, 2.0)["SD"].threshold
    0.25
    """
    if check_sensitivity(sensitivity) == 1.0:
        return dict(params)
    return with_thresholds(params, {
        name: float(np.clip(params.get(name, DEFAULT_PEAK_PICKING).threshold / sensitivity,
                            MIN_SCALED_THRESHOLD, MAX_SCALED_THRESHOLD))
        for name in vocab.DRUM_CLASSES
    })


def with_thresholds(
    params: dict[str, PeakPickingParams], thresholds: dict[str, float]
) -> dict[str, PeakPickingParams]:
    """Return ``params`` with some classes' thresholds replaced (e.g. from sensitivity sliders)."""
    updated = dict(params)
    for name, threshold in thresholds.items():
        base = params.get(name, DEFAULT_PEAK_PICKING)
        updated[name] = PeakPickingParams(**{**asdict(base), "threshold": float(threshold)})
    return updated
