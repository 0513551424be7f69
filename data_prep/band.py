"""A rock-band layer over a song's pitched part: distorted power chords and an electric bass.

Produced songs often carry broadband, sustained guitars and a bass that follows the kick; the
soundfont parts of the sources rarely do. :func:`add_band_layer` derives both from the lowest
voice of the existing pitched part, so they follow its harmony, and returns them as extra
labelled notes. Given the song's drum hits, each instrument either follows the lowest voice's
rhythm or locks to the drums, as bands play: the bass on the kicks, the guitar chugging on
every hi-hat or ride stroke or hitting accents with the kick and crash. Locked notes then start
together with drum hits, which the sources' independent parts almost never do.
"""

from __future__ import annotations

import numpy as np

from drumtx.vocab import GM_TO_CLASS

P_BAND = 0.5
"""Share of songs with pitched parts that get the band layer."""
P_BASS = 0.7
"""Share of band layers that also get a bass line."""
GUITAR_PROGRAMS = (29, 30)
"""GM overdriven guitar, distortion guitar."""
BASS_PROGRAMS = (33, 34)
"""GM electric bass (finger), electric bass (pick)."""
POWER_CHORD_INTERVALS = (0, 7, 12)
"""Root, fifth and octave (semitones above the root)."""
GUITAR_LOWEST_ROOT = 40
"""The guitar's chord roots are moved by octaves into the octave from E2."""
BASS_LOWEST_NOTE = 28
"""The bass line is moved by octaves into the octave from E1."""
GUITAR_VELOCITY = (85, 120)
BASS_VELOCITY = (80, 115)
ONSET_TOLERANCE_S = 0.02
"""Notes starting within this of each other count as one chord of the lowest voice."""
P_LOCKED = 0.6
"""Chance that an instrument of the layer locks to the drums (when drum hits are given)."""
GUITAR_RHYTHMS = ("chug", "accent")
"""Locked guitar rhythms: a chord on every hi-hat/ride stroke, or on every kick and crash."""
LOCKED_DRUM_CLASSES = {
    "kick": ("KD",),
    "chug": ("CHH", "OHH", "RD", "RB"),
    "accent": ("KD", "CR", "CS"),
}
"""Drum classes whose hits start the notes of each locked rhythm."""
LOCK_TIMING_SD_S = 0.006
LOCK_TIMING_MAX_S = 0.015
"""Players sit close to, not exactly on, the drummer: onsets are jittered by this much."""
LOCKED_MAX_DURATION_S = 1.0
"""The longest locked note (seconds)."""
LOCKED_GATE = 0.9
"""A locked note lasts this share of the gap to the next (at most the maximum duration)."""


def _group_starts(sorted_times_s: np.ndarray) -> np.ndarray:
    """Mask of the first time of each group of times closer than :data:`ONSET_TOLERANCE_S`."""
    return np.concatenate([[True], np.diff(sorted_times_s) > ONSET_TOLERANCE_S])


def lowest_voice(notes: np.ndarray) -> np.ndarray:
    """The lowest note of every chord (notes starting within :data:`ONSET_TOLERANCE_S`).

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        Columns onset_s, offset_s, midi_pitch, velocity, program.

    Returns
    -------
    numpy.ndarray, shape (m, 5)
        One row per chord, in onset order.
    """
    if len(notes) == 0:
        return notes
    ordered = notes[np.argsort(notes[:, 0], kind="stable")]
    starts = np.flatnonzero(_group_starts(ordered[:, 0]))
    stops = np.append(starts[1:], len(ordered))
    lowest = [start + int(np.argmin(ordered[start:stop, 2])) for start, stop in zip(
        starts, stops, strict=True)]
    return ordered[lowest]


def into_octave(pitches: np.ndarray, lowest: int) -> np.ndarray:
    """Move pitches by whole octaves into ``[lowest, lowest + 12)``."""
    return lowest + np.mod(pitches - lowest, 12)


def locked_rhythm(
    drums: np.ndarray, classes: tuple[str, ...], rng: np.random.Generator
) -> np.ndarray:
    """Onset and offset seconds of notes started by the drum hits of ``classes``.

    Parameters
    ----------
    drums : numpy.ndarray, shape (n, 3)
        Onset seconds, GM note, velocity of the song's drum hits.
    classes : tuple of str
        Drum class names (:data:`drumtx.vocab.DRUM_CLASSES`) whose hits start a note.

    Returns
    -------
    numpy.ndarray, shape (m, 2)
        One row per note (hits closer than :data:`ONSET_TOLERANCE_S` make one note): onset
        jittered by up to :data:`LOCK_TIMING_MAX_S`, offset at :data:`LOCKED_GATE` of the gap to
        the next note, at most :data:`LOCKED_MAX_DURATION_S` after the onset.
    """
    wanted = np.array([GM_TO_CLASS.get(int(note)) in classes for note in drums[:, 1]], bool)
    times = np.sort(drums[wanted, 0])
    if len(times) == 0:
        return np.zeros((0, 2))
    times = times[_group_starts(times)]
    jitter = np.clip(rng.normal(0.0, LOCK_TIMING_SD_S, len(times)),
                     -LOCK_TIMING_MAX_S, LOCK_TIMING_MAX_S)
    onsets = np.maximum(times + jitter, 0.0)
    gaps = np.append(np.diff(onsets), LOCKED_MAX_DURATION_S)
    offsets = onsets + np.clip(LOCKED_GATE * gaps, 0.0, LOCKED_MAX_DURATION_S)
    return np.column_stack([onsets, offsets])


def roots_at(roots: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """Pitch of the lowest-voice chord last started at each time (the first one before it)."""
    index = np.searchsorted(roots[:, 0], times_s, side="right") - 1
    return roots[np.clip(index, 0, len(roots) - 1), 2]


def _rhythm(
    roots: np.ndarray, drums: np.ndarray | None, options: tuple[str, ...],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Onsets/offsets, chord pitches and the rhythm's name for one instrument of the layer."""
    if drums is not None and len(drums) and rng.random() < P_LOCKED:
        name = options[int(rng.integers(len(options)))]
        timing = locked_rhythm(drums, LOCKED_DRUM_CLASSES[name], rng)
        if len(timing):
            return timing, roots_at(roots, timing[:, 0]), name
    return roots[:, :2], roots[:, 2], ""


def _part(timing: np.ndarray, pitches: np.ndarray, velocity: int, program: int) -> np.ndarray:
    """Note rows (onset, offset, pitch, velocity, program) of one voice of the layer."""
    n_notes = len(timing)
    return np.column_stack([
        timing[:, 0], timing[:, 1], pitches, np.full(n_notes, velocity), np.full(n_notes, program)
    ])


def add_band_layer(
    notes: np.ndarray, rng: np.random.Generator, drums: np.ndarray | None = None
) -> tuple[np.ndarray, str]:
    """Maybe add power chords (and a bass line) on the harmony of the lowest voice of ``notes``.

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        Onset seconds, offset seconds, MIDI pitch, velocity, program.
    rng : numpy.random.Generator
    drums : numpy.ndarray, shape (k, 3), optional
        The song's drum hits (onset seconds, GM note, velocity): with them, each instrument
        may lock its rhythm to the drums (see the module docstring); without them both
        follow the lowest voice.

    Returns
    -------
    notes : numpy.ndarray, shape (n', 5)
        ``notes`` with the added notes after them (unsorted).
    description : str
        For the manifest's variations, e.g. ``"band(guitar30,bass33)"`` or, with locked
        rhythms, ``"band(guitar30/chug,bass33/kick)"``; empty if none added.
    """
    if len(notes) == 0 or rng.random() >= P_BAND:
        return notes, ""
    roots = lowest_voice(notes)
    guitar_program = int(rng.choice(GUITAR_PROGRAMS))
    velocity = rng.integers(*GUITAR_VELOCITY, endpoint=True)
    timing, pitches, rhythm = _rhythm(roots, drums, GUITAR_RHYTHMS, rng)
    guitar_roots = into_octave(pitches, GUITAR_LOWEST_ROOT)
    layers = [
        _part(timing, guitar_roots + interval, velocity, guitar_program)
        for interval in POWER_CHORD_INTERVALS
    ]
    description = f"guitar{guitar_program}" + (f"/{rhythm}" if rhythm else "")
    if rng.random() < P_BASS:
        bass_program = int(rng.choice(BASS_PROGRAMS))
        velocity = rng.integers(*BASS_VELOCITY, endpoint=True)
        timing, pitches, rhythm = _rhythm(roots, drums, ("kick",), rng)
        layers.append(
            _part(timing, into_octave(pitches, BASS_LOWEST_NOTE), velocity, bass_program)
        )
        description += f",bass{bass_program}" + (f"/{rhythm}" if rhythm else "")
    return np.concatenate([notes, *layers]).astype(notes.dtype), f"band({description})"
