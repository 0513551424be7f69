"""The data factory's layout read back: manifest, labels, cached features and frame targets.

Training and evaluation read data in this layout::

    DIR/manifest.csv                 columns incl. id, split, seconds
    DIR/audio/<id>.mix.flac          mono, 44.1 kHz
    DIR/audio/<id>.drums.flac        the drum stem of the same piece
    DIR/labels/<id>.drums.tsv        onset_s, gm_note, class, velocity
    DIR/labels/<id>.notes.tsv        onset_s, offset_s, midi_pitch, velocity, program
    DIR/labels/<id>.beats.tsv        time_s, position (1 = downbeat); optional

Features are computed once per audio file and cached as ``DIR/features/<id>.<source>.npy``
(float16), so epochs never recompute spectrograms. Nothing here imports a deep-learning
framework: ``drumtx evaluate`` and ``drumtx tune`` run without one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from drumtx import features, vocab
from drumtx.vocab import BEAT_HEAD, HEADS, N_BEAT_OUTPUTS

SOURCES = ("drums", "mix")
"""Audio versions of each piece: the drum stem and the full mix."""

ONSET_NEIGHBOUR_WEIGHT = 0.5
"""Target value of the frames right before and after an onset frame (widened onset targets)."""

VELOCITY_SCALE = 127.0

OUTPUT_SIZES: dict[str, int] = HEADS
"""Model output heads and their widths (activations per frame): :data:`drumtx.vocab.HEADS`."""


# The optional beat head (BEAT_HEAD, N_BEAT_OUTPUTS from drumtx.vocab): ``[beat, downbeat]`` per
# frame (a downbeat is also a beat). Its training target carries a third column, the per-frame
# label mask (see TrainingWindows): pieces without a beats file train every other head but
# contribute no beat loss.


# ----------------------------------------------------------------------------------------------
# Targets and the feature cache.
# ----------------------------------------------------------------------------------------------


def _spread(target: np.ndarray, frames: np.ndarray, columns: np.ndarray, values=None) -> None:
    """Write widened onset targets in place (``max`` with what is already there)."""
    n_frames = len(target)
    values = np.ones(len(frames), dtype=np.float32) if values is None else values
    for offset, weight in ((-1, ONSET_NEIGHBOUR_WEIGHT), (1, ONSET_NEIGHBOUR_WEIGHT), (0, 1.0)):
        shifted = frames + offset
        keep = (shifted >= 0) & (shifted < n_frames)
        rows, cols = shifted[keep], columns[keep]
        np.maximum.at(target, (rows, cols), (weight * values[keep]).astype(target.dtype))


def drum_targets(hits: pd.DataFrame, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame drum onset and velocity targets.

    Parameters
    ----------
    hits : pandas.DataFrame
        Columns ``onset_s`` (seconds), ``cls`` (class name) and ``velocity`` (1-127).
    n_frames : int

    Returns
    -------
    onsets : numpy.ndarray, shape (n_frames, 13), float32
        1 at the onset frame, :data:`ONSET_NEIGHBOUR_WEIGHT` on its neighbours.
    velocity : numpy.ndarray, shape (n_frames, 13), float32
        ``velocity / 127`` on the same frames, 0 elsewhere (masked by ``onsets > 0`` in the loss).
    """
    onsets = np.zeros((n_frames, vocab.N_DRUM_CLASSES), dtype=np.float32)
    velocity = np.zeros_like(onsets)
    if len(hits):
        frames = features.seconds_to_frame(hits["onset_s"].to_numpy())
        columns = hits["cls"].map(vocab.CLASS_INDEX).to_numpy().astype(np.int64)
        _spread(onsets, frames, columns)
        for offset in (-1, 1, 0):  # the onset frame's own velocity wins on collisions
            shifted = frames + offset
            keep = (shifted >= 0) & (shifted < n_frames)
            velocity[shifted[keep], columns[keep]] = (
                hits["velocity"].to_numpy()[keep] / VELOCITY_SCALE
            )
    return onsets, velocity


def pitch_targets(notes: pd.DataFrame, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame pitched onset and frame (note active) targets over the 88 keys.

    Parameters
    ----------
    notes : pandas.DataFrame
        Columns ``onset_s``, ``offset_s`` (seconds) and ``midi_pitch``.

    Returns
    -------
    onsets, frames : numpy.ndarray, shape (n_frames, 88), float32 each
    """
    onsets = np.zeros((n_frames, vocab.N_PITCHES), dtype=np.float32)
    frames_active = np.zeros_like(onsets)
    if len(notes):
        pitch = notes["midi_pitch"].to_numpy().astype(np.int64)
        keep = (pitch >= vocab.PITCH_MIN) & (pitch <= vocab.PITCH_MAX)
        notes = notes[keep]
        columns = pitch[keep] - vocab.PITCH_MIN
        start = features.seconds_to_frame(notes["onset_s"].to_numpy())
        stop = np.maximum(features.seconds_to_frame(notes["offset_s"].to_numpy()), start + 1)
        _spread(onsets, start, columns)
        for column, first, last in zip(columns, start, stop, strict=False):
            frames_active[max(first, 0) : min(last, n_frames), column] = 1.0
    return onsets, frames_active


def beat_targets(beats: pd.DataFrame, n_frames: int) -> np.ndarray:
    """Per-frame beat and downbeat targets, widened like onset targets.

    Parameters
    ----------
    beats : pandas.DataFrame
        Columns ``time_s`` (seconds) and ``position`` (1 = downbeat).
    n_frames : int

    Returns
    -------
    numpy.ndarray, shape (n_frames, 2), float32
        Column 0: every beat (downbeats included); column 1: downbeats only. 1 at the beat
        frame, :data:`ONSET_NEIGHBOUR_WEIGHT` on its neighbours.
    """
    target = np.zeros((n_frames, N_BEAT_OUTPUTS), dtype=np.float32)
    if len(beats):
        frames = features.seconds_to_frame(beats["time_s"].to_numpy(dtype=float))
        _spread(target, frames, np.zeros(len(frames), dtype=np.int64))
        downbeat = beats["position"].to_numpy() == 1
        _spread(target, frames[downbeat], np.ones(int(downbeat.sum()), dtype=np.int64))
    return target


def read_beat_labels(path: str | os.PathLike) -> pd.DataFrame | None:
    """Read a factory beat label file (``time_s``, ``position``); ``None`` if it is missing."""
    path = Path(path)
    if not path.exists():
        return None
    return pd.read_csv(path, sep="\t")


def read_drum_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Read a factory drum label file into ``onset_s``, ``cls``, ``velocity`` (unknown dropped)."""
    table = pd.read_csv(path, sep="\t")
    if "class" in table.columns:
        labels = table["class"].astype(str)
    else:
        labels = table["gm_note"].astype(str)
    cls = [vocab.class_of_label(label) for label in labels]
    if "gm_note" in table.columns:  # fall back to the GM note where the class is unknown
        cls = [c or vocab.class_of_label(n) for c, n in zip(cls, table["gm_note"], strict=False)]
    velocity = table["velocity"] if "velocity" in table.columns else 100
    out = pd.DataFrame({"onset_s": table["onset_s"], "cls": cls, "velocity": velocity})
    return out[out["cls"].notna()].reset_index(drop=True)


def read_note_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Read a factory pitched-note label file (empty table if the file is missing)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame({"onset_s": [], "offset_s": [], "midi_pitch": []})
    return pd.read_csv(path, sep="\t")


def load_audio_file(path: str | os.PathLike) -> np.ndarray:
    """Read a mono float32 file at :data:`drumtx.features.SAMPLE_RATE` (mixing down if needed)."""
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    if rate != features.SAMPLE_RATE:
        import librosa

        samples = librosa.resample(samples, orig_sr=rate, target_sr=features.SAMPLE_RATE)
    return samples.astype(np.float32)


def cached_features(data_dir: str | os.PathLike, piece_id: str, source: str) -> np.ndarray:
    """Features of ``DIR/audio/<id>.<source>.flac``, computed once and cached as float16 .npy.

    Returns
    -------
    numpy.ndarray, shape (n_frames, N_FEATURE_BINS), float16
    """
    data_dir = Path(data_dir)
    cache = data_dir / "features" / f"{piece_id}.{source}.npy"
    if cache.exists():
        return np.load(cache)
    feats = features.compute_features(
        load_audio_file(data_dir / "audio" / f"{piece_id}.{source}.flac")
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(temporary, feats.astype(np.float16))
    os.replace(temporary, cache)
    return feats.astype(np.float16)


def read_manifest(data_dir: str | os.PathLike, split: str | None = None) -> pd.DataFrame:
    """The factory manifest, optionally restricted to one split."""
    manifest = pd.read_csv(Path(data_dir) / "manifest.csv")
    manifest["id"] = manifest["id"].astype(str)
    if split is not None and "split" in manifest.columns:
        manifest = manifest[manifest["split"] == split]
    return manifest.reset_index(drop=True)


@dataclass
class Piece:
    """One piece held in memory for training.

    Attributes
    ----------
    piece_id : str
    feats : dict of str to numpy.ndarray
        ``"drums"`` and ``"mix"`` features, each ``(n_frames, n_bins)`` float16.
    targets : dict of str to numpy.ndarray
        One ``(n_frames, k)`` float16 array per output head (see :data:`OUTPUT_SIZES`) and
        ``"beats"`` ``(n_frames, 2)`` (zeros when the piece has no beat labels).
    has_beats : bool
        Whether the piece has beat labels (``labels/<id>.beats.tsv``).
    """

    piece_id: str
    feats: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    has_beats: bool = False

    @property
    def n_frames(self) -> int:
        """Frames available in both sources."""
        return min(len(value) for value in self.feats.values())


def load_piece(data_dir: str | os.PathLike, piece_id: str) -> Piece:
    """Load (and cache) the features and build the targets of one piece."""
    data_dir = Path(data_dir)
    feats = {
        source: cached_features(data_dir, piece_id, source)
        for source in SOURCES
        if (data_dir / "audio" / f"{piece_id}.{source}.flac").exists()
    }
    if not feats:
        raise FileNotFoundError(f"no audio for piece {piece_id} in {data_dir / 'audio'}")
    n_frames = min(len(value) for value in feats.values())
    hits = read_drum_labels(data_dir / "labels" / f"{piece_id}.drums.tsv")
    notes = read_note_labels(data_dir / "labels" / f"{piece_id}.notes.tsv")
    drum_on, drum_vel = drum_targets(hits, n_frames)
    pitch_on, pitch_frames = pitch_targets(notes, n_frames)
    beats = read_beat_labels(data_dir / "labels" / f"{piece_id}.beats.tsv")
    beat_target = beat_targets(beats if beats is not None else pd.DataFrame(), n_frames)
    targets = {  # float16 halves the memory of long training sets (values are 0, 0.5, 1, k/127)
        "drum_onsets": drum_on.astype(np.float16),
        "drum_velocity": drum_vel.astype(np.float16),
        "pitch_onsets": pitch_on.astype(np.float16),
        "pitch_frames": pitch_frames.astype(np.float16),
        BEAT_HEAD: beat_target.astype(np.float16),
    }
    feats = {key: value[:n_frames] for key, value in feats.items()}
    return Piece(piece_id, feats, targets, has_beats=beats is not None)


def load_split(data_dir: str | os.PathLike, split: str, limit: int | None = None) -> list[Piece]:
    """All pieces of one split of a factory data folder."""
    manifest = read_manifest(data_dir, split)
    ids = list(manifest["id"])[:limit]
    return [load_piece(data_dir, piece_id) for piece_id in ids]
