"""Kaldi fbank (BEATs input): properties that follow from Kaldi's definition, checked by hand.
Bit-level agreement with torchaudio is checked in tests/parity (fixture `beats_fbank`)."""

from __future__ import annotations

import math

import pytest
import torch

from audiorepro.models.salmonn.kaldi_fbank import fbank


def beats_fbank(wav: torch.Tensor) -> torch.Tensor:
    return fbank(wav.unsqueeze(0), num_mel_bins=128, sample_frequency=16000, frame_length=25, frame_shift=10)


@pytest.mark.parametrize("num_samples, frames", [(400, 1), (559, 1), (560, 2), (16000, 98), (480000, 2998)])
def test_frame_count_is_kaldi_snip_edges(num_samples, frames):
    # 25 ms window = 400 samples, 10 ms shift = 160: 1 + (N - 400) // 160 (hand-computed)
    assert beats_fbank(torch.zeros(num_samples, dtype=torch.float64)).shape == (frames, 128)


def test_shorter_than_one_window_gives_no_frames():
    assert beats_fbank(torch.zeros(399, dtype=torch.float64)).shape == (0, 128)


def test_silence_is_floored_at_float32_epsilon_even_in_float64():
    # torchaudio floors energies at float32's eps whatever the dtype: log(2**-23) = -15.9423851528
    out = beats_fbank(torch.zeros(1600, dtype=torch.float64))
    assert out.dtype == torch.float64
    assert torch.allclose(out, torch.full_like(out, -23 * math.log(2)), atol=1e-9)


def test_constant_offset_is_removed_per_frame():
    # remove_dc_offset subtracts each frame's mean before pre-emphasis and windowing
    generator = torch.Generator().manual_seed(0)
    wav = torch.randn(8000, generator=generator, dtype=torch.float64) * 1000
    assert torch.allclose(beats_fbank(wav), beats_fbank(wav + 123.0), atol=1e-6)


def test_tone_energy_lands_in_the_right_mel_band():
    # A 1 kHz tone: the band whose centre is nearest 1 kHz on Kaldi's mel scale (1127 ln(1 + f/700),
    # 128 bands evenly spaced between 20 Hz and 8 kHz) must carry the most energy.
    t = torch.arange(16000, dtype=torch.float64) / 16000
    out = beats_fbank(torch.sin(2 * math.pi * 1000 * t) * 10000)

    def mel(f):
        return 1127 * math.log(1 + f / 700)

    delta = (mel(8000) - mel(20)) / 129
    centres = [mel(20) + (i + 1) * delta for i in range(128)]
    nearest = min(range(128), key=lambda i: abs(centres[i] - mel(1000)))
    assert int(out.mean(dim=0).argmax()) == nearest
