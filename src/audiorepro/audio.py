"""The one audio loader. Behaves as SALMONN v1 does (model.py): soundfile read as float64, keep
channel 0, truncate to `max_seconds` before resampling, resample with an FFT resampler
(librosa's res_type='fft' is scipy.signal.resample), so every model sees identical samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError

TARGET_SR = 16_000


def load_audio(
    path: str | Path,
    *,
    target_sr: int = TARGET_SR,
    max_seconds: float | None = None,
    offset: float | None = None,
    duration: float | None = None,
) -> np.ndarray:
    """Return a 1-D float64 waveform at `target_sr`. Errors name the file and the problem."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "audio file not found")
    try:
        wav, sr = sf.read(str(path), dtype="float64", always_2d=False)
    except Exception as e:  # soundfile raises LibsndfileError/RuntimeError with terse text
        raise InputError(path, f"cannot decode audio ({e})") from e
    if wav.ndim == 2:
        wav = wav[:, 0]
    if wav.size == 0:
        raise InputError(path, "audio file has no samples")
    if offset:
        wav = wav[int(round(offset * sr)) :]
    if duration is not None:
        wav = wav[: int(round(duration * sr))]
    if max_seconds is not None:
        wav = wav[: int(max_seconds * sr)]
    return resample(wav, sr, target_sr)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    if orig_sr == target_sr:
        return wav
    from scipy.signal import resample as fft_resample

    n_out = int(np.ceil(len(wav) * target_sr / orig_sr))
    return fft_resample(wav, n_out, axis=-1)


def audio_info(path: str | Path) -> tuple[int, int, float]:
    """(sample rate, channels, seconds) without decoding the samples; errors name the file."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "audio file not found")
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise InputError(path, f"cannot decode audio ({e})") from e
    return info.samplerate, info.channels, info.frames / info.samplerate


def write_wav_atomic(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV via a temporary file and a rename, so a killed preparer never leaves a
    truncated clip that a later run would take for a finished one."""
    import os

    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), samples, sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)
    return path
