"""The network: shapes, save/load round trip, the model directory contract."""

import numpy as np
import pytest

from drumtx import features, model, vocab, windows
from drumtx.errors import ModelLoadError


@pytest.fixture(scope="module")
def small_model():
    return model.build_model(lstm_units=8, front_filters=8)


def test_outputs_have_the_contract_names_and_shapes(small_model):
    x = np.random.default_rng(0).random((2, 120, features.N_FEATURE_BINS)).astype(np.float32)
    out = small_model.predict_on_batch(x)
    assert set(out) == {"drum_onsets", "drum_velocity", "pitch_onsets", "pitch_frames"}
    assert out["drum_onsets"].shape == (2, 120, vocab.N_DRUM_CLASSES)
    assert out["pitch_frames"].shape == (2, 120, vocab.N_PITCHES)
    assert all(((value >= 0) & (value <= 1)).all() for value in out.values())


def test_save_and_load_give_identical_activations(small_model, tmp_path):
    feats = np.random.default_rng(1).random((900, features.N_FEATURE_BINS)).astype(np.float32)
    before = windows.predict_activations(small_model, feats, batch_size=2)
    path = model.save_model(small_model, tmp_path / "m")
    loaded = model.load_model(tmp_path / "m")
    after = windows.predict_activations(loaded, feats, batch_size=2)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])
    assert len(model.model_hash(tmp_path / "m")) == 64 and path.stat().st_size < 10_000_000


def test_missing_model_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        model.load_model(tmp_path / "nowhere")
    assert "\n" not in str(error.value)


def test_default_model_size_is_a_few_megabytes():
    network = model.build_model()
    assert network.count_params() * 4 < 5_000_000


def test_beat_head_is_optional_and_survives_save_and_load(tmp_path):
    network = model.build_model(lstm_units=4, front_filters=4, beat_head=True)
    assert model.has_beat_head(network) and not model.has_beat_head(model.build_model())
    feats = np.random.default_rng(2).random((700, features.N_FEATURE_BINS)).astype(np.float32)
    model.save_model(network, tmp_path / "m")
    loaded = model.load_model(tmp_path / "m")
    out = windows.predict_activations(loaded, feats, batch_size=2)
    assert out["beats"].shape == (700, model.N_BEAT_OUTPUTS)
    assert set(out) == {"drum_onsets", "drum_velocity", "pitch_onsets", "pitch_frames", "beats"}
