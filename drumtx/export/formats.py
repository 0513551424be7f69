"""The output formats offered by the CLI and app.

Each is a writer ``(transcription, path, force) -> Path``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

WRITERS: dict[str, tuple[str, str]] = {
    "mscx": ("drumtx.export.mscx", "write_mscx"),
    "mid": ("drumtx.export.midi", "write_midi"),
    "csv": ("drumtx.export.csv", "write_csv"),
    "musicxml": ("drumtx.export.musicxml", "write_musicxml"),
}
"""File extension -> (module, function); modules are imported only when used."""

DEFAULT_FORMATS = ("mscx", "mid", "csv")


def writer_for(extension: str) -> Callable[..., Path]:
    """The writer function for a file extension (a key of :data:`WRITERS`)."""
    module_name, function_name = WRITERS[extension]
    return getattr(import_module(module_name), function_name)
