"""Benchmark the rhythm modes on factory songs: tempo, metre, beat and downbeat F, time.

Usage::

    python benchmarks/rhythm.py --data DATA_DIR [--splits val,test] [--model MODEL_DIR]
                                [--modes hybrid,head,madmom] [--out-csv FILE]

For every song of the splits (the factory's ``labels/<id>.beats.tsv`` are the reference) and
every mode of :data:`drumtx.pipeline.RHYTHM_MODES`, the script tracks beats from the mix
exactly as ``drumtx transcribe`` does (:meth:`drumtx.pipeline.Transcriber.add_rhythm`, with the
decoded drums) and prints per mode: the share of songs whose tempo is within 2 % (and 4 %)
of the true one, the share with the right metre, mean beat and downbeat F (mir_eval onset
matching, 70 ms), and the rhythm stage's seconds per audio-minute (the network's activations
and the drum decoding are computed once per song and not counted).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mir_eval
import numpy as np
import pandas as pd

from drumtx import dataset, runtime
from drumtx.pipeline import BEAT_HEAD, RHYTHM_MODES, Transcriber

BEAT_WINDOW_S = 0.07
TEMPO_TOLERANCES = (0.02, 0.04)


def f_measure(reference: np.ndarray, estimate: np.ndarray) -> float:
    if len(reference) == 0 and len(estimate) == 0:
        return 1.0
    return mir_eval.onset.f_measure(reference, estimate, window=BEAT_WINDOW_S)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="factory data folder")
    parser.add_argument("--splits", default="val,test")
    parser.add_argument("--model", help="model folder (default: bundled model)")
    parser.add_argument("--modes", default=",".join(RHYTHM_MODES))
    parser.add_argument("--out-csv", type=Path, help="write the per-song table")
    args = parser.parse_args()

    transcriber = Transcriber.load(args.model)
    if BEAT_HEAD not in transcriber.model.output_names:
        raise SystemExit("the model has no beat head")
    modes = args.modes.split(",")
    manifest = dataset.read_manifest(args.data)
    manifest = manifest[manifest["split"].isin(args.splits.split(","))]
    rows = []
    for song in manifest.itertuples():
        reference = pd.read_csv(args.data / "labels" / f"{song.id}.beats.tsv", sep="\t")
        audio = dataset.load_audio_file(args.data / "audio" / f"{song.id}.mix.flac")
        feats = dataset.cached_features(args.data, song.id, "mix").astype(np.float32)
        activations = transcriber.activations_of_features(feats)
        drums_only = transcriber.decode(activations, song.id, song.seconds)
        for mode in modes:
            start = time.perf_counter()
            tracked = transcriber.add_rhythm(drums_only, activations, audio, rhythm=mode)
            seconds = time.perf_counter() - start
            beats, tempo, beats_per_bar = tracked.beats, tracked.tempo_bpm, tracked.beats_per_bar
            downbeats = beats.loc[beats["position"] == 1, "time_s"].to_numpy()
            true_downbeats = reference.loc[reference["position"] == 1, "time_s"].to_numpy()
            rows.append({
                "mode": mode, "id": song.id, "true_tempo": song.tempo, "tempo": tempo,
                "tempo_error": abs(tempo / song.tempo - 1.0) if tempo else np.nan,
                "metre_right": beats_per_bar == song.beats_per_bar,
                "beat_f": f_measure(reference["time_s"].to_numpy(), beats["time_s"].to_numpy()),
                "downbeat_f": f_measure(true_downbeats, downbeats),
                "seconds": seconds, "audio_s": song.seconds,
            })
    table = pd.DataFrame(rows)
    if args.out_csv:
        table.to_csv(args.out_csv, index=False)
    print(f"model sha256 {runtime.model_hash(args.model)}; {table['id'].nunique()} songs "
          f"({args.splits})")
    print(f"{'mode':8} {'tempo 2%':>9} {'tempo 4%':>9} {'metre':>6} {'beat F':>7} "
          f"{'down F':>7} {'s/audio-min':>12}")
    for mode in modes:
        part = table[table["mode"] == mode]
        within = [np.mean(part["tempo_error"] <= tolerance) for tolerance in TEMPO_TOLERANCES]
        print(f"{mode:8} {within[0]:9.3f} {within[1]:9.3f} {part['metre_right'].mean():6.3f} "
              f"{part['beat_f'].mean():7.3f} {part['downbeat_f'].mean():7.3f} "
              f"{part['seconds'].sum() / part['audio_s'].sum() * 60:12.2f}")


if __name__ == "__main__":
    main()
