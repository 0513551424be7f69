"""Shared by the benchmarks that render one split twice, changing one factory setting.

:func:`build_variants` renders the same songs once per value of a module-level setting of the
data factory (every other choice of every song stays the same, see
:func:`data_prep.songs.make_song`); :func:`mix_table` formats the 5-class table of the mixes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the data factory, beside drumtx
from data_prep import build  # noqa: E402

MIX_CONDITION = "mix"


def build_variants(
    out: Path,
    split: str,
    minutes: float,
    seed: int,
    module: ModuleType,
    setting: str,
    values: dict[str, object],
) -> dict[str, Path]:
    """Render the split into ``out/<name>`` with ``module.<setting>`` set to each value.

    The setting is restored afterwards; builds already in ``out`` are reused. Returns the
    folders by name.
    """
    folders = {}
    default = getattr(module, setting)
    try:
        for name, value in values.items():
            setattr(module, setting, value)
            folders[name] = out / name
            build.build(split, minutes, seed, folders[name], jobs=1, progress=False)
    finally:
        setattr(module, setting, default)
    return folders


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options of these benchmarks: ``--out``, ``--split``, ``--minutes``, ``--seed``,
    ``--model``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", required=True, type=Path, help="folder for the two builds")
    parser.add_argument("--split", default="val")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--model", help="model folder (default: bundled model)")
    return parser


def mix_table(scores: pd.DataFrame) -> str:
    """The 5-class table of the mixes from :func:`drumtx.evaluate.evaluate`'s scores."""
    table = scores[(scores["condition"] == MIX_CONDITION) & (scores["classes"] == 5)]
    return table[["class", "precision", "recall", "f", "n_ref", "n_est"]].to_string(
        index=False, float_format=lambda value: f"{value:.3f}"
    )
