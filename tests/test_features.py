import numpy as np

from drumtx import features


def test_click_at_one_second_peaks_at_frame_100(clicks):
    samples = clicks([1.0], 3.0)
    spectrogram = features.log_spectrogram(samples)
    energy = spectrogram.sum(axis=1)
    assert abs(int(np.argmax(energy)) - 100) <= 1
    flux = features.positive_flux(spectrogram).sum(axis=1)
    assert abs(int(np.argmax(flux)) - 100) <= 1


def test_feature_shape_and_frame_count():
    samples = np.zeros(features.SAMPLE_RATE * 2 + 123, dtype=np.float32)
    values = features.compute_features(samples)
    assert values.shape == (features.n_frames(len(samples)), features.N_FEATURE_BINS)
    assert values.dtype == np.float32
    assert np.all(values == 0)


def test_frame_rate_and_conversions():
    assert features.FRAMES_PER_SECOND == 100
    assert features.HOP_LENGTH * features.FRAMES_PER_SECOND == features.SAMPLE_RATE
    assert features.seconds_to_frame(1.234).item() == 123
    assert np.isclose(features.frame_to_seconds(250), 2.5)


def test_filterbank_bands_are_normalised_and_increasing():
    bank = features.log_filterbank()
    assert bank.shape[0] == features.N_FFT // 2 + 1
    assert np.allclose(bank.sum(axis=0), 1.0, atol=1e-5)
    centres = np.argmax(bank, axis=0)
    assert np.all(np.diff(centres) > 0)


def test_low_tone_lands_in_low_band_high_tone_in_high_band():
    time = np.arange(features.SAMPLE_RATE) / features.SAMPLE_RATE
    low = features.log_spectrogram(np.sin(2 * np.pi * 60 * time).astype(np.float32))
    high = features.log_spectrogram(np.sin(2 * np.pi * 8000 * time).astype(np.float32))
    assert np.argmax(low.mean(axis=0)) < 10
    assert np.argmax(high.mean(axis=0)) > features.N_SPECTRAL_BANDS - 25


def test_block_wise_features_equal_one_shot_features(clicks):
    import librosa

    samples = clicks([0.3, 1.1, 2.05], 3.0) + 0.01
    whole = features.compute_features(samples)
    cuts = [0, 1, 777, 5000, 44100, 90000, len(samples)]
    blocks = [samples[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    pieces = np.concatenate(list(features.iter_features(blocks)))
    np.testing.assert_allclose(pieces, whole, atol=1e-5)
    # and the framing is librosa's centred STFT
    reference = np.abs(librosa.stft(samples, n_fft=features.N_FFT, hop_length=features.HOP_LENGTH))
    expected = np.log10(1 + reference.T @ features.log_filterbank())
    np.testing.assert_allclose(whole[:, : features.N_SPECTRAL_BANDS], expected, atol=1e-4)


def test_features_of_very_short_input():
    for n_samples in (1, 100, features.HOP_LENGTH, features.N_FFT):
        values = features.compute_features(np.ones(n_samples, dtype=np.float32))
        assert values.shape == (features.n_frames(n_samples), features.N_FEATURE_BINS)
