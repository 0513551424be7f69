"""Beats, tempo and metre from madmom on synthetic drum audio, and the grid maths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drumtx import rhythm
from drumtx.quantize import DIVISION, quantize
from drumtx.transcription import Transcription, make_drums

SAMPLE_RATE = 44100
TEMPO_TOLERANCE = 0.02
GRID_ACCURACY = 0.95
BARS = 12

# Grooves: (tracked beats per bar, grid steps per beat, [(class, beat, step), ...]).
GROOVES = {
    "rock 4/4": (
        4,
        4,
        [("KD", 0, 0), ("KD", 2, 0), ("KD", 2, 2), ("SD", 1, 0), ("SD", 3, 0), ("SD", 3, 3)]
        + [("CHH", beat, step) for beat in range(4) for step in (0, 2)],
    ),
    "waltz 3/4": (
        3,
        4,
        [("KD", 0, 0), ("SD", 1, 0), ("SD", 2, 0)]
        + [("CHH", beat, step) for beat in range(3) for step in (0, 2)],
    ),
    "shuffle 4/4": (
        4,
        3,
        [("KD", 0, 0), ("KD", 0, 2), ("KD", 2, 2), ("SD", 1, 0), ("SD", 3, 0)]
        + [("CHH", beat, step) for beat in range(4) for step in (0, 2)],
    ),
    "6/8": (
        2,
        3,
        [("KD", 0, 0), ("SD", 1, 0), ("KD", 1, 2)]
        + [("CHH", beat, step) for beat in range(2) for step in range(3)],
    ),
}


def _kick(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.25 * SAMPLE_RATE)) / SAMPLE_RATE
    frequency = 50 + 100 * np.exp(-t * 40)
    return np.sin(2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE) * np.exp(-t * 14)


def _snare(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
    noise = 0.6 * rng.standard_normal(len(t)) * np.exp(-t * 25)
    return noise + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30)


def _hat(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.06 * SAMPLE_RATE)) / SAMPLE_RATE
    return 0.3 * np.diff(rng.standard_normal(len(t)), prepend=0.0) * np.exp(-t * 80)


SOUNDS = {"KD": _kick, "SD": _snare, "CHH": _hat}


def synthesize(groove: str, bpm: float, end_bpm: float | None = None, seed: int = 0):
    """Audio of a groove (tempo ramping linearly to ``end_bpm``) and its true hits.

    Returns the audio, a drum table and the truth as ``(bar, tick in bar, class)`` per hit
    (ticks of a 6/8 bar count eighth notes of 240 ticks).
    """
    rng = np.random.default_rng(seed)
    beats_per_bar, steps, pattern = GROOVES[groove]
    n_beats = BARS * beats_per_bar
    bpms = np.linspace(bpm, end_bpm or bpm, n_beats + 1)
    beat_times = np.concatenate([[0.0], np.cumsum(60.0 / bpms[:-1])])
    audio = np.zeros(int((beat_times[-1] + 1.0) * SAMPLE_RATE))
    times, classes, truth = [], [], []
    for bar in range(BARS):
        for cls, beat, step in pattern:
            index = bar * beats_per_bar + beat
            time = beat_times[index] + (beat_times[index + 1] - beat_times[index]) * step / steps
            sound = SOUNDS[cls](rng) * rng.uniform(0.7, 1.0)
            start = int(time * SAMPLE_RATE)
            audio[start : start + len(sound)] += sound[: len(audio) - start]
            times.append(time)
            classes.append(cls)
            tick = (beat * DIVISION * steps + step * DIVISION) // steps
            if groove == "6/8":
                tick = (beat * 3 + step) * DIVISION // 2
            truth.append((bar, tick, cls))
    audio = (audio / np.abs(audio).max() * 0.8).astype(np.float32)
    drums = make_drums(times, classes, np.full(len(times), 100))
    return audio, drums, truth


def grid_accuracy(transcription: Transcription, truth: list[tuple[int, int, str]]) -> float:
    """Share of true hits found in the right bar at the right grid position."""
    score = quantize(transcription)
    placed = set()
    for row in score.hits.to_dict("records"):
        measure = score.measures[row["measure"]]
        placed.add((row["measure"], measure.tick_of(row["beat"], row["step"]), row["cls"]))
    return sum(hit in placed for hit in truth) / len(truth)


CASES = [
    ("rock 4/4", 120.0, None, (4, 4)),
    ("rock 4/4", 93.0, None, (4, 4)),
    ("waltz 3/4", 140.0, None, (3, 4)),
    ("6/8", 66.0, None, (6, 8)),
    ("shuffle 4/4", 140.0, None, (4, 4)),
    ("rock 4/4", 110.0, 121.0, (4, 4)),
]


@pytest.mark.parametrize(("groove", "bpm", "end_bpm", "signature"), CASES)
def test_tempo_metre_and_grid_on_synthetic_songs(groove, bpm, end_bpm, signature):
    audio, drums, truth = synthesize(groove, bpm, end_bpm)
    transcription = Transcription(groove, len(audio) / SAMPLE_RATE, drums)
    result = rhythm.with_rhythm(transcription, audio, SAMPLE_RATE)
    assert result is not transcription and transcription.beats.empty
    assert rhythm.time_signature(result.beats_per_bar) == signature
    # Tempo counts the time signature's beats (eighth notes in compound metres).
    true_bpm = bpm * (3 if groove == "6/8" else 1)
    accuracy = grid_accuracy(result, truth)
    if end_bpm is None:
        error = abs(result.tempo_bpm - true_bpm) / true_bpm
        print(
            f"{groove} at {bpm:g} BPM: tempo {result.tempo_bpm:.2f} (error {error:.2%}), "
            f"{accuracy:.1%} of hits in the right bar and grid position"
        )
        assert error <= TEMPO_TOLERANCE
    else:
        print(
            f"{groove} from {bpm:g} to {end_bpm:g} BPM: tempo {result.tempo_bpm:.2f}, "
            f"{accuracy:.1%} of hits in the right bar and grid position"
        )
        assert bpm * (1 - TEMPO_TOLERANCE) <= result.tempo_bpm <= end_bpm * (1 + TEMPO_TOLERANCE)
    assert accuracy >= GRID_ACCURACY


def test_silence_and_short_audio_have_no_beats():
    beats, tempo, beats_per_bar = rhythm.analyze(np.zeros(1000, np.float32), SAMPLE_RATE)
    assert beats.empty and tempo is None and beats_per_bar is None


def test_time_signature_and_default_beats():
    assert rhythm.time_signature(4) == (4, 4)
    assert rhythm.time_signature(3) == (3, 4)
    assert rhythm.time_signature(6) == (6, 8)
    assert rhythm.time_signature(None) == (4, 4)
    beats = rhythm.default_beats(2.0)
    assert np.allclose(np.diff(beats["time_s"]), 0.5)
    assert list(beats["position"][:5]) == [1, 2, 3, 4, 1]


def test_regular_grid_covers_span_in_whole_bars():
    times = 0.3 + 0.5 * np.arange(10)
    positions = (np.arange(10) + 2) % 4 + 1  # starts on beat 3
    grid, grid_positions = rhythm.regular_grid(times, positions, 4, start_s=0.0, end_s=7.0)
    assert grid_positions[0] == 1 and grid[0] <= 0.0
    assert grid[-1] > 7.0 and (len(grid) - 1) % 4 == 0
    assert np.allclose(np.diff(grid), 0.5)
    # The tracked downbeat (index 2 of the input, at 1.3 s) stays a downbeat.
    assert grid_positions[np.argmin(np.abs(grid - 1.3))] == 1


def test_split_compound_makes_eighth_beats():
    beats = pd.DataFrame({"time_s": [0.0, 0.9, 1.8, 2.7], "position": [1, 2, 1, 2]})
    table, numerator = rhythm.split_compound(beats, 2)
    assert numerator == 6
    assert list(table["position"][:7]) == [1, 2, 3, 4, 5, 6, 1]
    assert np.allclose(table["time_s"][:4], [0.0, 0.3, 0.6, 0.9])


def test_beats_from_drum_activations_find_tempo_and_bar_phase():
    from drumtx import vocab
    from drumtx.rhythm import beats_from_drum_activations
    from drumtx.transcription import make_drums

    fps, bpm, seconds = 100, 100.0, 60.0
    beat_s = 60.0 / bpm
    onsets = np.zeros((int(seconds * fps), vocab.N_DRUM_CLASSES), dtype=np.float32)
    hits = []
    for index in range(int(seconds / beat_s) - 1):
        time_s = 0.37 + index * beat_s
        frame = int(round(time_s * fps))
        cls = "KD" if index % 4 == 0 else "SD" if index % 2 else "CHH"
        onsets[frame, vocab.CLASS_INDEX[cls]] = 0.9
        onsets[frame + int(round(beat_s * fps / 2)), vocab.CLASS_INDEX["CHH"]] = 0.5
        hits.append((time_s, cls))
    drums = make_drums([t for t, _ in hits], [c for _, c in hits], [100] * len(hits))
    beats, tempo_bpm, beats_per_bar = beats_from_drum_activations(onsets, drums)
    assert beats_per_bar == 4
    assert abs(tempo_bpm - bpm) / bpm < 0.02
    downbeats = beats.loc[beats["position"] == 1, "time_s"].to_numpy()
    kicks = np.array([t for t, c in hits if c == "KD"])
    near = [np.min(np.abs(kicks - t)) < 0.03 for t in downbeats]
    assert np.mean(near) > 0.9


# ----------------------------------------------------------------------------- beat head

BEAT_HEAD_FPS = 100
DOWNBEAT_TOLERANCE_S = 0.02


def beat_head_activations(
    bpm: float, beats_per_bar: int, seconds: float, lead_s: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand-made beat-head output: noise plus widened peaks; returns it, beats, downbeats."""
    rng = np.random.default_rng(seed)
    n_frames = int(seconds * BEAT_HEAD_FPS)
    activations = rng.uniform(0.0, 0.05, (n_frames, 2))
    times = lead_s + np.arange(0.0, seconds - lead_s - 0.05, 60.0 / bpm)
    for index, time in enumerate(times):
        frame = int(round(time * BEAT_HEAD_FPS))
        activations[frame - 1 : frame + 2, 0] = [0.4, 0.85, 0.4]
        if index % beats_per_bar == 0:
            activations[frame - 1 : frame + 2, 1] = [0.35, 0.8, 0.35]
    return activations, times, times[::beats_per_bar]


@pytest.mark.parametrize(("bpm", "beats_per_bar"), [(120.0, 4), (120.0, 3), (172.0, 4)])
def test_beats_from_beat_activations_find_tempo_and_downbeats(bpm, beats_per_bar):
    activations, times, downbeats = beat_head_activations(bpm, beats_per_bar, 30.0)
    beats, tempo, numerator = rhythm.beats_from_beat_activations(activations)
    assert tempo == pytest.approx(bpm, rel=TEMPO_TOLERANCE)
    assert numerator == beats_per_bar
    assert len(beats) == pytest.approx(len(times), abs=1)
    found = beats.loc[beats["position"] == 1, "time_s"].to_numpy()
    assert len(found) == pytest.approx(len(downbeats), abs=1)
    nearest = np.min(np.abs(found[:, None] - downbeats[None, :]), axis=1)
    assert (nearest < DOWNBEAT_TOLERANCE_S).all()


def test_long_beat_activations_are_tracked_in_chunks_without_seams():
    seconds = 2.5 * rhythm.BEAT_CHUNK_S
    activations, times, downbeats = beat_head_activations(120.0, 4, seconds, seed=1)
    beats, tempo, numerator = rhythm.beats_from_beat_activations(activations)
    assert len(rhythm._chunk_bounds(len(activations) // rhythm.BEAT_HEAD_POOL, 3000, 400)) == 3
    assert tempo == pytest.approx(120.0, rel=0.005) and numerator == 4
    assert len(beats) == len(times)
    assert np.allclose(np.diff(beats["time_s"]), 0.5, atol=0.011)
    found = beats.loc[beats["position"] == 1, "time_s"].to_numpy()
    assert len(found) == len(downbeats) and np.allclose(found, downbeats, atol=0.011)


def test_chunks_tile_the_frames():
    for n_frames in (10, 3000, 3001, 7777):
        bounds = rhythm._chunk_bounds(n_frames, 3000, 400)
        assert bounds[0][2] == 0 and bounds[-1][3] == n_frames
        following_bounds = [*bounds[1:], None]
        for (start, stop, keep_from, keep_to), following in zip(
            bounds, following_bounds, strict=True
        ):
            assert start <= keep_from < keep_to <= stop <= n_frames
            if following is not None:
                assert following[2] == keep_to and following[0] < keep_to
            assert stop - start == min(3000, n_frames)


def test_beat_head_activations_are_converted_to_madmom_convention():
    ours = np.array([[0.9, 0.8], [0.9, 0.0], [0.0, 0.0], [1.0, 1.0]])
    theirs = rhythm.madmom_beat_activations(ours)
    assert theirs[0] == pytest.approx([0.1, 0.8])
    assert theirs[1] == pytest.approx([0.9, 0.0], abs=1e-5)
    assert (theirs > 0).all() and (theirs.sum(axis=1) < 1).all()


def test_silence_and_short_beat_activations_have_no_beats():
    for activations in (np.zeros((3000, 2)), np.full((50, 2), 0.5)):
        beats, tempo, numerator = rhythm.beats_from_beat_activations(activations)
        assert beats.empty and tempo is None and numerator is None


def test_fast_rhythm_takes_beats_from_the_beat_head_without_keeping_audio(monkeypatch, clicks):
    from drumtx import model, pipeline

    network = model.build_model(lstm_units=4, front_filters=4, beat_head=True)
    transcriber = pipeline.Transcriber(network, {}, model.DEFAULT_MODEL_DIR)
    assert transcriber.has_beat_head
    calls = []

    def fake(beat_activations, drums=None):
        calls.append(beat_activations.shape)
        return rhythm.default_beats(4.0), 120.0, 4

    monkeypatch.setattr(rhythm, "beats_from_beat_activations", fake)
    monkeypatch.setattr(rhythm, "with_rhythm", lambda *a, **k: pytest.fail("madmom path used"))
    kept = []
    original = pipeline._SampleKeeper.__init__

    def keeper_init(self, max_samples):
        kept.append(max_samples)
        original(self, max_samples)

    monkeypatch.setattr(pipeline._SampleKeeper, "__init__", keeper_init)
    result = transcriber.transcribe(clicks([0.5, 1.0, 1.5], 4.0), fast_rhythm=True)
    assert len(calls) == 1 and calls[0][1] == 2 and kept == [0]
    assert result.tempo_bpm == 120.0 and result.beats_per_bar == 4
    assert not pipeline.Transcriber(model.build_model(lstm_units=4, front_filters=4), {},
                                    model.DEFAULT_MODEL_DIR).has_beat_head


def test_an_octave_ambiguous_head_follows_the_tempo_hint(monkeypatch):
    # A 120-BPM head output in 4/4 is also a plausible 60-BPM one: the hint decides.
    activations, _, _ = beat_head_activations(120.0, 4, 30.0, seed=2)
    audio = np.zeros(30 * SAMPLE_RATE, dtype=np.float32)
    for hint, expected in ((120.0, 120.0), (60.0, 60.0)):
        monkeypatch.setattr(rhythm, "tempo_hint", lambda samples, rate, hint=hint: hint)
        beats, tempo, _ = rhythm.beats_with_tempo_hint(activations, audio, SAMPLE_RATE)
        assert tempo == pytest.approx(expected, rel=TEMPO_TOLERANCE)
    monkeypatch.setattr(rhythm, "tempo_hint", lambda samples, rate: None)  # no hint: the head
    assert rhythm.beats_with_tempo_hint(activations, audio, SAMPLE_RATE)[1] == pytest.approx(
        120.0, rel=TEMPO_TOLERANCE)


def test_tempo_hint_tracks_the_middle_excerpt_with_madmom():
    audio, _, _ = synthesize("rock 4/4", 93.0, None)
    assert rhythm.tempo_hint(audio, SAMPLE_RATE) == pytest.approx(93.0, rel=TEMPO_TOLERANCE)
    assert rhythm.tempo_hint(audio[: SAMPLE_RATE // 2], SAMPLE_RATE) is None


def test_default_rhythm_is_the_head_at_the_hinted_tempo(monkeypatch, clicks):
    from drumtx import model, pipeline

    network = model.build_model(lstm_units=4, front_filters=4, beat_head=True)
    transcriber = pipeline.Transcriber(network, {}, model.DEFAULT_MODEL_DIR)
    heard = []

    def fake(beat_activations, samples, sample_rate, drums=None):
        heard.append((beat_activations.shape[1], len(samples), sample_rate))
        return rhythm.default_beats(4.0), 100.0, 4

    monkeypatch.setattr(rhythm, "beats_with_tempo_hint", fake)
    monkeypatch.setattr(rhythm, "with_rhythm", lambda *a, **k: pytest.fail("madmom path used"))
    samples = clicks([0.5, 1.0, 1.5], 4.0)
    assert transcriber.transcribe(samples).tempo_bpm == 100.0
    assert heard == [(2, len(samples), SAMPLE_RATE)]
    with pytest.raises(ValueError, match="rhythm must be one of"):
        transcriber.transcribe(samples, rhythm="fastest")


def test_add_rhythm_uses_the_audio_when_given_and_the_head_without(monkeypatch, clicks):
    # The Streamlit page decodes first and adds the rhythm afterwards through this method.
    from drumtx import model, pipeline

    network = model.build_model(lstm_units=4, front_filters=4, beat_head=True)
    transcriber = pipeline.Transcriber(network, {}, model.DEFAULT_MODEL_DIR)
    monkeypatch.setattr(rhythm, "beats_with_tempo_hint",
                        lambda *a, **k: (rhythm.default_beats(4.0), 100.0, 4))
    monkeypatch.setattr(rhythm, "beats_from_beat_activations",
                        lambda *a, **k: (rhythm.default_beats(4.0), 90.0, 3))
    samples = clicks([0.5, 1.0, 1.5], 4.0)
    activations = transcriber.activations(samples)
    first = transcriber.decode(activations, "clicks", 4.0)
    assert first.tempo_bpm is None
    assert transcriber.add_rhythm(first, activations, samples).tempo_bpm == 100.0
    assert transcriber.add_rhythm(first, activations).tempo_bpm == 90.0
    assert transcriber.add_rhythm(first, activations, samples, rhythm=False) is first


def test_rhythm_choices_of_the_command_are_the_pipeline_modes():
    from drumtx import cli, pipeline

    assert set(cli.RHYTHM_CHOICES) == set(pipeline.RHYTHM_MODES)
    assert cli.RHYTHM_CHOICES[0] == pipeline.DEFAULT_RHYTHM


def test_songs_use_madmom_on_the_audio_when_asked(monkeypatch, clicks):
    from drumtx import model, pipeline

    network = model.build_model(lstm_units=4, front_filters=4, beat_head=True)
    transcriber = pipeline.Transcriber(network, {}, model.DEFAULT_MODEL_DIR)
    heard = []

    def fake_with_rhythm(transcription, samples, sample_rate=None):
        heard.append(len(samples))
        return transcription

    monkeypatch.setattr(rhythm, "with_rhythm", fake_with_rhythm)
    monkeypatch.setattr(
        rhythm, "beats_from_beat_activations", lambda *a, **k: pytest.fail("beat head used")
    )
    samples = clicks([0.5, 1.0, 1.5], 4.0)
    transcriber.transcribe(samples, rhythm="madmom")
    assert heard == [len(samples)]
