"""TTS: the offline engines give 16 kHz mono 16-bit speech of plausible length, the result records
engine, voice and version, and a failing edge-tts falls back to the named offline engine."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from audiorepro import tts

TEXT = "The quick brown fox jumps over the lazy dog."


@pytest.mark.parametrize("engine", ["espeak-ng", "flite"])
def test_offline_engine_gives_16k_mono_pcm16(tmp_path, engine):
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} not installed (make setup installs espeak-ng, flite and sox)")
    out = tmp_path / "a.wav"
    result = tts.synthesize(TEXT, out, engine=engine)
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    # nine words read at a normal pace: between 1.5 and 6 seconds
    assert 1.5 < info.duration < 6.0
    wav, _ = sf.read(str(out))
    assert np.sqrt(np.mean(wav**2)) > 0.01  # not silence
    assert result.engine == engine and result.voice == tts.DEFAULT_VOICES[engine]
    assert result.version and result.sample_rate == 16000
    assert abs(result.seconds - info.duration) < 1e-3
    assert not list(tmp_path.glob("tts-*"))  # temporary folder removed


def test_espeak_voice_and_version_are_recorded(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    meta = tts.synthesize("Hello there.", tmp_path / "b.wav", engine="espeak-ng", voice="en").meta()
    assert meta["tts_engine"] == "espeak-ng" and meta["tts_voice"] == "en"
    assert meta["tts_version"].startswith("eSpeak NG") and meta["tts_fallback_from"] is None


def test_edge_tts_failure_falls_back_to_offline_engine(tmp_path, monkeypatch):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")

    def no_network(text, voice, path):
        raise tts.TTSUnavailable("edge-tts could not synthesise (ClientConnectorError)")

    monkeypatch.setattr(tts, "_edge_tts", no_network)
    monkeypatch.setattr(tts, "engine_available", lambda engine: True)
    result = tts.synthesize_with_fallback(
        "Hello.", tmp_path / "c.wav", engine="edge-tts", fallback_engine="espeak-ng"
    )
    assert result.engine == "espeak-ng" and result.fallback_from.startswith("edge-tts")
    assert sf.info(str(tmp_path / "c.wav")).samplerate == 16000


def test_without_fallback_the_error_is_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(tts, "engine_available", lambda engine: False)
    with pytest.raises(tts.TTSUnavailable, match="not installed"):
        tts.synthesize_with_fallback("Hello.", tmp_path / "d.wav", engine="flite", fallback_engine=None)


def test_unknown_engine_and_empty_text_are_errors(tmp_path):
    with pytest.raises(tts.AudioreproError, match="unknown TTS engine"):
        tts.synthesize("x", tmp_path / "e.wav", engine="say")
    with pytest.raises(tts.AudioreproError, match="empty text"):
        tts.synthesize("  ", tmp_path / "e.wav", engine="espeak-ng")
