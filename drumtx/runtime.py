"""Inference without a deep-learning framework: a trained ``model.keras`` run in NumPy.

Importing TensorFlow and Keras takes about four seconds, most of a short transcription. The
network (:func:`drumtx.model.build_model`) is small and feed-forward apart from its LSTMs, so
:class:`NumpyNetwork` reads the saved file itself (``config.json`` and ``model.weights.h5``
inside the ``.keras`` zip) and computes the same activations with NumPy (equal to Keras's to
about 1e-6). Training, tuning of new architectures and anything else stays in Keras; a model
with a layer this module does not know raises :class:`UnsupportedModelError`, and callers then
load it with Keras (:func:`drumtx.model.load_model`).

Supported layers: ``InputLayer``, ``BatchNormalization`` (last axis), ``Conv1D`` and
``Conv2D`` (``same`` or ``valid`` padding, stride 1), ``MaxPooling2D`` (``valid``, strides
equal to the pool), ``Reshape``, ``Permute``, ``Add``, ``Concatenate`` (last axis),
``Dropout`` (identity), ``LSTM`` and ``Bidirectional(LSTM)`` (``concat``, tanh/sigmoid, full
sequences) and ``Dense``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from drumtx.errors import ModelLoadError

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
"""The bundled default model: ``model.keras``, ``peak_picking.json`` and ``MODEL_CARD.md``."""

MODEL_FILE = "model.keras"
PEAK_PICKING_FILE = "peak_picking.json"
MODEL_CARD_FILE = "MODEL_CARD.md"

WEIGHTS_MEMBER = "model.weights.h5"
CONFIG_MEMBER = "config.json"


class UnsupportedModelError(ValueError):
    """The saved model uses a layer or option :class:`NumpyNetwork` cannot run."""


def first_line(error: BaseException) -> str:
    """An exception's message cut to its first line (its type name when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def model_path(model_dir: str | os.PathLike | None = None) -> Path:
    """Path of ``model.keras`` inside ``model_dir`` (default: :data:`DEFAULT_MODEL_DIR`)."""
    return Path(model_dir if model_dir is not None else DEFAULT_MODEL_DIR) / MODEL_FILE


def existing_model_path(model_dir: str | os.PathLike | None = None) -> Path:
    """:func:`model_path`, or :class:`ModelLoadError` if there is no such file."""
    path = model_path(model_dir)
    if not path.is_file():
        raise ModelLoadError(f"no model at {path} (train one with 'drumtx train')")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file (used to identify models and data in results)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hash(model_dir: str | os.PathLike | None = None) -> str:
    """SHA-256 of the ``model.keras`` in ``model_dir``."""
    return file_sha256(model_path(model_dir))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name not in ACTIVATIONS:
        raise UnsupportedModelError(f"activation {name!r}")
    return ACTIVATIONS[name]


def _snake_case(name: str) -> str:
    """Keras's weight-file name of a layer class (``BatchNormalization`` ->
    ``batch_normalization``, ``Conv1D`` -> ``conv1d``)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def batch_norm(x: np.ndarray, gamma, beta, mean, variance, epsilon: float) -> np.ndarray:
    """Inference-time batch normalisation over the last axis."""
    scale = gamma / np.sqrt(variance + epsilon)
    return x * scale + (beta - mean * scale)


def convolve(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, padding: str) -> np.ndarray:
    """Convolution over any number of axes (Keras ``Conv1D`` / ``Conv2D``, channels last,
    stride and dilation 1): one matrix product per kernel tap.

    Parameters
    ----------
    x : numpy.ndarray, shape (batch, *spatial, in_channels)
        For ``Conv1D`` spatial is (frames,); for ``Conv2D`` (rows, columns).
    kernel : numpy.ndarray, shape (*kernel_spatial, in_channels, out_channels)
    bias : numpy.ndarray, shape (out_channels,)
    padding : {"same", "valid"}
    """
    taps = kernel.shape[:-2]
    if padding == "same":  # any odd sample of padding goes after, as in Keras
        x = np.pad(x, [(0, 0), *[((k - 1) // 2, k - 1 - (k - 1) // 2) for k in taps], (0, 0)])
    sizes = [length - k + 1 for length, k in zip(x.shape[1:-1], taps, strict=True)]
    out = np.broadcast_to(bias, (x.shape[0], *sizes, kernel.shape[-1])).copy()
    for tap in np.ndindex(*taps):
        window = tuple(slice(start, start + size) for start, size in zip(tap, sizes, strict=True))
        out += x[(slice(None), *window)] @ kernel[tap]
    return out


def max_pool2d(x: np.ndarray, pool: tuple[int, int]) -> np.ndarray:
    """Max pooling of ``(batch, rows, columns, channels)`` over non-overlapping ``pool`` blocks
    (Keras ``MaxPooling2D`` with ``valid`` padding and strides equal to the pool size)."""
    batch, rows, columns, channels = x.shape
    n_rows, n_columns = rows // pool[0], columns // pool[1]
    x = x[:, : n_rows * pool[0], : n_columns * pool[1]]
    return x.reshape(batch, n_rows, pool[0], n_columns, pool[1], channels).max(axis=(2, 4))


def lstm_sequences(
    x: np.ndarray, kernels: np.ndarray, recurrent: np.ndarray, biases: np.ndarray
) -> np.ndarray:
    """Run several LSTMs of the same size side by side over full sequences.

    Keras's LSTM: gates ``i, f, c, o`` in that order, sigmoid gates, tanh cell and output,
    zero initial state.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_lstms, batch, frames, in_features)
        Each LSTM's input sequence (a backward LSTM gets its input reversed in time).
    kernels : numpy.ndarray, shape (n_lstms, in_features, 4 * units)
    recurrent : numpy.ndarray, shape (n_lstms, units, 4 * units)
    biases : numpy.ndarray, shape (n_lstms, 4 * units)

    Returns
    -------
    numpy.ndarray, shape (n_lstms, batch, frames, units)
        The hidden state at every frame.
    """
    n_lstms, batch, frames, _ = x.shape
    units = recurrent.shape[1]
    projected = x @ kernels[:, None] + biases[:, None, None, :]  # (n, batch, frames, 4u)
    projected = np.ascontiguousarray(projected.transpose(2, 0, 1, 3))  # frames first
    hidden = np.zeros((n_lstms, batch, units), dtype=x.dtype)
    cell = np.zeros_like(hidden)
    out = np.empty((frames, n_lstms, batch, units), dtype=x.dtype)
    for frame in range(frames):
        gates = projected[frame] + hidden @ recurrent
        sig = _sigmoid(gates)
        cell = sig[..., units : 2 * units] * cell + sig[..., :units] * np.tanh(
            gates[..., 2 * units : 3 * units]
        )
        hidden = sig[..., 3 * units :] * np.tanh(cell)
        out[frame] = hidden
    return out.transpose(1, 2, 0, 3)


class NumpyNetwork:
    """A saved functional Keras model of supported layers, run with NumPy.

    Parameters
    ----------
    path : path-like
        A ``.keras`` file.

    Attributes
    ----------
    output_names : list of str
        The model's outputs (for :func:`drumtx.inference.predict_activations`).

    Raises
    ------
    UnsupportedModelError
        A layer or option outside the supported set (see the module docstring).
    """

    def __init__(self, path: str | os.PathLike):
        import h5py

        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(CONFIG_MEMBER))["config"]
            weights = h5py.File(io.BytesIO(archive.read(WEIGHTS_MEMBER)), "r")
        self.layers: list[tuple[str, list[str], Callable[..., np.ndarray]]] = []
        used: dict[str, int] = {}
        with weights:
            for layer in config["layers"]:
                kind = layer["class_name"]
                key = _snake_case(kind)
                used[key] = used.get(key, -1) + 1
                stored_name = key if used[key] == 0 else f"{key}_{used[key]}"
                if kind == "InputLayer":
                    continue
                if stored_name not in weights["layers"]:
                    raise UnsupportedModelError(f"no weights {stored_name!r} for {layer['name']!r}")
                stored = weights["layers"][stored_name]
                sources = [
                    argument["config"]["keras_history"][0]
                    for node in layer["inbound_nodes"]
                    for argument in _flat(node["args"])
                    if isinstance(argument, dict) and "keras_history" in argument.get("config", {})
                ]
                if kind == "Add":
                    function = _add
                elif kind == "Concatenate":
                    if layer["config"].get("axis", -1) != -1:
                        raise UnsupportedModelError(f"Concatenate axis of {layer['name']!r}")
                    function = _concatenate
                elif len(sources) == 1:
                    function = _single_input(_compile(kind, layer["config"], stored))
                else:
                    raise UnsupportedModelError(f"{layer['name']!r} has {len(sources)} inputs")
                self.layers.append((layer["name"], sources, function))
        self.input_name = config["input_layers"][0]
        outputs = config["output_layers"]
        if isinstance(outputs, dict):
            self.outputs = {name: history[0] for name, history in outputs.items()}
        else:
            self.outputs = {history[0]: history[0] for history in outputs}
        self.output_names = list(self.outputs)

    def predict_on_batch(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs for a batch of feature windows, shape (batch, frames, n_bins)."""
        values = {self.input_name: np.asarray(x, dtype=np.float32)}
        for name, sources, function in self.layers:
            values[name] = function(*(values[source] for source in sources))
        return {name: values[layer] for name, layer in self.outputs.items()}


def _flat(arguments: list) -> list:
    """A layer call's arguments with nested lists (e.g. ``Add``'s list of inputs) flattened."""
    flat = []
    for argument in arguments:
        flat.extend(_flat(argument) if isinstance(argument, list) else [argument])
    return flat


def _add(*inputs: np.ndarray) -> np.ndarray:
    return np.sum(inputs, axis=0)


def _concatenate(*inputs: np.ndarray) -> np.ndarray:
    return np.concatenate(inputs, axis=-1)


def _single_input(function: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def call(*inputs: np.ndarray) -> np.ndarray:
        return function(inputs[0])

    return call


def _vars(stored, *path: str) -> list[np.ndarray]:
    group = stored
    for part in path:
        group = group[part]
    group = group["vars"]
    return [np.asarray(group[str(index)], dtype=np.float32) for index in range(len(group))]


def _lstm_weights(stored) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kernel, recurrent, bias = _vars(stored, "cell")
    return kernel, recurrent, bias


def _check_lstm(config: dict) -> None:
    if not (
        config.get("return_sequences")
        and config.get("activation") == "tanh"
        and config.get("recurrent_activation") == "sigmoid"
        and config.get("use_bias", True)
        and not config.get("go_backwards")
        and not config.get("stateful")
    ):
        raise UnsupportedModelError(f"LSTM options of {config.get('name')!r}")


def _compile(kind: str, config: dict, stored) -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy function computing one layer from its config and stored weights."""
    if kind == "Dropout":
        return lambda x: x
    if kind == "BatchNormalization":
        if config.get("axis", -1) not in (-1, [-1]) or not (config["center"] and config["scale"]):
            raise UnsupportedModelError("BatchNormalization options")
        gamma, beta, mean, variance = _vars(stored)
        epsilon = float(config["epsilon"])
        return lambda x: batch_norm(x, gamma, beta, mean, variance, epsilon)
    if kind in ("Conv1D", "Conv2D"):
        rank = 1 if kind == "Conv1D" else 2
        if (
            list(config["strides"]) != [1] * rank
            or list(config["dilation_rate"]) != [1] * rank
            or config["padding"] not in ("same", "valid")
            or config.get("groups", 1) != 1
            or config.get("data_format", "channels_last") != "channels_last"
            or not config["use_bias"]
        ):
            raise UnsupportedModelError(f"{kind} options of {config['name']!r}")
        kernel, bias = _vars(stored)
        act, padding = _activation(config["activation"]), config["padding"]
        return lambda x: act(convolve(x, kernel, bias, padding))
    if kind == "MaxPooling2D":
        pool = tuple(config["pool_size"])
        if (
            tuple(config["strides"] or pool) != pool
            or config["padding"] != "valid"
            or config.get("data_format", "channels_last") != "channels_last"
        ):
            raise UnsupportedModelError(f"MaxPooling2D options of {config['name']!r}")
        return lambda x: max_pool2d(x, pool)
    if kind == "Reshape":
        target = tuple(config["target_shape"])
        return lambda x: x.reshape((x.shape[0], *target))
    if kind == "Permute":
        order = (0, *config["dims"])
        return lambda x: x.transpose(order)
    if kind == "Dense":
        if not config["use_bias"]:
            raise UnsupportedModelError(f"Dense options of {config['name']!r}")
        kernel, bias = _vars(stored)
        act = _activation(config["activation"])
        return lambda x: act(x @ kernel + bias)
    if kind == "LSTM":
        _check_lstm(config)
        kernel, recurrent, bias = _lstm_weights(stored)
        return lambda x: lstm_sequences(x[None], kernel[None], recurrent[None], bias[None])[0]
    if kind == "Bidirectional":
        inner = config["layer"]
        if config.get("merge_mode") != "concat" or inner["class_name"] != "LSTM":
            raise UnsupportedModelError(f"Bidirectional options of {config['name']!r}")
        _check_lstm(inner["config"])
        forward = _lstm_weights(stored["forward_layer"])
        backward = _lstm_weights(stored["backward_layer"])
        kernels, recurrent, biases = (
            np.stack(pair) for pair in zip(forward, backward, strict=True)
        )

        def bidirectional(x: np.ndarray) -> np.ndarray:
            both = lstm_sequences(np.stack([x, x[:, ::-1]]), kernels, recurrent, biases)
            return np.concatenate([both[0], both[1][:, ::-1]], axis=-1)

        return bidirectional
    raise UnsupportedModelError(f"layer type {kind}")


def load_network(model_dir: str | os.PathLike | None = None):
    """Load ``model.keras`` from ``model_dir`` (default: the bundled model) for inference.

    A :class:`NumpyNetwork` when the model's layers are supported (no deep-learning framework
    is imported), otherwise the Keras model (:func:`drumtx.model.load_model`). Either has
    ``predict_on_batch`` and ``output_names``.

    Raises
    ------
    ModelLoadError
        The folder or file is missing or unreadable.
    """
    path = existing_model_path(model_dir)
    try:
        return NumpyNetwork(path)
    except UnsupportedModelError:
        from drumtx._stderr import silenced_stderr

        with silenced_stderr():  # TensorFlow's start-up notices
            from drumtx.model import load_model

        return load_model(model_dir)
    except Exception as error:  # noqa: BLE001 - any failure is reported as one line
        raise ModelLoadError(f"cannot load model {path}: {first_line(error)}") from error
