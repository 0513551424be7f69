import mido
import numpy as np
import pandas as pd
import pytest

from drumtx import vocab
from drumtx.errors import DrumtxError, OutputExistsError
from drumtx.export import atomic_output
from drumtx.export.csv import write_csv
from drumtx.export.midi import write_midi
from drumtx.transcription import CSV_COLUMNS, Transcription, make_drums, make_notes


@pytest.fixture
def transcription() -> Transcription:
    drums = make_drums(
        [0.5, 0.5, 1.0, 1.25, 2.0], ["KD", "CHH", "SD", "OHH", "LT"], [100, 80, 110, 60, 127]
    )
    notes = make_notes([0.5, 1.0], [0.9, 1.75], [40, 64], [90, 70])
    return Transcription("groove & fill", 3.0, drums=drums, notes=notes)


def midi_note_ons(path):
    """(seconds, channel, note, velocity) of every note-on, from absolute time."""
    events, now = [], 0.0
    for message in mido.MidiFile(path):
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            events.append((round(now, 4), message.channel, message.note, message.velocity))
    return events


def test_midi_read_back_has_drums_on_channel_10_and_pitched_elsewhere(tmp_path, transcription):
    path = write_midi(transcription, tmp_path / "song.mid")
    events = midi_note_ons(path)
    drums = [(t, n, v) for t, c, n, v in events if c == vocab.DRUM_MIDI_CHANNEL]
    pitched = [(t, n, v) for t, c, n, v in events if c != vocab.DRUM_MIDI_CHANNEL]
    expected_drums = [
        (row.time_s, vocab.DRUM_BY_NAME[row.cls].written_note, row.velocity)
        for row in transcription.drums.itertuples()
    ]
    assert sorted(drums) == sorted(expected_drums)
    assert sorted(pitched) == [(0.5, 40, 90), (1.0, 64, 70)]


def test_midi_uses_the_transcription_tempo(tmp_path, transcription):
    path = write_midi(transcription.replace(tempo_bpm=93.0), tmp_path / "t.mid")
    messages = [m for track in mido.MidiFile(path).tracks for m in track]
    tempos = [m.tempo for m in messages if m.type == "set_tempo"]
    assert tempos == [mido.bpm2tempo(93.0)]
    times = sorted(t for t, c, n, v in midi_note_ons(path) if c == vocab.DRUM_MIDI_CHANNEL)
    assert times[-1] == pytest.approx(2.0, abs=0.002)


def test_csv_columns_and_rows(tmp_path, transcription):
    path = write_csv(transcription, tmp_path / "song.csv")
    table = pd.read_csv(path)
    assert tuple(table.columns) == CSV_COLUMNS
    assert (table["kind"] == "drum").sum() == 5
    pitched = table[table["kind"] == "pitched"]
    assert pitched["label"].tolist() == ["E2", "E4"]
    np.testing.assert_allclose(pitched["duration_s"], [0.4, 0.75])
    kick = table[table["label"] == "KD"].iloc[0]
    assert kick["midi_note"] == 36 and kick["velocity"] == 100
    assert table["time_s"].is_monotonic_increasing


def test_empty_transcription_exports(tmp_path):
    empty = Transcription("silence", 1.0)
    table = pd.read_csv(write_csv(empty, tmp_path / "e.csv"))
    assert tuple(table.columns) == CSV_COLUMNS and len(table) == 0
    assert midi_note_ons(write_midi(empty, tmp_path / "e.mid")) == []


def test_existing_output_is_kept_without_force(tmp_path, transcription):
    path = tmp_path / "song.csv"
    path.write_text("precious")
    with pytest.raises(OutputExistsError):
        write_csv(transcription, path)
    assert path.read_text() == "precious"
    write_csv(transcription, path, force=True)
    assert path.read_text().startswith("time_s,")


def test_failed_write_leaves_nothing_behind(tmp_path):
    path = tmp_path / "out.mid"
    with pytest.raises(RuntimeError), atomic_output(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_a_clear_error(tmp_path, transcription):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DrumtxError, match="cannot write"):
        write_csv(transcription, blocker / "sub" / "song.csv")


def test_unknown_class_is_rejected():
    with pytest.raises(ValueError, match="unknown drum classes"):
        make_drums([0.1], ["XYZ"], [100])
