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

from variants import argument_parser, build_variants, mix_table

from data_prep import songs  # on the path once variants is imported
from drumtx import evaluate, runtime

QUIET_DRUMS_DB = (-20.0, -8.0)
"""Drums-to-rest RMS level (dB) of the quiet build (the factory draws from
:data:`data_prep.songs.MIX_LEVEL_DB`)."""
CONDITIONS = {"factory_level": songs.MIX_LEVEL_DB, "quiet_drums": QUIET_DRUMS_DB}


def main() -> None:
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    folders = build_variants(
        args.out, args.split, args.minutes, args.seed, songs, "MIX_LEVEL_DB", CONDITIONS
    )
    print(f"model sha256 {runtime.model_hash(args.model)}; {args.split}, seed {args.seed}")
    for name, folder in folders.items():
        scores, _, _ = evaluate.evaluate(args.model, folder, args.split)
        low, high = CONDITIONS[name]
        print(f"\n{name} (mixes, drums {low:+.0f} to {high:+.0f} dB against the rest, 5 classes)")
        print(mix_table(scores))


if __name__ == "__main__":
    main()
