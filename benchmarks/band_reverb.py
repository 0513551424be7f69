"""A reverberant band over dry drums: the same songs rendered with and without a long reverb on
everything but the drums (a washy guitar over a close-miked kit).

Usage::

    python benchmarks/band_reverb.py --out DIR [--split val] [--minutes 10] [--seed 21]
                                     [--model MODEL_DIR]

Builds the split twice (``DIR/dry_band`` and ``DIR/reverberant_band``, the latter with
:data:`data_prep.songs.BAND_REVERB_PROBABILITY` set to 1: reverberation time and wet share drawn
from :data:`data_prep.songs.BAND_REVERB_RT60_S` and ``BAND_REVERB_WET``, every other choice of
every song the same), scores the model on both and prints the 5-class table of the mixes for
each. Builds already in ``DIR`` are reused.
"""

from __future__ import annotations

from variants import argument_parser, build_variants, mix_table

from data_prep import songs  # on the path once variants is imported
from drumtx import evaluate, runtime

CONDITIONS = {"dry_band": 0.0, "reverberant_band": 1.0}
"""Values of :data:`data_prep.songs.BAND_REVERB_PROBABILITY` for the two builds."""


def main() -> None:
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    folders = build_variants(
        args.out, args.split, args.minutes, args.seed, songs, "BAND_REVERB_PROBABILITY",
        CONDITIONS,
    )
    print(f"model sha256 {runtime.model_hash(args.model)}; {args.split}, seed {args.seed}")
    for name, folder in folders.items():
        scores, _, _ = evaluate.evaluate(args.model, folder, args.split)
        print(f"\n{name} (mixes, 5 classes)")
        print(mix_table(scores))


if __name__ == "__main__":
    main()
