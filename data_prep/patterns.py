"""Human-written music with drums, read into beat-based :class:`Score` objects.

Sources: Freedoom WAD MIDI lumps, Planet Blupi and OpenMSX MIDI files, MMA grooves (rendered by
the ``mma`` program with random chord progressions) and Hydrogen demo songs. Everything is kept in
quarter-note beats so that a song can be replayed at any tempo with swing and humanisation.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from drumtx.vocab import DRUM_MIDI_CHANNEL, GM_DISTRACTOR_NOTES, GM_TO_CLASS, TD11_NOTE_TO_GM

from . import sources
from .kits import hydrogen_gm_note

DEFAULT_TEMPO_BPM = 120.0
HYDROGEN_TICKS_PER_BEAT = 48
"""Hydrogen patterns count 192 ticks per 4/4 bar."""
DRUM_NOTES: frozenset[int] = frozenset(GM_TO_CLASS) | frozenset(GM_DISTRACTOR_NOTES)
WAD_HEADER = struct.Struct("<4sii")
WAD_ENTRY = struct.Struct("<ii8s")


@dataclass
class Score:
    """Music in quarter-note beats.

    Attributes
    ----------
    source : str
        Pattern source (``"freedoom"``, ``"mma"``, ...), used for the split.
    name : str
        Identifies the piece within the source.
    tempo_bpm : float
        The piece's own (first) tempo.
    beats_per_bar : float
        Quarter-note beats per bar.
    drums : numpy.ndarray, shape (n, 3), float64
        beat, GM note, velocity (1..127), sorted by beat.
    notes : numpy.ndarray, shape (m, 5), float64
        onset beat, offset beat, MIDI pitch, velocity, GM program (pitched notes only).
    length_beats : float
    """

    source: str
    name: str
    tempo_bpm: float
    beats_per_bar: float
    drums: np.ndarray
    notes: np.ndarray
    length_beats: float


MIDI_EVENT = tuple[int, int, int, int, int]
"""(absolute tick, kind, channel, data 1, data 2); kind is the status high nibble, or
:data:`META_TEMPO` / :data:`META_TIME_SIGNATURE` (data 1 = tempo in microseconds per beat or the
numerator, data 2 = the denominator)."""
META_TEMPO = -1
META_TIME_SIGNATURE = -2
NOTE_OFF, NOTE_ON, PROGRAM_CHANGE = 0x8, 0x9, 0xC
DATA_BYTES = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def read_midi_events(data: bytes) -> tuple[int, list[MIDI_EVENT]]:
    """Parse a standard MIDI file (a small, fast reader: notes, programs, tempo, metre).

    Returns
    -------
    ticks_per_beat : int
    events : list of (tick, kind, channel, data1, data2)
        All tracks merged, sorted by tick (track order kept within a tick).
    """
    if data[:4] != b"MThd":
        raise ValueError("not a standard MIDI file")
    header_size = struct.unpack(">I", data[4:8])[0]
    _, n_tracks, division = struct.unpack(">HHH", data[8:14])
    if division & 0x8000:
        raise ValueError("SMPTE time division is not supported")
    pos = 8 + header_size
    events: list[tuple[int, int, int, MIDI_EVENT]] = []
    for track in range(n_tracks):
        if data[pos : pos + 4] != b"MTrk":
            break
        size = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        pos, end = pos + 8, pos + 8 + size
        tick, status, order = 0, 0, 0
        while pos < end:
            delta, pos = _varlen(data, pos)
            tick += delta
            byte = data[pos]
            if byte == 0xFF:
                kind, (length, pos) = data[pos + 1], _varlen(data, pos + 2)
                body = data[pos : pos + length]
                pos += length
                if kind == 0x51 and length == 3:
                    tempo = (body[0] << 16) | (body[1] << 8) | body[2]
                    events.append((tick, track, order, (tick, META_TEMPO, 0, tempo, 0)))
                elif kind == 0x58 and length >= 2:
                    meta = (tick, META_TIME_SIGNATURE, 0, body[0], 2 ** body[1])
                    events.append((tick, track, order, meta))
                elif kind == 0x2F:
                    break
            elif byte in (0xF0, 0xF7):
                length, pos = _varlen(data, pos + 1)
                pos += length
            else:
                if byte & 0x80:
                    status = byte
                    pos += 1
                high, channel = status >> 4, status & 0x0F
                n_data = DATA_BYTES.get(high, 0)
                d1 = data[pos] if n_data >= 1 else 0
                d2 = data[pos + 1] if n_data == 2 else 0
                pos += n_data
                if high in (NOTE_OFF, NOTE_ON, PROGRAM_CHANGE):
                    events.append((tick, track, order, (tick, high, channel, d1, d2)))
            order += 1
        pos = end
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return division, [e[3] for e in events]


class UnmappedNoteError(ValueError):
    """A drum note that a source's note map does not list."""


def score_from_midi(data: bytes, source: str, name: str,
                    note_map: dict[int, int] | None = None) -> Score:
    """Read a standard MIDI file (bytes) into a :class:`Score` (channel 10 = drums).

    ``note_map`` translates a source's own drum notes to GM notes (e.g. the TD-11's of the
    Groove MIDI Dataset); with a map, a drum note it does not list raises
    :class:`UnmappedNoteError`, so that no hit is dropped or mislabelled unnoticed.
    """
    tpb, events = read_midi_events(data)
    tpb = float(tpb)
    tempo = None
    beats_per_bar = 4.0
    programs = [0] * 16
    drums: list[tuple[float, int, int]] = []
    notes: list[tuple[float, float, int, int, int]] = []
    active: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
    last_tick = 0
    for tick, kind, channel, d1, d2 in events:
        last_tick = tick
        beat = tick / tpb
        if kind == META_TEMPO:
            if tempo is None and d1 > 0:
                tempo = 60_000_000.0 / d1
        elif kind == META_TIME_SIGNATURE:
            if tick == 0 and d1 > 0:
                beats_per_bar = d1 * 4.0 / d2
        elif kind == PROGRAM_CHANGE:
            programs[channel] = d1
        else:
            is_on = kind == NOTE_ON and d2 > 0
            if channel == DRUM_MIDI_CHANNEL:
                if is_on and note_map is not None:
                    if d1 not in note_map:
                        raise UnmappedNoteError(f"{source}:{name}: drum note {d1} is not mapped")
                    d1 = note_map[d1]
                if is_on and d1 in DRUM_NOTES:
                    drums.append((beat, d1, d2))
                continue
            key = (channel, d1)
            if is_on:
                active.setdefault(key, []).append((beat, d2, programs[channel]))
            elif active.get(key):
                onset, velocity, program = active[key].pop(0)
                if beat > onset:
                    notes.append((onset, beat, d1, velocity, program))
    return Score(
        source,
        name,
        float(tempo or DEFAULT_TEMPO_BPM),
        beats_per_bar,
        np.array(sorted(drums), dtype=np.float64).reshape(-1, 3),
        np.array(sorted(notes), dtype=np.float64).reshape(-1, 5),
        float(last_tick / tpb),
    )


# ----------------------------------------------------------------------------- file sources


def wad_midi_lumps(path: Path) -> dict[str, bytes]:
    """MIDI lumps (those starting with ``MThd``) of a Doom WAD file, by lump name."""
    data = path.read_bytes()
    _, count, offset = WAD_HEADER.unpack_from(data, 0)
    lumps = {}
    for i in range(count):
        pos, size, raw = WAD_ENTRY.unpack_from(data, offset + i * WAD_ENTRY.size)
        name = raw.split(b"\0")[0].decode("ascii", "replace")
        if data[pos : pos + 4] == b"MThd":
            lumps[name] = data[pos : pos + size]
    return lumps


@cache
def list_pieces(source: str) -> tuple[str, ...]:
    """Names of the pieces of a file-based pattern source (sorted, so plans are deterministic)."""
    if source == "freedoom":
        root = sources.require("freedoom_wads")
        return tuple(
            f"{wad.name}:{lump}"
            for wad in sorted(root.glob("freedoom*.wad"))
            for lump in sorted(wad_midi_lumps(wad))
        )
    if source == "blupi":
        return tuple(sorted(p.name for p in sources.require("blupi_midi").glob("*.mid")))
    if source == "openmsx":
        return tuple(sorted(p.name for p in sources.require("openmsx_midi").glob("*.mid")))
    if source == "hydrogen_songs":
        root = sources.require("hydrogen_songs")
        return tuple(sorted(p.name for p in root.glob("*.h2song")))
    if source == "mma":
        return mma_grooves()
    if source == "music21":
        return music21_pieces()
    if source in GMD_SOURCES.values():
        return gmd_pieces(source)
    raise ValueError(f"unknown pattern source {source!r}")


@lru_cache(maxsize=256)
def load_piece(source: str, name: str) -> Score:
    """Load one piece of a file-based source (cached per process)."""
    if source == "freedoom":
        wad, lump = name.split(":")
        data = wad_midi_lumps(sources.require("freedoom_wads") / wad)[lump]
        return score_from_midi(data, source, name)
    if source == "blupi":
        return score_from_midi((sources.require("blupi_midi") / name).read_bytes(), source, name)
    if source == "openmsx":
        return score_from_midi((sources.require("openmsx_midi") / name).read_bytes(), source, name)
    if source == "hydrogen_songs":
        return score_from_h2song(sources.require("hydrogen_songs") / name)
    if source == "music21":
        return music21_score(name)
    if source in GMD_SOURCES.values():
        data = (sources.require("gmd") / name).read_bytes()
        return score_from_midi(data, source, name, TD11_NOTE_TO_GM)
    raise ValueError(f"unknown file source {source!r}")


# ----------------------------------------------------------------------------- Groove MIDI Dataset

GMD_SOURCES: dict[str, str] = {"train": "gmd_train", "val": "gmd_val", "test": "gmd_test"}
"""Pattern source name of each factory split; each reads the dataset's own split of the same
role (train, validation, test), so no performance is shared between splits."""
GMD_SPLITS: dict[str, str] = {"gmd_train": "train", "gmd_val": "validation", "gmd_test": "test"}
GMD_BEAT_SHARE = 0.75
"""Share of draws that take a groove ("beat") rather than a fill recording: fills are short
(a few bars ending in a fill) and would be looped."""


@lru_cache(maxsize=4)
def _gmd_table(root: str) -> tuple[tuple[str, str, str, str], ...]:
    """(MIDI file, dataset split, beat type, time signature) of every row of ``info.csv``."""
    import csv

    with open(Path(root) / "info.csv", newline="") as handle:
        return tuple(
            (row["midi_filename"], row["split"], row["beat_type"], row["time_signature"])
            for row in csv.DictReader(handle)
        )


def gmd_pieces(source: str, beat_type: str | None = None) -> tuple[str, ...]:
    """MIDI files (relative to the dataset) of a GMD pattern source, sorted.

    Parameters
    ----------
    source : str
        A value of :data:`GMD_SOURCES`.
    beat_type : str, optional
        ``"beat"`` or ``"fill"``; both when None.
    """
    root = sources.require("gmd")
    return tuple(sorted(
        name for name, split, kind, _ in _gmd_table(str(root))
        if split == GMD_SPLITS[source] and beat_type in (None, kind)
    ))


def draw_gmd_piece(source: str, rng: np.random.Generator) -> str:
    """A groove (:data:`GMD_BEAT_SHARE` of the draws) or a fill recording of a GMD source."""
    kind = "beat" if rng.random() < GMD_BEAT_SHARE else "fill"
    pieces = gmd_pieces(source, kind) or gmd_pieces(source)
    return pieces[int(rng.integers(len(pieces)))]


# ----------------------------------------------------------------------------- music21 corpus

MUSIC21_SUFFIXES = ("mxl", "xml", "krn")
"""Corpus formats used (ABC collections are slow to parse and skipped)."""
MUSIC21_SPLIT_BUCKETS = 10
"""Corpus pieces are split by a hash of their path: bucket 0 test, 1 validation, others train."""


@lru_cache(maxsize=1)
def music21_pieces() -> tuple[str, ...]:
    """Paths (relative to the music21 corpus) of the pitched pieces used as pitched parts."""
    try:
        from music21 import corpus
    except ImportError as error:
        message = "music21 is not installed (pip install music21)"
        raise sources.SourceMissingError(message) from error
    root = Path(corpus.__file__).parent
    names = []
    for path in corpus.getPaths():
        path = Path(path)
        if path.suffix.lstrip(".") in MUSIC21_SUFFIXES:
            try:
                names.append(str(path.relative_to(root)))
            except ValueError:
                continue
    return tuple(sorted(names))


def music21_split(name: str) -> str:
    """Split of a music21 corpus piece (stable hash of its path)."""
    bucket = zlib.crc32(name.encode()) % MUSIC21_SPLIT_BUCKETS
    return {0: "test", 1: "val"}.get(bucket, "train")


def music21_score(name: str) -> Score:
    """Parse a music21 corpus piece (repeats expanded where possible) into a Score."""
    from music21 import converter, corpus
    from music21.midi import translate

    stream = converter.parse(Path(corpus.__file__).parent / name)
    try:
        stream = stream.expandRepeats()
    except Exception:  # noqa: BLE001 - many corpus files have no or odd repeats
        pass
    data = translate.music21ObjectToMidiFile(stream).writestr()
    return score_from_midi(data, "music21", name)


# ----------------------------------------------------------------------------- Hydrogen songs


def score_from_h2song(path: Path) -> Score:
    """Read a Hydrogen ``.h2song`` (patterns played in its pattern sequence) into a Score.

    Instruments are mapped to GM by name with the same rules as Hydrogen kits.
    """
    root = ET.parse(path).getroot()

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def child_text(element: ET.Element, name: str, default: str = "") -> str:
        for c in element:
            if local(c.tag) == name and c.text:
                return c.text.strip()
        return default

    tempo = float(child_text(root, "bpm", str(DEFAULT_TEMPO_BPM)))
    instrument_note: dict[str, int] = {}
    patterns: dict[str, tuple[float, list[tuple[float, int, int]]]] = {}
    sequence: list[list[str]] = []
    for element in root.iter():
        tag = local(element.tag)
        if tag == "instrument" and child_text(element, "id"):
            note = hydrogen_gm_note("", child_text(element, "name"))
            if note is not None:
                instrument_note[child_text(element, "id")] = note
        elif tag == "pattern" and child_text(element, "name"):
            size = float(child_text(element, "size", "192")) / HYDROGEN_TICKS_PER_BEAT
            hits = []
            for note in element.iter():
                if local(note.tag) != "note":
                    continue
                inst = child_text(note, "instrument")
                if inst in instrument_note:
                    beat = float(child_text(note, "position", "0")) / HYDROGEN_TICKS_PER_BEAT
                    velocity = float(child_text(note, "velocity", "0.8"))
                    hits.append((beat, instrument_note[inst], max(1, round(velocity * 127))))
            patterns[child_text(element, "name")] = (size, hits)
        elif tag == "group":
            ids = [c.text.strip() for c in element if local(c.tag) == "patternID" and c.text]
            sequence.append(ids)
    drums = []
    position = 0.0
    for group in sequence:
        group = [p for p in group if p in patterns]
        if not group:
            continue
        for pid in group:
            drums.extend((position + b, n, v) for b, n, v in patterns[pid][1])
        position += max(patterns[pid][0] for pid in group)
    return Score(
        "hydrogen_songs",
        path.name,
        tempo,
        4.0,
        np.array(sorted(drums), dtype=np.float64).reshape(-1, 3),
        np.zeros((0, 5)),
        position,
    )


# ----------------------------------------------------------------------------- MMA

MMA_SKIP = re.compile(r"(intro|end|fill|break)\d*$", re.IGNORECASE)
MMA_PROGRESSIONS: tuple[tuple[str, ...], ...] = (
    ("C", "Am", "F", "G"),
    ("C", "G", "Am", "F"),
    ("Dm7", "G7", "Cmaj7", "Cmaj7"),
    ("Am", "F", "C", "G"),
    ("Em", "C", "G", "D"),
    ("F", "G", "Em", "Am"),
    ("A", "D", "E", "D"),
    ("Gm", "Eb", "Bb", "F"),
    ("C7", "F7", "C7", "G7"),
    ("Am7", "D7", "Gmaj7", "Cmaj7"),
)
MMA_KEYS_SEMITONES = 12


@lru_cache(maxsize=1)
def mma_grooves() -> tuple[str, ...]:
    """Groove names defined in MMA's standard library (without intros, endings and fills)."""
    lib = sources.require("mma_lib")
    names = set()
    for path in sorted(lib.glob("*.mma")):
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"\s*DefGroove\s+(\S+)", line, re.IGNORECASE)
            if match and not MMA_SKIP.search(match.group(1)):
                names.add(match.group(1))
    return tuple(sorted(names))


MMA_SILENT_GROOVES = frozenset({"none"})
"""Grooves of MMA's library that play nothing (lower case); ``mma`` writes no MIDI for them."""


def draw_mma_groove(rng: np.random.Generator) -> str:
    """A groove of :func:`mma_grooves` drawn uniformly, drawing again on a silent one.

    The list keeps the silent grooves, so every draw that never meets one picks what it
    always picked (earlier builds are reproduced).
    """
    grooves = mma_grooves()
    while True:
        name = grooves[int(rng.integers(len(grooves)))]
        if name.lower() not in MMA_SILENT_GROOVES:
            return name


def _transpose_chord(chord: str, semitones: int) -> str:
    roots = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    match = re.match(r"([A-G][#b]?)(.*)", chord)
    root, rest = match.group(1), match.group(2)
    flats = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}
    index = roots.index(flats.get(root, root))
    return roots[(index + semitones) % 12] + rest


def mma_score(groove: str, rng: np.random.Generator, bars: int, tempo_bpm: float) -> Score:
    """Render an MMA groove over a random chord progression with ``mma``; returns a Score.

    Raises
    ------
    RuntimeError
        If ``mma`` fails for this groove.
    """
    binary = sources.require("mma_bin")
    progression = MMA_PROGRESSIONS[int(rng.integers(len(MMA_PROGRESSIONS)))]
    shift = int(rng.integers(MMA_KEYS_SEMITONES))
    # MMA randomises timing and volume: seed it, and fix Python's hash seed, for repeatability
    lines = [f"RndSeed {int(rng.integers(2**31))}", f"Tempo {tempo_bpm:.0f}", f"Groove {groove}"]
    for bar in range(bars):
        lines.append(f"{bar + 1} {_transpose_chord(progression[bar % len(progression)], shift)}")
    with tempfile.TemporaryDirectory() as tmp:
        mma_file = Path(tmp) / "song.mma"
        mid_file = Path(tmp) / "song.mid"
        mma_file.write_text("\n".join(lines) + "\n")
        result = subprocess.run(
            [str(binary), "-f", str(mid_file), str(mma_file)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        if result.returncode != 0 or not mid_file.exists():
            raise RuntimeError(f"mma failed on groove {groove}: {result.stdout[-200:]}")
        return score_from_midi(mid_file.read_bytes(), "mma", groove)
