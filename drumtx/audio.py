"""Decoding audio files: any rate, any channel count -> mono float32 at the model's rate."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from drumtx._stderr import silenced_stderr
from drumtx.errors import AudioLoadError
from drumtx.features import SAMPLE_RATE

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".m4a", ".opus")
"""File name endings treated as audio when a folder is given."""

STREAM_BLOCK_S = 30.0
"""Seconds of audio decoded at a time when streaming."""


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
    return np.concatenate(list(iter_audio_blocks(path, sample_rate)))


def iter_audio_blocks(
    path: str | os.PathLike,
    sample_rate: int = SAMPLE_RATE,
    block_s: float = STREAM_BLOCK_S,
) -> Iterator[np.ndarray]:
    """Decode an audio file block by block, as mono float32 at ``sample_rate``.

    Memory stays bounded by the block size, whatever the file's length. Concatenating
    the blocks gives exactly :func:`load_audio`'s result.

    Parameters
    ----------
    path : path-like
    sample_rate : int
        Target rate in Hz.
    block_s : float
        Seconds of input decoded per step.

    Yields
    ------
    numpy.ndarray, shape (n_block_samples,), float32
        Consecutive pieces of the signal (some may be empty).

    Raises
    ------
    AudioLoadError
        As :func:`load_audio`, also when the file breaks off in the middle.
    """
    path = Path(path)
    _check_path(path)
    blocks, file_rate = _open_blocks(path, block_s)
    if file_rate <= 0:
        raise AudioLoadError(f"{path}: not a readable audio file (sample rate {file_rate} Hz)")
    resampler = None
    if file_rate != sample_rate:
        import soxr

        resampler = soxr.ResampleStream(file_rate, sample_rate, 1, dtype="float32", quality="HQ")
    n_samples = 0
    try:
        for block in blocks:
            mono = _mono(block)
            n_samples += len(mono)
            yield mono if resampler is None else resampler.resample_chunk(mono, last=False)
    except AudioLoadError:
        raise
    except Exception as error:  # decoders raise many unrelated types on broken files
        raise AudioLoadError(f"{path}: cannot decode the whole file ({error})") from None
    if n_samples == 0:
        raise AudioLoadError(f"{path}: contains no audio samples")
    if resampler is not None:
        yield resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def check_audio(path: str | os.PathLike) -> None:
    """Check cheaply that ``path`` looks like decodable audio (reads the header only).

    Raises
    ------
    AudioLoadError
        With the same messages as :func:`load_audio`.
    """
    path = Path(path)
    _check_path(path)
    blocks, file_rate = _open_blocks(path, STREAM_BLOCK_S)
    close = getattr(blocks, "close", None)
    if file_rate <= 0:
        if close is not None:
            close()
        raise AudioLoadError(f"{path}: not a readable audio file (sample rate {file_rate} Hz)")
    if close is not None:
        close()


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioLoadError(f"{path}: no such file")
    if not path.is_file():
        raise AudioLoadError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise AudioLoadError(f"{path}: file is empty")


def _mono(samples: np.ndarray) -> np.ndarray:
    """Average channels; non-finite values become zero."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    return np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)


def _open_blocks(path: Path, block_s: float) -> tuple[Iterator[np.ndarray], int]:
    """A block iterator over the file and its sample rate (soundfile first, then audioread)."""
    import soundfile

    try:
        with silenced_stderr():
            info = soundfile.info(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        soundfile_reason = getattr(error, "error_string", "") or str(error).split("\n")[0]
        if soundfile_reason.startswith(LIBSNDFILE_CATCH_ALL):
            soundfile_reason = "unrecognised or corrupt audio data"
    else:
        file_rate = int(info.samplerate)
        blocks = soundfile.blocks(
            path, blocksize=max(1, int(block_s * file_rate)), dtype="float32", always_2d=True
        )
        return _quietly(blocks), file_rate
    try:
        import audioread

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = audioread.audio_open(str(path))
    except Exception as error:  # audioread raises many unrelated types
        reason = soundfile_reason if "NoBackend" in type(error).__name__ else str(error)
        reason = (reason or soundfile_reason).strip().rstrip(".")
        raise AudioLoadError(f"{path}: not a readable audio file ({reason})") from None
    return _audioread_blocks(reader), int(reader.samplerate)


LIBSNDFILE_CATCH_ALL = "File does not exist"
"""Start of the message libsndfile gives for undecodable MP3 data, whatever the cause."""


def _quietly(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Iterate ``blocks`` with the decoder's messages (e.g. mpg123 resync notes) silenced."""
    while True:
        with silenced_stderr():
            block = next(blocks, None)
        if block is None:
            return
        yield block


def _audioread_blocks(reader) -> Iterator[np.ndarray]:
    """Blocks of float32 samples, shape (n, n_channels), from an open audioread reader."""
    n_channels = max(int(reader.channels), 1)
    remainder = np.zeros(0, dtype="<i2")
    with reader:
        for buffer in reader:
            pcm = np.concatenate([remainder, np.frombuffer(buffer, dtype="<i2")])
            usable = len(pcm) - len(pcm) % n_channels
            remainder = pcm[usable:]
            yield pcm[:usable].reshape(-1, n_channels).astype(np.float32) / PCM16_FULL_SCALE


PCM16_FULL_SCALE = 32768.0
