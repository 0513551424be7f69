"""Benchmark on real recordings: MDB Drums tables, whole-CLI time for a 3-minute song, peak RSS.

Usage::

    python benchmarks/mdb.py --data MDB_DIR [--model MODEL_DIR] [--minutes 3] [--merged]
        [--out-csv FILE]

``MDB_DIR`` is an annotated folder in the layout ``audio/{drum_only,full_mix}/*.wav`` +
``annotations/mdbpp/*.tsv`` (onset seconds, GM note). The script prints

1. the 5-class tables (P/R/F per class, hits summed over songs, every written hit counted)
   for every audio condition, with the 13- and 3-class ``all`` rows, and the model's SHA-256;
   with ``--merged``, the F and estimated hits with the hits of one coarse class within
   30 ms counted once (:data:`drumtx.evaluate.MERGE_S`) beside them;
2. the wall time of a whole ``drumtx transcribe AUDIO -o OUTDIR --force`` process (start-up,
   model loading, features, network, decoding, rhythm, export) on a song of ``--minutes``
   minutes made by repeating the folder's full mixes, and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from drumtx import evaluate
from drumtx.audio import load_audio
from drumtx.features import SAMPLE_RATE

SONG_MINUTES = 3.0
MIX_CONDITION = "full_mix"
MDB_COUNT_WIDTH = 5
"""Width of the hit counts in the tables (the four songs have fewer than 100,000 hits)."""


def print_tables(scores: pd.DataFrame) -> None:
    """The 5- and 13-class tables of each condition plus the 13- and 3-class ``all`` rows.

    Every written hit counts; where ``scores`` has merged rows, their F and estimated hits
    stand beside the 5-class figures (columns ``F mrg``, ``est mrg``).
    """
    for condition, table in evaluate.beside_merged(scores).groupby("condition", sort=False):
        for classes in (5, 13):
            print(f"\n{condition} ({classes} classes, hits summed over songs, as written)")
            rows = table[table["classes"] == classes]
            print("\n".join(evaluate.class_table_lines(rows, count_width=MDB_COUNT_WIDTH)))
        for classes in (13, 3):
            row = table[(table["classes"] == classes) & (table["class"] == evaluate.ALL_ROW)]
            merged_f = row["f_merged"].iloc[0]
            beside = "" if pd.isna(merged_f) else f" (merged {merged_f:.3f})"
            print(f"  {classes}-class all F {row['f'].iloc[0]:.3f}{beside}")


def make_long_song(data_dir: Path, minutes: float, path: Path) -> float:
    """Write a mono WAV of ``minutes`` minutes made by repeating the folder's mixes."""
    folder = data_dir / "audio" / MIX_CONDITION
    if not folder.is_dir():
        folder = next(path for path in (data_dir / "audio").iterdir() if path.is_dir())
    pieces = [load_audio(file) for file in sorted(folder.glob("*.wav"))]
    song = np.concatenate(pieces)
    n_samples = int(minutes * 60 * SAMPLE_RATE)
    song = np.tile(song, int(np.ceil(n_samples / len(song))))[:n_samples]
    soundfile.write(path, song, SAMPLE_RATE)
    return len(song) / SAMPLE_RATE


def drumtx_command() -> list[str]:
    """How to start the ``drumtx`` command of this environment."""
    script = Path(sys.executable).parent / "drumtx"
    if script.exists():
        return [str(script)]
    found = shutil.which("drumtx")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from drumtx.cli import main; sys.exit(main())"]


def time_cli(audio: Path, out_dir: Path, model_dir: str | None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``drumtx transcribe`` process."""
    command = drumtx_command() + ["transcribe", str(audio), "-o", str(out_dir), "--force"]
    if model_dir:
        command += ["--model", model_dir]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"drumtx transcribe failed: {completed.stderr.strip()[-500:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return seconds, peak_kib / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="annotated MDB folder")
    parser.add_argument("--model", help="model folder (default: bundled model)")
    parser.add_argument("--minutes", type=float, default=SONG_MINUTES, help="timed song length")
    parser.add_argument("--out-csv", help="write the score tables as CSV")
    parser.add_argument("--skip-timing", action="store_true", help="only the tables")
    parser.add_argument(
        "--merged", action="store_true", help="also the merged figures (coarse hits within 30 ms)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    scores, _, per_song = evaluate.evaluate(
        args.model, args.data, annotation_set="mdbpp", merged=args.merged
    )
    print(f"model sha256 {scores['model_sha256'].iloc[0]}")
    print_tables(scores)
    print(
        "\nper song (5-class all F, as written; per class: true positives/reference/estimated "
        "hits):"
    )
    for (condition, song), table in per_song.groupby(["condition", "song"], sort=False):
        total = table[table["class"] == evaluate.ALL_ROW].iloc[0]
        classes = " ".join(
            f"{row['class']}:{row['tp']:.0f}/{row['n_ref']:.0f}/{row['n_est']:.0f}"
            for row in table[table["class"] != evaluate.ALL_ROW].to_dict("records")
        )
        print(f"  {condition:10} {song:28} F {total.f:.3f} ({total.n_ref:.0f} ref, "
              f"{total.n_est:.0f} est)  {classes}")
    print(f"scoring took {time.perf_counter() - started:.1f} s")
    if args.out_csv:
        scores.to_csv(args.out_csv, index=False, float_format="%.4f")
    if args.skip_timing:
        return 0
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "song.wav"
        seconds_of_audio = make_long_song(args.data, args.minutes, audio)
        wall, rss = time_cli(audio, Path(folder) / "out", args.model)
    print(
        f"\ndrumtx transcribe, whole process, {seconds_of_audio / 60:.1f}-minute song: "
        f"{wall:.1f} s ({wall / (seconds_of_audio / 60):.2f} s per audio-minute incl. start-up), "
        f"peak RSS {rss:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
