"""A sampled kit played in a room and recorded as kits are: close, overhead and room microphones.

Every piece of the kit stands at its place in a shoebox room; every microphone hears every piece
(bleed) with its own delay, level and early reflections (image sources, ``pyroomacoustics``)
followed by a diffuse tail of the room's reverberation time. The microphones are summed with a
song's balance, so each piece reaches the mix through one impulse response
(:func:`piece_responses`), which is then applied to that piece's dry stem
(:func:`render_in_room`). Each response is shifted so that its first strong arrival is at its
start: labels stay where the hits are heard.

Coordinates are metres: x to the drummer's right, y away from the drummer, z up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import DRUM_BY_NAME, GM_DISTRACTOR_NOTES, GM_TO_CLASS

SPEED_OF_SOUND_M_S = 343.0
ROOM_SIZE_M = ((3.5, 3.5, 2.4), (12.0, 10.0, 5.0))
"""Smallest and largest room (width, depth, height)."""
RT60_S = (0.15, 1.2)
"""Reverberation time range of the room."""
ISM_MAX_ORDER = 10
"""Image-source reflections are computed up to this order; a noise tail continues them."""
TAIL_FADE_FRACTION = (0.6, 0.9)
"""Over this share of the image-source response, it fades out while the noise tail fades in."""
TAIL_LENGTH_RT60 = 1.0
"""The tail lasts this many reverberation times (down 60 dB)."""
WALL_MARGIN_M = 1.0
"""Nearest distance of the kit's centre and of every microphone to a wall."""

KIT_LAYOUT_M: dict[str, tuple[float, float, float]] = {
    "kick": (0.0, 0.35, 0.25),
    "snare": (-0.3, 0.0, 0.62),
    "hihat": (-0.6, 0.1, 0.95),
    "tom_high": (-0.15, 0.35, 0.8),
    "tom_mid": (0.15, 0.35, 0.8),
    "tom_floor": (0.5, 0.0, 0.55),
    "crash": (-0.55, 0.5, 1.35),
    "crash2": (0.35, 0.6, 1.4),
    "ride": (0.75, 0.3, 1.15),
    "china": (0.85, 0.55, 1.45),
    "percussion": (1.3, -0.6, 1.2),
}
"""Where each piece stands relative to the kit's centre on the floor (a right-handed kit);
``percussion`` is a second player's tambourine, shaker or cowbell beside the kit."""
PIECES: tuple[str, ...] = tuple(KIT_LAYOUT_M)
PIECE_JITTER_M = 0.08
"""Each piece moves by up to this much from its place in the layout."""
CLOSE_MIC_PIECES: tuple[str, ...] = ("kick", "snare", "hihat", "tom_high", "tom_mid",
                                     "tom_floor", "ride")
CLOSE_MIC_DISTANCE_M = (0.04, 0.12)
OVERHEAD_HEIGHT_M = (1.7, 2.3)
OVERHEAD_SPACING_M = (0.4, 1.2)
ROOM_MIC_DISTANCE_M = (1.5, 4.5)
ROOM_MIC_HEIGHT_M = (1.0, 2.2)
ROOM_MIC_SPACING_M = (0.5, 2.5)
CLOSE_LEVEL_DB = (-9.0, 3.0)
"""Level of the close microphones as a group (dB), against a source at their own distance."""
CLOSE_SPREAD_DB = 3.0
"""Standard deviation of one close microphone around its group level (dB)."""
OVERHEAD_LEVEL_DB = (-6.0, 6.0)
ROOM_LEVEL_DB = (-24.0, 3.0)
DISTANT_ONLY_PROBABILITY = 0.15
"""Share of rooms (and of MuldjordKit songs) recorded with overheads and room microphones
alone."""
ONSET_FRACTION = 0.1
"""A response's first strong arrival: the first sample reaching this fraction of its peak."""
ONSET_LEAD_S = 0.0005
"""Sound kept before that arrival."""


CLASS_PIECES: dict[str, str] = {
    "KD": "kick", "SD": "snare", "SS": "snare", "CHH": "hihat", "PHH": "hihat", "OHH": "hihat",
    "HT": "tom_high", "MT": "tom_mid", "LT": "tom_floor", "CR": "crash", "RD": "ride",
    "RB": "ride", "CS": "china",
}
"""The piece each drum class is played on (the second crash, GM 57, has its own place)."""
SECOND_CRASH_NOTE = DRUM_BY_NAME["CR"].gm_notes[1]
"""GM's crash cymbal 2."""


def piece_of_note(gm_note: int) -> str | None:
    """The piece of the kit a GM note is played on (None for a note no piece plays)."""
    note = int(gm_note)
    if note in GM_DISTRACTOR_NOTES:
        return "percussion"
    if note == SECOND_CRASH_NOTE:
        return "crash2"
    cls = GM_TO_CLASS.get(note)
    return None if cls is None else CLASS_PIECES[cls]


@dataclass(frozen=True)
class Microphone:
    """One microphone: its name, place, level (dB) and the distance its level refers to."""

    name: str
    position: tuple[float, float, float]
    level_db: float
    reference_m: float
    """The gain is ``10 ** (level_db / 20) * reference_m``, so that a source at this
    distance is heard at ``level_db`` whatever the distance (a close microphone is trimmed
    down, a room microphone up, as an engineer sets them)."""

    @property
    def gain(self) -> float:
        return float(10 ** (self.level_db / 20) * self.reference_m)


@dataclass(frozen=True)
class RoomSetup:
    """A room, the kit's pieces in it and the microphones recording them."""

    size_m: tuple[float, float, float]
    rt60_s: float
    pieces: tuple[tuple[str, tuple[float, float, float]], ...]
    microphones: tuple[Microphone, ...]

    def describe(self) -> str:
        """Short text for the manifest, e.g. ``room(6.1x4.2x3.0,rt0.45,mics9)``."""
        w, d, h = self.size_m
        return f"room({w:.1f}x{d:.1f}x{h:.1f},rt{self.rt60_s:.2f},mics{len(self.microphones)})"


def draw_setup(rng: np.random.Generator) -> RoomSetup:
    """A random room, kit placement and microphone set-up with levels."""
    low, high = np.array(ROOM_SIZE_M[0]), np.array(ROOM_SIZE_M[1])
    size = rng.uniform(low, high)
    rt60 = float(np.exp(rng.uniform(np.log(RT60_S[0]), np.log(RT60_S[1]))))
    room_distance = float(rng.uniform(*ROOM_MIC_DISTANCE_M))
    # the kit's centre: clear of the walls, with room in front of it for the room pair
    depth_needed = 2 * WALL_MARGIN_M + room_distance
    size[1] = max(size[1], depth_needed + 0.1)
    centre = np.array([
        rng.uniform(WALL_MARGIN_M, size[0] - WALL_MARGIN_M),
        rng.uniform(WALL_MARGIN_M, size[1] - WALL_MARGIN_M - room_distance),
        0.0,
    ])
    pieces = []
    for name, offset in KIT_LAYOUT_M.items():
        place = centre + np.array(offset) + rng.uniform(-PIECE_JITTER_M, PIECE_JITTER_M, 3)
        place[2] = max(place[2], 0.1)
        pieces.append((name, _inside(place, size)))
    by_name = dict(pieces)
    mics: list[Microphone] = []
    if rng.random() >= DISTANT_ONLY_PROBABILITY:
        close_level = float(rng.uniform(*CLOSE_LEVEL_DB))
        for name in CLOSE_MIC_PIECES:
            distance = float(rng.uniform(*CLOSE_MIC_DISTANCE_M))
            direction = rng.normal(0, 1, 3)
            direction[2] = abs(direction[2]) + 0.5  # from above or the side, not the floor
            direction /= np.linalg.norm(direction)
            place = _inside(np.array(by_name[name]) + distance * direction, size)
            level = close_level + float(rng.normal(0, CLOSE_SPREAD_DB))
            mics.append(Microphone(f"close_{name}", place, level, distance))
    overhead_level = float(rng.uniform(*OVERHEAD_LEVEL_DB))
    height = float(rng.uniform(*OVERHEAD_HEIGHT_M))
    spacing = float(rng.uniform(*OVERHEAD_SPACING_M))
    for side, name in ((-1, "overhead_left"), (1, "overhead_right")):
        place = _inside(centre + np.array([side * spacing / 2, 0.25, height]), size)
        reference = float(np.linalg.norm(np.array(place) - np.array(by_name["snare"])))
        mics.append(Microphone(name, place, overhead_level + float(rng.normal(0, 1)),
                               reference))
    room_level = float(rng.uniform(*ROOM_LEVEL_DB))
    height = float(rng.uniform(*ROOM_MIC_HEIGHT_M))
    spacing = float(rng.uniform(*ROOM_MIC_SPACING_M))
    for side, name in ((-1, "room_left"), (1, "room_right")):
        place = _inside(centre + np.array([side * spacing / 2, room_distance, height]), size)
        reference = float(np.linalg.norm(np.array(place) - np.array(by_name["snare"])))
        mics.append(Microphone(name, place, room_level + float(rng.normal(0, 1)), reference))
    return RoomSetup(tuple(float(v) for v in size), rt60, tuple(pieces), tuple(mics))


def _inside(place: np.ndarray, size: np.ndarray, margin_m: float = 0.05
            ) -> tuple[float, float, float]:
    clipped = np.clip(place, margin_m, np.asarray(size) - margin_m)
    return (float(clipped[0]), float(clipped[1]), float(clipped[2]))


def direct_delays_s(setup: RoomSetup) -> np.ndarray:
    """Direct-path delay from every piece to every microphone (seconds).

    Returns
    -------
    numpy.ndarray, shape (n_microphones, n_pieces)
    """
    mics = np.array([m.position for m in setup.microphones])
    places = np.array([p for _, p in setup.pieces])
    distances = np.linalg.norm(mics[:, None, :] - places[None, :, :], axis=-1)
    return distances / SPEED_OF_SOUND_M_S


def microphone_responses(setup: RoomSetup, seed: int = 0) -> np.ndarray:
    """Impulse response from every piece to every microphone, unaligned and at unit gain.

    The direct sound of piece ``p`` reaches microphone ``m`` after
    ``direct_delays_s(setup)[m, p]`` seconds, at amplitude ``1 / distance`` (metres).

    Returns
    -------
    numpy.ndarray, shape (n_microphones, n_pieces, n_samples), float32
    """
    import pyroomacoustics as pra

    size = list(setup.size_m)
    try:
        absorption, order = pra.inverse_sabine(setup.rt60_s, size)
    except ValueError:  # a room too large for so short a time: as dead as walls can be
        absorption, order = 0.99, 1
    room = pra.ShoeBox(size, fs=SAMPLE_RATE, materials=pra.Material(float(absorption)),
                       max_order=int(min(order, ISM_MAX_ORDER)), air_absorption=False)
    for _, place in setup.pieces:
        room.add_source(list(place))
    room.add_microphone_array(np.array([m.position for m in setup.microphones]).T)
    room.compute_rir()
    offset = pra.constants.get("frac_delay_length") // 2  # pra's fractional-delay filter lead
    tail = int(TAIL_LENGTH_RT60 * setup.rt60_s * SAMPLE_RATE)
    length = max(len(r) for row in room.rir for r in row) - offset + tail
    out = np.zeros((len(setup.microphones), len(setup.pieces), length), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for m, row in enumerate(room.rir):
        for p, rir in enumerate(row):
            early = np.asarray(rir[offset:], dtype=np.float32)
            out[m, p] = _with_tail(early, setup.rt60_s, rng, length)
    return out


def _with_tail(early: np.ndarray, rt60_s: float, rng: np.random.Generator, length: int
               ) -> np.ndarray:
    """Continue an image-source response with exponentially decaying noise (a diffuse tail)."""
    n = len(early)
    fade_start, fade_stop = (int(f * n) for f in TAIL_FADE_FRACTION)
    if fade_stop - fade_start < 2:
        out = np.zeros(length, dtype=np.float32)
        out[:n] = early
        return out
    level = float(np.sqrt(np.mean(early[fade_start // 2 : fade_start] ** 2)))
    t = (np.arange(length - fade_start) / SAMPLE_RATE).astype(np.float32)
    tail = rng.normal(0, level, len(t)).astype(np.float32) * np.exp(-6.91 * t / rt60_s)
    ramp = np.clip((np.arange(length) - fade_start) / (fade_stop - fade_start), 0, 1)
    out = np.zeros(length, dtype=np.float32)
    out[:n] = early
    out *= (1 - ramp).astype(np.float32)
    out[fade_start:] += tail * ramp[fade_start:].astype(np.float32)
    return out


def piece_responses(setup: RoomSetup, seed: int = 0) -> dict[str, np.ndarray]:
    """One impulse response per piece: every microphone's response at its gain, summed.

    Each is shifted so that its first strong arrival (:data:`ONSET_FRACTION` of its peak) is
    :data:`ONSET_LEAD_S` after its start, so a hit at sample ``k`` is heard from sample ``k``.

    Returns
    -------
    dict
        Piece name -> float32 array (n,).
    """
    responses = microphone_responses(setup, seed)
    gains = np.array([m.gain for m in setup.microphones], dtype=np.float32)
    out = {}
    lead = int(ONSET_LEAD_S * SAMPLE_RATE)
    for p, (name, _) in enumerate(setup.pieces):
        combined = np.concatenate([np.zeros(lead, np.float32), gains @ responses[:, p, :]])
        peak = float(np.max(np.abs(combined)))
        if peak <= 0:
            continue
        first = int(np.argmax(np.abs(combined) >= ONSET_FRACTION * peak))
        out[name] = combined[first - lead :]
    return out


def render_in_room(stems: dict[str, np.ndarray], responses: dict[str, np.ndarray],
                   n_samples: int) -> np.ndarray:
    """Sum every piece's dry stem convolved with its response (see :func:`piece_responses`).

    Parameters
    ----------
    stems : dict
        Piece name -> dry audio, shape (n_samples,).
    responses : dict
        Piece name -> impulse response.
    n_samples : int

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32
    """
    out = np.zeros(n_samples, dtype=np.float32)
    for name, stem in stems.items():
        if not np.any(stem):
            continue
        wet = signal.oaconvolve(stem[:n_samples], responses[name])[:n_samples]
        out[: len(wet)] += wet.astype(np.float32)
    return out
