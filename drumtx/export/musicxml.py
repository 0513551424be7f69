"""MusicXML (partwise 3.1) of the drum part, written directly in MuseScore's drum layout.

Each drum class is a ``score-instrument`` of one percussion part with its General MIDI
note as ``midi-unpitched``; every note names its instrument and sits at the staff
position and notehead of :mod:`drumtx.vocab` (hands in voice 1 with stems up, feet in
voice 2 with stems down), so readers keep which drum each note is. Bars, tuplets, ghost
notes and flams are the same as in the ``.mscx`` score (:mod:`drumtx.quantize`).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from drumtx import vocab
from drumtx.export import atomic_output, xml_child
from drumtx.quantize import DIVISION, Event, Measure, QuantizedScore, layout_measure, quantize
from drumtx.transcription import Transcription

MUSICXML_VERSION = "3.1"
DOCTYPE = (
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 Partwise//EN" '
    '"http://www.musicxml.org/dtds/partwise.dtd">'
)
PART_ID = "P1"
PART_NAME = "Drumset"
SOFTWARE = "drumtx"

NOTEHEADS = {"normal": "normal", "cross": "x", "xcircle": "circle-x", "diamond": "diamond"}
"""MuseScore notehead group -> MusicXML notehead value."""

TOP_LINE_DIATONIC = 5 * 7 + 3
"""Diatonic index (C0 = 0) of the top staff line, F5 in treble-clef positions."""
STEPS = "CDEFGAB"

DEFAULT_DYNAMICS_VELOCITY = 90
"""MIDI velocity MusicXML's ``dynamics="100"`` stands for."""

BEAM_LEVELS = {"eighth": 1, "16th": 2, "32nd": 3}


def display_position(staff_line: int) -> tuple[str, int]:
    """``(display-step, display-octave)`` of a drum-staff line (0 = top line, F5).

    Examples
    --------
    >>> display_position(0)
    ('F', 5)
    >>> display_position(7)
    ('F', 4)
    >>> display_position(-1)
    ('G', 5)
    """
    diatonic = TOP_LINE_DIATONIC - staff_line
    return STEPS[diatonic % 7], diatonic // 7


def instrument_id(cls: str) -> str:
    """MusicXML instrument id of a drum class (MuseScore's ``P1-I<note + 1>`` style)."""
    return f"{PART_ID}-I{vocab.DRUM_BY_NAME[cls].written_note + 1}"


def _part_list(root: ET.Element) -> None:
    part_list = xml_child(root, "part-list")
    score_part = xml_child(part_list, "score-part", id=PART_ID)
    xml_child(score_part, "part-name", PART_NAME)
    for drum in vocab.DRUMS:
        instrument = xml_child(score_part, "score-instrument", id=instrument_id(drum.name))
        xml_child(instrument, "instrument-name", drum.description.title())
    for drum in vocab.DRUMS:
        midi = xml_child(score_part, "midi-instrument", id=instrument_id(drum.name))
        xml_child(midi, "midi-channel", vocab.DRUM_MIDI_CHANNEL + 1)
        xml_child(midi, "midi-program", 1)
        xml_child(midi, "midi-unpitched", drum.written_note + 1)


def _attributes(measure_element: ET.Element, measure: Measure) -> None:
    attributes = xml_child(measure_element, "attributes")
    xml_child(attributes, "divisions", DIVISION)
    key = xml_child(attributes, "key")
    xml_child(key, "fifths", 0)
    time = xml_child(attributes, "time")
    xml_child(time, "beats", measure.numerator)
    xml_child(time, "beat-type", measure.denominator)
    clef = xml_child(attributes, "clef")
    xml_child(clef, "sign", "percussion")
    xml_child(clef, "line", 2)


def _tempo(measure_element: ET.Element, measure: Measure) -> None:
    direction = xml_child(measure_element, "direction", placement="above")
    direction_type = xml_child(direction, "direction-type")
    metronome = xml_child(direction_type, "metronome")
    if measure.denominator == 8:
        xml_child(metronome, "beat-unit", "quarter")
        xml_child(metronome, "beat-unit-dot")
        xml_child(metronome, "per-minute", round(measure.tempo_bpm / 1.5))
    else:
        xml_child(metronome, "beat-unit", "quarter")
        xml_child(metronome, "per-minute", round(measure.tempo_bpm))
    xml_child(direction, "sound", tempo=f"{measure.tempo_bpm:.6g}")


def _beams(events: list[Event], beat_ticks: int) -> dict[int, list[tuple[int, str]]]:
    """Beam values per event index: ``[(level, value), ...]``, groups within one beat."""
    beams: dict[int, list[tuple[int, str]]] = {}
    groups: list[list[int]] = []
    current: list[int] = []
    current_beat = None
    for index, event in enumerate(events):
        beat = event.tick // beat_ticks
        beamable = not event.is_rest and event.type in BEAM_LEVELS
        if not beamable or beat != current_beat:
            if len(current) >= 2:
                groups.append(current)
            current = []
            current_beat = beat
        if beamable:
            current.append(index)
    if len(current) >= 2:
        groups.append(current)
    for group in groups:
        levels = [BEAM_LEVELS[events[i].type] for i in group]
        for position, index in enumerate(group):
            values = []
            for level in range(1, levels[position] + 1):
                before = position > 0 and levels[position - 1] >= level
                after = position + 1 < len(group) and levels[position + 1] >= level
                if level == 1:
                    value = (
                        "begin"
                        if position == 0
                        else "end"
                        if position == len(group) - 1
                        else ("continue")
                    )
                elif before and after:
                    value = "continue"
                elif after:
                    value = "begin"
                elif before:
                    value = "end"
                else:
                    value = "forward hook" if position == 0 else "backward hook"
                values.append((level, value))
            beams[index] = values
    return beams


def _note(
    measure_element: ET.Element,
    event: Event,
    hit: dict | None,
    voice: int,
    chord: bool,
    grace: bool = False,
    beams: list[tuple[int, str]] | None = None,
) -> None:
    """One ``<note>``: a rest when ``hit`` is ``None``."""
    attributes = {}
    if hit is not None:
        velocity = hit["velocity"] // 2 if grace else hit["velocity"]
        attributes["dynamics"] = f"{100.0 * velocity / DEFAULT_DYNAMICS_VELOCITY:.2f}"
    note = xml_child(measure_element, "note", **attributes)
    if grace:
        xml_child(note, "grace", slash="yes")
    if chord:
        xml_child(note, "chord")
    if hit is None:
        if event.type == "measure":
            xml_child(note, "rest", measure="yes")
        else:
            xml_child(note, "rest")
    else:
        drum = vocab.DRUM_BY_NAME[hit["cls"]]
        unpitched = xml_child(note, "unpitched")
        step, octave = display_position(drum.staff_line)
        xml_child(unpitched, "display-step", step)
        xml_child(unpitched, "display-octave", octave)
    if not grace:
        xml_child(note, "duration", event.ticks)
    if hit is not None:
        xml_child(note, "instrument", id=instrument_id(hit["cls"]))
    xml_child(note, "voice", voice + 1)
    if grace:
        xml_child(note, "type", "eighth")
    elif event.type != "measure":
        xml_child(note, "type", event.type)
        for _ in range(event.dots):
            xml_child(note, "dot")
    if event.tuplet is not None and not grace:
        actual, normal, _ = event.tuplet
        modification = xml_child(note, "time-modification")
        xml_child(modification, "actual-notes", actual)
        xml_child(modification, "normal-notes", normal)
    if hit is not None:
        xml_child(note, "stem", "up" if voice == vocab.HANDS_VOICE else "down")
        drum = vocab.DRUM_BY_NAME[hit["cls"]]
        head = NOTEHEADS.get(drum.notehead, "normal")
        if hit.get("ghost") and not grace:
            xml_child(note, "notehead", head, parentheses="yes")
        else:
            xml_child(note, "notehead", head)
    if beams and not chord and not grace:
        for level, value in beams:
            xml_child(note, "beam", value, number=level)
    if event.tuplet is not None and not chord and not grace:
        kinds = [
            k for k, flag in (("start", event.tuplet_start), ("stop", event.tuplet_end)) if flag
        ]
        if kinds:
            notations = xml_child(note, "notations")
            for kind in kinds:
                xml_child(notations, "tuplet", type=kind, bracket="yes")


def _voice(measure_element: ET.Element, events: list[Event], voice: int, beat_ticks: int) -> None:
    beams = _beams(events, beat_ticks)
    for index, event in enumerate(events):
        if event.is_rest:
            _note(measure_element, event, None, voice, chord=False, beams=None)
            continue
        flams = [hit for hit in event.hits if hit.get("flam")]
        for position, hit in enumerate(flams):
            _note(measure_element, event, hit, voice, chord=position > 0, grace=True)
        for position, hit in enumerate(event.hits):
            _note(measure_element, event, hit, voice, chord=position > 0, beams=beams.get(index))


def build_musicxml(
    transcription: Transcription, score: QuantizedScore | None = None
) -> ET.ElementTree:
    """The MusicXML document of a transcription's drum part as an element tree."""
    if score is None:
        score = quantize(transcription)
    root = ET.Element("score-partwise", version=MUSICXML_VERSION)
    work = xml_child(root, "work")
    xml_child(work, "work-title", score.title)
    identification = xml_child(root, "identification")
    encoding = xml_child(identification, "encoding")
    xml_child(encoding, "software", SOFTWARE)
    _part_list(root)
    part = xml_child(root, "part", id=PART_ID)
    hits_by_measure = dict(tuple(score.hits.groupby("measure")))
    empty = score.hits.iloc[0:0]
    for measure in score.measures:
        element = xml_child(part, "measure", number=measure.index + 1)
        if measure.index == 0:
            _attributes(element, measure)
        if measure.tempo_mark:
            _tempo(element, measure)
        hits = hits_by_measure.get(measure.index, empty)
        for voice in (vocab.HANDS_VOICE, vocab.FEET_VOICE):
            events = layout_measure(score, measure, voice, hits)
            if not events:
                continue
            if voice != vocab.HANDS_VOICE:
                backup = xml_child(element, "backup")
                xml_child(backup, "duration", measure.ticks)
            _voice(element, events, voice, measure.beat_ticks)
    ET.indent(root, space="  ")
    return ET.ElementTree(root)


def write_musicxml(
    transcription: Transcription, path: str | os.PathLike, force: bool = False
) -> Path:
    """Write the drum part of a transcription as uncompressed MusicXML.

    Parameters
    ----------
    transcription : Transcription
        What to write. Without beats, hits go on a plain 16th-note grid at 120 BPM in 4/4.
    path : path-like
        Destination (``.musicxml``).
    force : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    tree = build_musicxml(transcription)
    body = ET.tostring(tree.getroot(), encoding="unicode")
    text = f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n{DOCTYPE}\n{body}\n'
    with atomic_output(path, force) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)
