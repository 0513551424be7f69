"""Pitched-note benchmark: drumtx's pitched heads beside basic-pitch on the same mixes.

Usage::

    pip install -r benchmarks/requirements-basic-pitch.txt
    pip install --no-deps basic-pitch==0.4.0
    python benchmarks/pitched.py --data DATA_DIR [--split test] [--model MODEL_DIR]

For every full mix of one split of a factory data folder, both systems transcribe the audio
and are scored against the notes the mix was rendered from: note onset P/R/F (mir_eval, onset
within 50 ms, same pitch, offsets ignored; notes summed over songs). drumtx uses the note
thresholds tuned with its model; basic-pitch (ICASSP 2022 model, through onnxruntime) uses
its own defaults. basic-pitch is a benchmark tool only, never a drumtx dependency.
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import metadata
from pathlib import Path

import pandas as pd

from drumtx.evaluate import Counts, factory_items, note_counts


def basic_pitch_notes(audio: Path) -> pd.DataFrame:
    """basic-pitch's notes for one file: ``onset_s``, ``offset_s``, ``pitch``."""
    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import predict

    onnx_model = Path(ICASSP_2022_MODEL_PATH).with_name("nmp.onnx")
    _, _, events = predict(str(audio), onnx_model)
    rows = [(start, end, pitch) for start, end, pitch, *_ in events]
    return pd.DataFrame(rows, columns=["onset_s", "offset_s", "pitch"])


def row(name: str, counts: Counts, seconds: float) -> str:
    return (
        f"  {name:12} {counts.precision:6.3f} {counts.recall:6.3f} {counts.f_measure:6.3f} "
        f"{counts.n_ref:6d} {counts.n_est:6d} {seconds:8.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="factory data folder")
    parser.add_argument("--split", default="test", help="manifest split")
    parser.add_argument("--model", help="model folder (default: bundled model)")
    parser.add_argument("--max-pieces", type=int, help="use at most N pieces")
    args = parser.parse_args(argv)

    from drumtx.cli import import_tensorflow_quietly

    import_tensorflow_quietly()
    from drumtx import decode
    from drumtx import model as model_module
    from drumtx.pipeline import Transcriber

    transcriber = Transcriber.load(args.model)
    items = [
        item for item in factory_items(args.data, args.split, args.max_pieces)
        if item.notes is not None
    ]
    totals = {"drumtx": Counts(), "basic-pitch": Counts()}
    seconds = dict.fromkeys(totals, 0.0)
    for item in items:
        started = time.perf_counter()
        activations = transcriber.activations_of_features(item.feats)
        ours = decode.pick_pitched_notes(activations, transcriber.note_thresholds)
        seconds["drumtx"] += time.perf_counter() - started
        started = time.perf_counter()
        theirs = basic_pitch_notes(item.audio)
        seconds["basic-pitch"] += time.perf_counter() - started
        totals["drumtx"] = totals["drumtx"] + note_counts(item.notes, ours)
        totals["basic-pitch"] = totals["basic-pitch"] + note_counts(item.notes, theirs)

    print(f"model sha256 {model_module.model_hash(transcriber.model_dir)}")
    print(f"basic-pitch {metadata.version('basic-pitch')} (ICASSP 2022 model, onnxruntime)")
    print(f"{len(items)} full mixes of split {args.split!r} in {args.data}")
    print(f"  {'system':12} {'P':>6} {'R':>6} {'F':>6} {'ref':>6} {'est':>6} {'time_s':>8}")
    for name, counts in totals.items():
        print(row(name, counts, seconds[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
