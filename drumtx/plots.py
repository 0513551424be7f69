"""Pictures of a transcription: the drum grid over a spectrogram, and the first score page.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no GUI
backend needed); the score page is engraved by MuseScore 3 when it is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from drumtx import vocab
from drumtx.errors import DrumtxError
from drumtx.export import atomic_output
from drumtx.transcription import Transcription

MSCORE_PROGRAMS = ("mscore3", "musescore3", "mscore", "musescore")
"""MuseScore command names tried in order."""

MSCORE_TIMEOUT_S = 120

SPECTROGRAM_N_FFT = 2048
SPECTROGRAM_HOP = 512
SPECTROGRAM_MIN_HZ = 30.0
SPECTROGRAM_FLOOR_DB = -80.0
FIGURE_WIDTH_IN = 12.0
FIGURE_HEIGHT_IN = 6.0
FIGURE_DPI = 100
MARKER_SIZE = 40.0
MAX_VELOCITY = 127


def drum_grid_figure(
    transcription: Transcription,
    samples: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> Figure:
    """The drum grid (time × class, marker size and shade by velocity) under a spectrogram.

    Beats are drawn as thin vertical lines, downbeats as thicker ones. Without
    ``samples`` only the grid is drawn.

    Parameters
    ----------
    transcription : Transcription
        Hits (and beats) to draw.
    samples : numpy.ndarray, optional
        Mono audio for the spectrogram.
    sample_rate : int, optional
        Sample rate of ``samples`` (default :data:`drumtx.features.SAMPLE_RATE`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = Figure(figsize=(FIGURE_WIDTH_IN, FIGURE_HEIGHT_IN), dpi=FIGURE_DPI)
    has_audio = samples is not None and len(samples) > 0
    if has_audio:
        top, grid_axes = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1.3))
        _spectrogram(top, np.asarray(samples, dtype=np.float32), sample_rate)
    else:
        grid_axes = figure.subplots(1, 1)
    drums = transcription.drums
    rows = drums["cls"].map(vocab.CLASS_INDEX).to_numpy()
    velocity = drums["velocity"].to_numpy(dtype=float) / MAX_VELOCITY
    grid_axes.scatter(
        drums["time_s"].to_numpy(),
        rows,
        s=MARKER_SIZE * (0.3 + velocity),
        c=velocity,
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        marker="s",
    )
    grid_axes.set_yticks(range(vocab.N_DRUM_CLASSES))
    grid_axes.set_yticklabels(
        [f"{d.name} ({d.description})" for d in vocab.DRUMS], fontsize="small"
    )
    grid_axes.set_ylim(vocab.N_DRUM_CLASSES - 0.5, -0.5)
    grid_axes.set_xlabel("time (s)")
    duration = max(float(transcription.duration_s or 0.0), 1e-3)
    grid_axes.set_xlim(0.0, duration)
    for time, position in zip(
        transcription.beats["time_s"], transcription.beats["position"], strict=True
    ):
        downbeat = position == 1
        for axes in figure.axes:
            axes.axvline(
                time,
                color="white" if axes is not grid_axes else "grey",
                linewidth=1.2 if downbeat else 0.4,
                alpha=0.7 if downbeat else 0.4,
            )
    title = transcription.source
    if transcription.tempo_bpm:
        title += f" — {transcription.tempo_bpm:.0f} BPM"
    figure.axes[0].set_title(title)
    figure.tight_layout()
    return figure


def _spectrogram(axes, samples: np.ndarray, sample_rate: int | None) -> None:
    """Log-magnitude spectrogram on a logarithmic frequency axis."""
    import librosa

    if sample_rate is None:
        from drumtx.features import SAMPLE_RATE

        sample_rate = SAMPLE_RATE
    magnitude = np.abs(librosa.stft(samples, n_fft=SPECTROGRAM_N_FFT, hop_length=SPECTROGRAM_HOP))
    decibels = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=-SPECTROGRAM_FLOOR_DB)
    frequencies = librosa.fft_frequencies(sr=sample_rate, n_fft=SPECTROGRAM_N_FFT)
    times = librosa.frames_to_time(
        np.arange(decibels.shape[1] + 1), sr=sample_rate, hop_length=SPECTROGRAM_HOP
    )
    keep = frequencies >= SPECTROGRAM_MIN_HZ
    edges = np.concatenate([frequencies[keep], [frequencies[-1] * 1.001]])
    axes.pcolormesh(times, edges, decibels[keep], shading="flat", cmap="magma")
    axes.set_yscale("log")
    axes.set_ylabel("Hz")


def save_drum_grid(
    transcription: Transcription,
    path: str | os.PathLike,
    samples: np.ndarray | None = None,
    sample_rate: int | None = None,
    force: bool = False,
) -> Path:
    """Save :func:`drum_grid_figure` as a PNG (through :func:`~drumtx.export.atomic_output`)."""
    figure = drum_grid_figure(transcription, samples, sample_rate)
    with atomic_output(path, force) as temporary:
        figure.savefig(temporary, format="png")
    return Path(path)


def find_mscore() -> str | None:
    """The MuseScore command on ``PATH``, or ``None``."""
    for program in MSCORE_PROGRAMS:
        found = shutil.which(program)
        if found:
            return found
    return None


def score_page_png(
    transcription: Transcription, path: str | os.PathLike, force: bool = False
) -> Path | None:
    """Engrave the first page of the transcription's score as a PNG with MuseScore.

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` when MuseScore is not installed.

    Raises
    ------
    DrumtxError
        MuseScore failed.
    """
    from drumtx.export.mscx import write_mscx

    program = find_mscore()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="drumtx-score-") as folder:
        score = write_mscx(transcription, Path(folder) / "score.mscx")
        target = Path(folder) / "score.png"
        result = subprocess.run(
            [program, str(score), "-o", str(target)],
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            capture_output=True,
            text=True,
            timeout=MSCORE_TIMEOUT_S,
        )
        # MuseScore numbers the pages: score-1.png, score-2.png, ...
        pages = sorted(Path(folder).glob("score-*.png")) or [target]
        first = next((page for page in pages if page.exists()), None)
        if result.returncode != 0 or first is None:
            raise DrumtxError(f"MuseScore could not engrave the score: {result.stderr.strip()}")
        with atomic_output(path, force) as temporary:
            shutil.copyfile(first, temporary)
    return Path(path)
