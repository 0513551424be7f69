"""Statistics of a built data set.

Usage::

    python -m data_prep.stats DIR

Prints minutes and songs per split, drum-class counts and shares per split, pitched-note counts,
and the kits and pattern sources used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from drumtx.vocab import DRUM_CLASSES


def load_manifest(out: Path) -> pd.DataFrame:
    """The manifest of a build directory."""
    return pd.read_csv(Path(out) / "manifest.csv")


def drum_labels(out: Path, manifest: pd.DataFrame | None = None) -> pd.DataFrame:
    """All drum labels of a build, with ``id`` and ``split`` columns added."""
    manifest = load_manifest(out) if manifest is None else manifest
    frames = []
    for song, split in zip(manifest["id"], manifest["split"], strict=True):
        frame = pd.read_csv(Path(out) / "labels" / f"{song}.drums.tsv", sep="\t")
        frame["id"], frame["split"] = song, split
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["onset_s", "gm_note", "class", "velocity", "id", "split"])
    return pd.concat(frames, ignore_index=True)


def class_table(labels: pd.DataFrame) -> pd.DataFrame:
    """Hits per class (rows, in model order) and split (columns), with percentage columns."""
    counts = (
        labels.groupby(["class", "split"]).size().unstack("split", fill_value=0)
        .reindex(list(DRUM_CLASSES), fill_value=0)
    )
    table = counts.copy()
    for split in counts.columns:
        total = counts[split].sum()
        table[f"{split} %"] = (100.0 * counts[split] / total).round(2) if total else 0.0
    return table


def split_table(manifest: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Songs, minutes, drum hits and pitched notes per split."""
    table = manifest.groupby("split").agg(
        songs=("id", "count"), minutes=("seconds", lambda s: round(s.sum() / 60.0, 2)),
        drum_hits=("n_drum_hits", "sum"), notes=("n_notes", "sum"),
    )
    return table


def kit_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Songs and minutes per kit (with family and split)."""
    return (
        manifest.groupby(["split", "kit_family", "kit"])
        .agg(songs=("id", "count"), minutes=("seconds", lambda s: round(s.sum() / 60.0, 2)))
        .reset_index()
    )


def source_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Songs and minutes per split and pattern source."""
    return (
        manifest.groupby(["split", "pattern_source"])
        .agg(songs=("id", "count"), minutes=("seconds", lambda s: round(s.sum() / 60.0, 2)))
        .reset_index()
    )


def report(out: Path) -> str:
    """The printed statistics of a build directory."""
    manifest = load_manifest(out)
    labels = drum_labels(out, manifest)
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        parts = [
            f"# {out}: {len(manifest)} songs, {manifest['seconds'].sum() / 60:.1f} minutes",
            "## per split", split_table(manifest, out).to_string(),
            "## drum classes (hits and share of hits per split)", class_table(labels).to_string(),
            "## kits", kit_table(manifest).to_string(index=False),
            "## pattern sources", source_table(manifest).to_string(index=False),
        ]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m data_prep.stats", description=__doc__)
    parser.add_argument("out", type=Path, help="build directory (with manifest.csv)")
    args = parser.parse_args(argv)
    print(report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
