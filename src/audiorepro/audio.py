"""The one audio loader. Behaves as SALMONN v1 does (model.py): soundfile read as float64, keep
channel 0, truncate to `max_seconds` before resampling, resample with an FFT resampler
(librosa's res_type='fft' is scipy.signal.resample), so every model sees identical samples.

Bad audio never reaches a model: a file with no samples or with NaN/inf samples is an error
naming the file, both when a preparer checks it (`audio_info`, once, before examples.jsonl is
written) and whenever it is loaded (`load_clip`, always). Only float WAV/AIFF subtypes can hold
NaN or inf, so the prepare-time check decodes those files only. An all-zero clip is valid input
(silence) but suspicious: `load_clip` flags it and the predict stage counts it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError, WriteError

TARGET_SR = 16_000


# soundfile subtypes whose samples are IEEE floats, the only ones that can be NaN or inf
FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})


@dataclass
class Clip:
    """A loaded waveform and what loading it noticed."""

    samples: np.ndarray  # 1-D float64 at the target rate
    cut_from_seconds: float | None = None  # the segment's length when `max_seconds` cut it
    silent: bool = False  # every sample is zero

    @property
    def notes(self) -> list[str]:
        """Flags recorded with the prediction ("cut", "silent"), counted by the score stage."""
        return [name for name, on in (("cut", self.cut_from_seconds is not None), ("silent", self.silent)) if on]


def load_clip(
    path: str | Path,
    *,
    target_sr: int = TARGET_SR,
    max_seconds: float | None = None,
    offset: float | None = None,
    duration: float | None = None,
) -> Clip:
    """Load channel 0 of `path` (the segment `offset`..`offset + duration`, cut to `max_seconds`)
    at `target_sr`. Errors name the file and the problem."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "audio file not found")
    try:
        wav, sr = sf.read(str(path), dtype="float64", always_2d=False)
    except Exception as e:  # soundfile raises LibsndfileError/RuntimeError with terse text
        raise InputError(path, f"cannot decode audio ({e})") from e
    if wav.size == 0:
        raise InputError(path, "audio file has no samples")
    _check_finite(path, wav)  # every channel: a NaN anywhere means a corrupt file
    if wav.ndim == 2:
        wav = wav[:, 0]
    if offset:
        wav = wav[int(round(offset * sr)) :]
    if duration is not None:
        wav = wav[: int(round(duration * sr))]
    if wav.size == 0:
        raise InputError(path, f"the segment at {offset or 0} s (duration {duration} s) has no samples")
    cut_from = None
    if max_seconds is not None and wav.size > int(max_seconds * sr):
        cut_from = wav.size / sr
        wav = wav[: int(max_seconds * sr)]
    return Clip(resample(wav, sr, target_sr), cut_from_seconds=cut_from, silent=not wav.any())


def load_audio(
    path: str | Path,
    *,
    target_sr: int = TARGET_SR,
    max_seconds: float | None = None,
    offset: float | None = None,
    duration: float | None = None,
) -> np.ndarray:
    """Return a 1-D float64 waveform at `target_sr` (`load_clip` without the notes)."""
    return load_clip(path, target_sr=target_sr, max_seconds=max_seconds, offset=offset, duration=duration).samples


def _check_finite(path: Path, samples: np.ndarray, start: int = 0) -> None:
    """`samples` is frames x channels (or 1-D); `start` is the index of its first frame."""
    finite = np.isfinite(samples)
    if not finite.all():
        frames = finite.reshape(len(samples), -1).all(axis=1)
        first = start + int(np.flatnonzero(~frames)[0])
        raise InputError(path, f"audio has NaN or infinite samples (first at frame {first}); the file is corrupt")


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    if orig_sr == target_sr:
        return wav
    from scipy.signal import resample as fft_resample

    n_out = int(np.ceil(len(wav) * target_sr / orig_sr))
    return fft_resample(wav, n_out, axis=-1)


def audio_info(path: str | Path, *, check_samples: bool = True) -> tuple[int, int, float]:
    """(sample rate, channels, seconds); errors name the file. A file with no samples is an
    error; with `check_samples` (the preparers' check), a float file is decoded and NaN/inf
    samples are an error too. Other subtypes are not decoded (integer PCM cannot hold NaN)."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "audio file not found")
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise InputError(path, f"cannot decode audio ({e})") from e
    if info.frames == 0:
        raise InputError(path, "audio file has no samples")
    if check_samples and info.subtype in FLOAT_SUBTYPES:
        start = 0
        for block in sf.blocks(str(path), blocksize=1 << 20, dtype="float64", always_2d=True):
            _check_finite(path, block, start)
            start += len(block)
    return info.samplerate, info.channels, info.frames / info.samplerate


def write_wav_atomic(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV via a temporary file and a rename, so a killed preparer never leaves a
    truncated clip that a later run would take for a finished one."""
    import os

    import soundfile as sf

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(tmp), samples, sample_rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:  # libsndfile reports a full disk as a RuntimeError
        tmp.unlink(missing_ok=True)
        raise WriteError(path, e) from e
    return path
