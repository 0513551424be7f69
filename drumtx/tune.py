"""Peak-picking tuning: ``drumtx tune --model M --data VAL``.

For every drum class, a grid of :class:`drumtx.decode.PeakPickingParams` (threshold and
moving-average window) is tried on the validation pieces (drum stem and mix); the one with
the highest F (hits summed over pieces, 50 ms matching) is written to
``M/peak_picking.json``. Classes without validation hits keep the default parameters.
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
from drumtx.evaluate import MATCH_WINDOW_S, Counts, match_count
from drumtx.features import FRAMES_PER_SECOND

THRESHOLDS = tuple(np.round(np.arange(0.05, 0.951, 0.025), 3))
"""Peak-height thresholds tried (activation units above the moving average)."""
PRE_AVG_S = (0.0, 0.05, 0.1)
"""Moving-average windows before the frame tried (seconds)."""
NOTE_ONSET_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.751, 0.05), 3))
NOTE_FRAME_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
"""Pitched-note decoding thresholds tried (:class:`drumtx.decode.NoteThresholds`)."""


def parameter_grid(
    thresholds=THRESHOLDS, pre_avg_s=PRE_AVG_S, base: decode.PeakPickingParams | None = None
) -> list[decode.PeakPickingParams]:
    """All combinations of ``thresholds`` and ``pre_avg_s`` on top of ``base`` (the defaults)."""
    base = base or decode.DEFAULT_PEAK_PICKING
    return [
        replace(base, threshold=float(threshold), pre_avg_s=float(pre_avg))
        for pre_avg, threshold in itertools.product(pre_avg_s, thresholds)
    ]


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
    best_params, best_counts = grid[0], None
    for params in grid:
        counts = Counts()
        for activation, reference in zip(activations, references, strict=False):
            estimate = decode.peak_frames(activation, params) / FRAMES_PER_SECOND
            counts = counts + Counts(
                match_count(reference, estimate, window_s), len(reference), len(estimate)
            )
        if best_counts is None or counts.f_measure > best_counts.f_measure:
            best_params, best_counts = params, counts
    return best_params, best_counts


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
        Tuned parameters of the classes with reference hits.
    table : pandas.DataFrame
        Per class: ``class``, ``threshold``, ``pre_avg_s``, ``tp``, ``n_ref``, ``n_est``, ``f``.
    """
    grid = grid or parameter_grid()
    params, rows = {}, []
    for index, name in enumerate(vocab.DRUM_CLASSES):
        refs = [ref.loc[ref["cls"] == name, "time_s"].to_numpy(np.float64) for ref in references]
        if sum(len(ref) for ref in refs) == 0:
            continue
        curves = [act["drum_onsets"][:, index] for act in activations]
        best, counts = tune_class(curves, refs, grid)
        params[name] = best
        rows.append(
            {
                "class": name,
                "threshold": best.threshold,
                "pre_avg_s": best.pre_avg_s,
                "tp": counts.tp,
                "n_ref": counts.n_ref,
                "n_est": counts.n_est,
                "f": counts.f_measure,
            }
        )
    return params, pd.DataFrame(rows)


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

    best, best_counts = decode.NoteThresholds(), None
    for onset, frame in itertools.product(onset_thresholds, frame_thresholds):
        thresholds = decode.NoteThresholds(float(onset), float(frame))
        counts = Counts()
        for activation, reference in zip(activations, references, strict=True):
            estimate = decode.pick_pitched_notes(activation, thresholds)
            counts = counts + note_counts(reference, estimate)
        if best_counts is None or counts.f_measure > best_counts.f_measure:
            best, best_counts = thresholds, counts
    return best, best_counts


def tune(
    model_dir: str | Path,
    data_dir: str | Path,
    split: str = "val",
    max_pieces: int | None = None,
    save: bool = True,
) -> tuple[dict[str, decode.PeakPickingParams], pd.DataFrame]:
    """Tune a model directory's peak picking on one split of a factory data folder.

    Writes ``model_dir/peak_picking.json`` when ``save`` (classes not seen keep defaults).
    """
    from drumtx import evaluate, runtime
    from drumtx.inference import predict_activations

    model_dir = Path(model_dir)
    network = runtime.load_network(model_dir)
    items = evaluate.factory_items(Path(data_dir), split, max_pieces)
    activations = [predict_activations(network, item.feats) for item in items]
    params, table = tune_activations(activations, [item.drums for item in items])
    pitched = [(act, item.notes) for act, item in zip(activations, items, strict=True)
               if item.notes is not None]
    notes = None
    if pitched:
        notes, counts = tune_notes([act for act, _ in pitched], [ref for _, ref in pitched])
        row = {"class": "notes", "threshold": notes.onset_threshold, "pre_avg_s": np.nan,
               "tp": counts.tp, "n_ref": counts.n_ref, "n_est": counts.n_est,
               "f": counts.f_measure}
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    if save:
        full = {name: params.get(name, decode.DEFAULT_PEAK_PICKING) for name in vocab.DRUM_CLASSES}
        decode.save_peak_picking(full, model_dir / runtime.PEAK_PICKING_FILE, notes)
    return params, table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``drumtx tune``."""
    parser.add_argument("--model", required=True, metavar="DIR", help="model folder")
    parser.add_argument("--data", required=True, metavar="DIR", help="factory data folder")
    parser.add_argument("--split", default="val", help="manifest split to tune on")
    parser.add_argument("--max-pieces", type=int, help="use at most N pieces")


def run(args: argparse.Namespace) -> int:
    """Run ``drumtx tune``; returns the exit status."""
    started = time.perf_counter()
    _, table = tune(args.model, args.data, args.split, args.max_pieces)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    drums = table[table["class"] != "notes"]
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
