"""The hallucination probe (``benchmarks/probe.py``): its counting and its grooves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drumtx import vocab
from drumtx.evaluate import Counts

PROBE_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "probe.py"
RENDER_SECONDS = 6.0
RENDER_TEMPO_BPM = 120.0


def _load_probe():
    spec = importlib.util.spec_from_file_location("probe", PROBE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


probe = _load_probe()


def _hits(rows):
    return pd.DataFrame(rows, columns=["time_s", "cls"])


def test_false_positives_per_minute_and_recall_are_counted_per_group():
    beats = np.arange(0.5, 29.5, 0.5)  # 29 kicks and 29 snares in a 30-s song
    played = [(t, "KD" if i % 2 == 0 else "SD") for i, t in enumerate(beats)]
    written = [(t + 0.01, cls) for t, cls in played[:-2]]  # the last snare and kick are missed
    written += [(1.0, "CHH"), (1.01, "OHH"), (7.0, "PHH")]  # three hi-hats, none played
    written += [(1.5, "MT"), (2.2, "RD")]
    counts = probe.group_counts(_hits(played), _hits(written))
    assert counts["hihat"] == Counts(0, 0, 3)
    assert counts["kick"] == Counts(28, 29, 28)
    figures = probe.probe_figures(counts, 30.0)
    assert figures["hihat_fp_per_min"] == pytest.approx(6.0)
    assert figures["tom_fp_per_min"] == pytest.approx(2.0)
    assert figures["cymbal_fp_per_min"] == pytest.approx(2.0)
    assert figures["kick_recall"] == pytest.approx(28 / 29)
    assert figures["snare_recall"] == pytest.approx(28 / 29)


def test_a_played_piece_is_no_false_positive():
    played = _hits([(1.0, "RD"), (2.0, "RD"), (3.0, "KD")])
    written = _hits([(1.0, "RD"), (2.02, "CR"), (3.0, "KD"), (3.0, "CHH")])
    figures = probe.probe_figures(probe.group_counts(played, written), 60.0)
    assert figures["cymbal_fp_per_min"] == 0.0  # a crash on a played ride counts as found
    assert figures["hihat_fp_per_min"] == 1.0


@pytest.mark.parametrize("condition", ["kick+snare", "kick+snare in a room"])
def test_the_kick_and_snare_conditions_play_no_hihat_and_no_cymbal(condition):
    kit = probe.kits.load_kit(probe.KIT_NAMES[0])
    rng = probe.song_rng(0, 0, RENDER_TEMPO_BPM)
    audio, labels = probe.CONDITIONS[condition](kit, RENDER_TEMPO_BPM, RENDER_SECONDS, rng)
    assert audio.shape == (int(RENDER_SECONDS * probe.SAMPLE_RATE),)
    assert np.max(np.abs(audio)) == pytest.approx(10 ** (probe.PEAK_DBFS / 20), rel=1e-4)
    absent = {
        note
        for cls in (*probe.FP_GROUPS["hihat"], *probe.FP_GROUPS["cymbal"])
        for note in vocab.DRUM_BY_NAME[cls].gm_notes
    }
    assert not set(labels["gm_note"]) & absent
    assert set(labels["cls"]) == {"KD", "SD"}
    assert labels["onset_s"].between(0.0, RENDER_SECONDS - probe.TAIL_S + probe.TIMING_MAX_S).all()


def test_every_condition_has_the_same_kick_and_snare():
    def groove(eighths: str | None = None) -> np.ndarray:
        rng = probe.song_rng(0, 0, RENDER_TEMPO_BPM)
        return probe.groove_hits(RENDER_TEMPO_BPM, RENDER_SECONDS, rng, eighths)

    with_ride, kick_snare = groove("RD"), groove()
    ride = vocab.DRUM_BY_NAME["RD"].written_note
    assert np.count_nonzero(with_ride[:, 1] == ride) > 0
    np.testing.assert_array_equal(with_ride[with_ride[:, 1] != ride], kick_snare)
