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
