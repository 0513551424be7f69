"""Build a training/validation/test set of rendered songs with exact labels.

Usage::

    python -m data_prep.build --split {train,val,test} --minutes N --seed S --out DIR [--jobs J]

Output (several splits may share one ``DIR``; the manifest lists every finished song)::

    DIR/manifest.csv               one row per song
    DIR/audio/<id>.mix.flac        full mix, mono, 44100 Hz
    DIR/audio/<id>.drums.flac      drum stem, mono, 44100 Hz
    DIR/labels/<id>.drums.tsv      onset_s  gm_note  class  velocity
    DIR/labels/<id>.notes.tsv      onset_s  offset_s  midi_pitch  velocity  program
    DIR/labels/<id>.beats.tsv      time_s  position   (exact beat grid; position 1 = downbeat)

The manifest's ``beats_per_bar`` is the bar length of the beat labels (the score's metre in
quarter-note beats when it is whole, else 4; ``score_beats_per_bar`` keeps the score's own value)
and ``lead_s`` the time of the first downbeat.

A song counts as done when ``DIR/.parts/<id>.json`` exists; it is written last, after every other
file of the song has been written under a temporary name and renamed, so a killed build resumes
without half-written songs. The same seed gives identical files whatever the number of jobs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import pandas as pd

from drumtx.cli import probability

from . import kits, sources
from .songs import (  # noqa: F401 - re-exported: the build's constants and song functions
    BEAT_HEADER,
    DRUM_HEADER,
    END_MARGIN_S,
    MANIFEST_COLUMNS,
    NOTE_HEADER,
    PATTERN_SOURCES,
    PITCHED_DONORS,
    SPLITS,
    SongPlan,
    available_sources,
    format_beat_labels,
    format_drum_labels,
    format_note_labels,
    make_song,
    plan_songs,
    render_plan,
    song_done,
    write_song,
)


def write_manifest(out: Path) -> pd.DataFrame:
    """Collect every finished song's record into ``out/manifest.csv`` (sorted by id)."""
    rows = [json.loads(p.read_text()) for p in sorted((out / ".parts").glob("*.json"))]
    frame = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    frame = frame.sort_values("id").reset_index(drop=True)
    tmp = out / "manifest.csv.part"
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out / "manifest.csv")
    return frame


def build(split: str, minutes: float, seed: int, out: Path, jobs: int = 1,
          augment_audio: bool = True, progress: bool = True, piece_variation: float = 0.0,
          **options) -> dict:
    """Render a split into ``out``; skips songs already done. Returns timing figures.

    ``options`` are further :class:`SongPlan` fields: ``room_probability``,
    ``absent_probability``, ``percussion_probability``, ``gmd_weight``, ``kit_family``.
    """
    out = Path(out)
    kits.kits_for_split(split, options.get("kit_family"))  # fail early, naming what is missing
    available_sources(split, options.get("gmd_weight", 0.0))
    for sub in ("audio", "labels", ".parts"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    plans = plan_songs(split, minutes, seed, out, augment_audio, piece_variation, **options)
    todo = [p for p in plans if not song_done(out, p.song_id)]
    start = time.perf_counter()
    rendered = 0.0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(plans), initial=len(plans) - len(todo), unit="song",
                   desc=f"{split} seed {seed}", file=sys.stderr)
    if jobs <= 1 or len(todo) <= 1:
        for plan in todo:
            rendered += render_plan(plan)
            if bar:
                bar.update(1)
    else:
        # forkserver, not fork: a process that has run fluidsynth must not be forked (its locks
        # and threads do not survive it); the server preloads the modules once
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["data_prep.songs"])
        with context.Pool(jobs) as pool:
            for seconds in pool.imap_unordered(render_plan, todo, chunksize=1):
                rendered += seconds
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    wall = time.perf_counter() - start
    write_manifest(out)
    return {"songs": len(plans), "rendered_songs": len(todo), "audio_s": rendered, "wall_s": wall,
            "speed": rendered / wall if wall > 0 else float("inf")}


FACTORY_PACKAGES: dict[str, str] = {
    "fluidsynth": "pyfluidsynth", "pyroomacoustics": "pyroomacoustics",
}
"""Python modules the factory imports while rendering, and the PyPI package of each."""


def missing_packages(room: bool) -> list[str]:
    """PyPI packages the factory needs that are not installed (pyroomacoustics only for rooms)."""
    return [package for module, package in FACTORY_PACKAGES.items()
            if (room or module != "pyroomacoustics") and importlib.util.find_spec(module) is None]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m data_prep.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--split", choices=SPLITS, required=True)
    parser.add_argument("--minutes", type=float, required=True, help="minutes of audio to render")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-augment", action="store_true", help="only the gain augmentation")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--piece-variation", type=probability, default=0.0, metavar="P",
        help="probability that a song re-voices each kit piece (tuning, level, EQ, damping); "
        "default 0, as in the builds so far",
    )
    parser.add_argument(
        "--room-probability", type=probability, default=0.0, metavar="P",
        help="probability that a sampled kit is played in a room and recorded by close, "
        "overhead and room microphones with bleed (default 0)",
    )
    parser.add_argument(
        "--absent-probability", type=probability, default=0.0, metavar="P",
        help="probability that whole pieces (hi-hat, cymbals, toms, kick or snare) are left "
        "out of a song (default 0)",
    )
    parser.add_argument(
        "--percussion-probability", type=probability, default=0.0, metavar="P",
        help="probability of an unlabelled tambourine, shaker, cowbell, claps or cabasa part "
        "(default 0)",
    )
    parser.add_argument(
        "--gmd-weight", type=float, default=0.0, metavar="W",
        help="weight of the Groove MIDI Dataset (the split's own part of it) among the pattern "
        "sources, whose other weights sum to 1 (default 0: not used)",
    )
    parser.add_argument(
        "--kit-family", default=None, metavar="FAMILY",
        help="play only this kit family, whatever its split (e.g. Muldjord: the real "
        "16-microphone kit held out of the default splits)",
    )
    args = parser.parse_args(argv)
    if args.gmd_weight < 0:
        parser.error(f"argument --gmd-weight: must be 0 or more, got {args.gmd_weight}")
    missing = missing_packages(room=args.room_probability > 0)
    if missing:
        print(f"error: the data factory needs {', '.join(missing)}: run `make research` "
              "(or pip install -r requirements-dev.txt)", file=sys.stderr)
        return 2
    if args.kit_family is not None and args.kit_family not in kits.KIT_FAMILIES:
        parser.error(f"argument --kit-family: {args.kit_family!r} is not one of "
                     f"{', '.join(kits.KIT_FAMILIES)}")
    try:
        result = build(args.split, args.minutes, args.seed, args.out, args.jobs,
                       not args.no_augment, not args.quiet, args.piece_variation,
                       room_probability=args.room_probability,
                       absent_probability=args.absent_probability,
                       percussion_probability=args.percussion_probability,
                       gmd_weight=args.gmd_weight, kit_family=args.kit_family)
    except sources.SourceMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.split}: {result['songs']} songs in {args.out} "
        f"({result['rendered_songs']} rendered now, {result['audio_s'] / 60:.1f} min of audio "
        f"in {result['wall_s']:.1f} s wall = {result['speed']:.1f}x real time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
