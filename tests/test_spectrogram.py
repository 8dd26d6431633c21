"""log(1 + |STFT|): shapes, agreement with a numpy reference, chunking, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_eeg.signal.spectrogram import LogSpectrogram, log_spectrogram, spectrogram_shape

torch.set_num_threads(1)


def _numpy_reference(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Frame-by-frame periodic-Hann rFFT, no centring."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    n_frames = 1 + (x.shape[-1] - n_fft) // hop
    frames = np.stack([x[..., i * hop : i * hop + n_fft] * window for i in range(n_frames)], axis=-1)
    return np.log1p(np.abs(np.fft.rfft(frames, axis=-2)))


@pytest.mark.parametrize(("n_fft", "hop", "n_times"), [(256, 64, 2560), (128, 32, 1000), (64, 64, 64)])
def test_matches_numpy_reference_and_shape(n_fft: int, hop: int, n_times: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, n_times)).astype(np.float32) * 50
    got = log_spectrogram(x, n_fft=n_fft, hop_length=hop)
    assert got.shape == (3, 2, *spectrogram_shape(n_times, n_fft=n_fft, hop_length=hop))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _numpy_reference(x.astype(np.float64), n_fft, hop), rtol=1e-4, atol=1e-4)


def test_default_chb_mit_shape_and_peak_at_20_hz() -> None:
    t = np.arange(2560) / 256.0
    x = np.broadcast_to(np.sin(2 * np.pi * 20 * t), (1, 18, 2560)).astype(np.float32)
    s = LogSpectrogram()(torch.from_numpy(x))
    assert tuple(s.shape) == (1, 18, 129, 37)
    assert (s.mean(dim=-1).argmax(dim=-1) == 20).all()  # 1 Hz bins


def test_chunking_does_not_change_result_and_accepts_float64_memmap(tmp_path) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "x.npy"
    np.save(path, rng.standard_normal((10, 3, 512)))
    mm = np.load(path, mmap_mode="r")
    whole = log_spectrogram(mm, chunk_size=100)
    chunked = log_spectrogram(mm, chunk_size=3)
    np.testing.assert_array_equal(whole, chunked)


def test_constant_input_is_finite_and_autocast_safe() -> None:
    x = torch.zeros(2, 3, 512)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        s = LogSpectrogram()(x)
    assert s.dtype == torch.float32
    assert torch.isfinite(s).all() and (s == 0).all()


def test_frequency_crop_equals_slice() -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 1024)).astype(np.float32)
    full = log_spectrogram(x)
    cropped = log_spectrogram(x, n_freqs=65)
    assert cropped.shape == (2, 3, 65, 13) == (2, 3, *spectrogram_shape(1024, n_freqs=65))
    np.testing.assert_array_equal(cropped, full[:, :, :65])
    with pytest.raises(ValueError, match="n_freqs"):
        LogSpectrogram(n_freqs=200)


def test_errors() -> None:
    with pytest.raises(ValueError, match="shorter than n_fft"):
        log_spectrogram(np.zeros((1, 2, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="3-D"):
        log_spectrogram(np.zeros((2, 2560), dtype=np.float32))
    with pytest.raises(ValueError, match="win_length"):
        LogSpectrogram(n_fft=128, win_length=256)
    with pytest.raises(ValueError, match=r"\(batch, n_channels, n_times\)"):
        LogSpectrogram()(torch.zeros(2560))
