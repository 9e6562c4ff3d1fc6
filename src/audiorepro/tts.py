"""Text to speech for the spoken-text tasks (KE on Inspec, SQQA on WikiQA).

SALMONN read the text with a commercial TTS; the closest here is edge-tts (Microsoft neural
voices, needs network). espeak-ng and flite are offline engines, used as a named fallback. Every
result is 16 kHz mono 16-bit PCM WAV (resampled with the project's one resampler) and carries the
engine, voice and engine version, because task accuracy depends on the voice.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .audio import TARGET_SR, load_audio
from .errors import AudioreproError

ENGINES = ("edge-tts", "espeak-ng", "flite")
# Voices that Whisper tiny.en transcribes word-perfectly (offline_assets.md 2.4); espeak-ng's
# default speed is too fast to be intelligible.
DEFAULT_VOICES = {"edge-tts": "en-US-AriaNeural", "espeak-ng": "en-us+m3", "flite": "rms"}
_ESPEAK_SPEED, _ESPEAK_PITCH = 130, 5


@dataclass
class TTSResult:
    path: str
    engine: str
    voice: str
    version: str
    sample_rate: int
    seconds: float
    fallback_from: str | None = None  # the engine that was asked for, when a fallback was used

    def meta(self) -> dict:
        """The fields written into each example's meta."""
        d = asdict(self)
        return {
            "tts_engine": d["engine"],
            "tts_voice": d["voice"],
            "tts_version": d["version"],
            "tts_fallback_from": d["fallback_from"],
        }


class TTSUnavailable(AudioreproError):
    """The requested engine is not installed or cannot reach its service."""


def engine_available(engine: str) -> bool:
    if engine == "edge-tts":
        try:
            import edge_tts  # noqa: F401
        except ImportError:
            return False
        return True
    return shutil.which(engine) is not None


@cache
def engine_version(engine: str) -> str:
    if engine == "edge-tts":
        import edge_tts

        return f"edge-tts {getattr(edge_tts, '__version__', '?')}"
    proc = subprocess.run([engine, "--version"], capture_output=True, text=True)
    lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    # espeak-ng: "eSpeak NG text-to-speech: 1.51  Data at: ..."; flite: a copyright line, then "version: flite-2.2-current ..."
    versioned = [line for line in lines if "version" in line.lower() or "text-to-speech:" in line]
    line = (versioned or lines or [f"{engine} (unknown version)"])[0]
    return line.split("  Data at:")[0].strip()


def synthesize(
    text: str, out_path: str | Path, *, engine: str = "espeak-ng", voice: str | None = None
) -> TTSResult:
    """Speak `text` into `out_path` (16 kHz mono 16-bit WAV, written atomically)."""
    if engine not in ENGINES:
        raise AudioreproError(f"unknown TTS engine {engine!r}; known: {', '.join(ENGINES)}")
    if not text.strip():
        raise AudioreproError(f"TTS: empty text for {out_path}")
    if not engine_available(engine):
        raise TTSUnavailable(
            f"TTS engine {engine!r} is not installed (apt-get install espeak-ng flite; pip install edge-tts)"
        )
    voice = voice or DEFAULT_VOICES[engine]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tts-", dir=out_path.parent) as tmp:
        tmp = Path(tmp)
        raw = tmp / ("raw.mp3" if engine == "edge-tts" else "raw.wav")
        if engine == "edge-tts":
            _edge_tts(text, voice, raw)
        else:
            text_file = tmp / "text.txt"
            text_file.write_text(text, encoding="utf-8")
            if engine == "espeak-ng":
                cmd = [
                    "espeak-ng",
                    "-v",
                    voice,
                    "-s",
                    str(_ESPEAK_SPEED),
                    "-p",
                    str(_ESPEAK_PITCH),
                    "-f",
                    str(text_file),
                    "-w",
                    str(raw),
                ]
            else:
                cmd = ["flite", "-voice", voice, "-f", str(text_file), "-o", str(raw)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or not raw.is_file():
                raise AudioreproError(f"TTS {engine} failed for {out_path}: {proc.stderr.strip()[:500]}")
        wav = load_audio(raw, target_sr=TARGET_SR)
        _write_pcm16(wav, tmp / "out.wav")
        os.replace(tmp / "out.wav", out_path)
    return TTSResult(str(out_path), engine, voice, engine_version(engine), TARGET_SR, len(wav) / TARGET_SR)


def synthesize_with_fallback(
    text: str,
    out_path: str | Path,
    *,
    engine: str = "edge-tts",
    voice: str | None = None,
    fallback_engine: str | None = "espeak-ng",
    fallback_voice: str | None = None,
) -> TTSResult:
    """`synthesize` with `engine`; if it is unavailable (not installed, no network), with
    `fallback_engine`, and the result says so (`fallback_from`)."""
    try:
        return synthesize(text, out_path, engine=engine, voice=voice)
    except (TTSUnavailable, OSError) as e:
        if not fallback_engine or fallback_engine == engine:
            raise
        error = e
    except AudioreproError as e:
        if engine != "edge-tts" or not fallback_engine:
            raise
        error = e  # edge-tts raises on network failure; other engines' errors are real errors
    result = synthesize(text, out_path, engine=fallback_engine, voice=fallback_voice)
    result.fallback_from = f"{engine} ({type(error).__name__})"
    return result


def _edge_tts(text: str, voice: str, mp3_path: Path) -> None:
    import edge_tts

    async def run() -> None:
        await edge_tts.Communicate(text, voice).save(str(mp3_path))

    try:
        asyncio.run(run())
    except Exception as e:  # aiohttp / service errors: report as unavailable so a fallback can run
        raise TTSUnavailable(f"edge-tts could not synthesise ({type(e).__name__}: {e})") from e


def _write_pcm16(wav: np.ndarray, path: Path) -> None:
    import soundfile as sf

    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    if peak > 1.0:  # FFT resampling can overshoot slightly; scale rather than clip
        wav = wav / peak
    sf.write(str(path), wav, TARGET_SR, subtype="PCM_16")
