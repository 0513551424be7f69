"""CSV export: one row per event (``time_s, kind, label, midi_note, velocity, duration_s``)."""

from __future__ import annotations

import os
from pathlib import Path

from drumtx.export import atomic_output
from drumtx.transcription import Transcription

TIME_DECIMALS = 4


def write_csv(transcription: Transcription, path: str | os.PathLike, force: bool = False) -> Path:
    """Write all events of ``transcription`` as CSV (see :meth:`Transcription.to_table`)."""
    table = transcription.to_table().round({"time_s": TIME_DECIMALS, "duration_s": TIME_DECIMALS})
    with atomic_output(path, force=force) as temporary:
        table.to_csv(temporary, index=False)
    return Path(path)
