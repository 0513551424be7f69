"""Peak-picking tuning: ``drumtx tune --model M --data VAL``.

For every drum class, a grid of :class:`drumtx.decode.PeakPickingParams` (threshold and
moving-average window) is tried on the validation pieces (drum stem and mix); the one with
the highest F (hits summed over pieces, 50 ms matching) is written to
``M/peak_picking.json``. A class without validation hits (the ride bell or china/splash of
a split whose patterns never play them), or with fewer than :data:`MIN_GROUP_SHARE` of its
5-class group's hits, is tuned on the F of that group (``CY+RD``), the group's other classes
fixed: its hits count where they land on the group's references and are errors elsewhere. A
class whose group has no hits either keeps the defaults.
The pitched-note thresholds are tuned the same way on the mixes' notes (row ``notes``:
the onset threshold; the frame threshold is in the file).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from drumtx import decode, vocab
from drumtx.errors import DrumtxError
from drumtx.evaluate import MATCH_WINDOW_S, Counts, match_count, merge_close
from drumtx.features import FRAMES_PER_SECOND

THRESHOLDS = tuple(np.round(np.arange(0.05, 0.951, 0.025), 3))
"""Peak-height thresholds tried (activation units above the moving average)."""
PRE_AVG_S = (0.0, 0.05, 0.1)
"""Moving-average windows before the frame tried (seconds)."""
NOTE_ONSET_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.751, 0.05), 3))
NOTE_FRAME_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
"""Pitched-note decoding thresholds tried (:class:`drumtx.decode.NoteThresholds`)."""
MIN_GROUP_SHARE = 0.05
"""A class with fewer validation hits than this share of its 5-class group's is tuned on the
group's F: tuned alone on a handful of hits, a rare class can end on a threshold that writes it
everywhere (72 ride-bell hits in a validation split of 3,216 cymbal and ride hits gave a
threshold of 0.125 and 1,859 ride bells written)."""


TABLE_COLUMNS = ("class", "tuned_on", "threshold", "pre_avg_s", "tp", "n_ref", "n_est", "f")
"""Columns of the tuning table (:func:`tune_activations`)."""


def parameter_grid(
    thresholds=THRESHOLDS, pre_avg_s=PRE_AVG_S, base: decode.PeakPickingParams | None = None
) -> list[decode.PeakPickingParams]:
    """All combinations of ``thresholds`` and ``pre_avg_s`` on top of ``base`` (the defaults)."""
    base = base or decode.DEFAULT_PEAK_PICKING
    return [
        replace(base, threshold=float(threshold), pre_avg_s=float(pre_avg))
        for pre_avg, threshold in itertools.product(pre_avg_s, thresholds)
    ]


def _best_on_grid(grid, counts_for) -> tuple:
    """The first grid point with the highest F, and its counts (``counts_for(point)``)."""
    best, best_counts = grid[0], None
    for point in grid:
        counts = counts_for(point)
        if best_counts is None or counts.f_measure > best_counts.f_measure:
            best, best_counts = point, counts
    return best, best_counts


def _peak_times_s(activation: np.ndarray, params: decode.PeakPickingParams) -> np.ndarray:
    """Times (seconds) of the peaks picked from one class's activation."""
    return decode.peak_frames(activation, params) / FRAMES_PER_SECOND


def _summed_counts(references, estimates, window_s: float) -> Counts:
    """Hits matched within ``window_s``, summed over pieces (pairs of time arrays)."""
    counts = Counts()
    for reference, estimate in zip(references, estimates, strict=True):
        counts = counts + Counts(
            match_count(reference, estimate, window_s), len(reference), len(estimate)
        )
    return counts


def tune_class(
    activations: list[np.ndarray],
    references: list[np.ndarray],
    grid: list[decode.PeakPickingParams],
    window_s: float = MATCH_WINDOW_S,
) -> tuple[decode.PeakPickingParams, Counts]:
    """The grid point with the best F for one class.

    Parameters
    ----------
    activations : list of numpy.ndarray, each shape (n_frames,)
        The class's onset activation on each piece.
    references : list of numpy.ndarray
        Reference onset times (seconds) on each piece.
    grid : list of PeakPickingParams
    window_s : float
        Matching tolerance.

    Returns
    -------
    params : PeakPickingParams
        The best parameters (the first of equals, i.e. the lowest threshold).
    counts : Counts
        Hits summed over pieces for those parameters.
    """
    pairs = list(zip(activations, references, strict=False))
    references = [reference for _, reference in pairs]

    def counts_for(params: decode.PeakPickingParams) -> Counts:
        estimates = [_peak_times_s(activation, params) for activation, _ in pairs]
        return _summed_counts(references, estimates, window_s)

    return _best_on_grid(grid, counts_for)


def tune_in_group(
    activations: list[np.ndarray],
    fixed_estimates: list[np.ndarray],
    group_references: list[np.ndarray],
    grid: list[decode.PeakPickingParams],
    window_s: float = MATCH_WINDOW_S,
) -> tuple[decode.PeakPickingParams, Counts]:
    """The grid point with the best F of a coarse class for one of its member classes.

    The member's picked hits join the other members' (``fixed_estimates``); hits closer than
    :data:`drumtx.evaluate.MERGE_S` count once, as in the merged 5-class figures
    (``drumtx evaluate --merged``).

    Parameters
    ----------
    activations : list of numpy.ndarray, each shape (n_frames,)
        The member class's onset activation on each piece.
    fixed_estimates : list of numpy.ndarray
        The other members' picked hits on each piece (seconds).
    group_references : list of numpy.ndarray
        Reference hits of the whole coarse class on each piece (seconds).
    grid : list of PeakPickingParams
    window_s : float
        Matching tolerance.

    Returns
    -------
    params : PeakPickingParams
        The best parameters; of equals the last, i.e. the highest threshold: where the
        references do not ask for the class's hits, fewer of them.
    counts : Counts
        The coarse class's hits summed over pieces for them.
    """
    pieces = list(zip(activations, fixed_estimates, strict=True))

    def counts_for(params: decode.PeakPickingParams) -> Counts:
        estimates = [
            merge_close(np.concatenate([fixed, _peak_times_s(activation, params)]))
            for activation, fixed in pieces
        ]
        return _summed_counts(group_references, estimates, window_s)

    return _best_on_grid(grid[::-1], counts_for)


def tune_activations(
    activations: list[dict[str, np.ndarray]],
    references: list[pd.DataFrame],
    grid: list[decode.PeakPickingParams] | None = None,
) -> tuple[dict[str, decode.PeakPickingParams], pd.DataFrame]:
    """Tune every drum class on precomputed activations.

    Parameters
    ----------
    activations : list of dict
        Per piece, at least ``"drum_onsets"`` of shape (n_frames, 13).
    references : list of pandas.DataFrame
        Per piece, reference hits (``time_s``, ``cls``).
    grid : list of PeakPickingParams, optional
        Default: :func:`parameter_grid`.

    Returns
    -------
    params : dict of str to PeakPickingParams
        Tuned parameters of the classes with reference hits, and of those without (or with
        fewer than :data:`MIN_GROUP_SHARE` of their group's) whose 5-class group has some
        (tuned on the group's F, :func:`tune_in_group`).
    table : pandas.DataFrame
        Per tuned class, :data:`TABLE_COLUMNS`: ``tuned_on`` is the class itself or its
        5-class group, whose counts the row then holds.
    """
    grid = grid or parameter_grid()
    params, rows = {}, []
    times = [
        {
            name: ref.loc[ref["cls"] == name, "time_s"].to_numpy(np.float64)
            for name in vocab.DRUM_CLASSES
        }
        for ref in references
    ]
    group_hits: dict[str, int] = {}
    for name, group in vocab.FIVE_CLASS_MAP.items():
        count = sum(len(piece[name]) for piece in times)
        group_hits[group] = group_hits.get(group, 0) + count
    unseen = []
    for index, name in enumerate(vocab.DRUM_CLASSES):
        refs = [piece[name] for piece in times]
        n_hits = sum(len(ref) for ref in refs)
        if n_hits == 0 or n_hits < MIN_GROUP_SHARE * group_hits[vocab.FIVE_CLASS_MAP[name]]:
            unseen.append(name)
            continue
        curves = [act["drum_onsets"][:, index] for act in activations]
        best, counts = tune_class(curves, refs, grid)
        params[name] = best
        rows.append(_row(name, name, best, counts))
    for name in unseen:
        group = vocab.FIVE_CLASS_MAP[name]
        members = vocab.coarse_members(group)
        group_refs = [np.concatenate([piece[m] for m in members]) for piece in times]
        if sum(len(ref) for ref in group_refs) == 0:
            continue
        index = vocab.CLASS_INDEX[name]
        fixed = [
            np.concatenate(
                [_picked_s(act, other, params) for other in members if other != name]
            )
            for act in activations
        ]
        curves = [act["drum_onsets"][:, index] for act in activations]
        best, counts = tune_in_group(curves, fixed, group_refs, grid)
        params[name] = best
        rows.append(_row(name, group, best, counts))
    return params, pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _picked_s(
    activations: dict[str, np.ndarray], name: str, params: dict[str, decode.PeakPickingParams]
) -> np.ndarray:
    """Hit times (seconds) of one class picked with its tuned (or the default) parameters."""
    curve = activations["drum_onsets"][:, vocab.CLASS_INDEX[name]]
    return _peak_times_s(curve, params.get(name, decode.DEFAULT_PEAK_PICKING))


def _row(name: str, tuned_on: str, params: decode.PeakPickingParams, counts: Counts) -> dict:
    return {
        "class": name,
        "tuned_on": tuned_on,
        "threshold": params.threshold,
        "pre_avg_s": params.pre_avg_s,
        "tp": counts.tp,
        "n_ref": counts.n_ref,
        "n_est": counts.n_est,
        "f": counts.f_measure,
    }


def tune_notes(
    activations: list[dict[str, np.ndarray]],
    references: list[pd.DataFrame],
    onset_thresholds=NOTE_ONSET_THRESHOLDS,
    frame_thresholds=NOTE_FRAME_THRESHOLDS,
) -> tuple[decode.NoteThresholds, Counts]:
    """The pitched-note thresholds with the best note F (onsets within 50 ms, same pitch).

    Parameters
    ----------
    activations : list of dict
        Per piece, ``"pitch_onsets"`` and ``"pitch_frames"`` of shape (n_frames, 88).
    references : list of pandas.DataFrame
        Per piece, reference notes (``onset_s``, ``offset_s``, ``midi_pitch``).

    Returns
    -------
    thresholds : NoteThresholds
        The best pair (the first of equals: lowest onset, then lowest frame threshold).
    counts : Counts
        Notes summed over pieces for them.
    """
    from drumtx.evaluate import note_counts

    pieces = list(zip(activations, references, strict=True))
    grid = [
        decode.NoteThresholds(float(onset), float(frame))
        for onset, frame in itertools.product(onset_thresholds, frame_thresholds)
    ]

    def counts_for(thresholds: decode.NoteThresholds) -> Counts:
        counts = Counts()
        for activation, reference in pieces:
            estimate = decode.pick_pitched_notes(activation, thresholds)
            counts = counts + note_counts(reference, estimate)
        return counts

    return _best_on_grid(grid, counts_for)


def tune(
    model_dir: str | Path,
    data_dir: str | Path,
    split: str = "val",
    max_pieces: int | None = None,
    save: bool = True,
    notes_only: bool = False,
) -> tuple[dict[str, decode.PeakPickingParams], pd.DataFrame]:
    """Tune a model directory's peak picking on one split of a factory data folder.

    Writes ``model_dir/peak_picking.json`` when ``save`` (classes not seen keep defaults).
    With ``notes_only``, the drum parameters already in that file are kept (defaults where
    it has none) and only the pitched-note thresholds are tuned: for a model whose drum
    outputs have not changed (``drumtx train --pitched-only``).
    """
    from drumtx import evaluate, runtime
    from drumtx.inference import predict_activations

    model_dir = Path(model_dir)
    decoding_path = model_dir / runtime.PEAK_PICKING_FILE
    if notes_only and not decoding_path.exists():
        raise DrumtxError(f"{decoding_path}: no drum peak picking to keep (--notes-only)")
    network = runtime.load_network(model_dir)
    items = evaluate.factory_items(Path(data_dir), split, max_pieces)
    activations = [predict_activations(network, item.feats) for item in items]
    if notes_only:
        params = decode.load_peak_picking(decoding_path)
        table = pd.DataFrame(columns=TABLE_COLUMNS)
    else:
        params, table = tune_activations(activations, [item.drums for item in items])
    pitched = [(act, item.notes) for act, item in zip(activations, items, strict=True)
               if item.notes is not None]
    notes = None
    if pitched:
        notes, counts = tune_notes([act for act, _ in pitched], [ref for _, ref in pitched])
        row = {"class": "notes", "tuned_on": "notes", "threshold": notes.onset_threshold,
               "pre_avg_s": np.nan, "tp": counts.tp, "n_ref": counts.n_ref, "n_est": counts.n_est,
               "f": counts.f_measure}
        notes_row = pd.DataFrame([row], columns=TABLE_COLUMNS)
        table = pd.concat([table, notes_row], ignore_index=True) if len(table) else notes_row
    if save:
        full = {name: params.get(name, decode.DEFAULT_PEAK_PICKING) for name in vocab.DRUM_CLASSES}
        decode.save_peak_picking(full, decoding_path, notes)
    return params, table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``drumtx tune``."""
    parser.add_argument("--model", required=True, metavar="DIR", help="model folder")
    parser.add_argument("--data", required=True, metavar="DIR", help="factory data folder")
    parser.add_argument("--split", default="val", help="manifest split to tune on")
    parser.add_argument("--max-pieces", type=int, help="use at most N pieces")
    parser.add_argument(
        "--notes-only",
        action="store_true",
        help="keep the model's drum peak picking and tune only the pitched-note thresholds",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``drumtx tune``; returns the exit status."""
    started = time.perf_counter()
    _, table = tune(args.model, args.data, args.split, args.max_pieces,
                    notes_only=args.notes_only)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    if args.notes_only:
        print(f"wrote the note thresholds to {Path(args.model) / 'peak_picking.json'} "
              f"in {time.perf_counter() - started:.1f} s")
        return 0
    drums = table[table["class"] == table["tuned_on"]]
    drums = drums[drums["class"] != "notes"]
    counts = Counts(int(drums["tp"].sum()), int(drums["n_ref"].sum()), int(drums["n_est"].sum()))
    print(
        f"all classes: F {counts.f_measure:.3f}; wrote {Path(args.model) / 'peak_picking.json'} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m drumtx.tune``."""
    parser = argparse.ArgumentParser(prog="drumtx tune", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
