"""Parts beyond a pattern's kit: whole pieces left out of a song, a percussionist beside the kit.

Patterns in which the pieces always come together teach a transcriber that a kick comes with a
hi-hat. :func:`leave_out_pieces` removes whole pieces from a song (no hi-hat, no cymbals, ...),
and :func:`percussion_part` adds a tambourine, shaker, cowbell or claps part that sounds like a
kit piece but is never labelled as one.
"""

from __future__ import annotations

import numpy as np

from drumtx.vocab import DRUM_BY_NAME, GM_TO_CLASS, coarse_members

PIECE_GROUPS: dict[str, tuple[str, ...]] = {
    name: coarse_members(group)
    for name, group in (("hihat", "HH"), ("cymbals", "CY+RD"), ("toms", "TT"), ("kick", "BD"),
                        ("snare", "SD"))
}
"""Pieces that leave a song together: the 5-class groups of :mod:`drumtx.vocab`, by the names
the manifest's ``variations`` use."""
LEAVE_OUT_WEIGHTS: dict[str, float] = {
    "hihat": 0.4, "cymbals": 0.25, "toms": 0.1, "kick": 0.1, "snare": 0.15,
}
"""How often each group is the one left out."""
SECOND_GROUP_PROBABILITY = 0.3
"""Probability that a second group leaves too (e.g. a song of kick and snare alone)."""

TAMBOURINE, SHAKER, COWBELL, CLAP, CABASA = 54, 70, 56, 39, 69
PERCUSSION_NOTES: tuple[int, ...] = (TAMBOURINE, SHAKER, COWBELL, CLAP, CABASA)
"""GM notes a percussionist plays beside the kit (all in ``GM_DISTRACTOR_NOTES``)."""
PERCUSSION_RHYTHMS: dict[int, tuple[tuple[float, ...], ...]] = {
    TAMBOURINE: ((0.5,), (0.25,), (1.0, 3.0), (0.5, 1.0)),
    SHAKER: ((0.25,), (0.5,)),
    COWBELL: ((1.0,), (0.5,)),
    CLAP: ((1.0, 3.0),),
    CABASA: ((0.25,), (0.5,)),
}
"""Rhythms per instrument: one number is a step in beats (every step), more are the beats of a
4-beat bar struck (e.g. claps on 2 and 4); ``(0.5, 1.0)`` is a step with every other one left
out (quarter notes on the off-beats)."""
PERCUSSION_VELOCITY = (45, 110)
ACCENT_DB = 4.0
"""On-beat strokes of a stepped rhythm are this much louder (shakers and tambourines lean)."""
SECTION_SHARE = (0.4, 1.0)
"""The part plays over this share of the song, from a bar line."""


def leave_out_pieces(drums: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Remove every hit of one or two piece groups (:data:`PIECE_GROUPS`) from a drum part.

    Groups that would leave the part empty are not drawn.

    Parameters
    ----------
    drums : numpy.ndarray, shape (n, 3)
        beat (or second), GM note, velocity.

    Returns
    -------
    drums : numpy.ndarray, shape (m, 3)
    description : str
        e.g. ``without(hihat+cymbals)``; empty when nothing was removed.
    """
    classes = np.array([GM_TO_CLASS.get(int(n), "") for n in drums[:, 1]])
    names = list(LEAVE_OUT_WEIGHTS)
    weights = np.array([LEAVE_OUT_WEIGHTS[n] for n in names])
    n_groups = 2 if rng.random() < SECOND_GROUP_PROBABILITY else 1
    chosen = rng.choice(len(names), size=n_groups, replace=False, p=weights / weights.sum())
    keep = np.ones(len(drums), dtype=bool)
    left_out = []
    for index in sorted(chosen):
        group = PIECE_GROUPS[names[index]]
        candidate = keep & ~np.isin(classes, group)
        labelled = candidate & (classes != "")
        if labelled.any() and candidate.sum() < keep.sum():
            keep = candidate
            left_out.append(names[index])
    if not left_out:
        return drums, ""
    return drums[keep], f"without({'+'.join(left_out)})"


def percussion_part(length_beats: float, beats_per_bar: float, rng: np.random.Generator
                    ) -> tuple[np.ndarray, str]:
    """A percussionist's part: one instrument of :data:`PERCUSSION_NOTES` over a section.

    Parameters
    ----------
    length_beats : float
        Length of the song (beats).
    beats_per_bar : float

    Returns
    -------
    hits : numpy.ndarray, shape (n, 3)
        beat, GM note, velocity; never a labelled class.
    description : str
        e.g. ``percussion(54/0.5,bars3-12)``.
    """
    note = int(PERCUSSION_NOTES[int(rng.integers(len(PERCUSSION_NOTES)))])
    rhythms = PERCUSSION_RHYTHMS[note]
    rhythm = rhythms[int(rng.integers(len(rhythms)))]
    bar = max(float(beats_per_bar), 1.0)
    n_bars = max(1, int(length_beats // bar))
    share = float(rng.uniform(*SECTION_SHARE))
    bars_played = max(1, int(round(share * n_bars)))
    first_bar = int(rng.integers(0, n_bars - bars_played + 1))
    start, stop = first_bar * bar, min(length_beats, (first_bar + bars_played) * bar)
    if len(rhythm) == 1:
        beats = np.arange(start, stop, rhythm[0])
    elif rhythm == (0.5, 1.0):
        beats = np.arange(start + 0.5, stop, 1.0)
    else:
        beats = np.array([b0 + b for b0 in np.arange(start, stop, bar) for b in rhythm
                          if b < bar and b0 + b < stop])
    if len(beats) == 0:
        return np.zeros((0, 3)), ""
    velocity = rng.uniform(*PERCUSSION_VELOCITY, len(beats))
    on_beat = np.isclose(beats % 1.0, 0.0)
    velocity = np.where(on_beat, velocity * 10 ** (ACCENT_DB / 20), velocity)
    velocity = np.clip(np.round(velocity), 1, 127)
    hits = np.column_stack([beats, np.full(len(beats), note), velocity])
    step = "/".join(f"{b:g}" for b in rhythm)
    return hits, f"percussion({note}/{step},bars{first_bar + 1}-{first_bar + bars_played})"


def group_notes(group: str) -> tuple[int, ...]:
    """GM notes of a piece group (for tests and probes)."""
    return tuple(n for cls in PIECE_GROUPS[group] for n in DRUM_BY_NAME[cls].gm_notes)
