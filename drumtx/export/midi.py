"""Standard MIDI file export: drums on channel 10, pitched notes on channel 1."""

from __future__ import annotations

import os
from pathlib import Path

import mido

from drumtx import vocab
from drumtx.export import atomic_output
from drumtx.transcription import Transcription

TICKS_PER_BEAT = 480
DEFAULT_TEMPO_BPM = 120.0
DRUM_NOTE_LENGTH_S = 0.1
"""Drum hits are written as notes of this length (drum sounds ignore note-off)."""
PITCHED_CHANNEL = 0
PITCHED_PROGRAM = 0


def write_midi(
    transcription: Transcription, path: str | os.PathLike, force: bool = False
) -> Path:
    """Write drum hits and pitched notes as a type-1 MIDI file, performance-timed.

    Drum hits go to channel 10 (0-based 9) with their class's written GM note and
    velocity; pitched notes go to channel 1. The tempo is the transcription's tempo
    when known (else 120 BPM); event times are exact to the tick.

    Parameters
    ----------
    transcription : Transcription
    path : path-like
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    tempo_bpm = transcription.tempo_bpm or DEFAULT_TEMPO_BPM
    tempo = mido.bpm2tempo(tempo_bpm)
    seconds_per_tick = tempo / 1e6 / TICKS_PER_BEAT

    def tick(seconds: float) -> int:
        return max(0, int(round(seconds / seconds_per_tick)))

    drum_events = []
    for time_s, cls, velocity in transcription.drums[["time_s", "cls", "velocity"]].itertuples(
        index=False
    ):
        note = vocab.DRUM_BY_NAME[cls].written_note
        drum_events.append((tick(time_s), 1, note, int(velocity)))
        drum_events.append((tick(time_s + DRUM_NOTE_LENGTH_S), 0, note, 0))
    pitched_events = []
    for onset_s, offset_s, pitch, velocity in transcription.notes[
        ["onset_s", "offset_s", "pitch", "velocity"]
    ].itertuples(index=False):
        pitched_events.append((tick(onset_s), 1, int(pitch), int(velocity)))
        pitched_events.append((tick(max(offset_s, onset_s)), 0, int(pitch), 0))

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name=transcription.source, time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(conductor)
    midi.tracks.append(_track("Drums", vocab.DRUM_MIDI_CHANNEL, drum_events, program=None))
    if pitched_events:
        midi.tracks.append(_track("Pitched", PITCHED_CHANNEL, pitched_events, PITCHED_PROGRAM))
    with atomic_output(path, force=force) as temporary:
        midi.save(temporary)
    return Path(path)


def _track(name: str, channel: int, events: list[tuple[int, int, int, int]], program: int | None):
    """A MIDI track from (tick, is_note_on, note, velocity) events; note-offs sort first."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    if program is not None:
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    last_tick = 0
    for event_tick, is_on, note, velocity in sorted(events):
        kind = "note_on" if is_on else "note_off"
        track.append(
            mido.Message(
                kind, channel=channel, note=note, velocity=velocity, time=event_tick - last_tick
            )
        )
        last_tick = event_tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track
