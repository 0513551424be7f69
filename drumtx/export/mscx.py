"""MuseScore 3 score (``.mscx``) of a transcription: a drum staff in standard notation.

The drum staff is a five-line percussion staff with one entry per drum class in the
instrument's drumset (staff line, notehead, voice and stem from :mod:`drumtx.vocab`):
hands in voice 1 with stems up, feet in voice 2 with stems down. Bars always add up
exactly (rests are written), 8th-note and 16th-note triplets are written as tuplets,
ghost notes in parentheses and flams as grace notes. With ``pitched=True`` the pitched
notes follow on a treble and a bass staff.

The file declares ``version="3.01"``, which MuseScore 3.2 and later (MuseScore 4
included) open.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from drumtx import vocab
from drumtx.export import atomic_output, xml_child
from drumtx.quantize import (
    DIVISION,
    Event,
    Measure,
    QuantizedScore,
    layout_measure,
    layout_pitched,
    quantize,
)
from drumtx.transcription import Transcription

MSCX_VERSION = "3.01"
"""The file-format version written; MuseScore 3.2 refuses newer ones."""

DRUM_PART_NAME = "Drumset"
DRUM_PART_SHORT_NAME = "D. Set"
DRUM_INSTRUMENT_ID = "drum.group.set"
STEM_UP = 1
STEM_DOWN = 2
"""MuseScore's stem-direction codes in a drumset entry."""

GRACE_TYPE = "acciaccatura"
"""Grace-note kind written for flams."""

TITLE_BOX_HEIGHT = 10

TPC_OF_PITCH_CLASS = (14, 21, 16, 23, 18, 13, 20, 15, 22, 17, 24, 19)
"""MuseScore's tonal pitch class of each pitch class (sharps for black keys)."""

PITCHED_SPLIT = 60
"""Pitched notes from this MIDI pitch up go on the treble staff, lower ones on the bass staff."""

PITCHED_PART_NAME = "Pitched"
PITCHED_PROGRAM = 0
"""General MIDI program of the pitched staves (acoustic grand piano)."""


def tpc(pitch: int) -> int:
    """MuseScore's tonal pitch class of a MIDI pitch (sharps for black keys)."""
    return TPC_OF_PITCH_CLASS[int(pitch) % 12]


def _drum_part(score_element: ET.Element) -> None:
    """The drum part: percussion staff type and a drumset entry per class."""
    part = xml_child(score_element, "Part")
    staff = xml_child(part, "Staff", id=1)
    staff_type = xml_child(staff, "StaffType", group="percussion")
    xml_child(staff_type, "name", "perc5Line")
    xml_child(part, "trackName", DRUM_PART_NAME)
    instrument = xml_child(part, "Instrument")
    xml_child(instrument, "longName", DRUM_PART_NAME)
    xml_child(instrument, "shortName", DRUM_PART_SHORT_NAME)
    xml_child(instrument, "trackName", DRUM_PART_NAME)
    xml_child(instrument, "instrumentId", DRUM_INSTRUMENT_ID)
    xml_child(instrument, "useDrumset", 1)
    for drum in sorted(vocab.DRUMS, key=lambda d: d.written_note):
        entry = xml_child(instrument, "Drum", pitch=drum.written_note)
        xml_child(entry, "head", drum.notehead)
        xml_child(entry, "line", drum.staff_line)
        xml_child(entry, "voice", drum.voice)
        xml_child(entry, "name", drum.description.title())
        xml_child(entry, "stem", STEM_UP if drum.stem_up else STEM_DOWN)
    xml_child(instrument, "clef", "PERC")
    channel = xml_child(instrument, "Channel")
    xml_child(channel, "controller", ctrl=0, value=1)
    xml_child(channel, "program", value=0)


def _pitched_part(score_element: ET.Element, first_staff_id: int) -> None:
    """A piano-style part with a treble and a bass staff."""
    part = xml_child(score_element, "Part")
    for offset, clef in enumerate(("G", "F")):
        staff = xml_child(part, "Staff", id=first_staff_id + offset)
        staff_type = xml_child(staff, "StaffType", group="pitched")
        xml_child(staff_type, "name", "stdNormal")
        if clef == "F":
            xml_child(staff, "defaultClef", "F")
        if offset == 0:
            xml_child(staff, "bracket", type=1, span=2, col=0)
            xml_child(staff, "barLineSpan", 1)
    xml_child(part, "trackName", PITCHED_PART_NAME)
    instrument = xml_child(part, "Instrument")
    xml_child(instrument, "longName", PITCHED_PART_NAME)
    xml_child(instrument, "trackName", PITCHED_PART_NAME)
    xml_child(instrument, "instrumentId", "keyboard.piano")
    channel = xml_child(instrument, "Channel")
    xml_child(channel, "program", value=PITCHED_PROGRAM)


def _duration(parent: ET.Element, event: Event, measure: Measure) -> None:
    """Dots (first: MuseScore reads them before the type), type and whole-bar length."""
    if event.dots:
        xml_child(parent, "dots", event.dots)
    xml_child(parent, "durationType", event.type)
    if event.type == "measure":
        xml_child(parent, "duration", f"{measure.numerator}/{measure.denominator}")


def _tempo_element(voice: ET.Element, measure: Measure) -> None:
    """A tempo mark: quarter (or dotted quarter in compound metres) = N."""
    tempo = xml_child(voice, "Tempo")
    xml_child(tempo, "tempo", f"{measure.tempo_bpm / 60.0:.6g}")
    xml_child(tempo, "followText", 1)
    text = xml_child(tempo, "text")
    note = xml_child(text, "sym", "metNoteQuarterUp")
    if measure.denominator == 8:
        dot = xml_child(text, "sym", "metAugmentationDot")
        dot.tail = f" = {round(measure.tempo_bpm / 1.5)}"
    else:
        note.tail = f" = {round(measure.tempo_bpm)}"


def _note(chord: ET.Element, hit: dict) -> None:
    """One drum note: pitch, notehead, ghost parentheses and velocity."""
    drum = vocab.DRUM_BY_NAME[hit["cls"]]
    note = xml_child(chord, "Note")
    if hit.get("ghost"):
        xml_child(note, "ghost", 1)
    xml_child(note, "pitch", drum.written_note)
    xml_child(note, "tpc", tpc(drum.written_note))
    if drum.notehead != "normal":
        xml_child(note, "head", drum.notehead)
    xml_child(note, "veloType", "user")
    xml_child(note, "velocity", int(hit["velocity"]))


def _open_tuplet(voice: ET.Element, event: Event) -> ET.Element:
    """Start the tuplet ``event`` opens: its ratio and base note."""
    actual, normal, base_ticks = event.tuplet
    tuplet = xml_child(voice, "Tuplet")
    xml_child(tuplet, "normalNotes", normal)
    xml_child(tuplet, "actualNotes", actual)
    xml_child(tuplet, "baseNote", _type_name(base_ticks))
    return tuplet


def _voice_events(voice: ET.Element, events: list[Event], measure: Measure, stem: str) -> None:
    """Write chords, rests, tuplets and grace notes of one voice of one bar."""
    for event in events:
        if event.tuplet is not None and event.tuplet_start:
            tuplet = _open_tuplet(voice, event)
            number = xml_child(tuplet, "Number")
            xml_child(number, "style", "Tuplet")
            xml_child(number, "text", event.tuplet[0])
        if event.is_rest:
            rest = xml_child(voice, "Rest")
            _duration(rest, event, measure)
        else:
            flams = [hit for hit in event.hits if hit.get("flam")]
            if flams:
                grace = xml_child(voice, "Chord")
                xml_child(grace, "durationType", "eighth")
                xml_child(grace, GRACE_TYPE)
                xml_child(grace, "StemDirection", stem)
                for hit in flams:
                    _note(grace, {**hit, "ghost": False, "velocity": max(1, hit["velocity"] // 2)})
            chord = xml_child(voice, "Chord")
            _duration(chord, event, measure)
            xml_child(chord, "StemDirection", stem)
            for hit in event.hits:
                _note(chord, hit)
        if event.tuplet is not None and event.tuplet_end:
            xml_child(voice, "endTuplet")


def _type_name(ticks: int) -> str:
    from drumtx.quantize import NOTE_TYPES

    return NOTE_TYPES[ticks]


def _drum_measure(
    staff: ET.Element, score: QuantizedScore, measure: Measure, hits: pd.DataFrame
) -> None:
    """One bar of the drum staff."""
    element = xml_child(staff, "Measure")
    for voice_index in (vocab.HANDS_VOICE, vocab.FEET_VOICE):
        events = layout_measure(score, measure, voice_index, hits)
        if not events:
            continue
        voice = xml_child(element, "voice")
        if voice_index == vocab.HANDS_VOICE:
            if measure.index == 0:
                time_sig = xml_child(voice, "TimeSig")
                xml_child(time_sig, "sigN", measure.numerator)
                xml_child(time_sig, "sigD", measure.denominator)
            if measure.tempo_mark:
                _tempo_element(voice, measure)
        stem = "up" if voice_index == vocab.HANDS_VOICE else "down"
        _voice_events(voice, events, measure, stem)


def _title_box(staff: ET.Element, title: str) -> None:
    """A vertical frame holding the title above the first system."""
    box = xml_child(staff, "VBox")
    xml_child(box, "height", TITLE_BOX_HEIGHT)
    text = xml_child(box, "Text")
    xml_child(text, "style", "Title")
    xml_child(text, "text", title)


def build_mscx(
    transcription: Transcription, pitched: bool = False, score: QuantizedScore | None = None
) -> ET.ElementTree:
    """The ``.mscx`` document of a transcription as an element tree.

    Parameters
    ----------
    transcription : Transcription
        Drum hits (and pitched notes, beats).
    pitched : bool
        Add a treble and a bass staff with the pitched notes.
    score : QuantizedScore, optional
        A ready quantization of ``transcription`` (computed when missing).
    """
    if score is None:
        score = quantize(transcription)
    root = ET.Element("museScore", version=MSCX_VERSION)
    score_element = xml_child(root, "Score")
    xml_child(score_element, "Division", DIVISION)
    xml_child(score_element, "metaTag", score.title, name="workTitle")
    _drum_part(score_element)
    if pitched:
        _pitched_part(score_element, first_staff_id=2)
    staff = xml_child(score_element, "Staff", id=1)
    if score.title:
        _title_box(staff, score.title)
    hits_by_measure = dict(tuple(score.hits.groupby("measure")))
    empty = score.hits.iloc[0:0]
    for measure in score.measures:
        _drum_measure(staff, score, measure, hits_by_measure.get(measure.index, empty))
    if pitched:
        staves = (
            layout_pitched(score, transcription.notes, PITCHED_SPLIT, vocab.PITCH_MAX + 1),
            layout_pitched(score, transcription.notes, 0, PITCHED_SPLIT),
        )
        for offset, events_by_measure in enumerate(staves):
            pitched_staff = xml_child(score_element, "Staff", id=2 + offset)
            for measure, events in zip(score.measures, events_by_measure, strict=True):
                element = xml_child(pitched_staff, "Measure")
                voice = xml_child(element, "voice")
                if measure.index == 0:
                    time_sig = xml_child(voice, "TimeSig")
                    xml_child(time_sig, "sigN", measure.numerator)
                    xml_child(time_sig, "sigD", measure.denominator)
                _pitched_events(voice, events, measure)
    ET.indent(root, space="  ")
    return ET.ElementTree(root)


def _pitched_events(voice: ET.Element, events: list[Event], measure: Measure) -> None:
    """Chords and rests of a pitched staff."""
    for event in events:
        if event.tuplet is not None and event.tuplet_start:
            _open_tuplet(voice, event)
        if event.is_rest:
            _duration(xml_child(voice, "Rest"), event, measure)
        else:
            chord = xml_child(voice, "Chord")
            _duration(chord, event, measure)
            for note in event.hits:
                element = xml_child(chord, "Note")
                xml_child(element, "pitch", int(note["pitch"]))
                xml_child(element, "tpc", tpc(note["pitch"]))
                xml_child(element, "veloType", "user")
                xml_child(element, "velocity", int(note["velocity"]))
        if event.tuplet is not None and event.tuplet_end:
            xml_child(voice, "endTuplet")


def write_mscx(
    transcription: Transcription,
    path: str | os.PathLike,
    force: bool = False,
    pitched: bool = False,
) -> Path:
    """Write a transcription as a MuseScore 3 score.

    Parameters
    ----------
    transcription : Transcription
        What to write. Without beats, hits go on a plain 16th-note grid at 120 BPM in 4/4.
    path : path-like
        Destination ``.mscx`` file.
    force : bool
        Replace an existing file.
    pitched : bool
        Add staves with the pitched notes.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    tree = build_mscx(transcription, pitched=pitched)
    with atomic_output(path, force) as temporary:
        tree.write(temporary, encoding="UTF-8", xml_declaration=True)
    return Path(path)
