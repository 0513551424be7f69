"""The .mscx writer, checked by MuseScore 3 itself: it must load our files without
complaints, engrave them, and play back the same hits per drum as we wrote."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
import pandas as pd
import pytest

from drumtx import vocab
from drumtx.errors import OutputExistsError
from drumtx.export.mscx import MSCX_VERSION, write_mscx
from drumtx.quantize import quantize
from drumtx.transcription import Transcription, make_drums, make_notes

MSCORE = "mscore3"
MSCORE_TIMEOUT_S = 120
BAD_LOG_WORDS = ("incomplete", "overrun", "corrupt")
HIT_TOLERANCE = 0.03
GRACE_SHIFT_TICKS = 60
TYPE_TICKS = {"whole": 1920, "half": 960, "quarter": 480, "eighth": 240, "16th": 120, "32nd": 60}


def run_mscore(source: Path, target: Path) -> str:
    """Convert with headless MuseScore; return its log (fails when mscore3 is missing)."""
    assert shutil.which(MSCORE), f"{MSCORE} is not installed (Debian package musescore3)"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [MSCORE, str(source), "-o", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=MSCORE_TIMEOUT_S,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert target.exists() or list(target.parent.glob(f"{target.stem}-*{target.suffix}")), log
    bad = [line for line in log.splitlines() if any(w in line.lower() for w in BAD_LOG_WORDS)]
    assert not bad, bad
    return log


def midi_hits(path: Path) -> list[tuple[int, int]]:
    """``(tick, note)`` of every note-on in a MIDI file (480 ticks per quarter)."""
    midi = mido.MidiFile(path)
    scale = 480 / midi.ticks_per_beat
    hits = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                hits.append((round(tick * scale), message.note))
    return sorted(hits)


def written_hits(transcription: Transcription) -> list[tuple[int, int]]:
    """``(tick, GM note)`` of the notes we write (grace notes sound just before their note)."""
    ticks = quantize(transcription).hit_ticks()
    return sorted(
        (int(tick), vocab.DRUM_BY_NAME[cls].written_note)
        for tick, cls in zip(ticks["tick"], ticks["cls"], strict=True)
    )


def assert_same_hits(played: list[tuple[int, int]], transcription: Transcription) -> None:
    """MuseScore plays every note we wrote at its tick, plus one grace note per flam.

    A chord with a grace note sounds a little late (the grace takes the beat), so
    notes are matched within :data:`GRACE_SHIFT_TICKS`; all other notes match exactly.
    """
    score = quantize(transcription)
    ours = written_hits(transcription)
    flam_counts = collections.Counter(
        vocab.DRUM_BY_NAME[c].written_note for c in score.hits.loc[score.hits["flam"], "cls"]
    )
    exact = collections.Counter(ours) & collections.Counter(played)
    shifted = len(ours) - sum(exact.values())
    assert shifted <= 4 * sum(flam_counts.values()), "notes played off their tick"
    for note in {n for _, n in ours} | {n for _, n in played}:
        mine = sorted(t for t, n in ours if n == note)
        theirs = sorted(t for t, n in played if n == note)
        unmatched = list(theirs)
        for tick in mine:
            near = [t for t in unmatched if abs(t - tick) <= GRACE_SHIFT_TICKS]
            assert near, f"note {note} at tick {tick} is not played"
            unmatched.remove(min(near, key=lambda t: abs(t - tick)))
        assert len(unmatched) == flam_counts[note], (note, unmatched)


def random_transcription(seed: int, with_beats: bool, n_beats: int = 48) -> Transcription:
    """Hits of every class on random 16th / triplet grids, with jitter, flams and ghosts."""
    rng = np.random.default_rng(seed)
    bpm = 96.0
    period = 60.0 / bpm
    times, classes, velocities = [], [], []
    for beat in range(n_beats - 4):
        steps = int(rng.choice([1, 2, 3, 4, 6])) if with_beats else 4
        for step in range(steps):
            if rng.random() < 0.7:
                times.append((beat + step / steps) * period + rng.normal(0.0, 0.004))
                classes.append(str(rng.choice(vocab.DRUM_CLASSES)))
                velocities.append(int(rng.integers(15, 127)))
    times += [8 * period - 0.03, 8 * period]  # a flam
    classes += ["SD", "SD"]
    velocities += [40, 110]
    drums = make_drums(np.clip(times, 0.0, None), classes, velocities)
    if not with_beats:
        return Transcription("Random <grooves> & fills", n_beats * period, drums)
    beats = pd.DataFrame(
        {"time_s": np.arange(n_beats) * period, "position": np.arange(n_beats) % 4 + 1}
    )
    return Transcription(
        "Random", n_beats * period, drums, beats=beats, tempo_bpm=bpm, beats_per_bar=4
    )


def voice_ticks(voice: ET.Element) -> Fraction:
    """Sounding length of one voice of one bar of an .mscx file, in quarter notes."""
    total = Fraction(0)
    ratio = Fraction(1)
    for element in voice:
        if element.tag == "Tuplet":
            ratio = Fraction(
                int(element.findtext("normalNotes")), int(element.findtext("actualNotes"))
            )
        elif element.tag == "endTuplet":
            ratio = Fraction(1)
        elif element.tag in ("Chord", "Rest"):
            if element.find("acciaccatura") is not None:
                continue
            kind = element.findtext("durationType")
            if kind == "measure":
                total += Fraction(element.findtext("duration")) * 4
                continue
            base = Fraction(TYPE_TICKS[kind], 480)
            dots = int(element.findtext("dots") or 0)
            total += base * (2 - Fraction(1, 2**dots)) * ratio
    return total


def check_bars_add_up(path: Path) -> int:
    """Assert that every bar's first voice fills the bar and others never overrun it."""
    root = ET.parse(path).getroot()
    numerator = denominator = None
    count = 0
    for staff in root.find("Score").findall("Staff"):
        for measure in staff.findall("Measure"):
            signature = measure.find("voice/TimeSig")
            if signature is not None:
                numerator = int(signature.findtext("sigN"))
                denominator = int(signature.findtext("sigD"))
            length = Fraction(4 * numerator, denominator)
            voices = measure.findall("voice")
            assert voice_ticks(voices[0]) == length
            for voice in voices[1:]:
                assert voice_ticks(voice) <= length
            count += 1
    return count


def test_plain_grid_loads_cleanly_and_plays_back_our_hits(tmp_path):
    transcription = random_transcription(seed=0, with_beats=False)
    path = write_mscx(transcription, tmp_path / "plain.mscx")
    root = ET.parse(path).getroot()
    assert root.get("version") == MSCX_VERSION == "3.01"
    assert root.find("Score/Part/Staff/StaffType").get("group") == "percussion"
    assert root.findtext("Score/Part/Instrument/useDrumset") == "1"
    assert root.findtext(".//Tempo/tempo") == "2"  # 120 BPM as quarter notes per second
    assert root.findtext(".//Text/text") == "Random <grooves> & fills"
    assert check_bars_add_up(path) > 0
    run_mscore(path, tmp_path / "plain.mid")
    played = midi_hits(tmp_path / "plain.mid")
    assert_same_hits(played, transcription)
    # Against the detected hits (a few merge on one grid point): within 3 % per drum.
    played_counts = collections.Counter(note for _, note in played)
    for drum in vocab.DRUMS:
        detected = int((transcription.drums["cls"] == drum.name).sum())
        assert abs(played_counts[drum.written_note] - detected) <= max(1, HIT_TOLERANCE * detected)


def test_beats_tuplets_flams_ghosts_play_back_exactly(tmp_path):
    transcription = random_transcription(seed=1, with_beats=True)
    score = quantize(transcription)
    assert {3, 6} & {s for m in score.measures for s in m.subdivisions}
    assert score.hits["flam"].any()
    path = write_mscx(transcription, tmp_path / "beats.mscx")
    text = path.read_text(encoding="utf-8")
    assert "<Tuplet>" in text and "<acciaccatura" in text and "<ghost>1</ghost>" in text
    check_bars_add_up(path)
    run_mscore(path, tmp_path / "beats.mid")
    played = midi_hits(tmp_path / "beats.mid")
    ours = written_hits(transcription)
    assert_same_hits(played, transcription)
    graces = int(score.hits["flam"].sum())
    assert len(played) == len(ours) + graces  # plus one grace note per flam
    per_drum = collections.Counter(note for _, note in played)
    for drum in vocab.DRUMS:
        written = sum(1 for _, note in ours if note == drum.written_note)
        assert abs(per_drum[drum.written_note] - written) <= max(1, HIT_TOLERANCE * written)
    print(f"MuseScore played {len(played)} notes, we wrote {len(ours)} + {graces} grace notes")


def test_engraves_pdf_and_png(tmp_path):
    path = write_mscx(random_transcription(seed=2, with_beats=True), tmp_path / "song.mscx")
    run_mscore(path, tmp_path / "song.pdf")
    assert (tmp_path / "song.pdf").read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("beats_per_bar", [3, 6])
def test_other_time_signatures(tmp_path, beats_per_bar):
    period = 0.25 if beats_per_bar == 6 else 0.5
    n_beats = beats_per_bar * 6
    rng = np.random.default_rng(beats_per_bar)
    times = np.sort(rng.uniform(0, (n_beats - 1) * period, 60))
    drums = make_drums(times, rng.choice(["KD", "SD", "CHH", "RD"], 60), rng.integers(30, 120, 60))
    beats = pd.DataFrame(
        {"time_s": np.arange(n_beats) * period, "position": np.arange(n_beats) % beats_per_bar + 1}
    )
    transcription = Transcription(
        "Metre",
        n_beats * period,
        drums,
        beats=beats,
        tempo_bpm=60 / period,
        beats_per_bar=beats_per_bar,
    )
    path = write_mscx(transcription, tmp_path / "metre.mscx")
    root = ET.parse(path).getroot()
    signature = root.find(".//TimeSig")
    expected = (beats_per_bar, 8 if beats_per_bar == 6 else 4)
    assert (int(signature.findtext("sigN")), int(signature.findtext("sigD"))) == expected
    check_bars_add_up(path)
    run_mscore(path, tmp_path / "metre.mid")
    assert_same_hits(midi_hits(tmp_path / "metre.mid"), transcription)


def test_pitched_staves(tmp_path):
    transcription = random_transcription(seed=3, with_beats=True).replace(
        notes=make_notes(
            [0.0, 0.3, 1.0, 1.0, 2.5],
            [0.5, 0.9, 2.2, 1.6, 4.0],
            [60, 64, 43, 48, 72],
            [80, 70, 60, 90, 100],
        )
    )
    path = write_mscx(transcription, tmp_path / "pitched.mscx", pitched=True)
    root = ET.parse(path).getroot()
    assert len(root.findall("Score/Staff")) == 3
    check_bars_add_up(path)
    run_mscore(path, tmp_path / "pitched.mid")
    played = collections.Counter(note for _, note in midi_hits(tmp_path / "pitched.mid"))
    for pitch in (60, 64, 43, 48, 72):
        assert played[pitch] >= 1


def test_refuses_to_overwrite_without_force(tmp_path):
    transcription = Transcription("Empty", 3.0)
    path = write_mscx(transcription, tmp_path / "empty.mscx")
    with pytest.raises(OutputExistsError):
        write_mscx(transcription, path)
    write_mscx(transcription, path, force=True)
    assert check_bars_add_up(path) >= 1
    assert not list(tmp_path.glob(".*part"))
    run_mscore(path, tmp_path / "empty.mid")
