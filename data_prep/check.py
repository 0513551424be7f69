"""Checks that labels sit on the audio: single hits per class and kit, found by onset detection.

Usage::

    python -m data_prep.check            # every kit family, prints the worst offsets
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import DRUM_BY_NAME, DRUM_CLASSES

from . import kits, sampler

HIT_TIME_S = 0.3137
"""Where the single hit is placed (deliberately not on a frame boundary)."""
BUFFER_S = 1.0
ENVELOPE_FRAME_S = 0.0005
ONSET_FRACTION = 0.1
"""Onset = first envelope frame reaching this fraction of the envelope maximum (-20 dB)."""
CHECK_VELOCITIES = (40, 100)


def detect_onset(audio: np.ndarray) -> float:
    """Onset time (s) of a single isolated hit: the first 0.5-ms RMS frame above -20 dB of max."""
    frame = max(1, int(ENVELOPE_FRAME_S * SAMPLE_RATE))
    env = kits.envelope(audio, ENVELOPE_FRAME_S)
    if env.size == 0 or env.max() <= 0:
        return float("nan")
    first = int(np.argmax(env >= ONSET_FRACTION * env.max()))
    return first * frame / SAMPLE_RATE


def representative_kits() -> list[str]:
    """One kit per (family, kind) among installed kits: every family, Hydrogen and SF2 alike."""
    chosen: dict[tuple[str, str], str] = {}
    for split in ("train", "val", "test"):
        for spec in kits.kits_for_split(split):
            chosen.setdefault((spec.family, spec.kind), spec.name)
    return list(chosen.values())


def single_hit_offsets(
    kit_names: list[str] | None = None, character_seed: int | None = None
) -> pd.DataFrame:
    """Render one hit per class (at two velocities) on each kit and measure onset offsets.

    Parameters
    ----------
    kit_names : list of str, optional
        Kits to check (default: :func:`representative_kits`).
    character_seed : int, optional
        Re-voice every kit's pieces (:func:`sampler.draw_piece_characters`, drawn with this seed)
        as the factory's ``--piece-variation`` does.

    Returns
    -------
    pandas.DataFrame
        Columns kit, family, class, gm_note, velocity, label_s, onset_s, error_ms
        (error = detected onset minus label). Classes a kit cannot play are left out.
    """
    rows = []
    n_samples = int(BUFFER_S * SAMPLE_RATE)
    for name in kit_names or representative_kits():
        kit = kits.load_kit(name)
        characters = None
        if character_seed is not None:
            characters = sampler.draw_piece_characters(
                kit, np.random.default_rng(character_seed)
            )
        for cls in DRUM_CLASSES:
            for velocity in CHECK_VELOCITIES:
                hits = np.array([[HIT_TIME_S, DRUM_BY_NAME[cls].written_note, velocity]])
                played = sampler.resolve_hits(kit, hits)
                if len(played) == 0:
                    continue
                label = sampler.label_rows(played)[0]
                if label[2] != cls:
                    continue  # played through a class fallback; that class is checked itself
                rng = np.random.default_rng(0)
                audio = sampler.render_drums(
                    kit, played, n_samples, rng, vary_hits=True, characters=characters
                )
                onset = detect_onset(audio)
                rows.append((name, kit.family, cls, label[1], velocity, label[0], onset,
                             (onset - label[0]) * 1000.0))
    return pd.DataFrame(rows, columns=["kit", "family", "class", "gm_note", "velocity", "label_s",
                                       "onset_s", "error_ms"])


def main(argv: list[str] | None = None) -> int:
    """Print single-hit onset offsets per kit and class."""
    parser = argparse.ArgumentParser(prog="python -m data_prep.check", description=__doc__)
    parser.add_argument("--all-kits", action="store_true", help="every kit, not one per family")
    parser.add_argument("--character-seed", type=int, default=None,
                        help="re-voice the kits' pieces with characters drawn with this seed")
    args = parser.parse_args(argv)
    names = [spec.name for spec in kits.KITS] if args.all_kits else None
    frame = single_hit_offsets(names, args.character_seed)
    worst = frame.loc[frame.error_ms.abs().sort_values(ascending=False).index].head(15)
    print(worst.to_string(index=False))
    print(f"{len(frame)} hits, max |error| {frame.error_ms.abs().max():.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
