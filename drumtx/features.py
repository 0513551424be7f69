"""Input features: log-frequency filtered, log-compressed STFT magnitudes and their positive flux.

All time axes here are frames at :data:`FRAMES_PER_SECOND`; frame ``k`` is centred on
sample ``k * HOP_LENGTH`` (librosa's ``center=True`` convention), that is on
``k / FRAMES_PER_SECOND`` seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 44100
"""Sample rate (Hz) the model hears; audio is resampled to it on loading."""

FRAMES_PER_SECOND = 100
HOP_LENGTH = SAMPLE_RATE // FRAMES_PER_SECOND
"""Samples between frames (441 at 44.1 kHz)."""

N_FFT = 2048
"""STFT window length in samples (46 ms)."""

BANDS_PER_OCTAVE = 12
MIN_FREQUENCY_HZ = 30.0
MAX_FREQUENCY_HZ = 17000.0
LOG_COMPRESSION_MULTIPLIER = 1.0
"""Features are ``log10(1 + multiplier * filtered_magnitude)``."""


@lru_cache(maxsize=4)
def log_filterbank(
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    bands_per_octave: int = BANDS_PER_OCTAVE,
    min_frequency_hz: float = MIN_FREQUENCY_HZ,
    max_frequency_hz: float = MAX_FREQUENCY_HZ,
) -> np.ndarray:
    """Triangular filters on a logarithmic frequency axis (madmom's LogarithmicFilterbank style).

    Centre frequencies are spaced ``bands_per_octave`` per octave and snapped to STFT bins;
    duplicate bins are merged, so low bands are never narrower than one bin. Each filter
    sums to one.

    Returns
    -------
    numpy.ndarray, shape (n_fft // 2 + 1, n_bands), float32
    """
    bin_frequencies = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    n_octaves = np.log2(max_frequency_hz / min_frequency_hz)
    centres_hz = min_frequency_hz * 2.0 ** (
        np.arange(0, np.floor(n_octaves * bands_per_octave) + 1) / bands_per_octave
    )
    bins = np.unique(np.round(centres_hz / bin_frequencies[1]).astype(int))
    bins = bins[(bins > 0) & (bins < len(bin_frequencies))]
    filters = np.zeros((len(bin_frequencies), len(bins) - 2), dtype=np.float32)
    for band, (start, centre, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:], strict=True)):
        rising = np.linspace(0.0, 1.0, centre - start, endpoint=False)
        falling = np.linspace(1.0, 0.0, stop - centre, endpoint=False)
        triangle = np.concatenate([rising, falling])
        if triangle.sum() == 0:
            triangle = np.ones(1)
            start = centre
        filters[start : start + len(triangle), band] = triangle / triangle.sum()
    return filters


N_SPECTRAL_BANDS = log_filterbank().shape[1]
N_FEATURE_BINS = 2 * N_SPECTRAL_BANDS
"""Feature vector length: filtered spectrogram bands followed by their positive flux."""


def n_frames(n_samples: int) -> int:
    """Number of feature frames for ``n_samples`` of audio at :data:`SAMPLE_RATE`."""
    return 1 + int(n_samples) // HOP_LENGTH


def frame_to_seconds(frames):
    """Frame index (scalar or array) -> time in seconds."""
    return np.asarray(frames) / FRAMES_PER_SECOND


def seconds_to_frame(seconds):
    """Time in seconds (scalar or array) -> nearest frame index (int)."""
    return np.round(np.asarray(seconds) * FRAMES_PER_SECOND).astype(np.int64)


def log_spectrogram(samples: np.ndarray) -> np.ndarray:
    """Log-compressed, log-frequency filtered STFT magnitude (``center=True`` framing).

    Parameters
    ----------
    samples : numpy.ndarray, shape (n_samples,)
        Mono audio at :data:`SAMPLE_RATE`.

    Returns
    -------
    numpy.ndarray, shape (n_frames(n_samples), N_SPECTRAL_BANDS), float32
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples, got shape {samples.shape}")
    framer = _Framer()
    return np.concatenate([framer.push(samples), framer.finish()])


STFT_CHUNK_FRAMES = 1024
"""Frames transformed at a time (bounds the temporary frame matrix to about 8 MB)."""


@lru_cache(maxsize=1)
def _analysis_window() -> np.ndarray:
    """The periodic Hann window of length :data:`N_FFT` (as ``librosa.stft`` uses), float32."""
    return np.hanning(N_FFT + 1)[:-1].astype(np.float32)


def _compress(samples: np.ndarray) -> np.ndarray:
    """Log-filtered STFT magnitude of a padded signal, ``center=False`` framing.

    The same numbers as ``librosa.stft(samples, n_fft=N_FFT, hop_length=HOP_LENGTH,
    center=False)`` through the filterbank, computed with NumPy's FFT directly: librosa's
    first call costs over a second of lazy imports, which every transcription would pay.
    """
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP_LENGTH]
    window, filterbank = _analysis_window(), log_filterbank()
    filtered = np.empty((len(frames), filterbank.shape[1]), dtype=np.float32)
    for start in range(0, len(frames), STFT_CHUNK_FRAMES):
        chunk = frames[start : start + STFT_CHUNK_FRAMES] * window
        filtered[start : start + len(chunk)] = np.abs(np.fft.rfft(chunk, axis=1)) @ filterbank
    return np.log10(1.0 + LOG_COMPRESSION_MULTIPLIER * filtered).astype(np.float32)


class _Framer:
    """Turns consecutive sample blocks into log-spectrogram frames identical to one-shot framing.

    Frame ``k`` covers padded samples ``[k * HOP_LENGTH, k * HOP_LENGTH + N_FFT)``, where the
    signal is padded with ``N_FFT // 2`` zeros on both sides (librosa's ``center=True``).
    """

    def __init__(self) -> None:
        self.pending = np.zeros(N_FFT // 2, dtype=np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add samples; return the frames that are now complete, shape (n, N_SPECTRAL_BANDS)."""
        self.pending = np.concatenate([self.pending, np.asarray(block, dtype=np.float32)])
        if len(self.pending) < N_FFT:
            return np.zeros((0, N_SPECTRAL_BANDS), dtype=np.float32)
        n_ready = (len(self.pending) - N_FFT) // HOP_LENGTH + 1
        frames = _compress(self.pending[: (n_ready - 1) * HOP_LENGTH + N_FFT])
        self.pending = self.pending[n_ready * HOP_LENGTH :]
        return frames

    def finish(self) -> np.ndarray:
        """Pad the end and return the last frames."""
        return self.push(np.zeros(N_FFT // 2, dtype=np.float32))


def positive_flux(spectrogram: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Half-wave rectified first difference along time.

    Parameters
    ----------
    spectrogram : numpy.ndarray, shape (n_frames, n_bands)
    previous : numpy.ndarray, shape (n_bands,), optional
        The frame before the first one (when processing in blocks); without it the
        first frame's flux is zero.

    Returns
    -------
    numpy.ndarray, same shape, float32
    """
    if len(spectrogram) == 0:
        return np.zeros_like(spectrogram)
    before = spectrogram[:1] if previous is None else previous[None, :]
    return np.maximum(np.diff(spectrogram, axis=0, prepend=before), 0.0).astype(np.float32)


def compute_features(samples: np.ndarray) -> np.ndarray:
    """Model input features for mono audio at :data:`SAMPLE_RATE`.

    Returns
    -------
    numpy.ndarray, shape (n_frames, N_FEATURE_BINS), float32
        Frame ``k`` describes the audio around ``k / FRAMES_PER_SECOND`` seconds.

    Examples
    --------
    >>> import numpy as np
    >>> compute_features(np.zeros(SAMPLE_RATE, dtype=np.float32)).shape[0]
    101
    """
    return np.concatenate(list(iter_features([samples])))


def iter_features(sample_blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Features of a signal given as consecutive blocks, computed block by block.

    Concatenating the yielded arrays gives exactly ``compute_features`` of the whole
    signal, while only one block is held at a time.

    Parameters
    ----------
    sample_blocks : iterable of numpy.ndarray, each shape (n,)
        Mono audio at :data:`SAMPLE_RATE`, in order.

    Yields
    ------
    numpy.ndarray, shape (n_block_frames, N_FEATURE_BINS), float32
    """
    framer = _Framer()
    previous = None
    for spectrogram in _spectrogram_blocks(framer, sample_blocks):
        if len(spectrogram) == 0:
            continue
        flux = positive_flux(spectrogram, previous)
        previous = spectrogram[-1]
        yield np.concatenate([spectrogram, flux], axis=1)


def _spectrogram_blocks(framer: _Framer, sample_blocks: Iterable[np.ndarray]):
    for block in sample_blocks:
        yield framer.push(block)
    yield framer.finish()
