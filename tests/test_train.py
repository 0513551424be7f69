"""Training: losses behave and two steps on a tiny set reduce the loss; runs resume."""

import numpy as np
import pandas as pd
import pytest

from drumtx import model, runtime, train, vocab, windows


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    return train.make_toy_data(tmp_path_factory.mktemp("toy"), {"train": 2, "val": 1}, seconds=4.0)


def test_velocity_loss_counts_only_at_onsets():
    n = vocab.N_DRUM_CLASSES
    target = np.zeros((1, 4, 2 * n), np.float32)
    target[0, 1, 0], target[0, 1, n] = 0.8, 1.0
    good = np.full((1, 4, n), 0.01, np.float32)
    good[0, 1, 0] = 0.8
    bad_elsewhere = good.copy()
    bad_elsewhere[0, 2:] = 0.9  # wrong values away from onsets must not matter
    loss_good = np.asarray(train.masked_velocity_loss(target, good)).sum()
    loss_elsewhere = np.asarray(train.masked_velocity_loss(target, bad_elsewhere)).sum()
    assert loss_good == pytest.approx(loss_elsewhere)


def test_onset_loss_weights_positives():
    target = np.zeros((1, 1, vocab.N_DRUM_CLASSES), np.float32)
    target[0, 0, 0] = 1.0
    miss = np.full_like(target, 0.5)
    expected = train.ONSET_POSITIVE_WEIGHT * np.log(2) + (vocab.N_DRUM_CLASSES - 1) * np.log(2)
    assert float(np.asarray(train.onset_loss(target, miss))[0, 0]) == pytest.approx(
        expected / vocab.N_DRUM_CLASSES, rel=1e-5
    )


def test_two_training_steps_reduce_the_loss(toy_data):
    train.set_seeds(0)
    pieces = windows.load_split(toy_data, "train")
    batches = windows.TrainingWindows(pieces, batch_size=4, steps_per_epoch=1, frames=300)
    network = model.build_model(lstm_units=16, front_filters=16)
    train.compile_model(network, total_steps=10, learning_rate=3e-3)
    x, y = batches[0]
    first = network.train_on_batch(x, y)
    network.train_on_batch(x, y)
    after = network.test_on_batch(x, y)
    assert after < first


def test_fit_writes_the_model_and_resumes(toy_data, tmp_path):
    out = tmp_path / "model"
    options = dict(
        batch_size=2, steps_per_epoch=2, lstm_units=8, front_filters=8, frames=200, patience=5,
        mixup_probability=0.5,
    )
    train.fit(toy_data, out, epochs=1, **options)
    assert model.model_path(out).exists()
    assert (out / train.LOG_FILE).read_text().count("\n") == 2
    train.fit(toy_data, out, epochs=2, **options)  # resumes: only epoch 2 runs
    log = (out / train.LOG_FILE).read_text().splitlines()
    assert len(log) == 3 and log[-1].startswith("1,")
    assert "val_f" in log[0]
    runs = pd.read_csv(out / train.RUNS_FILE)
    assert runs["first_epoch"].tolist() == [1, 2]
    assert set(runs["manifest_sha256"]) == {runtime.file_sha256(toy_data / "manifest.csv")}
    assert runs["remix_probability"].tolist() == [windows.REMIX_PROBABILITY] * 2
    assert runs["mixup_probability"].tolist() == [0.5, 0.5]


def test_fit_deepens_a_warm_started_trunk(toy_data, tmp_path, capsys):
    donor = model.build_model(lstm_units=8, front_filters=8)
    model.save_model(donor, tmp_path / "donor")
    out = tmp_path / "deeper"
    train.fit(toy_data, out, epochs=1, batch_size=2, steps_per_epoch=1, lstm_units=8,
              front_filters=8, frames=200, lstm_layers=3, init_from=tmp_path / "donor")
    assert "new layers: bilstm3" in capsys.readouterr().out
    deeper = model.load_model(out)
    names = [layer.name for layer in deeper.layers]
    assert "bilstm3" in names and "bilstm4" not in names
    assert pd.read_csv(out / train.RUNS_FILE)["lstm_layers"].tolist() == [3]


def test_record_run_aligns_a_new_row_with_an_older_file(tmp_path):
    (tmp_path / "manifest.csv").write_text("id\n")
    older = pd.DataFrame([{"started_utc": "2026-01-01T00:00:00+00:00", "first_epoch": 1,
                           "seed": 3}])
    older.to_csv(tmp_path / train.RUNS_FILE, index=False)
    train.record_run(tmp_path, tmp_path, 4, 10, 2, seed=5, remix_probability=0.8)
    runs = pd.read_csv(tmp_path / train.RUNS_FILE)
    assert runs["first_epoch"].tolist() == [1, 5]
    assert runs["seed"].tolist() == [3, 5]
    assert runs["remix_probability"].isna().tolist() == [True, False]
    assert runs["train_pieces"].tolist()[1] == 10


def test_beat_loss_counts_only_labelled_frames():
    target = np.zeros((2, 4, 3), np.float32)
    target[0, :, 2] = 1.0  # the first crop has beat labels, the second has none
    target[0, 1, :2] = 1.0
    prediction = np.full((2, 4, 2), 0.2, np.float32)
    loss = np.asarray(train.beat_loss(target, prediction))
    assert loss.shape == (2, 4) and (loss[1] == 0).all() and (loss[0] > 0).all()
    other = prediction.copy()
    other[1] = 0.9  # the unlabelled crop's predictions do not matter
    assert np.asarray(train.beat_loss(target, other)).sum() == pytest.approx(loss.sum())
    assert not np.asarray(train.beat_loss(np.zeros_like(target), prediction)).any()


def test_warm_start_copies_every_layer_but_the_new_head(tmp_path):
    old = model.build_model(lstm_units=8, front_filters=8)
    new = model.build_model(lstm_units=8, front_filters=8, beat_head=True)
    assert model.has_beat_head(new) and not model.has_beat_head(old)
    skipped = model.copy_matching_weights(old, new)
    assert skipped == ["beats"]
    for layer in old.layers:
        for a, b in zip(layer.get_weights(), new.get_layer(layer.name).get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    train.compile_model(new, total_steps=2)
    x = np.zeros((1, 50, new.input_shape[-1]), np.float32)
    y = {name: np.zeros((1, 50, size), np.float32) for name, size in windows.OUTPUT_SIZES.items()}
    y["drum_velocity"] = np.zeros((1, 50, 2 * vocab.N_DRUM_CLASSES), np.float32)
    y["beats"] = np.zeros((1, 50, 3), np.float32)
    assert np.isfinite(new.train_on_batch(x, y)).all()


def test_a_warm_started_spectral_branch_starts_as_the_model_without_it():
    old = model.build_model(lstm_units=6, front_filters=8)
    new = model.build_model(lstm_units=6, front_filters=8, spectral_filters=4)
    skipped = model.copy_matching_weights(old, new)
    assert skipped == [
        "spectral_conv11", "spectral_conv12", "spectral_conv21", "spectral_conv22",
        "spectral_projection",
    ]
    x = np.random.default_rng(0).normal(size=(2, 60, new.input_shape[-1])).astype(np.float32)
    before, after = old.predict_on_batch(x), new.predict_on_batch(x)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], atol=1e-6)
    # The branch is live: once its projection is non-zero, the outputs move.
    projection = new.get_layer("spectral_projection")
    projection.set_weights([np.full(w.shape, 0.05, np.float32) for w in projection.weights])
    moved = new.predict_on_batch(x)
    assert np.abs(moved["drum_onsets"] - before["drum_onsets"]).max() > 1e-3


def test_stem_loss_is_the_masked_mean_absolute_error():
    n_bands = windows.N_SPECTRAL
    target = np.zeros((2, 3, n_bands + 1), np.float32)
    target[0, :, :n_bands], target[0, :, n_bands] = 0.5, 1.0  # the second crop has no stem
    prediction = np.full((2, 3, n_bands), 0.2, np.float32)
    loss = np.asarray(train.stem_loss(target, prediction))
    # 0.3 per labelled frame, divided by the labelled share of the batch's frames (1/2)
    np.testing.assert_allclose(loss, [[0.6] * 3, [0.0] * 3], rtol=1e-6)


def test_a_stem_head_trains_and_is_left_out_of_the_saved_model(toy_data, tmp_path):
    train.set_seeds(0)
    pieces = windows.load_split(toy_data, "train")
    batches = windows.TrainingWindows(
        pieces, batch_size=4, steps_per_epoch=1, frames=300, stem_targets=True
    )
    network = model.build_model(lstm_units=16, front_filters=16, stem_head=True)
    train.compile_model(network, total_steps=10, learning_rate=3e-3, stem_loss_weight=1.0)
    x, y = batches[0]
    first = network.train_on_batch(x, y, return_dict=True)
    network.train_on_batch(x, y)
    after = network.test_on_batch(x, y, return_dict=True)
    assert after["drum_stem_loss"] < first["drum_stem_loss"] and after["loss"] < first["loss"]
    model.save_model(network, tmp_path / "m")
    loaded = model.load_model(tmp_path / "m")
    assert sorted(loaded.output_names) == sorted(vocab.HEADS)
    expected = network.predict_on_batch(x)
    for saved in (loaded, runtime.load_network(tmp_path / "m")):  # Keras and the NumPy runtime
        got = saved.predict_on_batch(x)
        for name in vocab.HEADS:
            np.testing.assert_allclose(got[name], expected[name], atol=1e-5)


def test_loss_weights_replace_the_defaults(toy_data):
    pieces = windows.load_split(toy_data, "train")
    x, y = windows.TrainingWindows(pieces, batch_size=2, steps_per_epoch=1, frames=200)[0]
    network = model.build_model(lstm_units=8, front_filters=8)
    train.compile_model(network, 10, loss_weights={"pitch_onsets": 0.0, "pitch_frames": 2.0})
    logs = network.test_on_batch(x, y, return_dict=True)
    expected = (logs["drum_onsets_loss"] + train.LOSS_WEIGHTS["drum_velocity"]
                * logs["drum_velocity_loss"] + 2.0 * logs["pitch_frames_loss"])
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)


def test_loss_weight_option_rejects_unknown_heads_and_bad_numbers():
    import argparse

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(["--data", "d", "--out", "o", "--loss-weight", "beats=0.1"])
    assert dict(args.loss_weight) == {"beats": 0.1}
    for bad in ("pitch=1", "beats=x", "beats=-1"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--data", "d", "--out", "o", "--loss-weight", bad])


@pytest.mark.parametrize("option", ["--mixup-probability", "--remix-probability",
                                    "--rest-reverb-probability"])
def test_probability_options_refuse_values_outside_zero_to_one(option, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    assert getattr(parser.parse_args(["--data", "d", "--out", "o", option, "0.25"]),
                   option[2:].replace("-", "_")) == 0.25
    for bad in ("1.5", "-0.1", "half"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--data", "d", "--out", "o", option, bad])
        assert option in capsys.readouterr().err


def test_pitched_only_trains_the_pitched_branch_and_keeps_everything_else(toy_data, tmp_path):
    donor = model.build_model(lstm_units=8, front_filters=8)
    model.save_model(donor, tmp_path / "donor")
    (tmp_path / "donor" / model.PEAK_PICKING_FILE).write_text('{"KD": {"threshold": 0.42}}\n')
    out = tmp_path / "pitched"
    train.fit(toy_data, out, epochs=1, batch_size=2, steps_per_epoch=2, lstm_units=8,
              front_filters=8, frames=200, pitch_branch_units=6, pitched_only=True,
              learning_rate=1e-2, init_from=tmp_path / "donor")
    trained = model.load_model(out)
    assert "pitch_bilstm" in [layer.name for layer in trained.layers]
    for layer in trained.layers:
        if layer.weights and not model.is_pitched_layer(layer):
            for a, b in zip(donor.get_layer(layer.name).get_weights(), layer.get_weights(),
                            strict=True):
                np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).random((1, 120, trained.input_shape[-1])).astype(np.float32)
    before, after = donor.predict_on_batch(x), trained.predict_on_batch(x)
    np.testing.assert_array_equal(before["drum_onsets"], after["drum_onsets"])
    assert not np.allclose(before["pitch_onsets"], after["pitch_onsets"], atol=1e-3)
    numpy_network = runtime.NumpyNetwork(model.model_path(out))
    np.testing.assert_allclose(numpy_network.predict_on_batch(x)["pitch_frames"],
                               after["pitch_frames"], atol=1e-5)
    runs = pd.read_csv(out / train.RUNS_FILE)
    assert runs["pitched_only"].tolist() == [True]
    assert runs["pitch_branch_units"].tolist() == [6]
    assert (out / model.PEAK_PICKING_FILE).read_text() == '{"KD": {"threshold": 0.42}}\n'


def test_pitched_only_needs_a_model_to_start_from(toy_data, tmp_path, capsys):
    args = ["--data", str(toy_data), "--out", str(tmp_path / "m"), "--pitched-only"]
    assert train.main(args) == 2
    error = capsys.readouterr().err.strip()
    assert error == "drumtx train: error: --pitched-only needs --init-from"
    assert not (tmp_path / "m").exists()


def test_a_warm_started_pitched_branch_starts_from_the_donors_outputs():
    donor = model.build_model(lstm_units=6, front_filters=8, beat_head=True)
    rng = np.random.default_rng(4)
    for name in ("pitch_onsets", "pitch_frames"):  # trained-looking heads, not the initial ones
        head = donor.get_layer(name)
        head.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in head.weights])
    grown = model.build_model(lstm_units=6, front_filters=8, beat_head=True, pitch_branch_units=5)
    assert model.copy_matching_weights(donor, grown) == ["pitch_bilstm"]
    kernel = grown.get_layer("pitch_onsets").get_weights()[0]
    assert kernel.shape == (2 * 6 + 2 * 5, vocab.N_PITCHES) and not kernel[12:].any()
    x = rng.random((2, 90, donor.input_shape[-1])).astype(np.float32)
    before, after = donor.predict_on_batch(x), grown.predict_on_batch(x)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], atol=1e-6)
