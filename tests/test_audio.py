import numpy as np
import pytest
import soundfile

from drumtx.audio import load_audio
from drumtx.errors import AudioLoadError
from drumtx.features import SAMPLE_RATE

TONE_HZ = 440.0
DURATION_S = 1.5


def tone(sample_rate: int, n_channels: int) -> np.ndarray:
    time = np.arange(int(DURATION_S * sample_rate)) / sample_rate
    mono = 0.5 * np.sin(2 * np.pi * TONE_HZ * time)
    return np.repeat(mono[:, None], n_channels, axis=1).astype(np.float32)


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


CODECS = [
    ("wav", "PCM_U8"), ("wav", "PCM_16"), ("wav", "PCM_24"), ("wav", "PCM_32"), ("wav", "FLOAT"),
    ("flac", "PCM_16"), ("ogg", "VORBIS"), ("mp3", "MPEG_LAYER_III"),
]
MP3_MAX_RATE = 48000
MP3_MAX_CHANNELS = 2
CASES = [
    (extension, subtype, rate, channels)
    for extension, subtype in CODECS
    for rate in (8000, 22050, 44100, 48000, 96000)
    for channels in (1, 2, 4)
    if extension != "mp3" or (rate <= MP3_MAX_RATE and channels <= MP3_MAX_CHANNELS)
]


@pytest.mark.parametrize("extension, subtype, sample_rate, n_channels", CASES)
def test_any_rate_and_channels_become_mono_at_model_rate(
    tmp_path, extension, subtype, sample_rate, n_channels
):
    path = tmp_path / f"tone.{extension}"
    soundfile.write(path, tone(sample_rate, n_channels), sample_rate, subtype=subtype)
    samples = load_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    # Lossy codecs pad a little; the length must still match within 60 ms.
    assert abs(len(samples) - DURATION_S * SAMPLE_RATE) < 0.06 * SAMPLE_RATE
    assert abs(dominant_frequency(samples) - TONE_HZ) < 2.0
    assert 0.3 < np.abs(samples).max() < 0.6


def test_click_time_survives_resampling(tmp_path, clicks):
    path = tmp_path / "click.wav"
    soundfile.write(path, clicks([1.0], 2.0, sample_rate=48000), 48000)
    samples = load_audio(path)
    first = np.argmax(np.abs(samples) > 0.05) / SAMPLE_RATE
    assert abs(first - 1.0) < 0.002


def test_missing_file(tmp_path):
    with pytest.raises(AudioLoadError, match="no such file"):
        load_audio(tmp_path / "absent.wav")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioLoadError, match="empty"):
        load_audio(path)


def test_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 50)
    with pytest.raises(AudioLoadError, match="not a readable audio file"):
        load_audio(path)


def test_zero_samples(tmp_path):
    path = tmp_path / "zero.wav"
    soundfile.write(path, np.zeros((0, 1), dtype=np.float32), 44100)
    with pytest.raises(AudioLoadError, match="no audio samples"):
        load_audio(path)


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(AudioLoadError, match="not a file"):
        load_audio(tmp_path)


def test_streamed_blocks_equal_whole_file(tmp_path):
    from drumtx.audio import iter_audio_blocks

    path = tmp_path / "long.flac"
    rng = np.random.default_rng(1)
    soundfile.write(path, 0.1 * rng.standard_normal((48000 * 5, 2)).astype(np.float32), 48000)
    whole = load_audio(path)
    blocks = list(iter_audio_blocks(path, block_s=0.7))
    assert len(blocks) > 5
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    assert abs(len(whole) - 5 * SAMPLE_RATE) <= 1


def test_truncated_file_is_a_clear_error_or_shorter_audio(tmp_path):
    path = tmp_path / "cut.flac"
    soundfile.write(path, tone(44100, 1), 44100)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        samples = load_audio(path)
    except AudioLoadError as error:
        assert str(path) in str(error)
    else:
        assert 0 < len(samples) < DURATION_S * SAMPLE_RATE
