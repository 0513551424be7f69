"""The bundled example, transcribed by the bundled model, read by real MuseScore 3."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from test_mscx import HIT_TOLERANCE, assert_same_hits, midi_hits, random_transcription, run_mscore

from drumtx import vocab
from drumtx.export.mscx import write_mscx

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "groove.flac"


@pytest.fixture(scope="module")
def example_transcription():
    from drumtx.pipeline import Transcriber

    return Transcriber.load().transcribe(EXAMPLE)


def test_example_score_opens_cleanly_engraves_and_plays_our_hits(tmp_path, example_transcription):
    result = example_transcription
    assert result.tempo_bpm is not None and len(result.beats) > 0
    score = write_mscx(result, tmp_path / "groove.mscx")
    run_mscore(score, tmp_path / "groove.pdf")
    run_mscore(score, tmp_path / "groove.mid")
    played = midi_hits(tmp_path / "groove.mid")
    assert_same_hits(played, result)
    # per drum, MuseScore's playback has the transcription's hits (merges and flams aside)
    ours = collections.Counter(vocab.DRUM_BY_NAME[c].written_note for c in result.drums["cls"])
    theirs = collections.Counter(note for _, note in played)
    for note, count in ours.items():
        assert abs(theirs[note] - count) <= max(1, HIT_TOLERANCE * count), (note, count)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_scores_load_cleanly_in_musescore(tmp_path, seed):
    transcription = random_transcription(seed, with_beats=bool(seed % 2))
    score = write_mscx(transcription, tmp_path / "random.mscx")
    run_mscore(score, tmp_path / "random.mid")
    assert_same_hits(midi_hits(tmp_path / "random.mid"), transcription)
