"""What a singer costs: the same songs rendered with and without the data factory's voice.

Usage::

    python benchmarks/voice.py --out DIR [--split val] [--minutes 10] [--seed 21]
                               [--model MODEL_DIR]

Builds the split twice (``DIR/with_voice`` and ``DIR/without_voice``, the latter with
:data:`data_prep.voice.P_VOICE` set to 0: every other choice of every song is the same, see
:func:`data_prep.songs.make_song`), scores the model on both and prints the 5-class table of
the mixes for each, and the 5-class F of the songs that got a voice, with and without it.
Builds already in ``DIR`` are reused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from drumtx import evaluate, runtime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the data factory, beside drumtx
from data_prep import build, voice  # noqa: E402

MIX_CONDITION = "mix"
CONDITIONS = {"with_voice": voice.P_VOICE, "without_voice": 0.0}


def build_both(out: Path, split: str, minutes: float, seed: int) -> dict[str, Path]:
    """Render the split with and without the voice; returns the folders by condition."""
    folders = {}
    default = voice.P_VOICE
    try:
        for name, probability in CONDITIONS.items():
            voice.P_VOICE = probability
            folders[name] = out / name
            build.build(split, minutes, seed, folders[name], jobs=1, progress=False)
    finally:
        voice.P_VOICE = default
    return folders


def summed_f(per_song: pd.DataFrame, songs: set[str]) -> float:
    """5-class F of the mixes of ``songs`` (hits summed over them)."""
    rows = per_song[(per_song["condition"] == MIX_CONDITION) & per_song["song"].isin(songs)]
    return evaluate.Counts.from_table(rows).f_measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the two builds")
    parser.add_argument("--split", default="val")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--model", help="model folder (default: bundled model)")
    args = parser.parse_args()

    folders = build_both(args.out, args.split, args.minutes, args.seed)
    manifest = pd.read_csv(folders["with_voice"] / "manifest.csv")
    has_voice = manifest["variations"].fillna("").str.contains("voice(", regex=False)
    voiced = set(manifest.loc[has_voice, "id"])
    print(f"model sha256 {runtime.model_hash(args.model)}; {len(manifest)} songs "
          f"({args.split}, seed {args.seed}), {len(voiced)} with a voice")
    per_song = {}
    for name, folder in folders.items():
        scores, _, per_song[name] = evaluate.evaluate(args.model, folder, args.split)
        table = scores[(scores["condition"] == MIX_CONDITION) & (scores["classes"] == 5)]
        print(f"\n{name} (mixes, 5 classes)")
        print(table[["class", "precision", "recall", "f", "n_ref", "n_est"]].to_string(
            index=False, float_format=lambda value: f"{value:.3f}"))
    print(f"\nvoiced songs' mixes, 5-class F: with the voice "
          f"{summed_f(per_song['with_voice'], voiced):.3f}, without "
          f"{summed_f(per_song['without_voice'], voiced):.3f}")


if __name__ == "__main__":
    main()
