"""Evaluation: ``drumtx evaluate --model M --data DIR``.

Drum hits are matched per class with ``mir_eval`` (one-to-one, within
:data:`MATCH_WINDOW_S`); hits are summed over songs before precision, recall and F are
computed, for the 13-class vocabulary and the usual 5- and 3-class protocols
(:data:`drumtx.vocab.CLASS_MAPS`). The ``all`` row sums the hits of every class.

Hits are counted as written: every estimated hit is one hit, also where two classes of one
coarse group are written at once (a closed and an open hi-hat at once are two ``HH`` hits in
the 5-class protocol, one of them a false positive), as the reader of the score sees them.
``--merged`` adds the figures with such hits counted once (:data:`MERGE_S`) beside them.

Two kinds of data folders are understood:

- a factory data folder (``manifest.csv``): the pieces of ``--split`` (default ``test``),
  drum stem and mix scored separately, pitched notes scored too (mir_eval.transcription,
  onsets only, 50 ms);
- an annotated audio folder: ``audio/<condition>/*.wav|flac|...`` (or audio files directly in
  ``audio/`` or the folder itself) and annotations with the same stem under
  ``annotations/<set>/`` (or ``annotations/``, or beside the audio): TSV
  ``onset_s<TAB>label`` (a class name, GM note number or MDB label), the factory's
  ``<stem>.drums.tsv`` (as ``examples/`` has) or MIDI files.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mir_eval
import numpy as np
import pandas as pd

from drumtx import features, vocab

if TYPE_CHECKING:
    from drumtx import decode

MATCH_WINDOW_S = 0.05
"""Onset tolerance in seconds (the usual 50 ms)."""
NOTE_ONSET_TOLERANCE_S = 0.05
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff", ".m4a")
ANNOTATION_SUFFIXES = (".drums.tsv", ".tsv", ".txt", ".csv", ".mid", ".midi")
PREFERRED_ANNOTATION_SETS = ("mdbpp",)
ALL_ROW = "all"
CLASS_SETS = (13, 5, 3)
SCORE_COLUMNS = ("tp", "n_ref", "n_est", "precision", "recall", "f")


@dataclass(frozen=True)
class Counts:
    """Matched (``tp``), reference (``n_ref``) and estimated (``n_est``) event counts."""

    tp: int = 0
    n_ref: int = 0
    n_est: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.n_ref + other.n_ref, self.n_est + other.n_est)

    @property
    def precision(self) -> float:
        """tp / n_est (1 when nothing was estimated and nothing was expected, else 0)."""
        if self.n_est == 0:
            return 1.0 if self.n_ref == 0 else 0.0
        return self.tp / self.n_est

    @property
    def recall(self) -> float:
        """tp / n_ref (1 when there was nothing to find and nothing was found, else 0)."""
        if self.n_ref == 0:
            return 1.0 if self.n_est == 0 else 0.0
        return self.tp / self.n_ref

    @property
    def f_measure(self) -> float:
        """Harmonic mean of precision and recall, ``2 tp / (n_ref + n_est)``."""
        if self.n_ref + self.n_est == 0:
            return 1.0
        return 2.0 * self.tp / (self.n_ref + self.n_est)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Counts:
        """Sum the per-class rows of a :func:`score_hits` table (``all`` row excluded)."""
        rows = table[table["class"] != ALL_ROW]
        return cls(int(rows["tp"].sum()), int(rows["n_ref"].sum()), int(rows["n_est"].sum()))


def match_count(
    reference_s: np.ndarray, estimate_s: np.ndarray, window_s: float = MATCH_WINDOW_S
) -> int:
    """Number of one-to-one matches between two onset lists within ``window_s`` (mir_eval)."""
    reference_s = np.sort(np.asarray(reference_s, dtype=np.float64))
    estimate_s = np.sort(np.asarray(estimate_s, dtype=np.float64))
    if len(reference_s) == 0 or len(estimate_s) == 0:
        return 0
    return len(mir_eval.util.match_events(reference_s, estimate_s, window_s))


MERGE_S = 0.03
"""In the merged figures, estimated hits that map to the same coarse class within this many
seconds are one hit (e.g. a closed and a pedal hi-hat at once are one ``HH`` hit in the
5-class protocol); the headline figures count every written hit."""
WRITTEN = "written"
"""``counting`` of the headline figures: every written hit counted."""
MERGED = "merged"
"""``counting`` of the merged figures: hits of one coarse class within :data:`MERGE_S` once."""
MERGED_CLASS_SETS = tuple(
    classes
    for classes in CLASS_SETS
    if len(set(vocab.CLASS_MAPS[classes].values())) < len(vocab.CLASS_MAPS[classes])
)
"""Class sets whose merged figures differ from the written ones (those with coarse groups)."""


def _mapped(hits: pd.DataFrame, class_map: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"time_s": hits["time_s"].to_numpy(dtype=np.float64), "cls": hits["cls"].map(class_map)}
    ).dropna()


def merge_close(times_s: np.ndarray, min_gap_s: float = MERGE_S) -> np.ndarray:
    """Sorted times with each run of events closer than ``min_gap_s`` to the last kept one dropped.

    Examples
    --------
    >>> merge_close(np.array([1.0, 1.01, 1.02, 1.5])).tolist()
    [1.0, 1.5]
    """
    kept: list[float] = []
    for time_s in np.sort(np.asarray(times_s, dtype=np.float64)):
        if not kept or time_s - kept[-1] > min_gap_s:
            kept.append(float(time_s))
    return np.asarray(kept, dtype=np.float64)


def score_hits(
    reference: pd.DataFrame,
    estimate: pd.DataFrame,
    classes: int = 13,
    window_s: float = MATCH_WINDOW_S,
    merged: bool = False,
) -> pd.DataFrame:
    """Per-class counts and P/R/F of estimated drum hits against reference hits.

    Parameters
    ----------
    reference, estimate : pandas.DataFrame
        Columns ``time_s`` (seconds) and ``cls`` (13-class names).
    classes : {13, 5, 3}
        Class set; hits of classes outside it (3-class: toms, cymbals) are ignored.
    window_s : float
        Matching tolerance in seconds.
    merged : bool
        Count estimated hits that fall into one coarse class within :data:`MERGE_S` once
        (:func:`merge_close`); by default every written hit counts.

    Returns
    -------
    pandas.DataFrame
        Columns ``class`` and :data:`SCORE_COLUMNS`, one row per class of the set plus the
        ``all`` row (hits of all classes summed).
    """
    class_map = vocab.CLASS_MAPS[classes]
    names = list(dict.fromkeys(class_map.values()))
    ref, est = _mapped(reference, class_map), _mapped(estimate, class_map)
    rows = []
    for name in names:
        ref_times = ref.loc[ref["cls"] == name, "time_s"].to_numpy()
        est_times = est.loc[est["cls"] == name, "time_s"].to_numpy()
        if merged and sum(value == name for value in class_map.values()) > 1:
            est_times = merge_close(est_times)
        counts = Counts(match_count(ref_times, est_times, window_s), len(ref_times), len(est_times))
        rows.append({"class": name, "tp": counts.tp, "n_ref": counts.n_ref, "n_est": counts.n_est})
    return finish_table(pd.DataFrame(rows))


def finish_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Add P/R/F columns (and the ``all`` row when missing) to per-class counts."""
    counts = counts[counts["class"] != ALL_ROW][["class", "tp", "n_ref", "n_est"]]
    total = pd.DataFrame(
        [{"class": ALL_ROW, **{key: int(counts[key].sum()) for key in ("tp", "n_ref", "n_est")}}]
    )
    table = pd.concat([counts, total], ignore_index=True)
    scores = [Counts(*map(int, row)) for row in table[["tp", "n_ref", "n_est"]].to_numpy()]
    table["precision"] = [score.precision for score in scores]
    table["recall"] = [score.recall for score in scores]
    table["f"] = [score.f_measure for score in scores]
    return table


def sum_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum per-song tables of :func:`score_hits` (hits summed over songs) and recompute P/R/F."""
    joined = pd.concat(tables, ignore_index=True)
    joined = joined[joined["class"] != ALL_ROW]
    order = list(dict.fromkeys(joined["class"]))
    summed = joined.groupby("class", sort=False)[["tp", "n_ref", "n_est"]].sum()
    return finish_table(summed.reindex(order).reset_index())


def hits_from_targets(onset_targets: np.ndarray) -> pd.DataFrame:
    """Reference hits from per-frame onset targets (frames whose target is 1).

    Parameters
    ----------
    onset_targets : numpy.ndarray, shape (n_frames, 13)

    Returns
    -------
    pandas.DataFrame with columns ``time_s``, ``cls``
    """
    frames, columns = np.nonzero(np.asarray(onset_targets) >= 1.0)
    return pd.DataFrame(
        {
            "time_s": features.frame_to_seconds(frames),
            "cls": [vocab.DRUM_CLASSES[c] for c in columns],
        }
    )


# ----------------------------------------------------------------------------------------------
# Reading references.
# ----------------------------------------------------------------------------------------------


def read_reference(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read drum hits (and pitched notes, from MIDI) of one annotation file.

    Parameters
    ----------
    path : path-like
        TSV/CSV/TXT ``onset_s<TAB>label`` (optional header; label = class name, GM note
        number or dataset label), a factory ``*.drums.tsv`` file, or a MIDI file (channel 10
        notes are drums, other channels pitched notes).

    Returns
    -------
    drums : pandas.DataFrame
        ``time_s``, ``cls`` (labels outside the 13 classes dropped).
    notes : pandas.DataFrame or None
        ``onset_s``, ``offset_s``, ``midi_pitch`` for MIDI references, else ``None``.
    """
    path = Path(path)
    if path.suffix.lower() in (".mid", ".midi"):
        return _read_midi_reference(path)
    table = pd.read_csv(path, sep=None, engine="python", header=None, comment="#", dtype=str)
    first = str(table.iloc[0, 0]).strip() if len(table) else ""
    try:
        float(first)
    except ValueError:  # a header row
        header = [str(value).strip() for value in table.iloc[0]]
        table = table.iloc[1:].reset_index(drop=True)
        table.columns = header
        label_column = "class" if "class" in header else header[1]
        labels, onsets = table[label_column], table[header[0]]
        if "gm_note" in header and label_column == "class":
            labels = [
                lab if vocab.class_of_label(lab) else gm
                for lab, gm in zip(labels, table["gm_note"], strict=False)
            ]
    else:
        onsets, labels = table.iloc[:, 0], table.iloc[:, 1]
    cls = [vocab.class_of_label(str(label)) for label in labels]
    drums = pd.DataFrame({"time_s": pd.to_numeric(pd.Series(list(onsets))), "cls": cls})
    return drums.dropna().sort_values("time_s").reset_index(drop=True), None


def _read_midi_reference(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import mido

    midi = mido.MidiFile(str(path))
    now = 0.0
    drums: list[tuple[float, str]] = []
    open_notes: dict[tuple[int, int], float] = {}
    notes: list[tuple[float, float, int]] = []
    for message in midi:  # iterating a MidiFile yields messages with delta times in seconds
        now += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        is_on = message.type == "note_on" and message.velocity > 0
        if message.channel == vocab.DRUM_MIDI_CHANNEL:
            cls = vocab.class_of_gm_note(message.note)
            if is_on and cls is not None:
                drums.append((now, cls))
            continue
        key = (message.channel, message.note)
        if is_on:
            open_notes[key] = now
        elif key in open_notes:
            notes.append((open_notes.pop(key), now, message.note))
    drum_table = pd.DataFrame(drums, columns=["time_s", "cls"])
    note_table = pd.DataFrame(notes, columns=["onset_s", "offset_s", "midi_pitch"])
    return drum_table, note_table


# ----------------------------------------------------------------------------------------------
# Running a model over a data folder.
# ----------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One audio file to score: its condition (e.g. ``drum_only``), name, audio and references."""

    condition: str
    name: str
    audio: Path | None
    drums: pd.DataFrame
    notes: pd.DataFrame | None = None
    feats: np.ndarray | None = None


def factory_items(data_dir: Path, split: str, max_pieces: int | None = None) -> list[Item]:
    """Items of one split of a factory data folder (conditions ``drums`` and ``mix``)."""
    from drumtx import dataset

    items = []
    for piece_id in list(dataset.read_manifest(data_dir, split)["id"])[:max_pieces]:
        hits = dataset.read_drum_labels(data_dir / "labels" / f"{piece_id}.drums.tsv")
        drums = pd.DataFrame({"time_s": hits["onset_s"], "cls": hits["cls"]})
        notes = dataset.read_note_labels(data_dir / "labels" / f"{piece_id}.notes.tsv")
        for source in dataset.SOURCES:
            audio = data_dir / "audio" / f"{piece_id}.{source}.flac"
            if audio.exists():
                feats = dataset.cached_features(data_dir, piece_id, source).astype(np.float32)
                pitched = notes if source == "mix" and len(notes) else None  # none in the stem
                items.append(Item(source, piece_id, audio, drums, pitched, feats))
    return items


def _annotation_dir(data_dir: Path, annotation_set: str | None) -> Path:
    root = data_dir / "annotations"
    if not root.is_dir():
        return data_dir
    if annotation_set:
        return root / annotation_set
    subdirs = sorted(path for path in root.iterdir() if path.is_dir())
    for preferred in PREFERRED_ANNOTATION_SETS:
        if (root / preferred).is_dir():
            return root / preferred
    return subdirs[0] if subdirs else root


def folder_items(data_dir: Path, annotation_set: str | None = None) -> list[Item]:
    """Items of an annotated audio folder (see the module docstring)."""
    audio_root = data_dir / "audio" if (data_dir / "audio").is_dir() else data_dir
    conditions = sorted(path for path in audio_root.iterdir() if path.is_dir())
    groups = [(path.name, path) for path in conditions] or [(audio_root.name, audio_root)]
    annotations = _annotation_dir(data_dir, annotation_set)
    items = []
    for condition, folder in groups:
        for audio in sorted(folder.iterdir()):
            if audio.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            candidates = [annotations / (audio.stem + suffix) for suffix in ANNOTATION_SUFFIXES]
            candidates += [audio.with_suffix(suffix) for suffix in ANNOTATION_SUFFIXES]
            reference = next((path for path in candidates if path.is_file()), None)
            if reference is None:
                continue
            drums, notes = read_reference(reference)
            items.append(Item(condition, audio.stem, audio, drums, notes))
    if not items:
        raise SystemExit(f"no annotated audio found in {data_dir}")
    return items


def note_counts(reference: pd.DataFrame, estimate: pd.DataFrame) -> Counts:
    """Matched pitched notes (onset within 50 ms, same pitch; offsets ignored) via mir_eval."""
    if len(reference) == 0 or len(estimate) == 0:
        return Counts(0, len(reference), len(estimate))
    ref_intervals = np.array(reference[["onset_s", "offset_s"]], dtype=np.float64)
    ref_intervals[:, 1] = np.maximum(ref_intervals[:, 1], ref_intervals[:, 0] + 1e-3)
    est_intervals = np.array(estimate[["onset_s", "offset_s"]], dtype=np.float64)
    est_intervals[:, 1] = np.maximum(est_intervals[:, 1], est_intervals[:, 0] + 1e-3)
    matching = mir_eval.transcription.match_notes(
        ref_intervals,
        mir_eval.util.midi_to_hz(reference["midi_pitch"].to_numpy(dtype=np.float64)),
        est_intervals,
        mir_eval.util.midi_to_hz(estimate["pitch"].to_numpy(dtype=np.float64)),
        onset_tolerance=NOTE_ONSET_TOLERANCE_S,
        offset_ratio=None,
    )
    return Counts(len(matching), len(reference), len(estimate))


def evaluate_items(
    items: list[Item],
    model,
    peak_picking: dict,
    note_thresholds: decode.NoteThresholds | None = None,
    batch_size: int = 16,
    merged: bool = False,
) -> tuple[pd.DataFrame, dict[str, Counts], pd.DataFrame]:
    """Run the model over items and score them.

    Parameters
    ----------
    items : list of Item
    model : keras.Model
    peak_picking : dict
        Class name -> :class:`drumtx.decode.PeakPickingParams`.
    note_thresholds : drumtx.decode.NoteThresholds, optional
        Default the decoder's.
    batch_size : int
        Windows per network call.
    merged : bool
        Also score the class sets of :data:`MERGED_CLASS_SETS` with the hits of one coarse
        class within :data:`MERGE_S` counted once (rows whose ``counting`` is
        :data:`MERGED`).

    Returns
    -------
    scores : pandas.DataFrame
        Columns ``counting`` (:data:`WRITTEN`, or :data:`MERGED`), ``condition``,
        ``classes``, ``class`` and :data:`SCORE_COLUMNS` (hits summed over the items of each
        condition).
    notes : dict of str to Counts
        Pitched-note counts per condition (only where references have notes).
    per_song : pandas.DataFrame
        The 5-class table of every item as written (columns ``condition``, ``song``,
        ``class``, counts, f; the ``all`` row included).
    """
    from drumtx import decode
    from drumtx.audio import load_audio
    from drumtx.inference import predict_activations

    note_thresholds = note_thresholds or decode.NoteThresholds()
    countings = [(WRITTEN, classes) for classes in CLASS_SETS]
    if merged:
        countings += [(MERGED, classes) for classes in MERGED_CLASS_SETS]
    per_condition: dict[tuple[str, str, int], list[pd.DataFrame]] = {}
    note_scores: dict[str, Counts] = {}
    per_song = []
    for item in items:
        feats = item.feats
        if feats is None:
            feats = features.compute_features(load_audio(item.audio))
        activations = predict_activations(model, feats, batch_size=batch_size)
        estimate = decode.pick_drum_hits(activations, peak_picking)
        for counting, classes in countings:
            table = score_hits(item.drums, estimate, classes, merged=counting == MERGED)
            per_condition.setdefault((counting, item.condition, classes), []).append(table)
            if counting == WRITTEN and classes == 5:
                per_song.extend(
                    {"condition": item.condition, "song": item.name, **row}
                    for row in table.to_dict("records")
                )
        if item.notes is not None and len(item.notes):
            estimate_notes = decode.pick_pitched_notes(activations, note_thresholds)
            counts = note_counts(item.notes, estimate_notes)
            note_scores[item.condition] = note_scores.get(item.condition, Counts()) + counts
    rows = []
    for (counting, condition, classes), tables in per_condition.items():
        summed = sum_tables(tables)
        summed.insert(0, "classes", classes)
        summed.insert(0, "condition", condition)
        summed.insert(0, "counting", counting)
        rows.append(summed)
    return pd.concat(rows, ignore_index=True), note_scores, pd.DataFrame(per_song)


def beside_merged(scores: pd.DataFrame) -> pd.DataFrame:
    """The written rows of ``scores`` with the merged F and estimated hits beside them.

    Parameters
    ----------
    scores : pandas.DataFrame
        As :func:`evaluate_items` returns it (a table without a ``counting`` column is taken
        as written).

    Returns
    -------
    pandas.DataFrame
        The written rows, plus columns ``f_merged`` and ``n_est_merged`` (NaN where no merged
        row was scored: no ``--merged``, or a class set without coarse groups).
    """
    if "counting" not in scores:
        scores = scores.assign(counting=WRITTEN)
    keys = ["condition", "classes", "class"]
    written = scores[scores["counting"] == WRITTEN]
    merged = scores[scores["counting"] == MERGED][[*keys, "f", "n_est"]]
    merged = merged.rename(columns={"f": "f_merged", "n_est": "n_est_merged"})
    return written.merge(merged, on=keys, how="left")


def class_table_lines(table: pd.DataFrame, count_width: int = 6) -> list[str]:
    """The header and one line per class of a :func:`beside_merged` table (P, R, F, hits).

    The merged F and estimated hits stand beside (columns ``F mrg``, ``est mrg``) where the
    table has them; ``count_width`` is the width of the hit counts.
    """
    with_merged = bool(table["f_merged"].notna().any())
    width = count_width
    header = f"  {'class':6} {'P':>6} {'R':>6} {'F':>6} {'ref':>{width}} {'est':>{width}}"
    lines = [header + (f" {'F mrg':>6} {'est mrg':>7}" if with_merged else "")]
    for _, row in table.iterrows():
        line = (
            f"  {row['class']:6} {row['precision']:6.3f} {row['recall']:6.3f} {row['f']:6.3f} "
            f"{int(row['n_ref']):{width}d} {int(row['n_est']):{width}d}"
        )
        if with_merged:
            line += f" {row['f_merged']:6.3f} {int(row['n_est_merged']):7d}"
        lines.append(line)
    return lines


def format_tables(scores: pd.DataFrame, notes: dict[str, Counts]) -> str:
    """Human-readable tables: one block per condition and class set, F per class.

    Every written hit counts; where ``scores`` has merged rows (``--merged``), their F and
    estimated hits stand beside the written ones (columns ``F mrg``, ``est mrg``).
    """
    lines = []
    table_all = beside_merged(scores)
    for (condition, classes), table in table_all.groupby(["condition", "classes"], sort=False):
        lines.append(f"{condition}, {classes} classes (hits summed over songs, as written):")
        lines.extend(class_table_lines(table))
    for condition, counts in notes.items():
        lines.append(
            f"{condition}, pitched notes (onset 50 ms): P {counts.precision:.3f} "
            f"R {counts.recall:.3f} F {counts.f_measure:.3f} "
            f"({counts.n_ref} ref, {counts.n_est} est)"
        )
    return "\n".join(lines)


def evaluate(
    model_dir: str | Path | None,
    data_dir: str | Path,
    split: str = "test",
    annotation_set: str | None = None,
    max_pieces: int | None = None,
    merged: bool = False,
) -> tuple[pd.DataFrame, dict[str, Counts], pd.DataFrame]:
    """Score a model directory on a data folder; see :func:`evaluate_items` for the results.

    The ``scores`` table carries the model's SHA-256 in a ``model_sha256`` column; with
    ``merged``, it has the merged rows too (``counting`` :data:`MERGED`).
    """
    from drumtx import runtime
    from drumtx.pipeline import Transcriber

    data_dir = Path(data_dir)
    transcriber = Transcriber.load(model_dir)
    if (data_dir / "manifest.csv").exists():
        items = factory_items(data_dir, split, max_pieces)
    else:
        items = folder_items(data_dir, annotation_set)
    scores, notes, per_song = evaluate_items(
        items,
        transcriber.model,
        transcriber.peak_picking,
        transcriber.note_thresholds,
        merged=merged,
    )
    scores["model_sha256"] = runtime.model_hash(transcriber.model_dir)
    return scores, notes, per_song


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``drumtx evaluate``."""
    parser.add_argument("--model", metavar="DIR", help="model folder (default: bundled model)")
    parser.add_argument("--data", required=True, metavar="DIR", help="data or annotated folder")
    parser.add_argument("--split", default="test", help="manifest split (factory folders)")
    parser.add_argument("--annotations", metavar="SET", help="annotation subfolder, e.g. mdbpp")
    parser.add_argument("--max-pieces", type=int, help="score at most N factory pieces")
    parser.add_argument(
        "--merged",
        action="store_true",
        help=f"also count hits of one coarse class within {MERGE_S * 1000:.0f} ms once "
        "(F and hits beside the as-written figures)",
    )
    parser.add_argument("--out-csv", metavar="FILE", help="also write the scores as CSV")


def run(args: argparse.Namespace) -> int:
    """Run ``drumtx evaluate``; returns the exit status."""
    started = time.perf_counter()
    scores, notes, _ = evaluate(
        args.model, args.data, args.split, args.annotations, args.max_pieces, args.merged
    )
    print(format_tables(scores, notes))
    print(f"model sha256 {scores['model_sha256'].iloc[0]}; {time.perf_counter() - started:.1f} s")
    if args.out_csv:
        table = scores.copy()
        for condition, counts in notes.items():
            table.loc[len(table)] = {
                "counting": WRITTEN,
                "condition": condition,
                "classes": 0,
                "class": "pitched_notes",
                "tp": counts.tp,
                "n_ref": counts.n_ref,
                "n_est": counts.n_est,
                "precision": counts.precision,
                "recall": counts.recall,
                "f": counts.f_measure,
                "model_sha256": scores["model_sha256"].iloc[0],
            }
        Path(args.out_csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out_csv, index=False, float_format="%.4f")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m drumtx.evaluate``."""
    parser = argparse.ArgumentParser(prog="drumtx evaluate", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
