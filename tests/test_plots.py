"""Pictures: the drum grid over the spectrogram, and the first score page via MuseScore."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from drumtx.errors import OutputExistsError
from drumtx.plots import drum_grid_figure, save_drum_grid, score_page_png
from drumtx.transcription import Transcription, make_drums

SAMPLE_RATE = 22050
PNG_MAGIC = b"\x89PNG"


def example() -> tuple[Transcription, np.ndarray]:
    rng = np.random.default_rng(0)
    times = np.arange(16) * 0.25
    drums = make_drums(times, ["KD", "CHH", "SD", "CHH"] * 4, rng.integers(30, 127, 16))
    beats = pd.DataFrame({"time_s": np.arange(8) * 0.5, "position": np.arange(8) % 4 + 1})
    transcription = Transcription("Grid", 4.0, drums, beats=beats, tempo_bpm=120.0, beats_per_bar=4)
    samples = rng.standard_normal(4 * SAMPLE_RATE).astype(np.float32) * 0.1
    return transcription, samples


def test_drum_grid_over_spectrogram(tmp_path):
    transcription, samples = example()
    figure = drum_grid_figure(transcription, samples, SAMPLE_RATE)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    path = save_drum_grid(transcription, tmp_path / "grid.png", samples, SAMPLE_RATE)
    assert path.read_bytes()[:4] == PNG_MAGIC
    with pytest.raises(OutputExistsError):
        save_drum_grid(transcription, path, samples, SAMPLE_RATE)


def test_drum_grid_without_audio_or_hits():
    figure = drum_grid_figure(Transcription("Empty", 0.0))
    assert len(figure.axes) == 1


def test_first_score_page_png(tmp_path):
    assert shutil.which("mscore3"), "mscore3 is not installed (Debian package musescore3)"
    transcription, _ = example()
    path = score_page_png(transcription, tmp_path / "page.png")
    assert path is not None and path.read_bytes()[:4] == PNG_MAGIC
    assert not list(tmp_path.glob("*.mscx"))
