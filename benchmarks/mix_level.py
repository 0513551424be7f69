"""Quiet drums: the same songs rendered at the factory's drum levels and with the drums well under
the rest of the band, as produced songs often have them.

Usage::

    python benchmarks/mix_level.py --out DIR [--split val] [--minutes 10] [--seed 21]
                                   [--model MODEL_DIR]

Builds the split twice (``DIR/factory_level`` and ``DIR/quiet_drums``, the latter with
:data:`data_prep.songs.MIX_LEVEL_DB` set to :data:`QUIET_DRUMS_DB`: every other choice of
every song is the same, see :func:`data_prep.songs.make_song`), scores the model on both and
prints the 5-class table of the mixes for each. Builds already in ``DIR`` are reused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drumtx import evaluate, runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the data factory, beside drumtx
from data_prep import build, songs  # noqa: E402

MIX_CONDITION = "mix"
QUIET_DRUMS_DB = (-20.0, -8.0)
"""Drums-to-rest RMS level (dB) of the quiet build (the factory draws from
:data:`data_prep.songs.MIX_LEVEL_DB`)."""
CONDITIONS = {"factory_level": songs.MIX_LEVEL_DB, "quiet_drums": QUIET_DRUMS_DB}


def build_both(out: Path, split: str, minutes: float, seed: int) -> dict[str, Path]:
    """Render the split at both drum levels; returns the folders by condition."""
    folders = {}
    default = songs.MIX_LEVEL_DB
    try:
        for name, level_db in CONDITIONS.items():
            songs.MIX_LEVEL_DB = level_db
            folders[name] = out / name
            build.build(split, minutes, seed, folders[name], jobs=1, progress=False)
    finally:
        songs.MIX_LEVEL_DB = default
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the two builds")
    parser.add_argument("--split", default="val")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--model", help="model folder (default: bundled model)")
    args = parser.parse_args()

    folders = build_both(args.out, args.split, args.minutes, args.seed)
    print(f"model sha256 {runtime.model_hash(args.model)}; {args.split}, seed {args.seed}")
    for name, folder in folders.items():
        scores, _, _ = evaluate.evaluate(args.model, folder, args.split)
        table = scores[(scores["condition"] == MIX_CONDITION) & (scores["classes"] == 5)]
        low, high = CONDITIONS[name]
        print(f"\n{name} (mixes, drums {low:+.0f} to {high:+.0f} dB against the rest, 5 classes)")
        print(table[["class", "precision", "recall", "f", "n_ref", "n_est"]].to_string(
            index=False, float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
