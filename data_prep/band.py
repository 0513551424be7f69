"""A rock-band layer over a song's pitched part: distorted power chords and an electric bass.

Produced songs often carry broadband, sustained guitars and a bass that follows the kick; the
soundfont parts of the sources rarely do. :func:`add_band_layer` derives both from the lowest
voice of the existing pitched part, so they follow its harmony and rhythm, and returns them as
extra labelled notes.
"""

from __future__ import annotations

import numpy as np

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
    starts = np.flatnonzero(np.concatenate([[True], np.diff(ordered[:, 0]) > ONSET_TOLERANCE_S]))
    stops = np.append(starts[1:], len(ordered))
    lowest = [start + int(np.argmin(ordered[start:stop, 2])) for start, stop in zip(
        starts, stops, strict=True)]
    return ordered[lowest]


def into_octave(pitches: np.ndarray, lowest: int) -> np.ndarray:
    """Move pitches by whole octaves into ``[lowest, lowest + 12)``."""
    return lowest + np.mod(pitches - lowest, 12)


def add_band_layer(notes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Maybe add power chords (and a bass line) following the lowest voice of ``notes``.

    Returns
    -------
    notes : numpy.ndarray, shape (n', 5)
        ``notes`` with the added notes after them (unsorted).
    description : str
        For the manifest's variations, e.g. ``"band(guitar30,bass33)"``; empty if none added.
    """
    if len(notes) == 0 or rng.random() >= P_BAND:
        return notes, ""
    roots = lowest_voice(notes)
    guitar_program = int(rng.choice(GUITAR_PROGRAMS))
    guitar_roots = into_octave(roots[:, 2], GUITAR_LOWEST_ROOT)
    velocity = rng.integers(*GUITAR_VELOCITY, endpoint=True)
    layers = [
        np.column_stack([
            roots[:, 0], roots[:, 1], guitar_roots + interval,
            np.full(len(roots), velocity), np.full(len(roots), guitar_program),
        ])
        for interval in POWER_CHORD_INTERVALS
    ]
    description = f"guitar{guitar_program}"
    if rng.random() < P_BASS:
        bass_program = int(rng.choice(BASS_PROGRAMS))
        velocity = rng.integers(*BASS_VELOCITY, endpoint=True)
        layers.append(np.column_stack([
            roots[:, 0], roots[:, 1], into_octave(roots[:, 2], BASS_LOWEST_NOTE),
            np.full(len(roots), velocity), np.full(len(roots), bass_program),
        ]))
        description += f",bass{bass_program}"
    return np.concatenate([notes, *layers]).astype(notes.dtype), f"band({description})"
