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

import pandas as pd
from variants import MIX_CONDITION, argument_parser, build_variants, mix_table

from data_prep import voice  # on the path once variants is imported
from drumtx import evaluate, runtime

CONDITIONS = {"with_voice": voice.P_VOICE, "without_voice": 0.0}


def summed_f(per_song: pd.DataFrame, songs: set[str]) -> float:
    """5-class F of the mixes of ``songs`` (hits summed over them)."""
    rows = per_song[(per_song["condition"] == MIX_CONDITION) & per_song["song"].isin(songs)]
    return evaluate.Counts.from_table(rows).f_measure


def main() -> None:
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    folders = build_variants(
        args.out, args.split, args.minutes, args.seed, voice, "P_VOICE", CONDITIONS
    )
    manifest = pd.read_csv(folders["with_voice"] / "manifest.csv")
    has_voice = manifest["variations"].fillna("").str.contains("voice(", regex=False)
    voiced = set(manifest.loc[has_voice, "id"])
    print(f"model sha256 {runtime.model_hash(args.model)}; {len(manifest)} songs "
          f"({args.split}, seed {args.seed}), {len(voiced)} with a voice")
    per_song = {}
    for name, folder in folders.items():
        scores, _, per_song[name] = evaluate.evaluate(args.model, folder, args.split)
        print(f"\n{name} (mixes, 5 classes)")
        print(mix_table(scores))
    print(f"\nvoiced songs' mixes, 5-class F: with the voice "
          f"{summed_f(per_song['with_voice'], voiced):.3f}, without "
          f"{summed_f(per_song['without_voice'], voiced):.3f}")


if __name__ == "__main__":
    main()
