"""The one interchange type: :class:`Transcription`.

A transcription holds what was heard in one piece of audio: drum hits, pitched notes,
and (once rhythm analysis ran) beats and tempo. Its tables are pandas DataFrames with
fixed columns; transforms return new objects and never modify the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from drumtx import vocab

DRUM_COLUMNS = ("time_s", "cls", "velocity")
NOTE_COLUMNS = ("onset_s", "offset_s", "pitch", "velocity")
BEAT_COLUMNS = ("time_s", "position")
CSV_COLUMNS = ("time_s", "kind", "label", "midi_note", "velocity", "duration_s")


def empty_drums() -> pd.DataFrame:
    """An empty drum-hit table with the right columns and dtypes."""
    return pd.DataFrame(
        {
            "time_s": pd.Series(dtype="float64"),
            "cls": pd.Series(dtype="object"),
            "velocity": pd.Series(dtype="int64"),
        }
    )


def empty_notes() -> pd.DataFrame:
    """An empty pitched-note table with the right columns and dtypes."""
    return pd.DataFrame(
        {
            "onset_s": pd.Series(dtype="float64"),
            "offset_s": pd.Series(dtype="float64"),
            "pitch": pd.Series(dtype="int64"),
            "velocity": pd.Series(dtype="int64"),
        }
    )


def empty_beats() -> pd.DataFrame:
    """An empty beat table: ``time_s`` and ``position`` (1 = downbeat)."""
    return pd.DataFrame(
        {"time_s": pd.Series(dtype="float64"), "position": pd.Series(dtype="int64")}
    )


def make_drums(time_s, cls, velocity) -> pd.DataFrame:
    """Build a drum-hit table sorted by time (then class order)."""
    table = pd.DataFrame(
        {
            "time_s": np.asarray(time_s, dtype="float64"),
            "cls": pd.Series(list(cls), dtype="object"),
            "velocity": np.clip(np.asarray(velocity, dtype="int64"), 1, 127),
        }
    )
    unknown = set(table["cls"]) - set(vocab.DRUM_CLASSES)
    if unknown:
        raise ValueError(f"unknown drum classes: {sorted(unknown)}")
    order = table["cls"].map(vocab.CLASS_INDEX)
    table = table.assign(_order=order).sort_values(["time_s", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def make_notes(onset_s, offset_s, pitch, velocity) -> pd.DataFrame:
    """Build a pitched-note table sorted by onset then pitch."""
    table = pd.DataFrame(
        {
            "onset_s": np.asarray(onset_s, dtype="float64"),
            "offset_s": np.asarray(offset_s, dtype="float64"),
            "pitch": np.asarray(pitch, dtype="int64"),
            "velocity": np.clip(np.asarray(velocity, dtype="int64"), 1, 127),
        }
    )
    table = table.sort_values(["onset_s", "pitch"], kind="stable")
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class Transcription:
    """Drum hits, pitched notes and rhythm of one piece of audio.

    Attributes
    ----------
    source : str
        Name of the transcribed audio (usually the file stem); used as a title.
    duration_s : float
        Length of the audio in seconds.
    drums : pandas.DataFrame
        Columns ``time_s`` (float, seconds), ``cls`` (class name from
        :data:`drumtx.vocab.DRUM_CLASSES`), ``velocity`` (int, 1-127).
    notes : pandas.DataFrame
        Columns ``onset_s``, ``offset_s`` (seconds), ``pitch`` (MIDI), ``velocity``.
    beats : pandas.DataFrame
        Columns ``time_s`` and ``position`` (1-based position in the bar, 1 = downbeat).
        Empty when rhythm analysis has not run.
    tempo_bpm : float or None
        Global tempo in beats per minute, when known.
    beats_per_bar : int or None
        Time-signature numerator, when known.
    """

    source: str
    duration_s: float
    drums: pd.DataFrame = field(default_factory=empty_drums)
    notes: pd.DataFrame = field(default_factory=empty_notes)
    beats: pd.DataFrame = field(default_factory=empty_beats)
    tempo_bpm: float | None = None
    beats_per_bar: int | None = None

    def replace(self, **changes) -> Transcription:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def drum_counts(self) -> pd.Series:
        """Number of hits per class, in class order (zeros included)."""
        counts = self.drums["cls"].value_counts()
        return counts.reindex(list(vocab.DRUM_CLASSES), fill_value=0).astype("int64")

    def to_table(self) -> pd.DataFrame:
        """All events as one table with :data:`CSV_COLUMNS`, sorted by time.

        Drum hits have ``kind == "drum"``, the class name as ``label``, the class's
        written GM note as ``midi_note`` and ``duration_s == 0``. Pitched notes have
        ``kind == "pitched"`` and the note name (e.g. ``"C4"``) as ``label``.
        """
        drums = pd.DataFrame(
            {
                "time_s": self.drums["time_s"].to_numpy(),
                "kind": "drum",
                "label": self.drums["cls"].to_numpy(),
                "midi_note": [vocab.DRUM_BY_NAME[c].written_note for c in self.drums["cls"]],
                "velocity": self.drums["velocity"].to_numpy(),
                "duration_s": 0.0,
            }
        )
        notes = pd.DataFrame(
            {
                "time_s": self.notes["onset_s"].to_numpy(),
                "kind": "pitched",
                "label": [_note_name(p) for p in self.notes["pitch"]],
                "midi_note": self.notes["pitch"].to_numpy(),
                "velocity": self.notes["velocity"].to_numpy(),
                "duration_s": (self.notes["offset_s"] - self.notes["onset_s"]).to_numpy(),
            }
        )
        parts = [part for part in (drums, notes) if len(part)]
        if not parts:
            return pd.DataFrame({column: [] for column in CSV_COLUMNS})
        table = pd.concat(parts, ignore_index=True)
        table = table.sort_values(["time_s", "kind", "midi_note"], kind="stable")
        return table.reset_index(drop=True)[list(CSV_COLUMNS)]


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _note_name(midi_pitch: int) -> str:
    """Scientific pitch name of a MIDI note, e.g. 60 -> ``"C4"``."""
    midi_pitch = int(midi_pitch)
    return f"{_NOTE_NAMES[midi_pitch % 12]}{midi_pitch // 12 - 1}"
