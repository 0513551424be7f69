"""Time and peak memory of the whole ``drumtx transcribe`` process on long stereo recordings.

Renders a stereo FLAC of the requested length by repeating the bundled example (with a
little noise so no two passages are identical), runs the CLI on it in a fresh process, and
prints wall time, time per audio-minute and the process's peak resident memory.

Usage::

    python benchmarks/long_input.py [--minutes 3 30 60] [--work DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "groove.flac"
SAMPLE_RATE = 44100
NOISE_LEVEL = 0.003
BLOCK_S = 60.0
PEAK_RSS_LIMIT_MB = 1536


def render_long(path: Path, minutes: float, seed: int = 0) -> None:
    """Write ``minutes`` of stereo audio built from the example, block by block."""
    from drumtx.audio import load_audio

    example = load_audio(EXAMPLE, SAMPLE_RATE)
    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * SAMPLE_RATE)
    block = int(BLOCK_S * SAMPLE_RATE)
    repeats = int(np.ceil(block / len(example))) + 1
    with soundfile.SoundFile(path, "w", SAMPLE_RATE, 2, subtype="PCM_16") as handle:
        written = 0
        while written < total:
            offset = int(rng.integers(len(example)))
            mono = np.tile(example, repeats)[offset : offset + min(block, total - written)]
            noise = NOISE_LEVEL * rng.standard_normal((len(mono), 2))
            handle.write(np.clip(mono[:, None] * [0.9, 0.8] + noise, -1, 1))
            written += len(mono)


def run_cli(audio: Path, out_dir: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``drumtx transcribe`` process."""
    drumtx = Path(sys.executable).with_name("drumtx")
    start = time.perf_counter()
    subprocess.run(
        [str(drumtx), "transcribe", str(audio), "-o", str(out_dir), "--force"],
        check=True, stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb / 1024


def model_hash() -> str:
    data = (REPO / "drumtx" / "models" / "default" / "model.keras").read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[3, 30, 60])
    parser.add_argument("--work", type=Path, help="folder for the rendered audio (temporary)")
    parser.add_argument("--measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(*run_cli(*args.measure))
        return 0
    print(f"model {model_hash()}  (peak RSS bound {PEAK_RSS_LIMIT_MB} MB)")
    print(f"{'minutes':>8} {'wall_s':>8} {'s_per_min':>10} {'peak_rss_mb':>12}")
    with tempfile.TemporaryDirectory(dir=args.work) as folder:
        for minutes in sorted(args.minutes):
            audio = Path(folder) / f"long_{minutes:g}min.flac"
            render_long(audio, minutes)
            # each length in its own process so peak RSS is per length
            seconds, peak_mb = _measure_in_child(audio, Path(folder) / "out")
            print(f"{minutes:8g} {seconds:8.1f} {seconds / minutes:10.2f} {peak_mb:12.0f}")
            audio.unlink()
    return 0


def _measure_in_child(audio: Path, out_dir: Path) -> tuple[float, float]:
    """Run :func:`run_cli` in a fresh interpreter, so ``ru_maxrss`` is this length's alone."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(audio), str(out_dir)],
        check=True, capture_output=True, text=True,
    )
    seconds, peak_mb = map(float, done.stdout.split())
    return seconds, peak_mb


if __name__ == "__main__":
    sys.exit(main())
