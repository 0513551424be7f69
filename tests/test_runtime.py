"""The NumPy runtime computes what Keras computes, and transcription runs without TensorFlow."""

import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from drumtx import features, model, runtime, windows
from drumtx.errors import ModelLoadError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "groove.flac"

# Keras (oneDNN float32) and NumPy sum in different orders: activations agree to about 1e-6.
ACTIVATION_TOLERANCE = 1e-5


def _features(n_frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal((n_frames, features.N_FEATURE_BINS)) + 0.2).astype(
        np.float32
    )


def _assert_same_activations(keras_network, numpy_network, feats: np.ndarray) -> None:
    expected = windows.predict_activations(keras_network, feats, batch_size=2)
    actual = windows.predict_activations(numpy_network, feats, batch_size=2)
    assert set(actual) == set(expected)
    for name in expected:
        assert actual[name].shape == expected[name].shape
        np.testing.assert_allclose(actual[name], expected[name], atol=ACTIVATION_TOLERANCE)


def test_bundled_model_gives_the_keras_activations():
    feats = _features(1300, seed=0)  # three windows: stitching is exercised too
    numpy_network = runtime.load_network()
    assert isinstance(numpy_network, runtime.NumpyNetwork)
    _assert_same_activations(model.load_model(), numpy_network, feats)


@pytest.mark.parametrize(
    ("options", "expected_outputs"),
    [
        ({"lstm_units": 5, "front_filters": 7, "lstm_layers": 1}, 4),
        ({"lstm_units": 3, "front_filters": 4, "lstm_layers": 3, "beat_head": True}, 5),
        ({"lstm_units": 4, "front_filters": 6, "spectral_filters": 3, "beat_head": True}, 5),
        ({"lstm_units": 4, "front_filters": 5, "pitch_branch_units": 3, "beat_head": True}, 5),
    ],
)
def test_other_sizes_and_heads_give_the_keras_activations(tmp_path, options, expected_outputs):
    network = model.build_model(**options)
    # Non-trivial normalisation statistics, so that the batch-norm folding is checked too.
    norm = network.get_layer("input_norm")
    rng = np.random.default_rng(3)
    norm.set_weights([rng.uniform(0.5, 2.0, w.shape).astype(np.float32) for w in norm.weights])
    if options.get("spectral_filters"):  # its projection starts at zero: make the branch count
        projection = network.get_layer("spectral_projection")
        projection.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32)
                                for w in projection.weights])
    model.save_model(network, tmp_path / "m")
    numpy_network = runtime.load_network(tmp_path / "m")
    assert isinstance(numpy_network, runtime.NumpyNetwork)
    assert len(numpy_network.output_names) == expected_outputs
    _assert_same_activations(model.load_model(tmp_path / "m"), numpy_network, _features(450, 4))


def test_a_layer_the_runtime_does_not_know_falls_back_to_keras(tmp_path):
    inputs = keras.Input(shape=(None, features.N_FEATURE_BINS), name="features")
    hidden = keras.layers.GRU(4, return_sequences=True, name="gru")(inputs)
    outputs = {"drum_onsets": keras.layers.Dense(13, activation="sigmoid", name="drum_onsets")(
        hidden)}
    model.save_model(keras.Model(inputs, outputs), tmp_path / "m")
    with pytest.raises(runtime.UnsupportedModelError):
        runtime.NumpyNetwork(runtime.model_path(tmp_path / "m"))
    loaded = runtime.load_network(tmp_path / "m")
    assert isinstance(loaded, keras.Model)


def test_missing_or_broken_model_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelLoadError, match="no model at"):
        runtime.load_network(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / runtime.MODEL_FILE).write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError) as error:
        runtime.load_network(tmp_path / "bad")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("command", ["transcribe", "evaluate"])
def test_transcription_and_evaluation_import_no_deep_learning_framework(tmp_path, command):
    songs = tmp_path / "songs"
    songs.mkdir()
    for name in ("groove.flac", "groove.drums.tsv"):
        shutil.copy(EXAMPLE.with_name(name), songs / name)
    arguments = {
        "transcribe": ["transcribe", str(songs / "groove.flac"), "-o", str(tmp_path),
                       "--fast-rhythm"],
        "evaluate": ["evaluate", "--data", str(songs), "--out-csv", str(tmp_path / "s.csv")],
    }[command]
    script = (
        "import sys\n"
        "from drumtx.cli import main\n"
        f"code = main({arguments!r})\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]\n"
        "print('loaded:', loaded)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    written = {"transcribe": "groove.mscx", "evaluate": "s.csv"}[command]
    assert (tmp_path / written).is_file()
