"""Hallucination probe: hits written for drums that are not played, in grooves with pieces missing.

Usage::

    python benchmarks/probe.py [--model MODEL_DIR] [--seed 0] [--seconds 30] [--out-csv FILE]

Grooves are rendered with the data factory's test-split kits (:data:`KIT_NAMES`, never heard in
training) at several tempos (:data:`TEMPOS_BPM`), one song per condition, kit and tempo:

- ``kick+snare``: kick and snare alone (no hi-hat, no cymbal, no tom);
- ``ride instead of hi-hat``: kick, snare and eighth notes on the ride;
- ``hi-hat groove``: kick, snare and closed hi-hat (the control);
- ``kick+snare in a room`` and ``ride instead of hi-hat in a room``: the same grooves played in
  a room and recorded by close, overhead and room microphones (:mod:`data_prep.room`), where
  every microphone hears every piece.

For each condition and kit (songs of all tempos summed) the script prints the false positives
per minute of hi-hat (CHH, PHH, OHH), cymbals (CR, RD, RB, CS) and toms (HT, MT, LT): written
hits of the group that match no played hit of the group within 50 ms; and the recall of kick
and snare (side stick counted as snare), with the model's SHA-256 and the seed. The kick and
snare part of a kit and tempo is the same in every condition.

A condition is a function ``(kit, tempo_bpm, seconds, rng) -> (audio, labels)``
(:data:`CONDITIONS`), so that other ways of rendering (e.g. through a room) can be added beside
these.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from drumtx import runtime, vocab
from drumtx.evaluate import MATCH_WINDOW_S, Counts, match_count
from drumtx.export import atomic_output
from drumtx.features import SAMPLE_RATE

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the data factory, beside drumtx
from data_prep import kits, multimic, room, sampler  # noqa: E402

KIT_NAMES = ("BJA_Pacific", "Audiophob")
"""The test split's kits (:data:`data_prep.kits.KITS`)."""
MULTIMIC_KIT = "MuldjordKit"
"""``--kits`` may name the real multi-microphone kit too (:mod:`data_prep.multimic`, when
installed): every microphone at its recorded level, its own room in every hit."""


def load_probe_kit(name: str) -> kits.Kit:
    """A kit of :data:`data_prep.kits.KITS`, or :data:`MULTIMIC_KIT` with all microphones on."""
    if name == MULTIMIC_KIT:
        balance = multimic.MicBalance(tuple((m, 0.0) for m in multimic.MICROPHONES))
        return multimic.mix_kit(multimic.load_recordings(str(multimic.kit_root())), balance)
    return kits.load_kit(name)
TEMPOS_BPM = (80.0, 100.0, 120.0, 140.0)
SONG_SECONDS = 30.0
SEED = 0
SECONDS_PER_MINUTE = 60.0

EIGHTHS_PER_BAR = 8
KICK_STEPS = (0, 4)
"""Eighth notes of a 4/4 bar on which the kick always plays."""
EXTRA_KICK_STEPS = (3, 5, 7)
"""Eighth notes of which one may get an extra kick in a bar."""
EXTRA_KICK_PROBABILITY = 0.5
SNARE_STEPS = (2, 6)
LEAD_S = 0.5
"""Silence before the first hit."""
TAIL_S = 1.0
"""No hit starts in the song's last second (the last ones ring out)."""
TIMING_SD_S = 0.006
TIMING_MAX_S = 0.015
"""Humanisation: onsets move by a normal draw (this standard deviation, clipped)."""
VELOCITY_SD = 6.0
KICK_VELOCITY = 105.0
SNARE_VELOCITY = 110.0
ACCENT_VELOCITY = 90.0
"""Hi-hat or ride on the beat."""
OFFBEAT_VELOCITY = 65.0
"""Hi-hat or ride between the beats."""
PEAK_DBFS = -1.0
"""Each song is scaled to this peak level."""

FP_GROUPS: dict[str, tuple[str, ...]] = {
    "hihat": vocab.coarse_members("HH"),
    "cymbal": vocab.coarse_members("CY+RD"),
    "tom": vocab.coarse_members("TT"),
}
"""Groups (5-class groups) whose written hits that match no played hit of the group are false
positives."""
RECALL_GROUPS: dict[str, tuple[str, ...]] = {
    "kick": vocab.coarse_members("BD"), "snare": vocab.coarse_members("SD"),
}
"""Groups whose recall is reported."""
LABEL_COLUMNS = ("onset_s", "gm_note", "cls", "velocity")

Condition = Callable[[kits.Kit, float, float, np.random.Generator], tuple[np.ndarray, pd.DataFrame]]


# ----------------------------------------------------------------------------------------------
# Counting.
# ----------------------------------------------------------------------------------------------


def group_counts(
    reference: pd.DataFrame, estimate: pd.DataFrame, window_s: float = MATCH_WINDOW_S
) -> dict[str, Counts]:
    """Matched, played and written hits of every probe group.

    The groups are those of :data:`FP_GROUPS` and :data:`RECALL_GROUPS`; hits of one group
    match one-to-one within ``window_s``, whatever their class in it.

    Parameters
    ----------
    reference, estimate : pandas.DataFrame
        Columns ``time_s`` (seconds) and ``cls`` (13-class names).
    window_s : float
        Matching tolerance in seconds.

    Returns
    -------
    dict of str to Counts
    """
    counts = {}
    for name, classes in {**FP_GROUPS, **RECALL_GROUPS}.items():
        played = reference.loc[reference["cls"].isin(classes), "time_s"].to_numpy(np.float64)
        written = estimate.loc[estimate["cls"].isin(classes), "time_s"].to_numpy(np.float64)
        counts[name] = Counts(match_count(played, written, window_s), len(played), len(written))
    return counts


def probe_figures(counts: dict[str, Counts], seconds: float) -> dict[str, float]:
    """False positives per minute of :data:`FP_GROUPS` and recall of :data:`RECALL_GROUPS`.

    Parameters
    ----------
    counts : dict of str to Counts
        As :func:`group_counts` gives them (summed over songs).
    seconds : float
        The length of the audio they were counted on.

    Returns
    -------
    dict
        ``<group>_fp_per_min`` and ``<group>_recall``.

    Examples
    --------
    >>> counts = {"hihat": Counts(0, 0, 3), "kick": Counts(9, 10, 9)}
    >>> probe_figures(counts, 30.0)
    {'hihat_fp_per_min': 6.0, 'kick_recall': 0.9}
    """
    minutes = seconds / SECONDS_PER_MINUTE
    figures = {}
    for name, count in counts.items():
        if name in FP_GROUPS:
            figures[f"{name}_fp_per_min"] = (count.n_est - count.tp) / minutes
        elif name in RECALL_GROUPS:
            figures[f"{name}_recall"] = count.recall
    return figures


# ----------------------------------------------------------------------------------------------
# Grooves and conditions.
# ----------------------------------------------------------------------------------------------


def _note(cls: str) -> int:
    return vocab.DRUM_BY_NAME[cls].written_note


def _humanised(
    onsets_s: list[float], notes: list[int], velocities: list[float], rng: np.random.Generator
) -> np.ndarray:
    """Hits (onset seconds, GM note, velocity) with onsets and velocities drawn around these."""
    n = len(onsets_s)
    shift = np.clip(rng.normal(0.0, TIMING_SD_S, n), -TIMING_MAX_S, TIMING_MAX_S)
    velocity = np.clip(np.round(np.asarray(velocities) + rng.normal(0.0, VELOCITY_SD, n)), 1, 127)
    hits = np.column_stack([np.asarray(onsets_s) + shift, notes, velocity]).astype(np.float64)
    return hits.reshape(-1, 3)


def groove_hits(
    tempo_bpm: float, seconds: float, rng: np.random.Generator, eighths: str | None = None
) -> np.ndarray:
    """A 4/4 rock groove: kick and snare, and eighth notes on ``eighths`` (a class) if given.

    The kick and snare are drawn first, so that one ``rng`` state gives the same kick and
    snare whatever ``eighths`` is.

    Parameters
    ----------
    tempo_bpm : float
    seconds : float
        Song length; hits start between :data:`LEAD_S` and ``seconds -`` :data:`TAIL_S`.
    rng : numpy.random.Generator
    eighths : str, optional
        Class played on every eighth note (e.g. ``"CHH"``, ``"RD"``), accented on the beat.

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        Onset seconds, GM note, velocity (1..127), sorted by onset.
    """
    step_s = SECONDS_PER_MINUTE / tempo_bpm / 2
    steps = np.arange(LEAD_S, seconds - TAIL_S, step_s)
    played: list[tuple[float, int, float]] = []
    extra_kick = -1
    for index, onset_s in enumerate(steps):
        position = index % EIGHTHS_PER_BAR
        if position == 0:
            drawn = rng.random() < EXTRA_KICK_PROBABILITY
            extra_kick = int(rng.choice(EXTRA_KICK_STEPS)) if drawn else -1
        if position in KICK_STEPS or position == extra_kick:
            played.append((onset_s, _note("KD"), KICK_VELOCITY))
        if position in SNARE_STEPS:
            played.append((onset_s, _note("SD"), SNARE_VELOCITY))
    onsets, notes, velocities = (list(column) for column in zip(*played, strict=True))
    hits = _humanised(onsets, notes, velocities, rng)
    if eighths is not None:
        accents = [ACCENT_VELOCITY if i % 2 == 0 else OFFBEAT_VELOCITY for i in range(len(steps))]
        part = _humanised(list(steps), [_note(eighths)] * len(steps), accents, rng)
        hits = np.concatenate([hits, part])
    return hits[np.argsort(hits[:, 0], kind="stable")]


def render(
    kit: kits.Kit, hits: np.ndarray, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Audio and labels of hits played on a kit, as the data factory renders a drum stem.

    Parameters
    ----------
    kit : data_prep.kits.Kit
    hits : numpy.ndarray, shape (n, 3)
        Onset seconds, GM note, velocity; notes the kit lacks are played as the factory
        plays them (:func:`data_prep.sampler.resolve_hits`).
    seconds : float
    rng : numpy.random.Generator

    Returns
    -------
    audio : numpy.ndarray, shape (n_samples,), float32
        Mono at :data:`drumtx.features.SAMPLE_RATE`, peak at :data:`PEAK_DBFS`.
    labels : pandas.DataFrame
        Columns :data:`LABEL_COLUMNS`: the hits as played.
    """
    played = sampler.resolve_hits(kit, hits)
    audio = sampler.render_drums(kit, played, int(round(seconds * SAMPLE_RATE)), rng)
    return _normalised(audio), pd.DataFrame(sampler.label_rows(played), columns=list(LABEL_COLUMNS))


def render_in_room(
    kit: kits.Kit, hits: np.ndarray, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """As :func:`render`, with the kit in a room drawn from ``rng`` (:func:`room.draw_setup`)."""
    played = sampler.resolve_hits(kit, hits)
    n_samples = int(round(seconds * SAMPLE_RATE))
    stems = sampler.render_drums(kit, played, n_samples, rng, stem_of=room.piece_of_note)
    setup = room.draw_setup(rng)
    audio = room.render_in_room(stems, room.piece_responses(setup, seed=0), n_samples)
    return _normalised(audio), pd.DataFrame(sampler.label_rows(played), columns=list(LABEL_COLUMNS))


def _normalised(audio: np.ndarray) -> np.ndarray:
    """``audio`` scaled to a peak of :data:`PEAK_DBFS` (float32)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0:
        audio = audio * np.float32(10 ** (PEAK_DBFS / 20) / peak)
    return audio.astype(np.float32)


def kick_snare(
    kit: kits.Kit, tempo_bpm: float, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Kick and snare alone."""
    return render(kit, groove_hits(tempo_bpm, seconds, rng), seconds, rng)


def ride_groove(
    kit: kits.Kit, tempo_bpm: float, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Kick, snare and eighth notes on the ride (no hi-hat)."""
    return render(kit, groove_hits(tempo_bpm, seconds, rng, "RD"), seconds, rng)


def hihat_groove(
    kit: kits.Kit, tempo_bpm: float, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Kick, snare and eighth notes on the closed hi-hat (the control)."""
    return render(kit, groove_hits(tempo_bpm, seconds, rng, "CHH"), seconds, rng)


def kick_snare_in_room(
    kit: kits.Kit, tempo_bpm: float, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Kick and snare alone, in a room."""
    return render_in_room(kit, groove_hits(tempo_bpm, seconds, rng), seconds, rng)


def ride_groove_in_room(
    kit: kits.Kit, tempo_bpm: float, seconds: float, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """Kick, snare and eighth notes on the ride, in a room."""
    return render_in_room(kit, groove_hits(tempo_bpm, seconds, rng, "RD"), seconds, rng)


CONDITIONS: dict[str, Condition] = {
    "kick+snare": kick_snare,
    "ride instead of hi-hat": ride_groove,
    "hi-hat groove": hihat_groove,
    "kick+snare in a room": kick_snare_in_room,
    "ride instead of hi-hat in a room": ride_groove_in_room,
}
"""Probe conditions by name."""


# ----------------------------------------------------------------------------------------------
# Running a model.
# ----------------------------------------------------------------------------------------------


def song_rng(seed: int, kit_index: int, tempo_bpm: float) -> np.random.Generator:
    """The generator of one kit and tempo (the same in every condition)."""
    return np.random.default_rng([seed, kit_index, int(round(tempo_bpm))])


def run_probe(
    transcriber,
    seed: int = SEED,
    seconds: float = SONG_SECONDS,
    conditions: dict[str, Condition] | None = None,
    kit_names: tuple[str, ...] = KIT_NAMES,
    tempos_bpm: tuple[float, ...] = TEMPOS_BPM,
) -> pd.DataFrame:
    """Transcribe every song of the probe and count its hits.

    Parameters
    ----------
    transcriber : drumtx.pipeline.Transcriber
    seed : int
    seconds : float
        Length of each song.
    conditions : dict of str to callable, optional
        Default :data:`CONDITIONS`.
    kit_names, tempos_bpm : tuple
        Kits (of :data:`data_prep.kits.KITS`) and tempos.

    Returns
    -------
    pandas.DataFrame
        One row per condition and kit (songs of all tempos summed): ``condition``, ``kit``,
        ``minutes``, the figures of :func:`probe_figures` and ``played`` (hits played).
    """
    conditions = conditions or CONDITIONS
    rows = []
    for name, condition in conditions.items():
        for kit_index, kit_name in enumerate(kit_names):
            kit = load_probe_kit(kit_name)
            totals: dict[str, Counts] = {}
            played = 0
            for tempo_bpm in tempos_bpm:
                audio, labels = condition(
                    kit, tempo_bpm, seconds, song_rng(seed, kit_index, tempo_bpm)
                )
                written = transcriber.transcribe(audio, rhythm=False).drums
                reference = pd.DataFrame({"time_s": labels["onset_s"], "cls": labels["cls"]})
                for group, counts in group_counts(reference, written).items():
                    totals[group] = totals.get(group, Counts()) + counts
                played += len(labels)
            total_s = seconds * len(tempos_bpm)
            rows.append(
                {
                    "condition": name,
                    "kit": kit_name,
                    "minutes": total_s / SECONDS_PER_MINUTE,
                    **probe_figures(totals, total_s),
                    "played": played,
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the probe; returns the exit status."""
    from drumtx.pipeline import Transcriber

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", metavar="DIR", help="model folder (default: bundled model)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of grooves and rendering")
    parser.add_argument(
        "--seconds", type=float, default=SONG_SECONDS, help="length of each song (seconds)"
    )
    parser.add_argument("--out-csv", metavar="FILE", help="also write the table as CSV")
    parser.add_argument(
        "--kits", nargs="+", default=list(KIT_NAMES), metavar="KIT",
        help=f"kits to play (default: the test split's; {MULTIMIC_KIT} adds the real kit)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= LEAD_S + TAIL_S:
        parser.error(f"--seconds must be above {LEAD_S + TAIL_S:g}")

    started = time.perf_counter()
    transcriber = Transcriber.load(args.model)
    sha256 = runtime.model_hash(transcriber.model_dir)
    table = run_probe(transcriber, args.seed, args.seconds, kit_names=tuple(args.kits))
    tempos = "/".join(f"{tempo:g}" for tempo in TEMPOS_BPM)
    print(f"model sha256 {sha256}; seed {args.seed}")
    print(
        f"{args.seconds:g} s per song at {tempos} BPM; false positives per minute of written "
        "hits matching no played hit of their group (50 ms), recall of kick and snare"
    )
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    print(f"took {time.perf_counter() - started:.1f} s")
    if args.out_csv:
        with atomic_output(args.out_csv, force=True) as path:
            table.assign(model_sha256=sha256, seed=args.seed).to_csv(
                path, index=False, float_format="%.4f"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
