"""The MusicXML writer, read back by MuseScore 3: every note keeps its drum."""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from test_mscx import GRACE_SHIFT_TICKS, midi_hits, run_mscore

from drumtx import vocab
from drumtx.errors import OutputExistsError
from drumtx.export.musicxml import display_position, write_musicxml
from drumtx.quantize import quantize
from drumtx.transcription import Transcription, make_drums


def transcription(seed: int, beats_per_bar: int | None) -> Transcription:
    rng = np.random.default_rng(seed)
    period = 0.6
    n_beats = 32
    times, classes, velocities = [], [], []
    for beat in range(n_beats - 4):
        steps = int(rng.choice([1, 2, 3, 4, 6])) if beats_per_bar == 4 else 4
        for step in range(steps):
            if rng.random() < 0.7:
                times.append((beat + step / steps) * period)
                classes.append(str(rng.choice(vocab.DRUM_CLASSES)))
                velocities.append(int(rng.integers(15, 127)))
    times += [4 * period - 0.03, 4 * period]
    classes += ["SD", "SD"]
    velocities += [40, 110]
    drums = make_drums(times, classes, velocities)
    if beats_per_bar is None:
        return Transcription("No beats", n_beats * period, drums)
    beats = pd.DataFrame(
        {"time_s": np.arange(n_beats) * period, "position": np.arange(n_beats) % beats_per_bar + 1}
    )
    return Transcription(
        "Beats", n_beats * period, drums, beats=beats, tempo_bpm=100.0, beats_per_bar=beats_per_bar
    )


def test_display_positions_follow_the_drum_staff():
    assert display_position(vocab.DRUM_BY_NAME["KD"].staff_line) == ("F", 4)
    assert display_position(vocab.DRUM_BY_NAME["SD"].staff_line) == ("C", 5)
    assert display_position(vocab.DRUM_BY_NAME["CHH"].staff_line) == ("G", 5)
    assert display_position(vocab.DRUM_BY_NAME["PHH"].staff_line) == ("D", 4)


@pytest.mark.parametrize("beats_per_bar", [None, 4, 3, 6])
def test_musescore_reads_every_drum_back(tmp_path, beats_per_bar):
    source = transcription(seed=beats_per_bar or 0, beats_per_bar=beats_per_bar)
    path = write_musicxml(source, tmp_path / "song.musicxml")
    root = ET.parse(path).getroot()
    assert root.tag == "score-partwise"
    ids = {i.get("id") for i in root.iter("score-instrument")}
    for note in root.iter("note"):
        if note.find("unpitched") is not None:
            assert note.find("instrument").get("id") in ids
    run_mscore(path, tmp_path / "song.mid")
    played = midi_hits(tmp_path / "song.mid")
    score = quantize(source)
    table = score.hit_ticks()
    ours = [
        (int(t), vocab.DRUM_BY_NAME[c].written_note)
        for t, c in zip(table["tick"], table["cls"], strict=True)
    ]
    flams = collections.Counter(
        vocab.DRUM_BY_NAME[c].written_note for c in table.loc[table["flam"], "cls"]
    )
    for note in {n for _, n in ours} | {n for _, n in played}:
        mine = sorted(t for t, n in ours if n == note)
        unmatched = sorted(t for t, n in played if n == note)
        for tick in mine:
            near = [t for t in unmatched if abs(t - tick) <= GRACE_SHIFT_TICKS]
            assert near, f"note {note} at tick {tick} is not played"
            unmatched.remove(min(near, key=lambda t: abs(t - tick)))
        assert len(unmatched) == flams[note], (note, unmatched)
    # Round trip to .mscx keeps a percussion staff.
    run_mscore(path, tmp_path / "back.mscx")
    back = ET.parse(tmp_path / "back.mscx").getroot()
    assert back.find(".//StaffType").get("group") == "percussion"


def test_refuses_to_overwrite_without_force(tmp_path):
    source = Transcription("Empty", 2.0)
    path = write_musicxml(source, tmp_path / "empty.musicxml")
    with pytest.raises(OutputExistsError):
        write_musicxml(source, path)
    write_musicxml(source, path, force=True)
    run_mscore(path, tmp_path / "empty.mid")
