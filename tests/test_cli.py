"""The ``drumtx`` command end to end, as a user runs it (a real process, the bundled model)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pandas as pd
import pytest
import soundfile

from drumtx import vocab
from drumtx.evaluate import ALL_ROW, score_hits

DRUMTX = str(Path(sys.executable).with_name("drumtx"))
GROOVE_SECONDS = 5.0
GROOVE_BPM = 120.0
TEST_KIT = "BJA_Pacific"
"""A kit of the test split: the bundled model never heard it in training."""
MIN_GROOVE_F_5_CLASSES = 0.7
"""Minimum onset F-measure (50 ms, hits summed, every written hit counted) in the 5-class
protocol of ``drumtx evaluate`` (the bundled model writes extra pedal/open hi-hats)."""
MIN_GROOVE_F_5_CLASSES_MERGED = 0.85
"""The same with the hits of one 5-class group within 30 ms counted once (``--merged``)."""
MIN_GROOVE_F_13_CLASSES = 0.5
"""Minimum 13-class F (the bundled model still adds pedal/open hi-hats to closed ones)."""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DRUMTX, *args], capture_output=True, text=True, timeout=300)


def groove_hits() -> pd.DataFrame:
    """Two bars of rock beat at 120 BPM with a tom fill: (time_s, cls, velocity)."""
    eighth = 60.0 / GROOVE_BPM / 2
    rows = []
    for step in range(16):
        time_s = 0.25 + step * eighth
        rows.append((time_s, "CHH" if step < 14 else "HT", 0.7))
        if step % 4 == 0:
            rows.append((time_s, "KD", 0.9))
        if step % 4 == 2:
            rows.append((time_s, "SD", 0.9))
    rows.append((0.25 + 16 * eighth, "CR", 0.9))
    rows.append((0.25 + 16 * eighth, "KD", 0.9))
    return pd.DataFrame(rows, columns=["time_s", "cls", "velocity"])


@pytest.fixture(scope="module")
def groove(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A 5-second groove rendered from a sampled test kit, 48 kHz stereo WAV."""
    from data_prep.kits import load_kit

    kit = load_kit(TEST_KIT)
    rate = 44100
    mix = np.zeros(int(GROOVE_SECONDS * rate) + rate, dtype=np.float32)
    hits = groove_hits()
    for time_s, cls, velocity in hits.itertuples(index=False):
        note = kit.resolve(vocab.DRUM_BY_NAME[cls].written_note)
        assert note is not None, f"{TEST_KIT} cannot play {cls}"
        instrument = kit.instruments[note][0]
        layer = instrument.layer_for(velocity)
        sound = layer.samples * layer.gain * instrument.gain * velocity
        start = int(round(time_s * rate))
        mix[start : start + len(sound)] += sound[: len(mix) - start]
    mix = mix[: int(GROOVE_SECONDS * rate)]
    mix *= 0.5 / np.abs(mix).max()
    path = tmp_path_factory.mktemp("groove") / "groove.wav"
    soundfile.write(path, np.stack([mix, mix], axis=1), rate)
    return path, hits


def test_transcribes_a_groove_to_every_format(groove, tmp_path):
    path, truth = groove
    out = tmp_path / "out"
    result = run("transcribe", str(path), "-o", str(out), "--format", "mscx,mid,csv,musicxml")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "groove.csv", "groove.mid", "groove.mscx", "groove.musicxml",
    ]
    table = pd.read_csv(out / "groove.csv")
    found = table[table["kind"] == "drum"]
    estimate = found.rename(columns={"label": "cls"})
    totals = {}
    for classes in (13, 5):
        scores = score_hits(truth, estimate, classes=classes)
        totals[classes] = scores.set_index("class").loc[ALL_ROW]
        print(f"\n{classes} classes:\n{scores.to_string(index=False)}")
    merged = score_hits(truth, estimate, classes=5, merged=True).set_index("class").loc[ALL_ROW]
    print(
        f"groove: {len(truth)} true hits, {len(found)} found; "
        f"F {totals[5]['f']:.3f} (5 classes; merged {merged['f']:.3f}), "
        f"{totals[13]['f']:.3f} (13 classes)"
    )
    assert totals[5]["f"] >= MIN_GROOVE_F_5_CLASSES
    assert merged["f"] >= MIN_GROOVE_F_5_CLASSES_MERGED
    assert totals[13]["f"] >= MIN_GROOVE_F_13_CLASSES
    drum_notes = [
        m.note for m in mido.MidiFile(out / "groove.mid")
        if m.type == "note_on" and m.velocity > 0 and m.channel == vocab.DRUM_MIDI_CHANNEL
    ]
    assert len(drum_notes) == len(found)
    assert "<museScore" in (out / "groove.mscx").read_text()
    assert groove[0].name in result.stdout


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("absent.wav", None, "no such file"),
        ("empty.wav", b"", "file is empty"),
        ("text.mp3", b"not audio at all\n" * 100, "not a readable audio file"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    result = run("transcribe", str(path), "-o", str(out))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0]
    assert not out.exists() or list(out.iterdir()) == []


def test_existing_output_needs_force(groove, tmp_path):
    path, _ = groove
    out = tmp_path / "out"
    out.mkdir()
    kept = out / "groove.csv"
    kept.write_text("mine")
    result = run("transcribe", str(path), "-o", str(out), "--format", "csv")
    assert result.returncode != 0 and "--force" in result.stderr
    assert kept.read_text() == "mine"
    forced = run("transcribe", str(path), "-o", str(out), "--format", "csv", "--force")
    assert forced.returncode == 0
    assert kept.read_text().startswith("time_s,kind,label")


def test_folder_with_one_bad_file_transcribes_the_rest(groove, tmp_path):
    path, _ = groove
    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "good.wav").write_bytes(path.read_bytes())
    (folder / "broken.flac").write_bytes(b"\x00" * 1000)
    out = tmp_path / "out"
    result = run("transcribe", str(folder), "-o", str(out), "--format", "csv")
    assert result.returncode == 1
    assert "broken.flac" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["good.csv"]


def test_sensitivity_changes_how_many_hits_are_kept(groove, tmp_path):
    path, _ = groove
    counts = {}
    for sensitivity in ("0.02", "1", "100"):
        out = tmp_path / sensitivity
        result = run("transcribe", str(path), "-o", str(out), "--format", "csv",
                     "--no-rhythm", "--sensitivity", sensitivity)
        assert result.returncode == 0, result.stderr
        table = pd.read_csv(out / "groove.csv")
        counts[sensitivity] = int((table["kind"] == "drum").sum())
    print(f"drum hits by sensitivity: {counts}")
    assert counts["0.02"] < counts["1"] < counts["100"]  # thresholds 0.99, tuned, 0.01


@pytest.mark.parametrize("value", ["0", "-2", "nan", "inf", "loud"])
def test_bad_sensitivity_is_a_one_line_usage_error(tmp_path, value):
    result = run("transcribe", "x.wav", "-o", str(tmp_path / "out"), "--sensitivity", value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--sensitivity" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_usage_errors_are_one_line(tmp_path):
    result = run("transcribe", "x.wav", "-o", str(tmp_path), "--format", "pdf")
    assert result.returncode != 0 and "unknown format" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = run("transcribe", str(empty), "-o", str(tmp_path / "out"))
    assert result.returncode != 0 and "no audio files" in result.stderr
