"""Training windows: random crops of factory pieces with their targets, and augmentation.

Training crops (:class:`TrainingWindows`) are cut here; inference windows are cut by
:mod:`drumtx.inference` (re-exported here), which has no Keras import so that transcription
starts fast.

Training data follows the data factory's layout::

    DIR/manifest.csv                 columns incl. id, split, seconds
    DIR/audio/<id>.mix.flac          mono, 44.1 kHz
    DIR/audio/<id>.drums.flac        the drum stem of the same piece
    DIR/labels/<id>.drums.tsv        onset_s, gm_note, class, velocity
    DIR/labels/<id>.notes.tsv        onset_s, offset_s, midi_pitch, velocity, program
    DIR/labels/<id>.beats.tsv        time_s, position (1 = downbeat); optional

Features are computed once per audio file and cached as ``DIR/features/<id>.<source>.npy``
(float16), so epochs never recompute spectrograms.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up logs

import keras  # noqa: E402
import numpy as np
import pandas as pd

from drumtx import features, vocab
from drumtx.inference import (  # noqa: F401 - the windowing API lives here for callers too
    HOP_FRAMES,
    SEGMENT_FRAMES,
    make_windows,
    predict_activations,
    stitch,
    window_starts,
)
from drumtx.model import BEAT_HEAD, HEADS, N_BEAT_OUTPUTS

TRAIN_FRAMES = 800
"""Default training crop length in frames (8 s). One length per training run: Keras fixes the
input signature from the first batch, and one shape means one traced training step."""

SOURCES = ("drums", "mix")
"""Audio versions of each piece: the drum stem and the full mix."""

ONSET_NEIGHBOUR_WEIGHT = 0.5
"""Target value of the frames right before and after an onset frame (widened onset targets)."""

VELOCITY_SCALE = 127.0

OUTPUT_SIZES: dict[str, int] = HEADS
"""Model output heads and their widths (activations per frame): :data:`drumtx.model.HEADS`."""

PITCHED_HEADS = ("pitch_onsets", "pitch_frames")
"""Heads whose targets are zero on drum-stem crops (the stem has no pitched notes)."""

MIX_PROBABILITY = 0.7
"""Default probability of a training crop coming from the full mix rather than the drum stem."""

# The optional beat head (BEAT_HEAD, N_BEAT_OUTPUTS from drumtx.model): ``[beat, downbeat]`` per
# frame (a downbeat is also a beat). Its training target carries a third column, the per-frame
# label mask (see TrainingWindows): pieces without a beats file train every other head but
# contribute no beat loss.

N_SPECTRAL = features.N_SPECTRAL_BANDS

# Feature-domain augmentation ranges.
GAIN_DB_RANGE = (-12.0, 6.0)
TILT_DB_RANGE = (-6.0, 6.0)
"""EQ tilt: gain difference (dB) between the highest and lowest band."""
NOISE_PROBABILITY = 0.3
NOISE_LEVEL_RANGE = (1e-3, 3e-2)
"""Noise magnitude relative to the crop's mean filtered magnitude."""
REMIX_PROBABILITY = 0.6
REMIX_DB_RANGE = (-6.0, 12.0)
"""Level change (dB) of the non-drum part when a mix crop is re-balanced. Biased upwards:
the factory mixes drums at -15 to +6 dB against the rest, while in produced songs they often
sit 10-17 dB under it."""
SHIFT_PROBABILITY = 0.5
MAX_SHIFT_BANDS = 2
"""The drums are moved up or down by 1 to this many bands (semitones above ~500 Hz): kits
tuned differently from the training kits."""


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


# ----------------------------------------------------------------------------------------------
# Augmentation (on features, cheap): gain, EQ tilt, noise, drum/rest re-balancing.
# ----------------------------------------------------------------------------------------------


def _to_magnitude(spectral: np.ndarray) -> np.ndarray:
    return np.power(10.0, spectral, dtype=np.float32) - 1.0


def _to_features(magnitude: np.ndarray) -> np.ndarray:
    spectral = np.log10(1.0 + np.maximum(magnitude, 0.0)).astype(np.float32)
    return np.concatenate([spectral, features.positive_flux(spectral)], axis=1)


def shift_bands(magnitude: np.ndarray, n_bands: int) -> np.ndarray:
    """Move a ``(frames, bands)`` spectrogram up (``n_bands > 0``) or down, zero-filling."""
    shifted = np.zeros_like(magnitude)
    if n_bands > 0:
        shifted[:, n_bands:] = magnitude[:, :-n_bands]
    elif n_bands < 0:
        shifted[:, :n_bands] = magnitude[:, -n_bands:]
    else:
        shifted[:] = magnitude
    return shifted


def _random_band_shift(magnitude: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() >= SHIFT_PROBABILITY:
        return magnitude
    n_bands = int(rng.integers(1, MAX_SHIFT_BANDS + 1)) * (1 if rng.random() < 0.5 else -1)
    return shift_bands(magnitude, n_bands)


def augment(
    feats: np.ndarray, rng: np.random.Generator, drums: np.ndarray | None = None
) -> np.ndarray:
    """Randomly re-tune the drums, re-balance, re-gain, tilt and add noise to one crop.

    Works on the filtered magnitude ``10 ** spectral - 1`` and recomputes the flux half.

    Parameters
    ----------
    feats : numpy.ndarray, shape (frames, N_FEATURE_BINS)
        Features of the crop (mix or drum stem).
    rng : numpy.random.Generator
    drums : numpy.ndarray, shape (frames, N_FEATURE_BINS), optional
        Drum-stem features of the same crop when ``feats`` is a mix: the non-drum part is
        estimated in power (``mix**2 - drums**2``) and its level changed by a random amount;
        only the drums are shifted in frequency (pitched targets stay valid).

    Returns
    -------
    numpy.ndarray, shape (frames, N_FEATURE_BINS), float32
    """
    magnitude = _to_magnitude(feats[:, :N_SPECTRAL].astype(np.float32))
    if drums is None:
        magnitude = _random_band_shift(magnitude, rng)
    else:
        drum_mag = _to_magnitude(drums[:, :N_SPECTRAL].astype(np.float32))
        rest_power = np.maximum(magnitude**2 - drum_mag**2, 0.0)
        rest_gain = 1.0
        if rng.random() < REMIX_PROBABILITY:
            rest_gain = 10.0 ** (rng.uniform(*REMIX_DB_RANGE) / 20.0)
        drum_mag = _random_band_shift(drum_mag, rng)
        magnitude = np.sqrt(drum_mag**2 + rest_gain**2 * rest_power)
    tilt_db = rng.uniform(*TILT_DB_RANGE) * np.linspace(-0.5, 0.5, N_SPECTRAL, dtype=np.float32)
    gain_db = rng.uniform(*GAIN_DB_RANGE) + tilt_db
    magnitude = magnitude * (10.0 ** (gain_db / 20.0))[None, :]
    if rng.random() < NOISE_PROBABILITY:
        level = rng.uniform(*NOISE_LEVEL_RANGE) * float(magnitude.mean() + 1e-6)
        magnitude = magnitude + level * np.abs(rng.standard_normal(magnitude.shape)).astype(
            np.float32
        )
    return _to_features(magnitude)


# ----------------------------------------------------------------------------------------------
# The training PyDataset.
# ----------------------------------------------------------------------------------------------


class TrainingWindows(keras.utils.PyDataset):
    """Random crops of training pieces as ``(features, targets)`` batches.

    Every crop has ``frames`` frames (pieces shorter than that are zero-padded, with zero
    targets); each item picks a piece (in proportion to its length), the drum stem or the mix,
    and a random start. Batches are a pure function of ``(seed, epoch, index)``, so runs are
    reproducible.

    Parameters
    ----------
    pieces : list of Piece
    batch_size : int
    steps_per_epoch : int, optional
        Batches per epoch; default: enough crops to see every frame of both sources once.
    seed : int
    augment_features : bool
        Apply :func:`augment` to every crop.
    mix_probability : float
        Probability of a crop coming from the mix rather than the drum stem.
    frames : int
        Crop length in frames.
    fixed_epoch : bool
        Draw the same batches every epoch (validation).
    beats : bool
        Also yield ``beats`` targets (for a model with the beat head).

    Notes
    -----
    ``__getitem__`` returns ``x`` of shape ``(batch, frames, N_FEATURE_BINS)`` and ``y``, a
    dict: ``drum_onsets`` ``(batch, frames, 13)``, ``drum_velocity`` ``(batch, frames, 26)``
    (velocity targets then the onset mask), ``pitch_onsets`` and ``pitch_frames``
    ``(batch, frames, 88)``; with ``beats``, ``beats`` ``(batch, frames, 3)``: beat and
    downbeat targets, then the label mask (1 on real frames of pieces with beat labels, 0 on
    padding and on pieces without them).
    """

    def __init__(
        self,
        pieces: list[Piece],
        batch_size: int = 16,
        steps_per_epoch: int | None = None,
        seed: int = 0,
        augment_features: bool = True,
        mix_probability: float = MIX_PROBABILITY,
        frames: int = TRAIN_FRAMES,
        fixed_epoch: bool = False,
        beats: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not pieces:
            raise ValueError("no training pieces")
        self.pieces = pieces
        self.batch_size = batch_size
        self.seed = seed
        self.augment_features = augment_features
        self.mix_probability = mix_probability
        self.frames = frames
        self.fixed_epoch = fixed_epoch
        self.beats = beats
        lengths = np.array([piece.n_frames for piece in pieces], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        if steps_per_epoch is None:
            steps_per_epoch = max(1, int(2 * lengths.sum() / (frames * batch_size)))
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps_per_epoch

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def __getitem__(self, index: int):
        epoch = 0 if self.fixed_epoch else self.epoch
        rng = np.random.default_rng([self.seed, epoch, index])
        frames = self.frames
        x = np.zeros((self.batch_size, frames, features.N_FEATURE_BINS), dtype=np.float32)
        y = {
            name: np.zeros((self.batch_size, frames, size), np.float32)
            for name, size in OUTPUT_SIZES.items()
        }
        mask = np.zeros((self.batch_size, frames, vocab.N_DRUM_CLASSES), dtype=np.float32)
        beats = np.zeros((self.batch_size, frames, N_BEAT_OUTPUTS + 1), dtype=np.float32)
        for item in range(self.batch_size):
            piece = self.pieces[rng.choice(len(self.pieces), p=self.weights)]
            available = min(frames, piece.n_frames)
            start = int(rng.integers(0, piece.n_frames - available + 1))
            stop = start + available
            use_mix = "mix" in piece.feats and (
                "drums" not in piece.feats or rng.random() < self.mix_probability
            )
            source = "mix" if use_mix else "drums"
            crop = piece.feats[source][start:stop]
            if self.augment_features:
                drums = (
                    piece.feats["drums"][start:stop] if use_mix and "drums" in piece.feats else None
                )
                crop = augment(crop, rng, drums)
            x[item, :available] = crop
            for name in OUTPUT_SIZES:
                if use_mix or name not in PITCHED_HEADS:  # a drum stem has no pitched notes
                    y[name][item, :available] = piece.targets[name][start:stop]
            mask[item, :available] = (piece.targets["drum_onsets"][start:stop] > 0).astype(
                np.float32
            )
            if self.beats and piece.has_beats:
                beats[item, :available, :N_BEAT_OUTPUTS] = piece.targets[BEAT_HEAD][start:stop]
                beats[item, :available, N_BEAT_OUTPUTS] = 1.0
        y["drum_velocity"] = np.concatenate([y["drum_velocity"], mask], axis=-1)
        if self.beats:
            y[BEAT_HEAD] = beats
        return x, y
