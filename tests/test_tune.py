"""Peak-picking tuning finds the best threshold on hand-made activations."""

import numpy as np
import pandas as pd
import pytest

from drumtx import decode, tune, vocab


def _activation(n_frames, peaks):
    curve = np.zeros(n_frames)
    for frame, height in peaks:
        curve[frame] = height
    return curve


def test_tune_class_picks_the_threshold_between_true_and_false_peaks():
    # true hits peak at 0.6-0.8, spurious peaks at 0.3: any threshold in (0.3, 0.6] is perfect
    true_frames = [20, 60, 100, 140]
    activation = _activation(
        200, [(20, 0.8), (60, 0.6), (100, 0.7), (140, 0.65), (40, 0.3), (80, 0.3)]
    )
    grid = tune.parameter_grid(thresholds=(0.1, 0.2, 0.4, 0.7), pre_avg_s=(0.0,))
    params, counts = tune.tune_class([activation], [np.array(true_frames) / 100], grid)
    assert params.threshold == pytest.approx(0.4)
    assert (counts.tp, counts.n_ref, counts.n_est) == (4, 4, 4)


def test_tune_activations_tunes_each_class_and_skips_classes_of_unseen_groups():
    onsets = np.zeros((300, vocab.N_DRUM_CLASSES))
    kd, sd = vocab.CLASS_INDEX["KD"], vocab.CLASS_INDEX["SD"]
    onsets[[50, 150], kd] = 0.9
    onsets[[250], kd] = 0.5  # a false kick
    onsets[[100, 200], sd] = 0.3
    reference = pd.DataFrame({"time_s": [0.5, 1.5, 1.0, 2.0], "cls": ["KD", "KD", "SD", "SD"]})
    grid = tune.parameter_grid(thresholds=(0.2, 0.6), pre_avg_s=(0.0,))
    params, table = tune.tune_activations([{"drum_onsets": onsets}], [reference], grid)
    # side stick has no hits but its group (SD) has: tuned on the group, silent there
    assert set(params) == {"KD", "SD", "SS"}
    assert params["KD"].threshold == pytest.approx(0.6)
    assert params["SD"].threshold == pytest.approx(0.2)
    assert params["SS"].threshold == pytest.approx(0.6)  # of equals, the highest threshold
    rows = table.set_index("class")
    assert rows["tuned_on"].tolist() == ["KD", "SD", "SD"]
    assert rows["f"].tolist() == [1.0, 1.0, 1.0]
    picked = decode.pick_drum_hits({"drum_onsets": onsets}, params)
    assert len(picked) == 4


def _cymbal_case():
    """Crash hits at 0.5 and 1.5 s; the china/splash fires at 1.0 s (on a ride hit that the
    ride class misses) at 0.7, and falsely at 2.0 and 2.5 s at 0.4."""
    onsets = np.zeros((300, vocab.N_DRUM_CLASSES))
    crash, china = vocab.CLASS_INDEX["CR"], vocab.CLASS_INDEX["CS"]
    onsets[[50, 150], crash] = 0.9
    onsets[[100], china] = 0.7
    onsets[[200, 250], china] = 0.4
    reference = pd.DataFrame({"time_s": [0.5, 1.5, 1.0], "cls": ["CR", "CR", "RD"]})
    return onsets, reference


def test_a_class_without_hits_is_tuned_on_its_group():
    onsets, reference = _cymbal_case()
    grid = tune.parameter_grid(thresholds=(0.2, 0.5, 0.8), pre_avg_s=(0.0,))
    params, table = tune.tune_activations([{"drum_onsets": onsets}], [reference], grid)
    # 0.5 keeps the china hit on the ride (counted in CY+RD) and drops the false ones
    assert params["CS"].threshold == pytest.approx(0.5)
    row = table.set_index("class").loc["CS"]
    assert row["tuned_on"] == "CY+RD"
    assert (row["tp"], row["n_ref"], row["n_est"]) == (3, 3, 3)
    # the ride bell, never fired, is tuned too: all thresholds tie, the highest is kept
    assert params["RB"].threshold == pytest.approx(0.8)


def test_tune_in_group_merges_hits_of_the_group_within_the_merge_window():
    activation = _activation(300, [(101, 0.9), (200, 0.9)])
    fixed = np.array([1.0])  # another member's hit 10 ms before this class's first one
    grid = tune.parameter_grid(thresholds=(0.5,), pre_avg_s=(0.0,))
    _, counts = tune.tune_in_group([activation], [fixed], [np.array([1.0])], grid)
    assert (counts.tp, counts.n_ref, counts.n_est) == (1, 1, 2)  # 1.0 and 1.01 s are one hit


def test_tune_notes_picks_the_onset_threshold_that_keeps_true_notes_only():
    n_frames = 400
    onsets = np.zeros((n_frames, vocab.N_PITCHES))
    frames = np.zeros_like(onsets)
    c4, e4 = vocab.pitch_index(60), vocab.pitch_index(64)
    for start in (50, 150, 250):  # true notes: onset peaks at 0.25, frames held 0.6 s
        onsets[start, c4] = 0.25
        frames[start : start + 60, c4] = 0.45
    onsets[100, e4] = 0.15  # a spurious note, weaker than every true one
    frames[100:110, e4] = 0.45
    reference = pd.DataFrame(
        {"onset_s": [0.5, 1.5, 2.5], "offset_s": [1.1, 2.1, 3.1], "midi_pitch": [60, 60, 60]}
    )
    activations = {"pitch_onsets": onsets, "pitch_frames": frames}
    best, counts = tune.tune_notes(
        [activations], [reference], onset_thresholds=(0.1, 0.2, 0.3), frame_thresholds=(0.3, 0.5)
    )
    assert best == decode.NoteThresholds(onset_threshold=0.2, frame_threshold=0.3)
    assert (counts.tp, counts.n_ref, counts.n_est) == (3, 3, 3)


def test_notes_only_keeps_the_drum_peak_picking_and_writes_note_thresholds(tmp_path):
    from drumtx import model, runtime, train

    data = train.make_toy_data(tmp_path / "toy", {"train": 1, "val": 1}, seconds=4.0)
    model_dir = tmp_path / "model"
    model.save_model(model.build_model(lstm_units=4, front_filters=4), model_dir)
    drums = {name: decode.PeakPickingParams(threshold=0.123) for name in vocab.DRUM_CLASSES}
    path = model_dir / runtime.PEAK_PICKING_FILE
    decode.save_peak_picking(drums, path, decode.NoteThresholds(0.9, 0.9))
    _, table = tune.tune(model_dir, data, notes_only=True)
    assert table["class"].tolist() == ["notes"]
    assert decode.load_peak_picking(path) == drums
    notes = decode.load_note_thresholds(path)
    assert notes.onset_threshold == table["threshold"].iloc[0]
    assert notes.onset_threshold in tune.NOTE_ONSET_THRESHOLDS
    assert notes.frame_threshold in tune.NOTE_FRAME_THRESHOLDS


def test_notes_only_refuses_a_model_without_drum_peak_picking(tmp_path):
    from drumtx import model
    from drumtx.errors import DrumtxError

    model.save_model(model.build_model(lstm_units=4, front_filters=4), tmp_path / "m")
    with pytest.raises(DrumtxError, match="no drum peak picking to keep"):
        tune.tune(tmp_path / "m", tmp_path / "no-data", notes_only=True)
    assert not (tmp_path / "m" / "peak_picking.json").exists()


def test_a_class_with_few_hits_in_its_group_is_tuned_on_the_group():
    onsets, reference = _cymbal_case()
    rides = pd.DataFrame({"time_s": np.arange(3.0, 23.0, 0.5), "cls": "RD"})
    bell = pd.DataFrame({"time_s": [1.0], "cls": ["RB"]})
    reference = pd.concat([reference[reference["cls"] == "CR"], rides, bell], ignore_index=True)
    onsets = np.concatenate([onsets, np.zeros((2000, vocab.N_DRUM_CLASSES))])
    onsets[:, vocab.CLASS_INDEX["CS"]] = 0.0  # only the bell head may find the bell
    bell_index, ride_index = vocab.CLASS_INDEX["RB"], vocab.CLASS_INDEX["RD"]
    onsets[(reference.loc[reference["cls"] == "RD", "time_s"] * 100).astype(int), ride_index] = 0.9
    onsets[100, bell_index] = 0.7  # the one bell
    onsets[np.arange(400, 2300, 50), bell_index] = 0.3  # the bell head firing on the ride
    grid = tune.parameter_grid(thresholds=(0.2, 0.5, 0.8), pre_avg_s=(0.0,))
    share = 1 / (len(reference))
    assert share < tune.MIN_GROUP_SHARE
    params, table = tune.tune_activations([{"drum_onsets": onsets}], [reference], grid)
    assert table.set_index("class").loc["RB", "tuned_on"] == "CY+RD"
    # tuned on the group it still finds its one bell and stays quiet on the ride
    assert params["RB"].threshold == pytest.approx(0.5)
