"""Training: ``drumtx train --data DIR --out MODEL_DIR``.

Losses
------
- ``drum_onsets``: binary cross-entropy with positives (target > 0) weighted by
  :data:`ONSET_POSITIVE_WEIGHT`, because onsets are sparse (about 1 frame in 50 per class).
- ``drum_velocity``: binary cross-entropy counted only at onset frames (the target tensor
  carries the mask in its second half, see :class:`drumtx.windows.TrainingWindows`).
- ``pitch_onsets`` / ``pitch_frames``: weighted binary cross-entropy, as for drum onsets.
- ``beats`` (models with the beat head): weighted binary cross-entropy on ``[beat, downbeat]``
  (positives weighted by :data:`BEAT_POSITIVE_WEIGHT`), counted only on frames of pieces with
  beat labels (the target's third column is that mask), with the modest weight
  :data:`LOSS_WEIGHTS` ``["beats"]``.
- ``drum_stem`` (only with ``--stem-loss-weight W > 0``, a training-only head): mean absolute
  error between the estimated and the true spectral features of the crop's drums alone, where
  they are known (the target's last column is that mask), weighted by ``W``. On mix crops this
  asks the trunk to separate the drums from the rest; saved models leave the head out.

Warm start: ``--init-from MODEL_DIR`` copies every layer of a trained model whose name and
shapes match (:func:`drumtx.model.copy_matching_weights`) into the new network before the first
epoch, e.g. a model without the beat head into one with it.

Output folder
-------------
``MODEL_DIR/model.keras``
    The best model so far (by validation drum F when available, else validation loss),
    saved without optimizer state.
``MODEL_DIR/checkpoints/``
    ``backup/`` (the last epoch's full state, used to resume), ``last.keras``,
    ``state.json`` (best score and epoch).
``MODEL_DIR/training_log.csv``
    One row per epoch (losses, learning rate, validation F).
``MODEL_DIR/training_runs.csv``
    One row per start (the first and every resume): UTC time, first epoch, the data's
    ``manifest.csv`` SHA-256 and piece counts, seed, learning rate, mix re-balancing and
    architecture, so that every epoch of the log can be traced to the data it saw.
``MODEL_DIR/checkpoints/worker<i>/``
    Only with ``--strategy multiworker``: the same files for each worker but the chief (worker
    0, or the ``chief`` task if ``TF_CONFIG`` names one), which writes those above. ``--batch``
    and ``--steps-per-epoch`` count global batches, split over the workers.

Running the same command again resumes from the last completed epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up logs

import keras  # noqa: E402
import numpy as np
import pandas as pd
from keras import ops

from drumtx import features, vocab, windows
from drumtx import model as model_module
from drumtx.cli import EXIT_USAGE, probability
from drumtx.export import atomic_output
from drumtx.runtime import file_sha256

ONSET_POSITIVE_WEIGHT = 5.0
PITCH_POSITIVE_WEIGHT = 3.0
LOSS_WEIGHTS: dict[str, float] = {
    "drum_onsets": 1.0,
    "drum_velocity": 0.3,
    "pitch_onsets": 0.25,
    "pitch_frames": 0.25,
    "beats": 0.5,
}
BEAT_POSITIVE_WEIGHT = 5.0
STEM_LOSS_WEIGHT = 0.0
"""Default weight of the ``drum_stem`` loss; 0: the network has no stem head."""
BEAT_MATCH_WINDOW_S = 0.07
"""Beat matching tolerance for the validation beat F (seconds, the usual 70 ms)."""
LEARNING_RATE = 1e-3
FINAL_LEARNING_RATE_FRACTION = 0.05
"""Cosine decay ends at this fraction of :data:`LEARNING_RATE`."""
CLIP_NORM = 1.0
EARLY_STOPPING_PATIENCE = 8
DEFAULT_EPOCHS = 30
DEFAULT_BATCH = 16
DEFAULT_SEED = 1234
VALIDATION_SEGMENTS = 64
"""Validation-loss windows per epoch (fixed crops)."""
MATCH_WINDOW_S = 0.05
"""Onset matching tolerance for the validation F callback (seconds)."""

CHECKPOINT_DIR = "checkpoints"
LOG_FILE = "training_log.csv"
RUNS_FILE = "training_runs.csv"
STATE_FILE = "state.json"


def _bce(y_true, y_pred, positive_weight: float):
    """Element-wise binary cross-entropy with positives weighted, shape as inputs."""
    y_pred = ops.clip(y_pred, keras.config.epsilon(), 1.0 - keras.config.epsilon())
    weight = 1.0 + (positive_weight - 1.0) * ops.cast(y_true > 0, y_pred.dtype)
    loss = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
    return weight * loss


@keras.saving.register_keras_serializable(package="drumtx")
def onset_loss(y_true, y_pred):
    """Positive-weighted BCE for sparse drum onsets, mean over classes -> (batch, frames)."""
    return ops.mean(_bce(y_true, y_pred, ONSET_POSITIVE_WEIGHT), axis=-1)


@keras.saving.register_keras_serializable(package="drumtx")
def pitch_loss(y_true, y_pred):
    """Positive-weighted BCE for pitched onsets/frames, mean over keys -> (batch, frames)."""
    return ops.mean(_bce(y_true, y_pred, PITCH_POSITIVE_WEIGHT), axis=-1)


@keras.saving.register_keras_serializable(package="drumtx")
def masked_velocity_loss(y_true, y_pred):
    """BCE on velocities only where a hit is; ``y_true`` is ``[velocity, mask]`` (2 x 13).

    Returns shape (batch, frames): the masked sum over classes divided by the number of
    masked entries in the batch-frame (so frames without hits contribute zero).
    """
    n_classes = vocab.N_DRUM_CLASSES
    target = y_true[..., :n_classes]
    mask = y_true[..., n_classes:]
    loss = _bce(target, y_pred, 1.0) * mask
    return ops.sum(loss, axis=-1) / ops.maximum(ops.mean(ops.sum(mask, axis=-1)), 1.0)


@keras.saving.register_keras_serializable(package="drumtx")
def beat_loss(y_true, y_pred):
    """Positive-weighted BCE on ``[beat, downbeat]`` where beats are labelled.

    ``y_true`` is ``(batch, frames, 3)``: beat and downbeat targets, then the label mask.
    Returns shape (batch, frames): the mean over the two columns times the mask, divided by
    the batch's labelled share of frames (so the loss per labelled frame does not depend on
    how many crops of the batch have labels; all zero when none has).
    """
    n_outputs = model_module.N_BEAT_OUTPUTS
    mask = y_true[..., n_outputs]
    loss = ops.mean(_bce(y_true[..., :n_outputs], y_pred, BEAT_POSITIVE_WEIGHT), axis=-1)
    return loss * mask / ops.maximum(ops.mean(mask), keras.config.epsilon())


@keras.saving.register_keras_serializable(package="drumtx")
def stem_loss(y_true, y_pred):
    """Mean absolute error of the drum-stem features where the stem is known.

    ``y_true`` is ``(batch, frames, N_SPECTRAL_BANDS + 1)``: the drums' spectral features, then
    the mask. Returns shape (batch, frames): the mean over bands times the mask, divided by the
    batch's masked share of frames (all zero when no crop has a known stem).
    """
    n_bands = features.N_SPECTRAL_BANDS
    mask = y_true[..., n_bands]
    loss = ops.mean(ops.abs(y_true[..., :n_bands] - y_pred), axis=-1)
    return loss * mask / ops.maximum(ops.mean(mask), keras.config.epsilon())


LOSSES = {
    "drum_onsets": onset_loss,
    "drum_velocity": masked_velocity_loss,
    "pitch_onsets": pitch_loss,
    "pitch_frames": pitch_loss,
    "beats": beat_loss,
    model_module.STEM_HEAD: stem_loss,
}


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend."""
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def compile_model(
    model: keras.Model,
    total_steps: int,
    learning_rate: float = LEARNING_RATE,
    stem_loss_weight: float = STEM_LOSS_WEIGHT,
    loss_weights: dict[str, float] | None = None,
) -> None:
    """Compile with Adam on a cosine-decay schedule, the losses and :data:`LOSS_WEIGHTS`.

    Only the losses of the model's own outputs are used (a model without the beat head has no
    ``beats`` loss); the ``drum_stem`` loss, when the model has that head, is weighted by
    ``stem_loss_weight``; ``loss_weights`` replaces some of :data:`LOSS_WEIGHTS`.
    """
    names = set(model.output_names)
    weights = {**LOSS_WEIGHTS, **(loss_weights or {}), model_module.STEM_HEAD: stem_loss_weight}
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=max(1, total_steps), alpha=FINAL_LEARNING_RATE_FRACTION
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, clipnorm=CLIP_NORM),
        loss={name: loss for name, loss in LOSSES.items() if name in names},
        loss_weights={name: weight for name, weight in weights.items() if name in names},
        jit_compile=False,
    )


def make_strategy(name: str):
    """A ``tf.distribute`` strategy (TensorFlow backend only) or ``None`` for the default."""
    if name == "default":
        return None
    if keras.backend.backend() != "tensorflow":
        raise SystemExit(f"--strategy {name} needs the TensorFlow backend")
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return _multi_worker_strategy()
    raise SystemExit(f"unknown strategy {name!r}")


def _multi_worker_strategy():
    """``tf.distribute.MultiWorkerMirroredStrategy`` (cluster from ``TF_CONFIG``) for Keras 3.

    Keras 3 calls ``strategy.reduce`` on whole batches (nested structures) when ``fit`` starts
    and with ``axis=0`` on scalar losses; with more than one worker TensorFlow rejects both
    (keras-team/keras#20329, tensorflow/tensorflow#72388). This subclass reduces each leaf
    separately and drops ``axis`` for scalars; everything else is TensorFlow's.

    Returns
    -------
    tf.distribute.MultiWorkerMirroredStrategy
        Must be created before any other TensorFlow operation of the process.
    """
    import tensorflow as tf

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis=None):
            base = super()

            def reduce_leaf(leaf):
                rank = self.experimental_local_results(leaf)[0].shape.rank
                return base.reduce(reduce_op, leaf, None if rank == 0 else axis)

            return tf.nest.map_structure(reduce_leaf, value)

    return KerasMultiWorkerStrategy()


def worker_output_dir(model_dir: str | os.PathLike, distribute=None) -> Path:
    """The folder this process writes its model, log and checkpoints to.

    The chief (worker 0 of a multi-worker cluster, or the only process) writes ``model_dir``;
    another worker writes the same layout to ``model_dir/checkpoints/<task type><index>``,
    a folder of its own that is kept so that a restarted cluster resumes on every worker.

    Parameters
    ----------
    model_dir : path-like
    distribute : tf.distribute.Strategy, optional
        From :func:`make_strategy`; ``None`` for the default (single-process) training.

    Returns
    -------
    pathlib.Path
    """
    model_dir = Path(model_dir)
    resolver = getattr(distribute, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is None or task_type == "chief":
        return model_dir
    task_id = int(resolver.task_id or 0)
    if task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().jobs:
        return model_dir
    return model_dir / CHECKPOINT_DIR / f"{task_type}{task_id}"


def drum_f_measure(model: keras.Model, pieces: list[windows.Piece], params=None) -> float:
    """Micro-averaged 13-class drum onset F of ``model`` on whole pieces (all sources).

    Uses :func:`drumtx.decode.pick_drum_hits` with ``params`` (defaults when ``None``) and
    :data:`MATCH_WINDOW_S` matching.
    """
    from drumtx import decode, evaluate

    counts = evaluate.Counts()
    for piece in pieces:
        reference = evaluate.hits_from_targets(piece.targets["drum_onsets"])
        for source in piece.feats:
            activations = windows.predict_activations(model, piece.feats[source].astype(np.float32))
            estimate = decode.pick_drum_hits(activations, params)
            table = evaluate.score_hits(reference, estimate, classes=13)
            counts = counts + evaluate.Counts.from_table(table)
    return counts.f_measure


def beat_f_measure(model: keras.Model, pieces: list[windows.Piece], source: str = "mix"
                   ) -> tuple[float, float]:
    """Beat and downbeat F of the beat head on whole pieces with beat labels.

    Beats are decoded with :func:`drumtx.rhythm.beats_from_beat_activations` and matched to
    the labelled beats within :data:`BEAT_MATCH_WINDOW_S`.

    Returns
    -------
    beat_f, downbeat_f : float
        Micro-averaged over ``source`` (the mix by default) of every labelled piece; NaN when
        no piece has beat labels or the model has no beat head.
    """
    from drumtx import rhythm

    if not model_module.has_beat_head(model):
        return float("nan"), float("nan")
    totals = np.zeros((2, 3))  # (beats, downbeats) x (matched, estimated, reference)
    for piece in pieces:
        feats = piece.feats.get(source)
        if not piece.has_beats or feats is None:
            continue
        activations = windows.predict_activations(model, feats.astype(np.float32))
        estimate, _, _ = rhythm.beats_from_beat_activations(activations[windows.BEAT_HEAD])
        target = piece.targets[windows.BEAT_HEAD].astype(np.float32)
        for row, column in enumerate(range(model_module.N_BEAT_OUTPUTS)):
            reference = np.flatnonzero(target[:, column] == 1.0) / features.FRAMES_PER_SECOND
            times = estimate["time_s"].to_numpy(dtype=float)
            if column == 1:
                times = times[estimate["position"].to_numpy() == 1]
            totals[row] += [_matched(reference, times, BEAT_MATCH_WINDOW_S), len(times),
                            len(reference)]
    scores = []
    for matched, estimated, reference in totals:
        total = estimated + reference
        scores.append(2 * matched / total if total else float("nan"))
    return scores[0], scores[1]


def _matched(reference: np.ndarray, estimate: np.ndarray, window_s: float) -> int:
    """Greedy one-to-one matches of sorted times within ``window_s``."""
    count, i, j = 0, 0, 0
    while i < len(reference) and j < len(estimate):
        if abs(reference[i] - estimate[j]) <= window_s:
            count, i, j = count + 1, i + 1, j + 1
        elif reference[i] < estimate[j]:
            i += 1
        else:
            j += 1
    return count


class ValidationF(keras.callbacks.Callback):
    """Adds ``val_f`` (13-class drum F on validation pieces, default peak picking) to the logs.

    With a beat head and labelled pieces also ``val_beat_f`` and ``val_downbeat_f``
    (:func:`beat_f_measure`).
    """

    def __init__(self, pieces: list[windows.Piece]):
        super().__init__()
        self.pieces = pieces

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.pieces:
            logs["val_f"] = drum_f_measure(self.model, self.pieces)
            if model_module.has_beat_head(self.model) and any(p.has_beats for p in self.pieces):
                logs["val_beat_f"], logs["val_downbeat_f"] = beat_f_measure(
                    self.model, self.pieces
                )


class SaveBest(keras.callbacks.Callback):
    """Keep the best model (clean, uncompiled) in ``model_dir`` and the last one in checkpoints.

    The best score survives restarts through ``checkpoints/state.json``.
    """

    def __init__(self, model_dir: Path, monitor: str, mode: str):
        super().__init__()
        self.model_dir = model_dir
        self.monitor = monitor
        self.mode = mode
        self.state_path = model_dir / CHECKPOINT_DIR / STATE_FILE
        self.state = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}

    def _better(self, value: float) -> bool:
        best = self.state.get("best")
        if best is None:
            return True
        return value > best if self.mode == "max" else value < best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        model_module.save_model(self.model, self.model_dir / CHECKPOINT_DIR / "last")
        if value is not None and self._better(float(value)):
            model_module.save_model(self.model, self.model_dir)
            self.state.update(best=float(value), best_epoch=epoch + 1, monitor=self.monitor)
            print(f"epoch {epoch + 1}: {self.monitor} improved to {float(value):.4f}; saved model")
        self.state["last_epoch"] = epoch + 1
        self.state_path.write_text(json.dumps(self.state, indent=2) + "\n")


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_s`` (wall seconds of the epoch incl. validation) and ``lr`` to the logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_s"] = time.perf_counter() - self.start
            schedule = self.model.optimizer.learning_rate
            logs["lr"] = float(ops.convert_to_numpy(schedule))


def record_run(
    model_dir: Path,
    data_dir: str | os.PathLike,
    first_epoch: int,
    n_train: int,
    n_val: int,
    **settings,
) -> None:
    """Append one row to ``model_dir/training_runs.csv`` (see the module docstring)."""
    row = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "first_epoch": first_epoch + 1,
        "manifest_sha256": file_sha256(Path(data_dir) / "manifest.csv"),
        "train_pieces": n_train,
        "val_pieces": n_val,
        **{key: "" if value is None else value for key, value in settings.items()},
    }
    path = model_dir / RUNS_FILE
    runs = pd.DataFrame([row])
    if path.exists():  # earlier rows may lack columns added since: align by name
        runs = pd.concat([pd.read_csv(path, keep_default_na=False), runs], ignore_index=True)
    runs.to_csv(path, index=False)


def fit(
    data_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH,
    steps_per_epoch: int | None = None,
    seed: int = DEFAULT_SEED,
    strategy: str = "default",
    learning_rate: float = LEARNING_RATE,
    lstm_units: int = model_module.LSTM_UNITS,
    lstm_layers: int = model_module.LSTM_LAYERS,
    front_filters: int = model_module.FRONT_FILTERS,
    spectral_filters: int = model_module.SPECTRAL_FILTERS,
    frames: int = windows.TRAIN_FRAMES,
    augment: bool = True,
    validation_split: str = "val",
    max_pieces: int | None = None,
    tensorboard: bool = False,
    patience: int = EARLY_STOPPING_PATIENCE,
    beat_head: bool | None = None,
    init_from: str | os.PathLike | None = None,
    remix_probability: float = windows.REMIX_PROBABILITY,
    remix_db_range: tuple[float, float] = windows.REMIX_DB_RANGE,
    stem_loss_weight: float = STEM_LOSS_WEIGHT,
    rest_reverb_probability: float = windows.REST_REVERB_PROBABILITY,
    loss_weights: dict[str, float] | None = None,
    mixup_probability: float = windows.MIXUP_PROBABILITY,
    pitch_branch_units: int = model_module.PITCH_BRANCH_UNITS,
    pitched_only: bool = False,
) -> keras.callbacks.History:
    """Train (or resume training) a model on a factory data folder.

    Parameters
    ----------
    data_dir : path-like
        Folder with ``manifest.csv``, ``audio/`` and ``labels/`` (splits ``train`` and
        ``validation_split``).
    model_dir : path-like
        Output folder (see the module docstring); training resumes if it holds a backup.
    epochs : int
        Total epochs (including those already done when resuming).
    batch_size : int
        Crops per batch.
    steps_per_epoch : int, optional
        Batches per epoch; default: about two passes over the training frames.
    seed : int
    strategy : {"default", "mirrored", "multiworker"}
    learning_rate : float
        Initial Adam learning rate (cosine decay over all epochs).
    lstm_units : int
        Units per direction of the BiLSTMs.
    lstm_layers : int
        Number of stacked BiLSTMs (with ``init_from``, layers the donor lacks start afresh).
    front_filters : int
        Channels of the convolutional front end.
    spectral_filters : int
        Width of the 2-D convolution branch (:func:`drumtx.model.spectral_branch`); 0: none.
    frames : int
        Training crop length in frames.
    augment : bool
        Feature-domain augmentation of training crops.
    validation_split : str
        Manifest split used for validation loss, validation F and early stopping.
    max_pieces : int, optional
        Use at most this many pieces per split (quick experiments).
    tensorboard : bool
        Also write TensorBoard logs to ``model_dir/tensorboard``.
    patience : int
        Early-stopping patience in epochs.
    beat_head : bool, optional
        Give the model the ``beats`` head; default: when any training piece has beat labels.
    init_from : path-like, optional
        Model folder to warm-start from (matching layers are copied; ignored when resuming).
    remix_probability : float
        Probability of re-balancing a mix crop's drums against the rest.
    remix_db_range : (float, float)
        Level change (dB) of the rest when re-balancing (positive: quieter drums).
    stem_loss_weight : float
        Weight of the auxiliary drum-stem loss; above 0 the network is trained with the
        ``drum_stem`` head (left out of the saved model).
    rest_reverb_probability : float
        Probability of smearing a mix crop's non-drum part with a reverberant tail
        (:func:`drumtx.windows.reverberate_power`).
    loss_weights : dict of str to float, optional
        Weights replacing those of :data:`LOSS_WEIGHTS` (e.g. ``{"pitch_onsets": 1.0}``).
    mixup_probability : float
        Probability of a training crop being the sum of two crops with the union of their
        notes (:func:`drumtx.windows.mix_crops`).
    pitch_branch_units : int
        Units per direction of the pitched heads' own BiLSTM (:func:`drumtx.model.pitch_branch`);
        0: the pitched heads read the trunk.
    pitched_only : bool
        Train only the pitched branch and heads (:func:`drumtx.model.is_pitched_layer`); every
        other layer keeps the weights of ``init_from``, so the drum and beat outputs do not
        change. Model selection and early stopping then follow the validation loss, and the
        donor's ``peak_picking.json`` is copied (``drumtx tune --notes-only`` then tunes the
        note thresholds alone).

    Returns
    -------
    keras.callbacks.History
    """
    if pitched_only and init_from is None:
        raise ValueError("pitched_only needs init_from: the layers it keeps come from there")
    distribute = make_strategy(strategy)  # first: a multi-worker strategy precedes any TF op
    set_seeds(seed)
    model_dir = worker_output_dir(model_dir, distribute)
    (model_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train_pieces = windows.load_split(data_dir, "train", max_pieces)
    val_pieces = windows.load_split(data_dir, validation_split, max_pieces)
    print(
        f"loaded {len(train_pieces)} train / {len(val_pieces)} {validation_split} pieces "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    if beat_head is None:
        beat_head = any(piece.has_beats for piece in train_pieces)
    train_data = windows.TrainingWindows(
        train_pieces,
        batch_size,
        steps_per_epoch,
        seed=seed,
        augment_features=augment,
        remix_probability=remix_probability,
        remix_db_range=remix_db_range,
        frames=frames,
        beats=beat_head,
        stem_targets=stem_loss_weight > 0,
        rest_reverb_probability=rest_reverb_probability,
        mixup_probability=mixup_probability,
    )
    state_path = model_dir / CHECKPOINT_DIR / STATE_FILE
    if state_path.exists():  # resuming: draw new crops, not those of the first epochs again
        train_data.epoch = int(json.loads(state_path.read_text()).get("last_epoch", 0))
    callbacks: list[keras.callbacks.Callback] = [EpochTimer()]
    validation_data = None
    monitor, mode = "loss", "min"
    if val_pieces:
        validation_data = windows.TrainingWindows(
            val_pieces,
            batch_size,
            max(1, VALIDATION_SEGMENTS // batch_size),
            seed=seed + 1,
            augment_features=False,
            frames=windows.SEGMENT_FRAMES,
            fixed_epoch=True,
            beats=beat_head,
            stem_targets=stem_loss_weight > 0,
        )
        if pitched_only:  # the drums do not change: select on the (pitched) validation loss
            monitor = "val_loss"
        else:
            callbacks.append(ValidationF(val_pieces))
            monitor, mode = "val_f", "max"
    callbacks += [
        SaveBest(model_dir, monitor, mode),
        keras.callbacks.BackupAndRestore(
            str(model_dir / CHECKPOINT_DIR / "backup"), delete_checkpoint=False
        ),
        keras.callbacks.CSVLogger(str(model_dir / LOG_FILE), append=True),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience),
    ]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(model_dir / "tensorboard")))

    total_steps = epochs * len(train_data)
    architecture = dict(
        lstm_units=lstm_units,
        lstm_layers=lstm_layers,
        front_filters=front_filters,
        spectral_filters=spectral_filters,
        beat_head=beat_head,
        pitch_branch_units=pitch_branch_units,
    )
    resuming = state_path.exists()  # a resumed run restores its own weights

    def build_and_compile() -> keras.Model:
        network = model_module.build_model(**architecture, stem_head=stem_loss_weight > 0)
        if init_from is not None and not resuming:
            skipped = model_module.copy_matching_weights(
                model_module.load_model(init_from), network
            )
            print(f"warm start from {init_from}; new layers: {', '.join(skipped) or 'none'}",
                  flush=True)
        if pitched_only:
            for layer in network.layers:
                layer.trainable = model_module.is_pitched_layer(layer)
        compile_model(network, total_steps, learning_rate, stem_loss_weight, loss_weights)
        return network

    if distribute is not None:
        with distribute.scope():
            network = build_and_compile()
    else:
        network = build_and_compile()
    record_run(model_dir, data_dir, train_data.epoch, len(train_pieces), len(val_pieces),
               seed=seed, learning_rate=learning_rate, init_from=init_from,
               remix_probability=remix_probability,
               remix_db=" ".join(f"{value:g}" for value in remix_db_range),
               stem_loss_weight=stem_loss_weight,
               rest_reverb_probability=rest_reverb_probability,
               mixup_probability=mixup_probability, pitched_only=pitched_only,
               loss_weights=" ".join(f"{k}={v:g}" for k, v in sorted((loss_weights or {}).items())),
               **architecture)
    history = network.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=2,
    )
    if not model_module.model_path(model_dir).exists():
        model_module.save_model(network, model_dir)
    if pitched_only:  # the drum outputs are the donor's: so is their peak picking
        keep_peak_picking(init_from, model_dir)
    return history


def keep_peak_picking(donor_dir: str | os.PathLike, model_dir: Path) -> None:
    """Copy the donor's ``peak_picking.json`` into ``model_dir`` unless it has one already."""
    source = Path(donor_dir) / model_module.PEAK_PICKING_FILE
    target = model_dir / model_module.PEAK_PICKING_FILE
    if source.exists() and not target.exists():
        with atomic_output(target) as temporary:
            shutil.copyfile(source, temporary)


TOY_CLASSES = ("KD", "SD", "CHH")
TOY_PITCHES = (57, 60, 64, 67)


def make_toy_data(
    out_dir: str | os.PathLike,
    n_pieces: dict[str, int] | None = None,
    seconds: float = 6.0,
    seed: int = 0,
) -> Path:
    """Write a tiny data folder in the factory layout: synthetic kick/snare/hat hits and tones.

    Kicks are decaying 60 Hz sines, snares noise bursts, hi-hats short clicks of high
    noise; the mix adds sine tones (written as pitched notes). Meant for tests and demos.

    Parameters
    ----------
    out_dir : path-like
    n_pieces : dict, optional
        Pieces per split, default ``{"train": 4, "val": 2, "test": 2}``.
    seconds : float
        Length of each piece.
    seed : int

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    import soundfile

    from drumtx.features import SAMPLE_RATE

    n_pieces = n_pieces or {"train": 4, "val": 2, "test": 2}
    out_dir = Path(out_dir)
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    (out_dir / "labels").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_samples = int(seconds * SAMPLE_RATE)
    time_axis = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
    sounds = {
        "KD": np.sin(2 * np.pi * 60 * time_axis) * np.exp(-time_axis / 0.05),
        "SD": rng.standard_normal(len(time_axis)) * np.exp(-time_axis / 0.04) * 0.5,
        "CHH": np.diff(rng.standard_normal(len(time_axis) + 1)) * np.exp(-time_axis / 0.01) * 0.3,
    }
    rows = []
    for split, count in n_pieces.items():
        for number in range(count):
            piece_id = f"{split}{number:03d}"
            drums = np.zeros(n_samples + len(time_axis), dtype=np.float32)
            hits = []
            for cls in TOY_CLASSES:
                for onset in np.sort(rng.uniform(0.1, seconds - 0.3, size=int(seconds * 1.5))):
                    velocity = int(rng.integers(40, 128))
                    start = int(onset * SAMPLE_RATE)
                    drums[start : start + len(time_axis)] += sounds[cls] * velocity / 127
                    note = vocab.DRUM_BY_NAME[cls].written_note
                    hits.append((round(start / SAMPLE_RATE, 6), note, cls, velocity))
            notes, tones = [], np.zeros_like(drums)
            for onset in np.arange(0.25, seconds - 0.6, 0.5):
                pitch = int(rng.choice(TOY_PITCHES))
                start, stop = int(onset * SAMPLE_RATE), int((onset + 0.4) * SAMPLE_RATE)
                span = np.arange(stop - start) / SAMPLE_RATE
                tones[start:stop] += 0.1 * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * span)
                notes.append((round(onset, 6), round(onset + 0.4, 6), pitch, 80, 0))
            drums, tones = drums[:n_samples], tones[:n_samples]
            soundfile.write(out_dir / "audio" / f"{piece_id}.drums.flac", drums, SAMPLE_RATE)
            soundfile.write(out_dir / "audio" / f"{piece_id}.mix.flac", drums + tones, SAMPLE_RATE)
            pd.DataFrame(sorted(hits), columns=["onset_s", "gm_note", "class", "velocity"]).to_csv(
                out_dir / "labels" / f"{piece_id}.drums.tsv", sep="\t", index=False
            )
            pd.DataFrame(
                notes, columns=["onset_s", "offset_s", "midi_pitch", "velocity", "program"]
            ).to_csv(out_dir / "labels" / f"{piece_id}.notes.tsv", sep="\t", index=False)
            rows.append({"id": piece_id, "split": split, "seconds": seconds})
    pd.DataFrame(rows).to_csv(out_dir / "manifest.csv", index=False)
    return out_dir


MAX_LSTM_LAYERS = 8
"""Upper limit of ``--lstm-layers`` (a typo guard; 2 are shipped)."""


def _loss_weight(text: str) -> tuple[str, float]:
    """Parse ``HEAD=W`` of ``--loss-weight``."""
    name, _, value = text.partition("=")
    if name not in LOSS_WEIGHTS:
        raise argparse.ArgumentTypeError(f"no head {name!r}; one of {', '.join(LOSS_WEIGHTS)}")
    try:
        weight = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"weight of {name} is not a number: {value!r}") from None
    if weight < 0:
        raise argparse.ArgumentTypeError(f"weight of {name} must be at least 0")
    return name, weight


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``drumtx train``."""
    parser.add_argument("--data", required=True, metavar="DIR", help="data folder (manifest.csv)")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR", help="output model folder")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="total epochs")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="crops per batch")
    parser.add_argument("--steps-per-epoch", type=int, help="batches per epoch")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multiworker"),
        default="default",
        help="tf.distribute strategy (TensorFlow backend only)",
    )
    parser.add_argument("--lr", type=float, default=LEARNING_RATE, help="initial learning rate")
    parser.add_argument("--lstm-units", type=int, default=model_module.LSTM_UNITS)
    parser.add_argument(
        "--lstm-layers", type=int, choices=range(1, MAX_LSTM_LAYERS + 1), metavar="N",
        default=model_module.LSTM_LAYERS,
        help="stacked BiLSTMs; with --init-from, layers the donor lacks start afresh",
    )
    parser.add_argument("--front-filters", type=int, default=model_module.FRONT_FILTERS)
    parser.add_argument(
        "--spectral-filters",
        type=int,
        default=model_module.SPECTRAL_FILTERS,
        help="width of the 2-D convolution branch (0: none)",
    )
    parser.add_argument("--frames", type=int, default=windows.TRAIN_FRAMES, help="crop length")
    parser.add_argument("--no-augment", action="store_true", help="disable augmentation")
    parser.add_argument("--val-split", default="val", help="manifest split for validation")
    parser.add_argument("--max-pieces", type=int, help="use at most N pieces per split")
    parser.add_argument("--patience", type=int, default=EARLY_STOPPING_PATIENCE)
    parser.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs")
    parser.add_argument(
        "--beat-head",
        choices=("auto", "yes", "no"),
        default="auto",
        help="train the beats output (auto: when the data has beat labels)",
    )
    parser.add_argument(
        "--init-from", metavar="MODEL_DIR", help="warm-start from a trained model's weights"
    )
    parser.add_argument(
        "--remix-probability",
        type=probability,
        default=windows.REMIX_PROBABILITY,
        help="probability of re-balancing a mix crop's drums against the rest",
    )
    parser.add_argument(
        "--remix-db",
        type=float,
        nargs=2,
        default=windows.REMIX_DB_RANGE,
        metavar=("LOW", "HIGH"),
        help="range of the rest's level change in dB when re-balancing (positive: quieter drums)",
    )
    parser.add_argument(
        "--stem-loss-weight",
        type=float,
        default=STEM_LOSS_WEIGHT,
        help="weight of the auxiliary drum-stem estimation loss (0: no stem head)",
    )
    parser.add_argument(
        "--rest-reverb-probability",
        type=probability,
        default=windows.REST_REVERB_PROBABILITY,
        help="probability of smearing a mix crop's non-drum part with a reverberant tail",
    )
    parser.add_argument(
        "--mixup-probability",
        type=probability,
        default=windows.MIXUP_PROBABILITY,
        help="probability of a crop being the sum of two crops with both songs' notes",
    )
    parser.add_argument(
        "--pitch-branch-units",
        type=int,
        default=model_module.PITCH_BRANCH_UNITS,
        metavar="N",
        help="give the pitched heads their own BiLSTM of N units (0: they read the trunk)",
    )
    parser.add_argument(
        "--pitched-only",
        action="store_true",
        help="train only the pitched branch and heads; the rest keeps --init-from's weights",
    )
    parser.add_argument(
        "--loss-weight",
        action="append",
        default=[],
        type=_loss_weight,
        metavar="HEAD=W",
        help=f"replace one loss weight (repeatable); defaults: "
        f"{', '.join(f'{k}={v:g}' for k, v in LOSS_WEIGHTS.items())}",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``drumtx train``; returns the exit status."""
    if args.pitched_only and args.init_from is None:
        print("drumtx train: error: --pitched-only needs --init-from", file=sys.stderr)
        return EXIT_USAGE
    fit(
        args.data,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch,
        steps_per_epoch=args.steps_per_epoch,
        seed=args.seed,
        strategy=args.strategy,
        learning_rate=args.lr,
        lstm_units=args.lstm_units,
        lstm_layers=args.lstm_layers,
        front_filters=args.front_filters,
        spectral_filters=args.spectral_filters,
        frames=args.frames,
        augment=not args.no_augment,
        validation_split=args.val_split,
        max_pieces=args.max_pieces,
        tensorboard=args.tensorboard,
        patience=args.patience,
        beat_head={"auto": None, "yes": True, "no": False}[args.beat_head],
        init_from=args.init_from,
        remix_probability=args.remix_probability,
        remix_db_range=tuple(args.remix_db),
        stem_loss_weight=args.stem_loss_weight,
        rest_reverb_probability=args.rest_reverb_probability,
        loss_weights=dict(args.loss_weight),
        mixup_probability=args.mixup_probability,
        pitch_branch_units=args.pitch_branch_units,
        pitched_only=args.pitched_only,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m drumtx.train``."""
    parser = argparse.ArgumentParser(prog="drumtx train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
