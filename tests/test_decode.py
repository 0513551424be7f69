import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drumtx import decode, vocab
from drumtx._madmom import import_madmom
from drumtx.decode import PeakPickingParams, peak_frames

FPS = 100


def curve_with_peaks(n_frames: int, peaks: dict[int, float], width: int = 2) -> np.ndarray:
    """A smooth activation curve with triangular peaks of given heights."""
    curve = np.zeros(n_frames)
    for centre, height in peaks.items():
        for offset in range(-width, width + 1):
            if 0 <= centre + offset < n_frames:
                value = height * (1 - abs(offset) / (width + 1))
                curve[centre + offset] = max(curve[centre + offset], value)
    return curve


def test_exact_hits_on_hand_made_activations():
    curve = curve_with_peaks(300, {20: 0.9, 80: 0.6, 150: 0.2, 220: 0.95})
    params = PeakPickingParams(threshold=0.3)
    assert peak_frames(curve, params, FPS).tolist() == [20, 80, 220]


def test_threshold_is_relative_to_the_moving_average():
    # A loud sustained plateau with a small bump: the bump rises 0.2 above its surroundings.
    curve = np.full(200, 0.7)
    curve[100] = 0.9
    low = PeakPickingParams(threshold=0.1)
    high = PeakPickingParams(threshold=0.3)
    assert 100 in peak_frames(curve, low, FPS).tolist()
    assert 100 not in peak_frames(curve, high, FPS).tolist()


def test_minimum_gap_merges_close_hits_and_keeps_the_first():
    curve = np.zeros(100)
    curve[[40, 42, 60]] = [0.9, 0.95, 0.9]
    params = PeakPickingParams(threshold=0.3, pre_max_s=0.0, post_max_s=0.0, combine_s=0.03)
    assert peak_frames(curve, params, FPS).tolist() == [40, 60]
    wide = PeakPickingParams(threshold=0.3, pre_max_s=0.0, post_max_s=0.0, combine_s=0.25)
    assert peak_frames(curve, wide, FPS).tolist() == [40]


def test_empty_and_silent_inputs():
    assert peak_frames(np.zeros(0)).tolist() == []
    assert peak_frames(np.zeros(500)).tolist() == []


@pytest.mark.parametrize("seed", range(5))
def test_matches_madmom_peak_picking(seed):
    madmom = import_madmom()
    from madmom.features.onsets import OnsetPeakPickingProcessor

    rng = np.random.default_rng(seed)
    curve = np.clip(rng.random(1000) ** 6 + 0.05 * rng.standard_normal(1000), 0, 1)
    params = PeakPickingParams(
        threshold=0.3, pre_avg_s=0.1, post_avg_s=0.03, pre_max_s=0.03, post_max_s=0.01,
        combine_s=0.03,
    )
    reference = OnsetPeakPickingProcessor(
        threshold=params.threshold, pre_avg=params.pre_avg_s, post_avg=params.post_avg_s,
        pre_max=params.pre_max_s, post_max=params.post_max_s, combine=params.combine_s, fps=FPS,
    )(curve)
    assert madmom.__name__ == "madmom"
    ours = peak_frames(curve, params, FPS) / FPS
    edge_s = params.pre_avg_s + params.combine_s
    inner = (reference > edge_s) & (reference < len(curve) / FPS - edge_s)
    np.testing.assert_allclose(ours[(ours > edge_s) & (ours < len(curve) / FPS - edge_s)],
                               reference[inner])
    assert inner.sum() > 10


def test_constant_activation_gives_no_hits_even_at_the_edges():
    for level in (0.0, 0.2, 0.6, 1.0):
        assert peak_frames(np.full(300, level), PeakPickingParams(threshold=0.05)).tolist() == []


def test_pick_drum_hits_per_class_with_velocity():
    n_frames = 200
    onsets = np.zeros((n_frames, vocab.N_DRUM_CLASSES))
    velocity = np.zeros_like(onsets)
    kd, chh = vocab.CLASS_INDEX["KD"], vocab.CLASS_INDEX["CHH"]
    onsets[[10, 110], kd] = 0.9
    velocity[[10, 110], kd] = [1.0, 0.5]
    onsets[60, chh] = 0.8
    velocity[60, chh] = 0.25
    hits = decode.pick_drum_hits({"drum_onsets": onsets, "drum_velocity": velocity})
    assert hits["cls"].tolist() == ["KD", "CHH", "KD"]
    np.testing.assert_allclose(hits["time_s"], [0.10, 0.60, 1.10])
    assert hits["velocity"].tolist() == [127, 32, 64]


def test_per_class_thresholds_override():
    onsets = np.zeros((100, vocab.N_DRUM_CLASSES))
    onsets[50, vocab.CLASS_INDEX["SD"]] = 0.4
    strict = decode.pick_drum_hits({"drum_onsets": onsets}, {"SD": PeakPickingParams(0.5)})
    assert len(strict) == 0
    loose = decode.with_thresholds({"SD": PeakPickingParams(0.5)}, {"SD": 0.2})
    hits = decode.pick_drum_hits({"drum_onsets": onsets}, loose)
    assert hits["cls"].tolist() == ["SD"] and hits["velocity"].tolist() == [100]


def test_sensitivity_divides_every_threshold_within_bounds():
    params = {"SD": PeakPickingParams(0.5, pre_avg_s=0.0), "KD": PeakPickingParams(0.3)}
    doubled = decode.with_sensitivity(params, 2.0)
    assert doubled["SD"] == PeakPickingParams(0.25, pre_avg_s=0.0)  # other fields kept
    assert doubled["KD"].threshold == pytest.approx(0.15)
    assert set(doubled) == set(vocab.DRUM_CLASSES)  # classes left to the defaults scale too
    assert doubled["CR"].threshold == pytest.approx(decode.DEFAULT_PEAK_PICKING.threshold / 2)
    assert decode.with_sensitivity(params, 100.0)["SD"].threshold == decode.MIN_SCALED_THRESHOLD
    assert decode.with_sensitivity(params, 0.1)["KD"].threshold == decode.MAX_SCALED_THRESHOLD
    assert decode.with_sensitivity(params, 1.0) == params
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="sensitivity"):
            decode.with_sensitivity(params, bad)


def test_sensitivity_finds_a_quiet_hit_and_drops_a_weak_one():
    onsets = np.zeros((300, vocab.N_DRUM_CLASSES))
    sd = vocab.CLASS_INDEX["SD"]
    onsets[:, sd] = curve_with_peaks(300, {50: 0.9, 150: 0.3, 250: 0.6})
    params = {"SD": PeakPickingParams(0.5, pre_avg_s=0.0, post_avg_s=0.0)}  # plain threshold

    def frames(sensitivity):
        picked = decode.pick_drum_hits({"drum_onsets": onsets}, decode.with_sensitivity(
            params, sensitivity))
        return np.round(picked["time_s"].to_numpy() * FPS).astype(int).tolist()

    assert frames(1.0) == [50, 250]
    assert frames(2.0) == [50, 150, 250]  # threshold 0.25: the quiet hit too
    assert frames(0.6) == [50]  # threshold 0.83


def test_peak_picking_parameters_round_trip(tmp_path):
    params = {"KD": PeakPickingParams(0.42, combine_s=0.05), "RB": PeakPickingParams(0.7)}
    path = tmp_path / "peak_picking.json"
    decode.save_peak_picking(params, path)
    assert decode.load_peak_picking(path) == params
    assert decode.load_note_thresholds(path) == decode.NoteThresholds()  # none stored
    notes = decode.NoteThresholds(onset_threshold=0.15, frame_threshold=0.4)
    decode.save_peak_picking(params, path, notes)
    assert decode.load_peak_picking(path) == params
    assert decode.load_note_thresholds(path) == notes


def test_pitched_notes_from_onsets_and_frames():
    n_frames = 300
    onsets = np.zeros((n_frames, vocab.N_PITCHES))
    frames = np.zeros_like(onsets)
    c4 = vocab.pitch_index(60)
    onsets[50, c4] = 0.9
    frames[50:120, c4] = 0.8
    onsets[200, c4] = 0.7  # a re-attack: its own note, frames only one frame long
    frames[200, c4] = 0.8
    notes = decode.pick_pitched_notes({"pitch_onsets": onsets, "pitch_frames": frames})
    assert notes["pitch"].tolist() == [60, 60]
    np.testing.assert_allclose(notes["onset_s"], [0.5, 2.0])
    np.testing.assert_allclose(notes["offset_s"], [1.2, 2.0 + decode.MIN_NOTE_FRAMES / FPS])


activation_curves = st.lists(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=0, max_size=400
).map(np.asarray)
peak_params = st.builds(
    PeakPickingParams,
    threshold=st.floats(0.01, 0.99),
    pre_avg_s=st.sampled_from([0.0, 0.05, 0.1]),
    post_avg_s=st.sampled_from([0.0, 0.03]),
    pre_max_s=st.sampled_from([0.0, 0.01, 0.03]),
    post_max_s=st.sampled_from([0.0, 0.01, 0.03]),
    combine_s=st.sampled_from([0.0, 0.02, 0.05, 0.2]),
)


@settings(max_examples=300, deadline=None)
@given(curve=activation_curves, params=peak_params)
def test_peaks_are_sorted_in_range_spaced_and_above_threshold(curve, params):
    frames = peak_frames(curve, params, FPS)
    assert frames.dtype == np.int64
    assert np.all((frames >= 0) & (frames < len(curve)))
    assert np.all(np.diff(frames) > params.combine_s * FPS)
    assert np.all(curve[frames] >= params.threshold)


@settings(max_examples=100, deadline=None)
@given(curve=activation_curves, params=peak_params, scale=st.floats(0.0, 1.0))
@example(  # frame 10 was masked by the stronger peak at 8, which the higher threshold drops
    curve=np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0.9375, 0, 0.875, 0]),
    params=PeakPickingParams(0.5, pre_avg_s=0.1, post_avg_s=0.03, pre_max_s=0.03,
                             post_max_s=0.0, combine_s=0.0),
    scale=0.25,
)
def test_raising_the_threshold_adds_only_peaks_a_dropped_peak_masked(curve, params, scale):
    # As in madmom, the local maximum is taken over the thresholded activation, so a peak
    # that falls below a higher threshold can unmask a weaker neighbour inside its window.
    plain = PeakPickingParams(**{**params.__dict__, "combine_s": 0.0})
    higher = PeakPickingParams(
        **{**plain.__dict__, "threshold": plain.threshold + (1 - plain.threshold) * scale}
    )
    low, high = set(peak_frames(curve, plain, FPS)), set(peak_frames(curve, higher, FPS))
    dropped = low - high
    pre_max, post_max = round(plain.pre_max_s * FPS), round(plain.post_max_s * FPS)
    for frame in high - low:
        assert any(frame - pre_max <= peak <= frame + post_max for peak in dropped)


def _spikes(peaks: dict[str, list[tuple[int, float]]], n_frames: int = 300) -> np.ndarray:
    """Drum-onset activations with a single-frame peak of the given height per (class, frame)."""
    onsets = np.zeros((n_frames, vocab.N_DRUM_CLASSES), dtype=np.float32)
    for cls, spikes in peaks.items():
        for frame, height in spikes:
            onsets[frame, vocab.CLASS_INDEX[cls]] = height
    return onsets


def test_one_hihat_state_at_an_instant_the_strongest_kept():
    onsets = _spikes({"CHH": [(50, 0.5), (150, 0.9)], "OHH": [(50, 0.9), (151, 0.5)],
                      "PHH": [(52, 0.6), (250, 0.6)], "KD": [(50, 0.9)]})
    hits = decode.pick_drum_hits({"drum_onsets": onsets})
    as_found = [(round(t * 100), c) for t, c in zip(hits["time_s"], hits["cls"], strict=True)]
    assert as_found == [(50, "KD"), (50, "OHH"), (150, "CHH"), (250, "PHH")]
    every_peak = decode.pick_drum_hits({"drum_onsets": onsets}, playable=False)
    assert len(every_peak) == 7


def test_at_most_two_hands_and_a_ride_with_a_crash_only_when_both_are_clear():
    params = {cls: PeakPickingParams(threshold=0.2) for cls in vocab.DRUM_CLASSES}
    onsets = _spikes({"SD": [(40, 0.9)], "HT": [(40, 0.5)], "CR": [(41, 0.7), (140, 0.9)],
                      "RD": [(140, 0.3), (240, 0.9)], "CHH": [(240, 0.8)], "KD": [(240, 0.9)]})
    hits = decode.pick_drum_hits({"drum_onsets": onsets}, params)
    found = {(round(t * 100), c) for t, c in zip(hits["time_s"], hits["cls"], strict=True)}
    # three hands at 40: the weakest (the tom) goes; a weak ride under a crash at 140 goes
    assert found == {(40, "SD"), (41, "CR"), (140, "CR"), (240, "RD"), (240, "CHH"),
                     (240, "KD")}
    onsets = _spikes({"CR": [(140, 0.9)], "RD": [(140, 0.5)]})
    both = decode.pick_drum_hits({"drum_onsets": onsets}, params)
    assert list(both["cls"]) == ["CR", "RD"]  # both at least twice their threshold


def test_playable_hits_keep_every_hit_that_two_hands_and_two_feet_can_play():
    rng = np.random.default_rng(0)
    hands = [c for c in vocab.DRUM_CLASSES if vocab.DRUM_BY_NAME[c].voice == vocab.HANDS_VOICE
             and c not in decode.HIHAT_CLASSES + decode.CRASH_CLASSES + decode.RIDE_CLASSES]
    for _ in range(20):
        times = np.sort(rng.choice(np.arange(0, 50.0, 0.1), 40, replace=False))
        classes = np.array([hands[i] for i in rng.integers(len(hands), size=40)])
        strengths = rng.uniform(1, 3, 40)
        assert decode.playable_mask(times, classes, strengths).all()  # one hand at a time
