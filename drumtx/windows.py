"""Training windows: random crops of factory pieces with their targets, and augmentation.

Training crops (:class:`TrainingWindows`) are cut here from pieces read by
:mod:`drumtx.dataset`; inference windows are cut by :mod:`drumtx.inference`. Both are
re-exported here; neither imports Keras, so that transcription, evaluation and tuning start
fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up logs

import keras  # noqa: E402
import numpy as np
from scipy import signal

from drumtx import features
from drumtx.dataset import (  # noqa: F401 - the data API lives there, named here for callers
    ONSET_NEIGHBOUR_WEIGHT,
    OUTPUT_SIZES,
    SOURCES,
    VELOCITY_SCALE,
    Piece,
    beat_targets,
    cached_features,
    drum_targets,
    load_audio_file,
    load_piece,
    load_split,
    pitch_targets,
    read_beat_labels,
    read_drum_labels,
    read_manifest,
    read_note_labels,
)
from drumtx.inference import (  # noqa: F401 - the windowing API lives here for callers too
    HOP_FRAMES,
    SEGMENT_FRAMES,
    make_windows,
    predict_activations,
    stitch,
    window_starts,
)
from drumtx.vocab import BEAT_HEAD, HEADS, N_BEAT_OUTPUTS, STEM_HEAD  # noqa: F401

TRAIN_FRAMES = 800
"""Default training crop length in frames (8 s). One length per training run: Keras fixes the
input signature from the first batch, and one shape means one traced training step."""

PITCHED_HEADS = ("pitch_onsets", "pitch_frames")
"""Heads whose targets are zero on drum-stem crops (the stem has no pitched notes)."""

MIX_PROBABILITY = 0.7
"""Default probability of a training crop coming from the full mix rather than the drum stem."""

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
REST_REVERB_PROBABILITY = 0.0
"""Default probability of smearing a mix crop's non-drum part with a reverberant tail
(:func:`reverberate_power`); 0 draws nothing, so crops are those of runs made before it existed."""
REST_REVERB_RT60_S = (0.4, 2.5)
"""Range of the tail's reverberation time (seconds to decay by 60 dB)."""
REST_REVERB_WET = (0.3, 0.8)
"""Range of the tail's share of the non-drum part's power."""
MIXUP_PROBABILITY = 0.0
"""Default probability of a training crop being the sum of two crops (:func:`mix_crops`); 0
draws nothing, so crops are those of runs made before it existed."""
MIXUP_DB_RANGE = (-6.0, 6.0)
"""Level (dB) of the second crop against the first when two are summed."""
SHIFT_PROBABILITY = 0.5
MAX_SHIFT_BANDS = 2
"""The drums are moved up or down by 1 to this many bands (semitones above ~500 Hz): kits
tuned differently from the training kits."""


# ----------------------------------------------------------------------------------------------
# Augmentation (on features, cheap): gain, EQ tilt, noise, drum/rest re-balancing.
# ----------------------------------------------------------------------------------------------


def _to_magnitude(spectral: np.ndarray) -> np.ndarray:
    return np.power(10.0, spectral, dtype=np.float32) - 1.0


def _to_spectral(magnitude: np.ndarray) -> np.ndarray:
    return np.log10(1.0 + np.maximum(magnitude, 0.0)).astype(np.float32)


def _to_features(magnitude: np.ndarray) -> np.ndarray:
    spectral = _to_spectral(magnitude)
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


def reverberate_power(power: np.ndarray, rt60_s: float, wet: float) -> np.ndarray:
    """Smear a ``(frames, bands)`` power spectrogram with an exponential tail, band by band.

    A feature-domain stand-in for reverb on one part of a mix (a washy guitar over dry
    drums): each frame's power decays by 60 dB over ``rt60_s`` seconds. The tail keeps the
    part's total power; ``wet`` is its share, the rest stays dry.
    """
    decay = 10.0 ** (-6.0 / (rt60_s * features.FRAMES_PER_SECOND))
    tail = signal.lfilter([1.0 - decay], [1.0, -decay], power, axis=0).astype(np.float32)
    return (1.0 - wet) * power + wet * tail


def _random_band_shift(magnitude: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() >= SHIFT_PROBABILITY:
        return magnitude
    n_bands = int(rng.integers(1, MAX_SHIFT_BANDS + 1)) * (1 if rng.random() < 0.5 else -1)
    return shift_bands(magnitude, n_bands)


def augment(
    feats: np.ndarray,
    rng: np.random.Generator,
    drums: np.ndarray | None = None,
    remix_probability: float = REMIX_PROBABILITY,
    remix_db_range: tuple[float, float] = REMIX_DB_RANGE,
    return_drum_stem: bool = False,
    rest_reverb_probability: float = REST_REVERB_PROBABILITY,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
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
    remix_probability : float
        Probability of re-balancing a mix crop (with ``drums``).
    remix_db_range : (float, float)
        Range of the level change (dB) of the non-drum part; positive values make the drums
        quieter against the rest.
    return_drum_stem : bool
        Also return the spectral half of the drums alone after the same changes (re-tuning,
        gain and tilt; no noise): the target of the ``drum_stem`` head. Without ``drums``
        the crop is taken to be a drum stem.
    rest_reverb_probability : float
        Probability of smearing the non-drum part of a mix crop (with ``drums``) by
        :func:`reverberate_power`, reverberation time and wet share drawn from
        :data:`REST_REVERB_RT60_S` and :data:`REST_REVERB_WET`.

    Returns
    -------
    numpy.ndarray, shape (frames, N_FEATURE_BINS), float32
        The augmented features.
    numpy.ndarray, shape (frames, N_SPECTRAL_BANDS), float32
        Only with ``return_drum_stem``: the drums' spectral features.
    """
    magnitude = _to_magnitude(feats[:, :N_SPECTRAL].astype(np.float32))
    if drums is None:
        magnitude = _random_band_shift(magnitude, rng)
        drum_mag = magnitude
    else:
        drum_mag = _to_magnitude(drums[:, :N_SPECTRAL].astype(np.float32))
        rest_power = np.maximum(magnitude**2 - drum_mag**2, 0.0)
        if rest_reverb_probability > 0 and rng.random() < rest_reverb_probability:
            rest_power = reverberate_power(
                rest_power, rng.uniform(*REST_REVERB_RT60_S), rng.uniform(*REST_REVERB_WET)
            )
        rest_gain = 1.0
        if rng.random() < remix_probability:
            rest_gain = 10.0 ** (rng.uniform(*remix_db_range) / 20.0)
        drum_mag = _random_band_shift(drum_mag, rng)
        magnitude = np.sqrt(drum_mag**2 + rest_gain**2 * rest_power)
    tilt_db = rng.uniform(*TILT_DB_RANGE) * np.linspace(-0.5, 0.5, N_SPECTRAL, dtype=np.float32)
    gain_db = rng.uniform(*GAIN_DB_RANGE) + tilt_db
    gain = (10.0 ** (gain_db / 20.0))[None, :]
    magnitude = magnitude * gain
    if rng.random() < NOISE_PROBABILITY:
        level = rng.uniform(*NOISE_LEVEL_RANGE) * float(magnitude.mean() + 1e-6)
        magnitude = magnitude + level * np.abs(rng.standard_normal(magnitude.shape)).astype(
            np.float32
        )
    if return_drum_stem:
        return _to_features(magnitude), _to_spectral(drum_mag * gain)
    return _to_features(magnitude)


@dataclass
class Crop:
    """One training crop and its targets, every array ``frames`` long (zero-padded).

    ``features`` ``(frames, N_FEATURE_BINS)``; ``targets`` maps each head of
    :data:`OUTPUT_SIZES` to ``(frames, size)``; ``beats`` ``(frames, 3)`` (beat, downbeat,
    label mask); ``stem`` ``(frames, N_SPECTRAL_BANDS + 1)`` (the drums' spectral features,
    then the mask).
    """

    features: np.ndarray
    targets: dict[str, np.ndarray]
    beats: np.ndarray
    stem: np.ndarray


def mix_crops(first: Crop, second: Crop, second_db: float) -> Crop:
    """Sum two crops (mixup for onsets): their audio adds, their notes are the union.

    The filtered magnitudes add in power, ``second`` scaled by ``second_db``; the flux half is
    recomputed. Onset, velocity and pitched targets are the larger of the two at each frame
    and class (labels of both songs stay true of the sum). Beat labels are dropped (masked):
    two songs' grids do not make one. The drum-stem target is the drums' sum where both
    crops have one, else masked.
    """
    gain = np.float32(10.0 ** (second_db / 20.0))

    def power_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sqrt(_to_magnitude(a) ** 2 + (gain * _to_magnitude(b)) ** 2)

    features_sum = _to_features(
        power_sum(first.features[:, :N_SPECTRAL], second.features[:, :N_SPECTRAL])
    )
    stem = np.zeros_like(first.stem)
    both = np.minimum(first.stem[:, N_SPECTRAL], second.stem[:, N_SPECTRAL]) > 0
    stem[both, :N_SPECTRAL] = _to_spectral(
        power_sum(first.stem[both, :N_SPECTRAL], second.stem[both, :N_SPECTRAL])
    )
    stem[both, N_SPECTRAL] = 1.0
    return Crop(
        features=features_sum,
        targets={name: np.maximum(first.targets[name], second.targets[name])
                 for name in first.targets},
        beats=np.zeros_like(first.beats),
        stem=stem,
    )


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
    remix_probability, remix_db_range
        Re-balancing of mix crops (see :func:`augment`).
    frames : int
        Crop length in frames.
    fixed_epoch : bool
        Draw the same batches every epoch (validation).
    beats : bool
        Also yield ``beats`` targets (for a model with the beat head).
    stem_targets : bool
        Also yield ``drum_stem`` targets (for a model with the training-only stem head).
    rest_reverb_probability : float
        Reverberant smearing of the non-drum part of mix crops (see :func:`augment`).
    mixup_probability : float
        Probability of a crop being the sum of two random crops (:func:`mix_crops`), the
        second at a level drawn from :data:`MIXUP_DB_RANGE`.

    Notes
    -----
    ``__getitem__`` returns ``x`` of shape ``(batch, frames, N_FEATURE_BINS)`` and ``y``, a
    dict: ``drum_onsets`` ``(batch, frames, 13)``, ``drum_velocity`` ``(batch, frames, 26)``
    (velocity targets then the onset mask), ``pitch_onsets`` and ``pitch_frames``
    ``(batch, frames, 88)``; with ``beats``, ``beats`` ``(batch, frames, 3)``: beat and
    downbeat targets, then the label mask (1 on real frames of pieces with beat labels, 0 on
    padding and on pieces without them); with ``stem_targets``, ``drum_stem``
    ``(batch, frames, N_SPECTRAL_BANDS + 1)``: the spectral features of the crop's drums alone
    (after the same augmentation, without noise), then the mask (1 on real frames of crops
    whose drums are known: drum-stem crops and mix crops of pieces with a stem).
    """

    def __init__(
        self,
        pieces: list[Piece],
        batch_size: int = 16,
        steps_per_epoch: int | None = None,
        seed: int = 0,
        augment_features: bool = True,
        mix_probability: float = MIX_PROBABILITY,
        remix_probability: float = REMIX_PROBABILITY,
        remix_db_range: tuple[float, float] = REMIX_DB_RANGE,
        frames: int = TRAIN_FRAMES,
        fixed_epoch: bool = False,
        beats: bool = False,
        stem_targets: bool = False,
        rest_reverb_probability: float = REST_REVERB_PROBABILITY,
        mixup_probability: float = MIXUP_PROBABILITY,
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
        self.remix_probability = remix_probability
        self.remix_db_range = tuple(remix_db_range)
        self.frames = frames
        self.fixed_epoch = fixed_epoch
        self.beats = beats
        self.stem_targets = stem_targets
        self.rest_reverb_probability = rest_reverb_probability
        self.mixup_probability = mixup_probability
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
        crops = []
        for _ in range(self.batch_size):
            crop = self._draw_crop(rng)
            if self.mixup_probability > 0 and rng.random() < self.mixup_probability:
                crop = mix_crops(crop, self._draw_crop(rng), rng.uniform(*MIXUP_DB_RANGE))
            crops.append(crop)
        x = np.stack([crop.features for crop in crops])
        y = {name: np.stack([crop.targets[name] for crop in crops]) for name in OUTPUT_SIZES}
        mask = (y["drum_onsets"] > 0).astype(np.float32)
        y["drum_velocity"] = np.concatenate([y["drum_velocity"], mask], axis=-1)
        if self.beats:
            y[BEAT_HEAD] = np.stack([crop.beats for crop in crops])
        if self.stem_targets:
            y[STEM_HEAD] = np.stack([crop.stem for crop in crops])
        return x, y

    def _draw_crop(self, rng: np.random.Generator) -> Crop:
        """One random crop of one piece, augmented, with its targets (padded to ``frames``)."""
        frames = self.frames
        piece = self.pieces[rng.choice(len(self.pieces), p=self.weights)]
        available = min(frames, piece.n_frames)
        start = int(rng.integers(0, piece.n_frames - available + 1))
        stop = start + available
        use_mix = "mix" in piece.feats and (
            "drums" not in piece.feats or rng.random() < self.mix_probability
        )
        source = "mix" if use_mix else "drums"
        feats = piece.feats[source][start:stop]
        drums = piece.feats["drums"][start:stop] if "drums" in piece.feats else None
        if self.augment_features:
            augmented = augment(
                feats, rng, drums if use_mix else None, self.remix_probability,
                self.remix_db_range, return_drum_stem=self.stem_targets,
                rest_reverb_probability=self.rest_reverb_probability,
            )
            if self.stem_targets:
                feats, drum_spectral = augmented
                drums = drum_spectral if drums is not None else None
            else:
                feats = augmented
        elif drums is not None:
            drums = drums[:, :N_SPECTRAL]
        crop = Crop(
            features=np.zeros((frames, features.N_FEATURE_BINS), dtype=np.float32),
            targets={name: np.zeros((frames, size), np.float32)
                     for name, size in OUTPUT_SIZES.items()},
            beats=np.zeros((frames, N_BEAT_OUTPUTS + 1), dtype=np.float32),
            stem=np.zeros((frames, N_SPECTRAL + 1), dtype=np.float32),
        )
        crop.features[:available] = feats
        if self.stem_targets and drums is not None:
            crop.stem[:available, :N_SPECTRAL] = drums
            crop.stem[:available, N_SPECTRAL] = 1.0
        for name in OUTPUT_SIZES:
            if use_mix or name not in PITCHED_HEADS:  # a drum stem has no pitched notes
                crop.targets[name][:available] = piece.targets[name][start:stop]
        if self.beats and piece.has_beats:
            crop.beats[:available, :N_BEAT_OUTPUTS] = piece.targets[BEAT_HEAD][start:stop]
            crop.beats[:available, N_BEAT_OUTPUTS] = 1.0
        return crop
