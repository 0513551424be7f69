"""Windowed inference: cut features into fixed, overlapping windows, run a network, stitch.

The only place where a ``(n_frames, n_bins)`` feature matrix becomes ``(batch, segment,
n_bins)`` inference windows. It imports no deep-learning framework: the network is anything
with ``predict_on_batch`` and ``output_names`` (a Keras model, or the NumPy runtime's
:class:`drumtx.runtime.NumpyNetwork`).
"""

from __future__ import annotations

import math

import numpy as np

SEGMENT_FRAMES = 500
"""Inference window length in frames (5 s)."""

HOP_FRAMES = 400
"""Hop between inference windows in frames; windows overlap by ``SEGMENT_FRAMES - HOP_FRAMES``."""


def window_starts(
    n_frames: int, segment: int = SEGMENT_FRAMES, hop: int = HOP_FRAMES
) -> np.ndarray:
    """Start frames of the inference windows covering ``n_frames`` frames.

    Returns
    -------
    numpy.ndarray, shape (n_windows,), int64
        ``0, hop, 2 * hop, ...``; the last window ends at or after ``n_frames``.
    """
    if n_frames <= segment:
        return np.zeros(1, dtype=np.int64)
    n_windows = 1 + math.ceil((n_frames - segment) / hop)
    return np.arange(n_windows, dtype=np.int64) * hop


def make_windows(
    feats: np.ndarray, segment: int = SEGMENT_FRAMES, hop: int = HOP_FRAMES
) -> tuple[np.ndarray, np.ndarray]:
    """Cut features into overlapping windows, zero-padding the end.

    Parameters
    ----------
    feats : numpy.ndarray, shape (n_frames, n_bins)

    Returns
    -------
    windows : numpy.ndarray, shape (n_windows, segment, n_bins), float32
    starts : numpy.ndarray, shape (n_windows,), int64
    """
    feats = np.asarray(feats, dtype=np.float32)
    starts = window_starts(len(feats), segment, hop)
    padded_length = int(starts[-1]) + segment
    padded = np.zeros((padded_length, feats.shape[1]), dtype=np.float32)
    padded[: len(feats)] = feats
    windows = np.stack([padded[start : start + segment] for start in starts])
    return windows, starts


def stitch(
    windows: np.ndarray,
    starts: np.ndarray,
    n_frames: int,
    segment: int = SEGMENT_FRAMES,
    hop: int = HOP_FRAMES,
) -> np.ndarray:
    """Join per-window outputs back into one per-frame array.

    Each frame is taken from exactly one window: overlaps are split in the middle, so every
    frame comes from a window where it is at least ``(segment - hop) // 2`` frames from an
    inner window edge.

    Parameters
    ----------
    windows : numpy.ndarray, shape (n_windows, segment, k)
    starts : numpy.ndarray, shape (n_windows,)
    n_frames : int
        Length of the result (padding is dropped).

    Returns
    -------
    numpy.ndarray, shape (n_frames, k)
    """
    margin = (segment - hop) // 2
    length = int(starts[-1]) + segment
    out = np.zeros((length, windows.shape[2]), dtype=windows.dtype)
    last = len(starts) - 1
    for index, start in enumerate(starts):
        begin = 0 if index == 0 else margin
        end = segment if index == last else margin + hop
        out[start + begin : start + end] = windows[index, begin:end]
    return out[:n_frames]


def predict_activations(
    model, feats: np.ndarray, batch_size: int = 16
) -> dict[str, np.ndarray]:
    """Run a model over features of any length in fixed-size overlapping windows.

    The model is always called on ``(batch_size, SEGMENT_FRAMES, n_bins)`` arrays (the last
    batch is zero-padded), so it is traced once per process however long the input is.

    Parameters
    ----------
    model : keras.Model or drumtx.runtime.NumpyNetwork
        A network from :func:`drumtx.model.build_model` (dict of sigmoid outputs), as Keras
        or as loaded by :func:`drumtx.runtime.load_network`.
    feats : numpy.ndarray, shape (n_frames, n_bins)
        Features from :func:`drumtx.features.compute_features`.
    batch_size : int
        Windows per model call.

    Returns
    -------
    dict of str to numpy.ndarray
        Each output head (e.g. ``"drum_onsets"``) as ``(n_frames, k)`` float32 activations;
        ``"beats"`` ``(n_frames, 2)`` (beat, downbeat) only when the model has the beat head.

    Notes
    -----
    Windows are cut and their outputs stitched batch by batch (the same rule as
    :func:`stitch`), so memory beyond the features and the result stays at one batch.
    """
    feats = np.asarray(feats, dtype=np.float32)
    n_frames = len(feats)
    starts = window_starts(n_frames, SEGMENT_FRAMES, HOP_FRAMES)
    margin = (SEGMENT_FRAMES - HOP_FRAMES) // 2
    last = len(starts) - 1
    chunk = np.zeros((batch_size, SEGMENT_FRAMES, feats.shape[1]), dtype=np.float32)
    result: dict[str, np.ndarray] = {}
    for first in range(0, len(starts), batch_size):
        batch_starts = starts[first : first + batch_size]
        chunk[:] = 0.0
        for row, start in enumerate(batch_starts):
            piece = feats[start : start + SEGMENT_FRAMES]
            chunk[row, : len(piece)] = piece
        outputs = model.predict_on_batch(chunk)
        if not isinstance(outputs, dict):
            outputs = dict(zip(model.output_names, outputs, strict=False))
        for name, value in outputs.items():
            value = np.asarray(value, dtype=np.float32)
            target = result.setdefault(name, np.zeros((n_frames, value.shape[2]), np.float32))
            for row, start in enumerate(batch_starts):
                index = first + row
                begin = 0 if index == 0 else margin
                end = SEGMENT_FRAMES if index == last else margin + HOP_FRAMES
                stop = min(start + end, n_frames)
                if start + begin < stop:
                    target[start + begin : stop] = value[row, begin : begin + stop - start - begin]
    return result
