"""Windowing: inference windows and stitching, training batches and targets."""

import numpy as np
import pandas as pd
import pytest

from drumtx import features, vocab, windows


class _FrameEcho:
    """A stand-in model: echoes the first input bin of every frame as its only output."""

    output_names = ["echo"]

    def __init__(self):
        self.batch_shapes = []

    def predict_on_batch(self, batch):
        self.batch_shapes.append(batch.shape)
        return {"echo": batch[..., :1] * 2.0}


@pytest.mark.parametrize("n_frames", [1, 137, windows.SEGMENT_FRAMES, 1234, 4001])
def test_stitching_reproduces_a_per_frame_signal(n_frames):
    signal = np.random.default_rng(n_frames).random((n_frames, 3)).astype(np.float32)
    model = _FrameEcho()
    out = windows.predict_activations(model, signal, batch_size=4)
    assert out["echo"].shape == (n_frames, 1)
    np.testing.assert_array_equal(out["echo"][:, 0], signal[:, 0] * 2.0)
    assert {shape for shape in model.batch_shapes} == {(4, windows.SEGMENT_FRAMES, 3)}


def test_windows_cover_every_frame_once():
    n_frames = 2100
    starts = windows.window_starts(n_frames)
    assert starts[0] == 0 and np.all(np.diff(starts) == windows.HOP_FRAMES)
    assert starts[-1] + windows.SEGMENT_FRAMES >= n_frames
    index = np.arange(n_frames, dtype=np.float32)[:, None]
    made, made_starts = windows.make_windows(index)
    np.testing.assert_array_equal(windows.stitch(made, made_starts, n_frames), index)


def test_drum_targets_are_widened_and_velocity_is_at_onsets():
    hits = pd.DataFrame({"onset_s": [0.10, 0.504], "cls": ["KD", "SD"], "velocity": [127, 64]})
    onsets, velocity = windows.drum_targets(hits, 100)
    kd, sd = vocab.CLASS_INDEX["KD"], vocab.CLASS_INDEX["SD"]
    np.testing.assert_allclose(onsets[9:12, kd], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(onsets[49:52, sd], [0.5, 1.0, 0.5])
    assert onsets.sum() == pytest.approx(4.0)
    assert velocity[10, kd] == pytest.approx(1.0) and velocity[50, sd] == pytest.approx(64 / 127)
    assert velocity[30].sum() == 0


def test_pitch_targets_mark_onsets_and_sounding_frames():
    notes = pd.DataFrame({"onset_s": [0.2], "offset_s": [0.5], "midi_pitch": [60]})
    onsets, frames = windows.pitch_targets(notes, 80)
    key = vocab.pitch_index(60)
    assert onsets[20, key] == 1.0 and frames[20:50, key].all() and not frames[50:, key].any()


def test_training_batches_have_the_documented_shapes(tmp_path):
    from drumtx.train import make_toy_data

    data = make_toy_data(tmp_path / "toy", {"train": 2}, seconds=3.0)
    pieces = windows.load_split(data, "train")
    assert (data / "features" / "train000.mix.npy").exists()
    batches = windows.TrainingWindows(pieces, batch_size=3, steps_per_epoch=2, frames=400, seed=5)
    x, y = batches[0]
    assert x.shape == (3, 400, features.N_FEATURE_BINS)
    assert y["drum_onsets"].shape == (3, 400, vocab.N_DRUM_CLASSES)
    assert y["drum_velocity"].shape == (3, 400, 2 * vocab.N_DRUM_CLASSES)
    assert y["pitch_frames"].shape == (3, 400, vocab.N_PITCHES)
    np.testing.assert_array_equal(batches[0][0], x)  # reproducible
    mask = y["drum_velocity"][..., vocab.N_DRUM_CLASSES :]
    np.testing.assert_array_equal(mask, (y["drum_onsets"] > 0).astype(np.float32))


def test_augment_keeps_shape_and_finite_values():
    rng = np.random.default_rng(0)
    feats = features.compute_features(rng.standard_normal(features.SAMPLE_RATE).astype(np.float32))
    out = windows.augment(feats, rng, drums=feats * 0.5)
    assert out.shape == feats.shape and np.isfinite(out).all() and (out >= 0).all()


def test_remixing_raises_the_rest_by_the_drawn_level():
    # a mix whose drums are silent: only the rest, of magnitude 1 in every band
    n_frames = 50
    mix = np.zeros((n_frames, features.N_FEATURE_BINS), np.float32)
    mix[:, : windows.N_SPECTRAL] = np.log10(2.0)
    drums = np.zeros_like(mix)

    def spectral(level_db, probability=1.0):
        rng = np.random.default_rng(7)  # the same draws for every level
        out = windows.augment(mix, rng, drums, probability, (level_db, level_db))
        return out[:, : windows.N_SPECTRAL]

    unchanged, louder = spectral(0.0), spectral(20.0)
    # 20 dB more rest: ten times the magnitude, through the same gain, tilt and noise
    ratio = (10.0 ** louder - 1.0) / (10.0 ** unchanged - 1.0)
    np.testing.assert_allclose(ratio, 10.0, rtol=0.05)
    np.testing.assert_array_equal(spectral(20.0, probability=0.0), spectral(0.0, probability=0.0))


def test_shift_bands_moves_the_spectrum_and_zero_fills():
    magnitude = np.arange(12, dtype=np.float32).reshape(2, 6)
    np.testing.assert_array_equal(windows.shift_bands(magnitude, 2)[0], [0, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(windows.shift_bands(magnitude, -1)[1], [7, 8, 9, 10, 11, 0])
    np.testing.assert_array_equal(windows.shift_bands(magnitude, 0), magnitude)


@pytest.mark.parametrize("mix_probability", [0.0, 1.0])
def test_pitched_targets_only_on_crops_of_the_mix(tmp_path, mix_probability):
    from drumtx.train import make_toy_data

    data = make_toy_data(tmp_path / "toy", {"train": 2}, seconds=3.0)
    pieces = windows.load_split(data, "train")
    assert all(piece.targets["pitch_frames"].any() for piece in pieces)
    batches = windows.TrainingWindows(
        pieces, batch_size=4, steps_per_epoch=1, frames=300, mix_probability=mix_probability
    )
    _, y = batches[0]
    assert y["drum_onsets"].any()
    for name in windows.PITCHED_HEADS:
        assert bool(y[name].any()) == (mix_probability == 1.0)


class _PositionEcho:
    """A stand-in model whose output is each frame's position inside its window."""

    output_names = ["position"]

    def predict_on_batch(self, batch):
        positions = np.arange(batch.shape[1], dtype=np.float32)
        return {"position": np.broadcast_to(positions[None, :, None], batch.shape[:2] + (1,))}


@pytest.mark.parametrize("n_frames", [1, 450, 901, 4001])
def test_streamed_prediction_takes_each_frame_from_the_same_window_as_stitch(n_frames):
    signal = np.zeros((n_frames, 2), dtype=np.float32)
    streamed = windows.predict_activations(_PositionEcho(), signal, batch_size=3)["position"]
    cut, starts = windows.make_windows(signal)
    whole = _PositionEcho().predict_on_batch(cut)["position"]
    np.testing.assert_array_equal(streamed, windows.stitch(whole, starts, n_frames))


def test_beat_targets_mark_beats_and_downbeats_widened():
    beats = pd.DataFrame({"time_s": [0.1, 0.6, 1.1, 1.6], "position": [1, 2, 3, 1]})
    target = windows.beat_targets(beats, 200)
    assert target.shape == (200, 2)
    assert target[[10, 60, 110, 160], 0].tolist() == [1.0] * 4
    assert target[[10, 160], 1].tolist() == [1.0, 1.0] and target[60, 1] == 0.0
    assert target[9, 0] == windows.ONSET_NEIGHBOUR_WEIGHT and target[161, 1] == 0.5
    assert target[30].sum() == 0


def test_beat_targets_are_masked_for_pieces_without_beat_labels(tmp_path):
    from drumtx.train import make_toy_data

    data = make_toy_data(tmp_path / "toy", {"train": 2}, seconds=3.0)
    pd.DataFrame({"time_s": np.arange(0.2, 2.9, 0.5), "position": [1, 2, 3, 4, 1, 2]}).to_csv(
        data / "labels" / "train000.beats.tsv", sep="\t", index=False
    )
    pieces = windows.load_split(data, "train")
    assert [piece.has_beats for piece in pieces] == [True, False]
    assert not pieces[1].targets["beats"].any()
    batches = windows.TrainingWindows(
        pieces, batch_size=8, steps_per_epoch=1, frames=400, seed=2, beats=True
    )
    x, y = batches[0]
    assert y["beats"].shape == (8, 400, 3)
    mask = y["beats"][..., 2]
    assert set(np.unique(mask)) == {0.0, 1.0}
    for item in range(8):  # a crop is labelled (on its real frames) or not at all
        labelled = mask[item] > 0
        assert (y["beats"][item, ~labelled, :2] == 0).all()
        if labelled.any():
            assert y["beats"][item, labelled, 0].max() == 1.0
    assert "beats" not in windows.TrainingWindows(pieces, batch_size=2, frames=100)[0][1]


def test_drum_stem_target_follows_the_drums_through_augmentation(monkeypatch):
    monkeypatch.setattr(windows, "NOISE_PROBABILITY", 0.0)
    rng = np.random.default_rng(3)
    drums = features.compute_features(rng.standard_normal(features.SAMPLE_RATE).astype(np.float32))
    # a mix that is the drums alone: the target is exactly the augmented crop's spectral half
    out, stem = windows.augment(drums, np.random.default_rng(1), drums, return_drum_stem=True)
    assert stem.shape == (len(drums), windows.N_SPECTRAL)
    np.testing.assert_allclose(stem, out[:, : windows.N_SPECTRAL], atol=1e-5)
    # with a rest under it, the mix is louder than the drums in every bin, the target is not
    mix = drums.copy()
    mix[:, : windows.N_SPECTRAL] += 0.3
    out, stem = windows.augment(mix, np.random.default_rng(1), drums, return_drum_stem=True)
    assert (out[:, : windows.N_SPECTRAL] > stem + 1e-4).all()
    # the same draws as without the target: the training crops do not change
    plain = windows.augment(mix, np.random.default_rng(1), drums)
    np.testing.assert_array_equal(plain, out)


@pytest.mark.parametrize("augment_features", [False, True])
def test_drum_stem_targets_are_the_drums_and_masked_on_padding(tmp_path, augment_features):
    from drumtx.train import make_toy_data

    data = make_toy_data(tmp_path / "toy", {"train": 1}, seconds=2.0)
    pieces = windows.load_split(data, "train")
    n_frames = pieces[0].n_frames
    batches = windows.TrainingWindows(
        pieces, batch_size=4, steps_per_epoch=1, frames=n_frames + 20, mix_probability=0.5,
        augment_features=augment_features, stem_targets=True, seed=2,
    )
    x, y = batches[0]
    stem = y[windows.STEM_HEAD]
    assert stem.shape == (4, n_frames + 20, windows.N_SPECTRAL + 1)
    np.testing.assert_array_equal(stem[:, :n_frames, -1], 1.0)
    np.testing.assert_array_equal(stem[:, n_frames:], 0.0)
    drums = pieces[0].feats["drums"][:, : windows.N_SPECTRAL].astype(np.float32)
    is_stem_crop = [
        np.allclose(x[item, :n_frames, : windows.N_SPECTRAL], stem[item, :n_frames, :-1], atol=1e-5)
        for item in range(4)
    ]
    assert any(is_stem_crop) and not all(is_stem_crop)  # both sources drawn
    if not augment_features:
        for item in range(4):
            np.testing.assert_array_equal(stem[item, :n_frames, :-1], drums)


def test_reverberate_keeps_the_power_and_decays_60_db_in_rt60():
    power = np.zeros((400, 2), np.float32)
    power[10] = [1.0, 4.0]
    smeared = windows.reverberate_power(power, rt60_s=1.0, wet=0.5)
    np.testing.assert_allclose(smeared.sum(axis=0), [1.0, 4.0], rtol=1e-5)
    one_second = features.FRAMES_PER_SECOND
    tail = smeared[11 + one_second] / smeared[11]
    np.testing.assert_allclose(tail, 1e-6, rtol=0.05)
    np.testing.assert_array_equal(windows.reverberate_power(power, 1.0, 0.0), power)


def test_rest_reverb_smears_only_the_rest_of_a_mix(monkeypatch):
    monkeypatch.setattr(windows, "NOISE_PROBABILITY", 0.0)
    n_frames = 200
    drums = np.zeros((n_frames, features.N_FEATURE_BINS), np.float32)
    drums[50, : windows.N_SPECTRAL] = 1.0  # one drum hit
    mix = drums.copy()
    mix[20, : windows.N_SPECTRAL] = 1.5  # one loud chord before it

    def spectral(probability, drum_part):
        rng = np.random.default_rng(4)
        out = windows.augment(mix, rng, drum_part, 0.0, rest_reverb_probability=probability)
        return out[:, : windows.N_SPECTRAL]

    dry, wet = spectral(0.0, drums), spectral(1.0, drums)
    assert (dry[21:50] < 1e-6).all() and (wet[21:50] > 1e-3).all()  # the chord rings on
    assert (wet[50] >= dry[50] - 1e-6).all() and (wet[50] > wet[49] + 0.1).all()  # the hit stands
    # a drum-stem crop (no drums given) is never smeared
    np.testing.assert_array_equal(
        windows.augment(drums, np.random.default_rng(4), None, rest_reverb_probability=1.0),
        windows.augment(drums, np.random.default_rng(4), None),
    )


def _crop(frames, spectral_value, onsets_at, stem_known=True, beats_known=True):
    """A hand-made crop: flat spectrum, drum onsets of class 0 at the given frames."""
    spectral = np.full((frames, windows.N_SPECTRAL), spectral_value, np.float32)
    targets = {name: np.zeros((frames, size), np.float32)
               for name, size in windows.OUTPUT_SIZES.items()}
    targets["drum_onsets"][onsets_at, 0] = 1.0
    targets["drum_velocity"][onsets_at, 0] = 0.5
    stem = np.zeros((frames, windows.N_SPECTRAL + 1), np.float32)
    if stem_known:
        stem[:, : windows.N_SPECTRAL] = spectral
        stem[:, -1] = 1.0
    beats = np.zeros((frames, 3), np.float32)
    if beats_known:
        beats[::4, 0], beats[:, 2] = 1.0, 1.0
    return windows.Crop(
        features=np.concatenate([spectral, features.positive_flux(spectral)], axis=1),
        targets=targets,
        beats=beats,
        stem=stem,
    )


def test_mixed_crops_add_in_power_and_keep_both_songs_notes():
    first = _crop(10, np.log10(1.0 + 3.0), [2])  # magnitude 3
    second = _crop(10, np.log10(1.0 + 2.0), [2, 7], stem_known=False)  # magnitude 2
    mixed = windows.mix_crops(first, second, second_db=20.0 * np.log10(2.0))  # second x2: 4
    spectral = mixed.features[:, : windows.N_SPECTRAL]
    np.testing.assert_allclose(spectral, np.log10(1.0 + 5.0), rtol=1e-5)  # sqrt(3² + 4²)
    np.testing.assert_array_equal(mixed.features[:, windows.N_SPECTRAL :], 0.0)  # flat: no flux
    assert np.flatnonzero(mixed.targets["drum_onsets"][:, 0]).tolist() == [2, 7]
    assert mixed.targets["drum_velocity"][7, 0] == 0.5
    assert not mixed.beats.any()  # two songs' grids: beat labels masked
    assert not mixed.stem.any()  # the second crop's drums are unknown: stem target masked
    both_stems = windows.mix_crops(first, _crop(10, np.log10(1.0 + 4.0), []), 0.0)
    np.testing.assert_allclose(both_stems.stem[:, :-1], np.log10(1.0 + 5.0), rtol=1e-5)
    np.testing.assert_array_equal(both_stems.stem[:, -1], 1.0)


@pytest.mark.parametrize("mixup_probability", [0.0, 1.0])
def test_mixup_sums_every_crop_or_none(tmp_path, monkeypatch, mixup_probability):
    from drumtx.train import make_toy_data

    data = make_toy_data(tmp_path / "toy", {"train": 2}, seconds=3.0)
    pieces = windows.load_split(data, "train")
    calls = []
    real_mix = windows.mix_crops

    def counting_mix(first, second, second_db):
        calls.append(second_db)
        return real_mix(first, second, second_db)

    monkeypatch.setattr(windows, "mix_crops", counting_mix)
    plain = windows.TrainingWindows(pieces, batch_size=4, steps_per_epoch=1, frames=300, seed=3)
    mixed = windows.TrainingWindows(
        pieces, batch_size=4, steps_per_epoch=1, frames=300, seed=3,
        mixup_probability=mixup_probability,
    )
    x_plain, y_plain = plain[0]
    x_mixed, y_mixed = mixed[0]
    assert len(calls) == 4 * mixup_probability
    assert all(windows.MIXUP_DB_RANGE[0] <= db <= windows.MIXUP_DB_RANGE[1] for db in calls)
    if mixup_probability == 0:  # no draws: the crops of runs without mixup
        np.testing.assert_array_equal(x_mixed, x_plain)
    else:  # the first item starts from the same crop as without mixup: it keeps its notes
        assert (y_mixed["drum_onsets"][0] >= y_plain["drum_onsets"][0]).all()
        spectral = slice(0, windows.N_SPECTRAL)
        assert (x_mixed[0, :, spectral] >= x_plain[0, :, spectral] - 1e-5).all()
        assert not np.array_equal(x_mixed[0], x_plain[0])
        mask = y_mixed["drum_velocity"][..., vocab.N_DRUM_CLASSES :]
        np.testing.assert_array_equal(mask, (y_mixed["drum_onsets"] > 0).astype(np.float32))
