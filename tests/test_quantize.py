"""Quantisation: grids per beat, merging, ghost notes, flams, and bars that add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from drumtx import vocab
from drumtx.quantize import (
    DIVISION,
    layout_beat,
    layout_measure,
    quantize,
    split_ticks,
)
from drumtx.transcription import Transcription, make_drums

PERIOD = 0.5


def with_beats(drums: pd.DataFrame, beats_per_bar: int = 4, n_beats: int = 16) -> Transcription:
    beats = pd.DataFrame(
        {
            "time_s": np.arange(n_beats) * PERIOD,
            "position": np.arange(n_beats) % beats_per_bar + 1,
        }
    )
    return Transcription(
        "test", n_beats * PERIOD, drums, beats=beats, tempo_bpm=120.0, beats_per_bar=beats_per_bar
    )


def ticks_of(score) -> list[tuple[int, str]]:
    table = score.hit_ticks()
    return list(zip(table["tick"], table["cls"], strict=True))


def test_best_grid_per_beat():
    times = [0.0, 0.125, 0.25, 0.375] + [0.5, 0.5 + PERIOD / 3, 0.5 + 2 * PERIOD / 3]
    times += [1.0 + k * PERIOD / 6 for k in range(6)]
    score = quantize(with_beats(make_drums(times, ["CHH"] * len(times), [90] * len(times))))
    assert score.measures[0].subdivisions[:3] == (4, 3, 6)
    assert [tick for tick, _ in ticks_of(score)][:7] == [0, 120, 240, 360, 480, 640, 800]


def hats(times: list[float]) -> Transcription:
    return with_beats(make_drums(times, ["CHH"] * len(times), [90] * len(times)))


def test_a_shuffle_reads_loose_swung_eighths_as_triplets_but_keeps_sixteenths_elsewhere():
    # Swung eighths played late (0.70 of the beat: nearer 3/4 than 2/3 on its own).
    late_swing = (0.02, 0.70)
    swung = [(beat + offset) * PERIOD for beat in range(16) for offset in late_swing]
    assert {tick % DIVISION for tick, _ in ticks_of(quantize(hats(swung)))} == {0, 320}
    # The same late off-beats in a straight piece (16ths elsewhere) stay on the 16th grid.
    straight = [(beat + k / 4) * PERIOD for beat in range(12) for k in range(4)]
    straight += [(beat + offset) * PERIOD for beat in range(12, 16) for offset in late_swing]
    ticks = ticks_of(quantize(hats(straight)))
    assert {tick % DIVISION for tick, _ in ticks if tick >= 12 * DIVISION} == {0, 360}


def test_plain_sixteenth_grid_without_beats():
    drums = make_drums([0.0, 0.13, 0.49, 0.70, 2.1], ["KD", "CHH", "SD", "CHH", "KD"], [100] * 5)
    score = quantize(Transcription("plain", 3.0, drums))
    assert (score.numerator, score.denominator) == (4, 4)
    assert all(m.tempo_bpm == 120.0 for m in score.measures)
    assert [t for t, _ in ticks_of(score)] == [0, 120, 480, 720, 2040]


def test_same_class_on_one_point_merges_keeping_the_loudest():
    drums = make_drums([0.0, 0.004, 0.0], ["SD", "SD", "KD"], [60, 110, 90])
    score = quantize(with_beats(drums))
    assert len(score.hits) == 2
    snare = score.hits[score.hits["cls"] == "SD"].iloc[0]
    assert snare["velocity"] == 110 and snare["n_merged"] == 2 and not snare["flam"]


def test_flam_is_marked_only_when_clear():
    drums = make_drums([0.97, 1.0, 1.98, 2.0], ["SD", "SD", "CHH", "CHH"], [40, 110, 40, 110])
    score = quantize(with_beats(drums))
    flags = dict(zip(score.hits["cls"], score.hits["flam"], strict=True))
    assert flags == {"SD": True, "CHH": False}


def test_quiet_snare_hits_are_ghost_notes():
    times = np.arange(8) * 0.25
    velocities = [110, 25, 105, 30, 100, 28, 112, 100]
    score = quantize(with_beats(make_drums(times, ["SD"] * 8, velocities)))
    assert list(score.hits["ghost"]) == [v < 50 for v in velocities]


def test_early_hit_belongs_to_the_next_beat():
    score = quantize(with_beats(make_drums([PERIOD - 0.03], ["KD"], [100])))
    assert ticks_of(score) == [(DIVISION, "KD")]


def test_split_ticks():
    assert split_ticks(360, allow_dots=True) == [(360, "eighth", 1)]
    assert split_ticks(360, allow_dots=False) == [(240, "eighth", 0), (120, "16th", 0)]


def test_triplet_beat_is_one_tuplet():
    events = layout_beat(0, DIVISION, 3, {1: ({"cls": "SD"},)})
    assert [e.type for e in events] == ["eighth", "quarter"]
    assert events[0].tuplet == (3, 2, 240) and events[0].tuplet_start and events[-1].tuplet_end
    assert sum(e.ticks for e in events) == DIVISION


hit_lists = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=9.5, allow_nan=False),
        st.sampled_from(vocab.DRUM_CLASSES),
        st.integers(min_value=1, max_value=127),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    hits=hit_lists,
    beats_per_bar=st.sampled_from([0, 2, 3, 4, 6]),
    tempo_drift=st.floats(min_value=-0.15, max_value=0.15),
    start=st.floats(min_value=-1.0, max_value=2.0),
)
def test_any_hits_give_bars_that_add_up(hits, beats_per_bar, tempo_drift, start):
    times = [h[0] for h in hits]
    drums = make_drums(times, [h[1] for h in hits], [h[2] for h in hits])
    if beats_per_bar:
        periods = PERIOD * (1 + tempo_drift * np.linspace(0, 1, 20))
        beat_times = start + np.concatenate([[0.0], np.cumsum(periods[:-1])])
        beats = pd.DataFrame(
            {"time_s": beat_times, "position": (np.arange(20) + 1) % beats_per_bar + 1}
        )
        transcription = Transcription(
            "p", 10.0, drums, beats=beats, tempo_bpm=120.0, beats_per_bar=beats_per_bar
        )
    else:
        transcription = Transcription("p", 10.0, drums)
    score = quantize(transcription)
    assert score.hits["n_merged"].sum() == len(drums)  # every hit is written or merged
    for measure in score.measures:
        for voice in (0, 1):
            events = layout_measure(score, measure, voice)
            total = sum(event.ticks for event in events)
            if voice == 0 or events:
                assert total == measure.ticks
            position = 0
            for event in events:
                assert event.tick == position
                position += event.ticks
    # Hits come out in time order.
    ticks = score.hit_ticks()["tick"].to_numpy()
    assert np.all(np.diff(ticks) >= 0)
