"""A real kit recorded on many microphones, mixed anew for every song: the MuldjordKit.

Every hit of the MuldjordKit (DrumGizmo, CC BY 4.0) was recorded at once on 16 microphones:
close microphones on each drum, overheads and a room pair, each with the bleed of every other
piece and the room's sound. A song draws its own balance of those microphones
(:func:`draw_mic_balance`), sums them into one mono one-shot per hit (:func:`mix_kit`) and plays
them with the ordinary sampler, so the kit sounds as a recorded kit does: close and dry, or
washy and distant, with cymbal wash in every hit.

Layout read (the kit's own)::

    KIT/DrumGizmo/MuldjordKit/Samples/<piece>/<hit>-<piece>-<microphone>.flac

where hits are numbered from the softest; pieces are mapped to GM notes by
:data:`drumtx.vocab.MULDJORD_PIECE_TO_GM`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from drumtx.vocab import MULDJORD_PIECE_TO_GM

from . import sources
from .kits import Instrument, Kit, Layer, trim_one_shot
from .room import (  # a recorded kit is balanced as a rendered room's microphones are
    CLOSE_LEVEL_DB,
    CLOSE_SPREAD_DB,
    DISTANT_ONLY_PROBABILITY,
    OVERHEAD_LEVEL_DB,
    ROOM_LEVEL_DB,
)

SAMPLES_DIR = Path("DrumGizmo") / "MuldjordKit" / "Samples"
CLOSE_MICS: tuple[str, ...] = (
    "KdrumL", "KdrumR", "Snare_top", "Snare_bottom", "Hihat", "Tom1", "Tom2", "Tom3", "Tom4",
    "RideL", "RideR",
)
OVERHEAD_MICS: tuple[str, ...] = ("OHL", "OHR")
ROOM_MICS: tuple[str, ...] = ("AmbL", "AmbR")
MICROPHONES: tuple[str, ...] = CLOSE_MICS + OVERHEAD_MICS + ROOM_MICS
"""Microphones mixed (the kit's drum trigger channel is left out)."""
FILE_PATTERN = re.compile(r"^(\d+)-(.+)-([^-]+)\.flac$")

MUTED_DB = -120.0


@dataclass(frozen=True)
class MicBalance:
    """Gain of every microphone (dB) for one song."""

    gains_db: tuple[tuple[str, float], ...]

    def gains(self) -> np.ndarray:
        """Linear gains in :data:`MICROPHONES` order; shape (n_microphones,)."""
        by_name = dict(self.gains_db)
        return np.array([10 ** (by_name[m] / 20) if by_name[m] > MUTED_DB else 0.0
                         for m in MICROPHONES], dtype=np.float32)

    def describe(self) -> str:
        """Short text for the manifest, e.g. ``mics(close-3.1,oh+2.0,room-12.5)``."""
        by_name = dict(self.gains_db)
        close = "off" if by_name[CLOSE_MICS[0]] <= MUTED_DB else (
            f"{np.mean([by_name[m] for m in CLOSE_MICS]):+.1f}")
        return (f"mics(close{close},oh{np.mean([by_name[m] for m in OVERHEAD_MICS]):+.1f},"
                f"room{np.mean([by_name[m] for m in ROOM_MICS]):+.1f})")


def draw_mic_balance(rng: np.random.Generator) -> MicBalance:
    """A random microphone balance: close, overhead and room levels, sometimes no close mics."""
    distant_only = rng.random() < DISTANT_ONLY_PROBABILITY
    close = float(rng.uniform(*CLOSE_LEVEL_DB))
    overhead = float(rng.uniform(*OVERHEAD_LEVEL_DB))
    room = float(rng.uniform(*ROOM_LEVEL_DB))
    gains = [(m, MUTED_DB if distant_only else close + float(rng.normal(0, CLOSE_SPREAD_DB)))
             for m in CLOSE_MICS]
    gains += [(m, overhead + float(rng.normal(0, 1.0))) for m in OVERHEAD_MICS]
    gains += [(m, room + float(rng.normal(0, 1.0))) for m in ROOM_MICS]
    return MicBalance(tuple(gains))


def kit_root(root: Path | None = None) -> Path:
    """The samples folder of the kit (``root`` or the configured ``muldjord_kit`` source)."""
    base = Path(root) if root is not None else sources.require("muldjord_kit")
    samples = base / SAMPLES_DIR
    if not samples.is_dir():
        raise sources.SourceMissingError(f"muldjord_kit: no {SAMPLES_DIR} under {base}")
    return samples


@lru_cache(maxsize=2)
def load_recordings(samples_dir: str) -> dict[str, list[np.ndarray]]:
    """Every hit of every piece as a (n_microphones, n_samples) float32 array, softest first.

    Read once per process (about 1.5 GB for the whole kit).
    """
    found: dict[str, dict[int, dict[str, Path]]] = {}
    for path in sorted(Path(samples_dir).glob("*/*.flac")):
        match = FILE_PATTERN.match(path.name)
        if match is None or match.group(2) not in MULDJORD_PIECE_TO_GM:
            continue
        hit, piece, mic = int(match.group(1)), match.group(2), match.group(3)
        if mic in MICROPHONES:
            found.setdefault(piece, {}).setdefault(hit, {})[mic] = path
    recordings: dict[str, list[np.ndarray]] = {}
    for piece, hits in sorted(found.items()):
        for hit in sorted(hits):
            channels = []
            for mic in MICROPHONES:
                path = hits[hit].get(mic)
                audio = (sf.read(path, dtype="float32", always_2d=True)[0].mean(axis=1)
                         if path is not None else np.zeros(0, np.float32))
                channels.append(audio)
            length = max(len(c) for c in channels)
            stacked = np.zeros((len(MICROPHONES), length), dtype=np.float32)
            for i, channel in enumerate(channels):
                stacked[i, : len(channel)] = channel
            recordings.setdefault(piece, []).append(stacked)
    if not recordings:
        raise sources.SourceMissingError(f"muldjord_kit: no samples found in {samples_dir}")
    return recordings


def mix_kit(recordings: dict[str, list[np.ndarray]], balance: MicBalance,
            name: str = "MuldjordKit", family: str = "Muldjord") -> Kit:
    """Mix every hit's microphones into a mono one-shot and build a :class:`Kit`.

    Hits of a piece become velocity layers, softest first, in equal shares of the velocity
    range; a piece's one-shots are trimmed so that each is heard from its first sample.
    """
    gains = balance.gains()
    kit = Kit(name, family)
    for piece, hits in recordings.items():
        layers = []
        for i, stacked in enumerate(hits):
            mono = trim_one_shot(gains @ stacked)
            if mono.size:
                layers.append(Layer(i / len(hits), (i + 1) / len(hits), 1.0, mono))
        if layers:
            note = MULDJORD_PIECE_TO_GM[piece]
            kit.instruments.setdefault(note, []).append(Instrument(piece, 1.0, layers))
    return kit


def song_kit(rng: np.random.Generator, root: Path | None = None) -> tuple[Kit, str]:
    """The kit mixed with a random microphone balance, and that balance's description."""
    balance = draw_mic_balance(rng)
    return mix_kit(load_recordings(str(kit_root(root))), balance), balance.describe()
