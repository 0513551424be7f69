"""The network: a small convolutional front end and a bidirectional LSTM trunk with four heads.

The front end is two temporal convolutions over the whole feature vector, optionally plus a
branch of 2-D convolutions over (frames, bands) (:func:`spectral_branch`) added to their output.

Input: features ``(batch, frames, n_bins)`` from :func:`drumtx.features.compute_features`.
Outputs (a dict, all sigmoid, all ``(batch, frames, k)``):

- ``drum_onsets`` (13): probability that a hit of each class starts at this frame;
- ``drum_velocity`` (13): velocity / 127 of that hit (meaningful only at onsets);
- ``pitch_onsets`` (88): a pitched note starts (MIDI 21-108);
- ``pitch_frames`` (88): a pitched note sounds;
- ``beats`` (2, optional, see :data:`BEAT_HEAD`): column 0 a beat (any beat, downbeats
  included) is at this frame, column 1 a downbeat (the first beat of a bar) is.

The pitched heads may have their own BiLSTM (:func:`pitch_branch`) over the features and the
trunk's output; they then read the trunk's output and the branch's side by side.

While training, a network may also have the linear ``drum_stem`` head (:data:`STEM_HEAD`,
``N_SPECTRAL_BANDS`` wide): the drum stem's spectral features, estimated from the trunk, so
that on mix crops the trunk learns to separate the drums. :func:`save_model` leaves it out.

Models trained before the beat head existed have no ``beats`` output; everything that uses
the model checks for it (:func:`has_beat_head`) and falls back to tracking beats otherwise.
The model is pure Keras 3 (no backend-specific code), so it loads under any backend.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from drumtx import features
from drumtx.errors import ModelLoadError
from drumtx.runtime import (  # noqa: F401 - model files are named in the runtime, re-exported
    DEFAULT_MODEL_DIR,
    MODEL_CARD_FILE,
    MODEL_FILE,
    PEAK_PICKING_FILE,
    existing_model_path,
    file_sha256,
    first_line,
    model_hash,
    model_path,
)
from drumtx.vocab import (  # noqa: F401 - named here for callers
    BEAT_HEAD,
    HEADS,
    N_BEAT_OUTPUTS,
    STEM_HEAD,
)

FRONT_FILTERS = 128
"""Channels of the temporal convolution in front of the LSTMs."""
FRONT_KERNEL_FRAMES = 3
LSTM_UNITS = 96
"""Units per direction in each bidirectional LSTM layer."""
LSTM_LAYERS = 2
DROPOUT = 0.1
SPECTRAL_FILTERS = 0
"""Channels of the first block of the optional 2-D (time x frequency) convolution branch;
0: no branch (the architecture of the models trained before it existed)."""
SPECTRAL_KERNEL = (3, 3)
"""(frames, bands) of each 2-D convolution kernel."""
SPECTRAL_POOL_BANDS = 3
"""Bands merged by the max pooling after each 2-D block."""
PITCH_BRANCH_UNITS = 0
"""Units per direction of the optional pitched branch (:func:`pitch_branch`); 0: no branch,
the pitched heads read the trunk like the drum heads (models trained before it existed)."""
PITCH_LAYER_PREFIX = "pitch_"
"""Names of the pitched branch's and the pitched heads' layers start with this."""



def build_model(
    n_bins: int = features.N_FEATURE_BINS,
    lstm_units: int = LSTM_UNITS,
    lstm_layers: int = LSTM_LAYERS,
    front_filters: int = FRONT_FILTERS,
    dropout: float = DROPOUT,
    beat_head: bool = False,
    spectral_filters: int = SPECTRAL_FILTERS,
    stem_head: bool = False,
    pitch_branch_units: int = PITCH_BRANCH_UNITS,
) -> keras.Model:
    """Build the (uncompiled) transcription network.

    Parameters
    ----------
    n_bins : int
        Feature bins per frame.
    lstm_units : int
        Units per direction of each bidirectional LSTM.
    lstm_layers : int
        Number of stacked bidirectional LSTMs.
    front_filters : int
        Channels of the two temporal convolutions of the front end.
    dropout : float
        Dropout rate between layers (training only).
    beat_head : bool
        Add the ``beats`` output (:data:`BEAT_HEAD`, :data:`N_BEAT_OUTPUTS` units). Off by
        default, so that code written for the four-head network (and checkpoints it saved)
        keeps working; training turns it on when the data has beat labels.
    spectral_filters : int
        Width of the 2-D convolution branch (:func:`spectral_branch`); 0 leaves it out.
    stem_head : bool
        Add the training-only ``drum_stem`` output (:data:`STEM_HEAD`, linear,
        ``N_SPECTRAL_BANDS`` wide).
    pitch_branch_units : int
        Give the pitched heads their own BiLSTM of this many units per direction
        (:func:`pitch_branch`); the heads then read the trunk's output followed by the
        branch's. 0: they read the trunk alone.

    Returns
    -------
    keras.Model
        Input ``(batch, frames, n_bins)``; outputs a dict of :data:`HEADS` (and ``beats``),
        each ``(batch, frames, k)`` in [0, 1]. Any number of frames is accepted.
    """
    inputs = keras.Input(shape=(None, n_bins), name="features")
    normalised = keras.layers.BatchNormalization(name="input_norm")(inputs)
    x = keras.layers.Conv1D(
        front_filters, FRONT_KERNEL_FRAMES, padding="same", activation="relu", name="front_conv1"
    )(normalised)
    x = keras.layers.Conv1D(
        front_filters, FRONT_KERNEL_FRAMES, padding="same", activation="relu", name="front_conv2"
    )(x)
    if spectral_filters:
        spectral = spectral_branch(normalised, spectral_filters, front_filters)
        x = keras.layers.Add(name="front_sum")([x, spectral])
    x = keras.layers.Dropout(dropout, name="front_dropout")(x)
    for layer in range(lstm_layers):
        x = keras.layers.Bidirectional(
            keras.layers.LSTM(lstm_units, return_sequences=True), name=f"bilstm{layer + 1}"
        )(x)
        x = keras.layers.Dropout(dropout, name=f"bilstm{layer + 1}_dropout")(x)
    pitched = x
    if pitch_branch_units:
        branch = pitch_branch(normalised, x, pitch_branch_units, dropout)
        pitched = keras.layers.Concatenate(name=f"{PITCH_LAYER_PREFIX}features")([x, branch])
    outputs = {
        name: keras.layers.Dense(size, activation="sigmoid", name=name)(
            pitched if name.startswith(PITCH_LAYER_PREFIX) else x
        )
        for name, size in HEADS.items()
    }
    if beat_head:
        outputs[BEAT_HEAD] = keras.layers.Dense(
            N_BEAT_OUTPUTS, activation="sigmoid", name=BEAT_HEAD
        )(x)
    if stem_head:
        outputs[STEM_HEAD] = keras.layers.Dense(features.N_SPECTRAL_BANDS, name=STEM_HEAD)(x)
    return keras.Model(inputs, outputs, name="drumtx")


def spectral_branch(normalised, filters: int, out_channels: int):
    """The 2-D convolution branch: local time x frequency patterns of the spectrogram.

    The feature vector (bands, then their flux) is viewed as an image of
    ``(frames, N_SPECTRAL_BANDS, 2)``; two blocks of two ``SPECTRAL_KERNEL`` convolutions
    (``filters``, then ``2 * filters`` channels, ReLU) each end in a max pooling over
    ``SPECTRAL_POOL_BANDS`` bands; the pooled maps are flattened per frame and projected to
    ``out_channels`` by ``spectral_projection``, whose kernel starts at zero, so a model
    warm-started from one without the branch computes exactly what it did.

    Parameters
    ----------
    normalised : KerasTensor, shape (batch, frames, N_FEATURE_BINS)
    filters : int
    out_channels : int

    Returns
    -------
    KerasTensor, shape (batch, frames, out_channels)
    """
    bands = features.N_SPECTRAL_BANDS
    x = keras.layers.Reshape((-1, 2, bands), name="spectral_split")(normalised)
    x = keras.layers.Permute((1, 3, 2), name="spectral_image")(x)
    for block, width in enumerate((filters, 2 * filters), start=1):
        for conv in (1, 2):
            x = keras.layers.Conv2D(
                width, SPECTRAL_KERNEL, padding="same", activation="relu",
                name=f"spectral_conv{block}{conv}",
            )(x)
        x = keras.layers.MaxPooling2D((1, SPECTRAL_POOL_BANDS), name=f"spectral_pool{block}")(x)
        bands //= SPECTRAL_POOL_BANDS
    x = keras.layers.Reshape((-1, bands * 2 * filters), name="spectral_flat")(x)
    return keras.layers.Dense(
        out_channels, kernel_initializer="zeros", name="spectral_projection"
    )(x)


def pitch_branch(normalised, trunk, units: int, dropout: float = DROPOUT):
    """The pitched branch: a BiLSTM over the normalised features and the trunk's output.

    The drum trunk is sized and trained for drums; the pitched heads get their own recurrent
    layer, which sees the spectrum itself (for the harmonics that tell pitches apart) and
    what the trunk found (onsets, the drums to ignore). Its layers are named with
    :data:`PITCH_LAYER_PREFIX`, so they can be trained alone (``drumtx train --pitched-only``).

    Parameters
    ----------
    normalised : KerasTensor, shape (batch, frames, N_FEATURE_BINS)
    trunk : KerasTensor, shape (batch, frames, 2 * lstm_units)
    units : int
        Units per direction.
    dropout : float

    Returns
    -------
    KerasTensor, shape (batch, frames, 2 * units)
    """
    x = keras.layers.Concatenate(name=f"{PITCH_LAYER_PREFIX}branch_input")([normalised, trunk])
    x = keras.layers.Bidirectional(
        keras.layers.LSTM(units, return_sequences=True), name=f"{PITCH_LAYER_PREFIX}bilstm"
    )(x)
    return keras.layers.Dropout(dropout, name=f"{PITCH_LAYER_PREFIX}bilstm_dropout")(x)


def is_pitched_layer(layer: keras.layers.Layer) -> bool:
    """Whether a layer belongs to the pitched branch or is a pitched head."""
    return layer.name.startswith(PITCH_LAYER_PREFIX)


def inference_network(network: keras.Model) -> keras.Model:
    """``network`` without its training-only outputs (:data:`STEM_HEAD`); itself if it has none.

    The result shares the layers (and so the weights) of ``network``.
    """
    if STEM_HEAD not in network.output_names:
        return network
    outputs = {
        name: network.get_layer(name).output for name in network.output_names if name != STEM_HEAD
    }
    return keras.Model(network.input, outputs, name=network.name)


def has_beat_head(network: keras.Model) -> bool:
    """Whether a model has the ``beats`` output (models trained before it existed do not)."""
    return BEAT_HEAD in network.output_names


def copy_matching_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Warm start: copy the weights of every layer of ``source`` into the same-named layer.

    Layers whose name or weight shapes differ (e.g. a head ``source`` does not have) keep
    their initial weights, except a Dense layer whose input grew at its end
    (:func:`_widened_dense`).

    Returns
    -------
    list of str
        Names of the ``target`` layers that were *not* copied.
    """
    skipped = []
    for layer in target.layers:
        try:
            donor = source.get_layer(layer.name)
        except ValueError:
            donor = None
        weights = donor.get_weights() if donor is not None else None
        if not layer.weights:
            continue
        shapes = [tuple(w.shape) for w in layer.weights]
        if weights is not None and [w.shape for w in weights] != shapes:
            weights = _widened_dense(layer, weights, shapes)
        if weights is None:
            skipped.append(layer.name)
            continue
        layer.set_weights(weights)
    return skipped


def _widened_dense(layer, weights: list, shapes: list[tuple]) -> list | None:
    """A donor Dense layer's weights for a target whose input grew at its end, else None.

    The donor's kernel fills the first rows; the new inputs' rows start at zero, so the layer
    computes what the donor's did until they are trained (a pitched head that gains the
    pitched branch's output beside the trunk's).
    """
    if not isinstance(layer, keras.layers.Dense) or len(weights) != 2:
        return None
    (kernel, bias), (kernel_shape, bias_shape) = weights, shapes
    if bias.shape != bias_shape or kernel.shape[1] != kernel_shape[1]:
        return None
    if kernel.shape[0] >= kernel_shape[0]:
        return None
    widened = np.zeros(kernel_shape, dtype=kernel.dtype)
    widened[: kernel.shape[0]] = kernel
    return [widened, bias]


def load_model(model_dir: str | os.PathLike | None = None) -> keras.Model:
    """Load a trained model for inference (not compiled).

    Parameters
    ----------
    model_dir : path-like, optional
        Folder holding ``model.keras``; default: the bundled :data:`DEFAULT_MODEL_DIR`.

    Raises
    ------
    ModelLoadError
        The folder or ``model.keras`` is missing or unreadable.
    """
    path = existing_model_path(model_dir)
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - any failure is reported as one line
        raise ModelLoadError(f"cannot load model {path}: {first_line(error)}") from error


def save_model(model: keras.Model, model_dir: str | os.PathLike) -> Path:
    """Save the weights of ``model`` as a fresh, uncompiled ``model.keras`` (no optimizer state).

    Training-only outputs are left out (:func:`inference_network`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = model_path(model_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = inference_network(model)
    clean = keras.Model.from_config(model.get_config())  # uncompiled: no optimizer state
    clean.set_weights(model.get_weights())
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.keras")
    clean.save(temporary)
    os.replace(temporary, path)
    return path
