"""Tests of the room renderer: every piece in every microphone, at the right delay, labels kept."""

from __future__ import annotations

import numpy as np
import pytest

from data_prep import room, sampler
from drumtx.features import SAMPLE_RATE
from drumtx.vocab import DRUM_BY_NAME, GM_DISTRACTOR_NOTES, GM_TO_CLASS

DELAY_TOLERANCE_SAMPLES = 2
SETUP_SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module", params=SETUP_SEEDS)
def setup_and_responses(request):
    setup = room.draw_setup(np.random.default_rng(request.param))
    return setup, room.microphone_responses(setup, seed=request.param)


def test_every_piece_reaches_every_microphone_at_its_direct_path_delay(setup_and_responses):
    setup, responses = setup_and_responses
    delays = room.direct_delays_s(setup) * SAMPLE_RATE
    distances = room.direct_delays_s(setup) * room.SPEED_OF_SOUND_M_S
    assert responses.shape[:2] == (len(setup.microphones), len(setup.pieces))
    for m in range(len(setup.microphones)):
        for p in range(len(setup.pieces)):
            response = np.abs(responses[m, p])
            direct_amplitude = 1 / distances[m, p]
            first = int(np.argmax(response >= 0.5 * direct_amplitude))
            assert abs(first - delays[m, p]) <= DELAY_TOLERANCE_SAMPLES, (
                setup.microphones[m].name, setup.pieces[p][0], first, delays[m, p])
            assert np.max(response) > 0
            # reflections and the tail follow the direct sound
            later = response[int(delays[m, p]) + int(0.005 * SAMPLE_RATE):]
            assert np.sum(later**2) > 0


def test_close_microphones_hear_their_own_piece_first_and_loudest(setup_and_responses):
    setup, responses = setup_and_responses
    delays = room.direct_delays_s(setup)
    names = [name for name, _ in setup.pieces]
    for m, mic in enumerate(setup.microphones):
        if not mic.name.startswith("close_"):
            continue
        own = names.index(mic.name.removeprefix("close_"))
        assert np.argmin(delays[m]) == own
        peaks = np.max(np.abs(responses[m]), axis=-1)
        assert np.argmax(peaks) == own
        # bleed: every other piece is in this microphone too, quieter
        assert np.all(peaks > 0) and np.all(np.delete(peaks, own) < peaks[own])


def test_piece_responses_put_the_first_strong_arrival_at_the_start():
    setup = room.draw_setup(np.random.default_rng(5))
    responses = room.piece_responses(setup, seed=5)
    assert set(responses) == {name for name, _ in setup.pieces}
    lead = int(room.ONSET_LEAD_S * SAMPLE_RATE)
    for response in responses.values():
        peak = np.max(np.abs(response))
        first = int(np.argmax(np.abs(response) >= room.ONSET_FRACTION * peak))
        assert first == lead


def test_a_hit_played_in_the_room_is_heard_at_its_label_with_a_tail():
    setup = room.draw_setup(np.random.default_rng(7))
    responses = room.piece_responses(setup, seed=7)
    n = SAMPLE_RATE
    hit_at = 12_345
    stem = np.zeros(n, dtype=np.float32)
    stem[hit_at] = 1.0
    audio = room.render_in_room({"snare": stem}, responses, n)
    loud = np.abs(audio) >= room.ONSET_FRACTION * np.max(np.abs(audio))
    assert abs(int(np.argmax(loud)) - hit_at) <= int(room.ONSET_LEAD_S * SAMPLE_RATE) + 1
    tail = audio[hit_at + int(0.1 * SAMPLE_RATE):]
    assert np.sqrt(np.mean(tail**2)) > 0


def test_every_labelled_and_distractor_note_has_a_piece():
    for note in GM_TO_CLASS:
        assert room.piece_of_note(note) in room.PIECES
    for note in GM_DISTRACTOR_NOTES:
        assert room.piece_of_note(note) == "percussion"
    assert room.piece_of_note(DRUM_BY_NAME["CHH"].gm_notes[0]) == "hihat"
    assert room.piece_of_note(DRUM_BY_NAME["PHH"].gm_notes[0]) == "hihat"
    assert room.piece_of_note(20) is None


def test_stems_add_up_to_the_dry_render():
    from data_prep.kits import Instrument, Kit, Layer

    rng = np.random.default_rng(0)
    kit = Kit("unit", "unit")
    for note in (36, 38, 42, 46):
        shot = (rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300)).astype(np.float32)
        kit.instruments[note] = [Instrument(str(note), 1.0, [Layer(0, 1, 1.0, shot)])]
    hits = np.array([[0.1, 36, 100], [0.1, 42, 80], [0.2, 38, 90], [0.3, 46, 70], [0.35, 42, 60]])
    dry = sampler.render_drums(kit, hits, SAMPLE_RATE, np.random.default_rng(3))
    stems = sampler.render_drums(kit, hits, SAMPLE_RATE, np.random.default_rng(3),
                                 stem_of=room.piece_of_note)
    assert set(stems) == {"kick", "snare", "hihat"}
    np.testing.assert_allclose(sum(stems.values()), dry, atol=1e-6)
