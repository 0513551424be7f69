"""Decoding audio files: any rate, any channel count -> mono float32 at the model's rate."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from drumtx.errors import AudioLoadError
from drumtx.features import SAMPLE_RATE

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".m4a", ".opus")
"""File name endings treated as audio when a folder is given."""

RESAMPLE_QUALITY = "soxr_hq"


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read an audio file as mono float32 samples at ``sample_rate``.

    WAV, FLAC, OGG and MP3 are read with libsndfile (soundfile); other formats go
    through ffmpeg (audioread) when it is installed. Channels are averaged,
    non-finite samples become zero.

    Parameters
    ----------
    path : path-like
        Audio file.
    sample_rate : int
        Target rate in Hz.

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32

    Raises
    ------
    AudioLoadError
        The path is missing, is not a file, is empty, or holds no decodable audio.
    """
    path = Path(path)
    if not path.exists():
        raise AudioLoadError(f"{path}: no such file")
    if not path.is_file():
        raise AudioLoadError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise AudioLoadError(f"{path}: file is empty")
    samples, file_rate = _decode(path)
    if samples.size == 0:
        raise AudioLoadError(f"{path}: contains no audio samples")
    return to_mono_at_rate(samples, file_rate, sample_rate)


def to_mono_at_rate(samples: np.ndarray, file_rate: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Average channels and resample.

    Parameters
    ----------
    samples : numpy.ndarray, shape (n_samples,) or (n_samples, n_channels)
    file_rate : int
        Rate of ``samples`` in Hz.
    sample_rate : int
        Target rate in Hz.

    Returns
    -------
    numpy.ndarray, shape (n_resampled,), float32
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    if file_rate != sample_rate:
        import librosa

        samples = librosa.resample(
            samples, orig_sr=file_rate, target_sr=sample_rate, res_type=RESAMPLE_QUALITY
        )
    return np.ascontiguousarray(samples, dtype=np.float32)


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """Decode with soundfile, falling back to audioread (ffmpeg)."""
    import soundfile

    try:
        samples, file_rate = soundfile.read(path, dtype="float32", always_2d=True)
        return samples, int(file_rate)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        soundfile_reason = str(error).split("\n")[0]
    try:
        import audioread

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with audioread.audio_open(str(path)) as reader:
                file_rate, n_channels = int(reader.samplerate), int(reader.channels)
                chunks = [np.frombuffer(block, dtype="<i2") for block in reader]
    except Exception as error:  # audioread raises many unrelated types
        reason = soundfile_reason if "NoBackend" in type(error).__name__ else str(error)
        raise AudioLoadError(f"{path}: not a readable audio file ({reason})") from None
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype="<i2")
    pcm = pcm[: len(pcm) - len(pcm) % max(n_channels, 1)]
    samples = pcm.reshape(-1, max(n_channels, 1)).astype(np.float32) / 32768.0
    return samples, file_rate
