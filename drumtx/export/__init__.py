"""Exporters: each takes a :class:`~drumtx.transcription.Transcription` and a path, never a model.

All writers go through :func:`atomic_output`, so a failed or interrupted export never
leaves a half-written file and an existing file is kept unless ``force`` is true.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from drumtx.errors import DrumtxError, OutputExistsError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    Parameters
    ----------
    path : path-like
        Final destination.
    force : bool
        Replace ``path`` if it already exists; otherwise raise :class:`OutputExistsError`.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false.
    DrumtxError
        The folder of ``path`` is missing or not writable.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists (use --force to overwrite)")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as error:
        raise DrumtxError(f"cannot write to {folder}: {error.strerror or error}") from error
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.chmod(temporary_path, 0o644)
        os.replace(temporary_path, path)
    except OSError as error:
        temporary_path.unlink(missing_ok=True)
        raise DrumtxError(f"cannot write {path}: {error.strerror or error}") from error
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise


def xml_child(parent: ET.Element, tag: str, text: object | None = None, **attributes) -> ET.Element:
    """Append a child element with optional text and attributes (values written with ``str``)."""
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attributes.items()})
    if text is not None:
        element.text = str(text)
    return element
