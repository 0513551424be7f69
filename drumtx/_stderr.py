"""Keep native libraries' chatter (TensorFlow start-up, mpg123 resync notes) off the terminal."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

DEBUG_VARIABLE = "DRUMTX_DEBUG"
"""When this environment variable is set, nothing is silenced."""

_saved_descriptors: list[int] = []
"""Copies of the real stderr descriptor, one per active :func:`silenced_stderr` block."""


def real_stderr_descriptor() -> int:
    """The descriptor of the real stderr, even inside :func:`silenced_stderr`."""
    return _saved_descriptors[0] if _saved_descriptors else 2


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Point file descriptor 2 at ``/dev/null`` for the duration of the block.

    Native code writes to the descriptor directly, so redirecting ``sys.stderr`` is not
    enough. Python exceptions still propagate; they are reported after the block.
    """
    if os.environ.get(DEBUG_VARIABLE):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    _saved_descriptors.append(saved)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        _saved_descriptors.remove(saved)
        os.close(saved)
