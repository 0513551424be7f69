"""Evaluation on hand-made references gives exact P/R/F."""

import pandas as pd
import pytest

from drumtx import evaluate


def _hits(rows):
    return pd.DataFrame(rows, columns=["time_s", "cls"])


def test_scores_are_exact_on_a_hand_made_case():
    reference = _hits([(1.00, "KD"), (2.00, "KD"), (1.00, "SD"), (3.0, "CHH"), (4.0, "OHH")])
    estimate = _hits(
        [(1.03, "KD"), (2.06, "KD"), (1.0, "SS"), (3.0, "CHH"), (4.0, "CHH"), (5.0, "HT")]
    )
    table = evaluate.score_hits(reference, estimate, classes=13).set_index("class")
    assert tuple(table.loc["KD", ["tp", "n_ref", "n_est"]]) == (1, 2, 2)  # 60 ms is too late
    assert table.loc["KD", "precision"] == 0.5 and table.loc["KD", "recall"] == 0.5
    assert table.loc["SD", "f"] == 0.0 and table.loc["SS", "f"] == 0.0
    assert table.loc["all", "f"] == pytest.approx(2 * 2 / (5 + 6))

    five = evaluate.score_hits(reference, estimate, classes=5).set_index("class")
    assert tuple(five.loc["SD", ["tp", "n_ref", "n_est"]]) == (1, 1, 1)  # side stick counts as SD
    assert tuple(five.loc["HH", ["tp", "n_ref", "n_est"]]) == (2, 2, 2)
    assert five.loc["TT", "precision"] == 0.0
    assert five.loc["all", "f"] == pytest.approx(2 * 4 / (5 + 6))

    three = evaluate.score_hits(reference, estimate, classes=3).set_index("class")
    assert "TT" not in three.index and three.loc["all", "n_est"] == 5


def test_hits_are_summed_over_songs_before_f():
    song1 = evaluate.score_hits(_hits([(1.0, "KD")]), _hits([(1.0, "KD")]), 13)
    song2 = evaluate.score_hits(_hits([(1.0, "KD"), (2.0, "KD"), (3.0, "KD")]), _hits([]), 13)
    total = evaluate.sum_tables([song1, song2]).set_index("class")
    assert tuple(total.loc["KD", ["tp", "n_ref", "n_est"]]) == (1, 4, 1)
    assert total.loc["KD", "f"] == pytest.approx(2 / 5)


def test_reference_readers(tmp_path):
    tsv = tmp_path / "song.tsv"
    tsv.write_text("0.5\t36\n1.0\tSDG\n1.5\t54\n2.0\tCHH\n")
    drums, notes = evaluate.read_reference(tsv)
    assert drums["cls"].tolist() == ["KD", "SD", "CHH"] and notes is None
    factory = tmp_path / "piece.drums.tsv"
    factory.write_text("onset_s\tgm_note\tclass\tvelocity\n0.25\t42\tCHH\t90\n")
    assert evaluate.read_reference(factory)[0]["cls"].tolist() == ["CHH"]

    import mido

    midi = mido.MidiFile()
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", channel=9, note=38, velocity=100, time=0))
    track.append(mido.Message("note_on", channel=0, note=60, velocity=100, time=0))
    track.append(mido.Message("note_off", channel=0, note=60, velocity=0, time=480))
    midi.save(tmp_path / "song.mid")
    drums, notes = evaluate.read_reference(tmp_path / "song.mid")
    assert drums["cls"].tolist() == ["SD"]
    assert notes["midi_pitch"].tolist() == [60] and notes["offset_s"].iloc[0] == pytest.approx(0.5)


def test_note_counts_match_onsets_and_pitch():
    reference = pd.DataFrame(
        {"onset_s": [1.0, 2.0], "offset_s": [1.5, 2.5], "midi_pitch": [60, 62]}
    )
    estimate = pd.DataFrame({"onset_s": [1.02, 2.0], "offset_s": [1.2, 2.5], "pitch": [60, 64]})
    counts = evaluate.note_counts(reference, estimate)
    assert (counts.tp, counts.n_ref, counts.n_est) == (1, 2, 2)


def test_hits_of_one_coarse_class_count_as_written_unless_merged():
    reference = _hits([(1.0, "CHH")])
    estimate = _hits([(1.0, "CHH"), (1.01, "PHH"), (2.0, "OHH")])
    five = evaluate.score_hits(reference, estimate, classes=5).set_index("class")
    assert tuple(five.loc["HH", ["tp", "n_ref", "n_est"]]) == (1, 1, 3)
    merged = evaluate.score_hits(reference, estimate, classes=5, merged=True).set_index("class")
    assert tuple(merged.loc["HH", ["tp", "n_ref", "n_est"]]) == (1, 1, 2)
    thirteen = evaluate.score_hits(reference, estimate, classes=13, merged=True)
    assert thirteen.set_index("class").loc["all", "n_est"] == 3


def test_a_closed_and_an_open_hihat_written_at_once_are_one_false_positive():
    reference = _hits([(1.0, "KD"), (1.0, "CHH"), (1.5, "CHH")])
    estimate = _hits([(1.0, "KD"), (1.0, "CHH"), (1.0, "OHH"), (1.5, "CHH")])
    written = evaluate.score_hits(reference, estimate, classes=5).set_index("class")
    assert tuple(written.loc["HH", ["tp", "n_ref", "n_est"]]) == (2, 2, 3)
    assert written.loc["HH", "precision"] == pytest.approx(2 / 3)
    assert written.loc["all", "f"] == pytest.approx(2 * 3 / (3 + 4))
    merged = evaluate.score_hits(reference, estimate, classes=5, merged=True).set_index("class")
    assert tuple(merged.loc["HH", ["tp", "n_ref", "n_est"]]) == (2, 2, 2)
    assert merged.loc["all", "f"] == 1.0


def test_the_merged_figures_stand_beside_the_written_ones():
    reference = _hits([(1.0, "CHH"), (2.0, "SD")])
    estimate = _hits([(1.0, "CHH"), (1.0, "OHH"), (2.0, "SD")])
    tables = []
    for counting, classes in [(evaluate.WRITTEN, 13), (evaluate.WRITTEN, 5), (evaluate.MERGED, 5)]:
        table = evaluate.score_hits(
            reference, estimate, classes, merged=counting == evaluate.MERGED
        )
        tables.append(table.assign(counting=counting, condition="drums", classes=classes))
    scores = pd.concat(tables, ignore_index=True)
    beside = evaluate.beside_merged(scores).set_index(["classes", "class"])
    assert beside.loc[(5, "all"), "f"] == pytest.approx(2 * 2 / (2 + 3))
    assert beside.loc[(5, "all"), "f_merged"] == 1.0
    assert beside.loc[(5, "HH"), "n_est_merged"] == 1
    assert pd.isna(beside.loc[(13, "all"), "f_merged"])  # no coarse groups: nothing merged
    text = evaluate.format_tables(scores, {})
    assert "drums, 5 classes (hits summed over songs, as written):" in text
    assert "F mrg" in text.split("5 classes")[1] and "F mrg" not in text.split("5 classes")[0]
    assert evaluate.MERGED_CLASS_SETS == (5, 3)
