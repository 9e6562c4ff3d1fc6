"""Kaldi-compatible log-mel filterbank, as `torchaudio.compliance.kaldi.fbank` computes it.

BEATs is trained on `torchaudio.compliance.kaldi.fbank` features. torchaudio has no wheel that
works with the CPU torch this project pins, and no other maintained package reproduces its exact
arithmetic (Kaldi's povey window, DC removal and pre-emphasis per frame, 512-point FFT, mel banks
built in float32), so the subset BEATs uses is written here. Only the options BEATs passes are
supported; the rest are fixed at torchaudio's defaults (dither 0, snip_edges, power spectrum,
log fbank, no energy, no mean subtraction, no VTLN).

The computation runs in the waveform's dtype (float64 for SALMONN: its waveform comes straight
from soundfile), and the mel filter matrix is built in float32 first, as torchaudio does."""

from __future__ import annotations

import math

import torch

PREEMPHASIS = 0.97
LOW_FREQ_HZ = 20.0


def _next_power_of_2(n: int) -> int:
    return 1 if n == 0 else 2 ** (n - 1).bit_length()


def _mel(freq_hz):
    if isinstance(freq_hz, torch.Tensor):
        return 1127.0 * (1.0 + freq_hz / 700.0).log()
    return 1127.0 * math.log(1.0 + freq_hz / 700.0)


def mel_filterbank(num_mel_bins: int, padded_window_size: int, sample_frequency: float) -> torch.Tensor:
    """Triangular filters on the mel scale, [num_mel_bins, padded_window_size // 2] in float32
    (torchaudio's `get_mel_banks` with low_freq 20 Hz, high_freq = Nyquist, no VTLN warp)."""
    num_fft_bins = padded_window_size // 2
    fft_bin_width = sample_frequency / padded_window_size
    mel_low = _mel(LOW_FREQ_HZ)
    mel_high = _mel(0.5 * sample_frequency)
    mel_delta = (mel_high - mel_low) / (num_mel_bins + 1)

    bin_index = torch.arange(num_mel_bins, dtype=torch.float32).unsqueeze(1)
    left_mel = mel_low + bin_index * mel_delta
    center_mel = mel_low + (bin_index + 1.0) * mel_delta
    right_mel = mel_low + (bin_index + 2.0) * mel_delta

    fft_mel = _mel(fft_bin_width * torch.arange(num_fft_bins, dtype=torch.float32)).unsqueeze(0)
    up_slope = (fft_mel - left_mel) / (center_mel - left_mel)
    down_slope = (right_mel - fft_mel) / (right_mel - center_mel)
    return torch.clamp(torch.minimum(up_slope, down_slope), min=0.0)


def fbank(
    waveform: torch.Tensor,
    *,
    num_mel_bins: int = 23,
    sample_frequency: float = 16000.0,
    frame_length: float = 25.0,
    frame_shift: float = 10.0,
) -> torch.Tensor:
    """Log mel energies [num_frames, num_mel_bins] of channel 0 of `waveform` ([channels, samples]).

    num_frames = 1 + (samples - window) // shift (Kaldi's snip_edges); empty if the signal is
    shorter than one window."""
    if waveform.dim() != 2:
        raise ValueError(f"fbank expects [channels, samples], got shape {tuple(waveform.shape)}")
    signal = waveform[0]
    dtype, device = signal.dtype, signal.device
    window_shift = int(sample_frequency * frame_shift * 0.001)
    window_size = int(sample_frequency * frame_length * 0.001)
    padded_window_size = _next_power_of_2(window_size)
    if signal.numel() < window_size:
        return torch.empty(0, num_mel_bins, dtype=dtype, device=device)

    num_frames = 1 + (signal.numel() - window_size) // window_shift
    frames = signal.contiguous().as_strided((num_frames, window_size), (window_shift, 1))

    frames = frames - frames.mean(dim=1, keepdim=True)  # remove_dc_offset
    # Pre-emphasis with Kaldi's edge rule: the first sample is paired with itself.
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = frames - PREEMPHASIS * previous
    povey_window = torch.hann_window(window_size, periodic=False, dtype=dtype, device=device).pow(0.85)
    frames = frames * povey_window.unsqueeze(0)
    frames = torch.nn.functional.pad(frames, (0, padded_window_size - window_size))

    power_spectrum = torch.fft.rfft(frames).abs().pow(2.0)
    filters = mel_filterbank(num_mel_bins, padded_window_size, sample_frequency).to(
        device=device, dtype=dtype
    )
    filters = torch.nn.functional.pad(filters, (0, 1))  # the Nyquist bin gets no weight
    mel_energies = power_spectrum @ filters.T
    # torchaudio floors at float32's machine epsilon whatever the dtype (silent frames hit it)
    epsilon = torch.tensor(torch.finfo(torch.float32).eps, dtype=dtype, device=device)
    return torch.maximum(mel_energies, epsilon).log()
