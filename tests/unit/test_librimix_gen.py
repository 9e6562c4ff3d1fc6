"""Libri2Mix mix_clean generation: the same metadata gives byte-identical files (same sha256
twice), and the mixture is the hand-computed sum of gain-scaled, end-padded sources."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiorepro.checksums import sha256_file
from audiorepro.errors import InputError
from audiorepro.prepare import librimix_gen as G

SR = 16000


@pytest.fixture
def tiny_librispeech(tmp_path):
    """Two sine 'utterances' of different lengths in LibriSpeech layout, plus a 2-row metadata CSV
    in the official Libri2Mix column format."""
    root = tmp_path / "LibriSpeech"
    t1 = np.arange(int(0.50 * SR)) / SR
    t2 = np.arange(int(0.30 * SR)) / SR
    a = 0.5 * np.sin(2 * np.pi * 220 * t1)
    b = 0.4 * np.sin(2 * np.pi * 330 * t2)
    for rel, wav in (("test-clean/1/10/1-10-0000.flac", a), ("test-clean/2/20/2-20-0001.flac", b)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(root / rel), wav, SR, subtype="PCM_16")
    csv = tmp_path / "libri2mix_test.csv"
    csv.write_text(
        "mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain\n"
        "1-10-0000_2-20-0001,test-clean/1/10/1-10-0000.flac,0.8,test-clean/2/20/2-20-0001.flac,1.2,n.wav,0.1\n"
        "2-20-0001_1-10-0000,test-clean/2/20/2-20-0001.flac,0.5,test-clean/1/10/1-10-0000.flac,0.25,n.wav,0.1\n"
    )
    return root, csv


def test_generation_is_deterministic(tiny_librispeech, tmp_path):
    root, csv = tiny_librispeech
    first = G.generate_all(csv, root, tmp_path / "run1", progress=False)
    second = G.generate_all(csv, root, tmp_path / "run2", progress=False)
    assert [sha256_file(p) for _, p in first] == [sha256_file(p) for _, p in second]
    assert len({sha256_file(p) for _, p in first}) == 2


def test_mixture_is_padded_sum_of_scaled_sources(tiny_librispeech, tmp_path):
    root, csv = tiny_librispeech
    [(row, path), _] = G.generate_all(csv, root, tmp_path / "out", progress=False)
    s1, _ = sf.read(str(root / row.source_paths[0]), dtype="float32")
    s2, _ = sf.read(str(root / row.source_paths[1]), dtype="float32")
    expected = 0.8 * s1
    expected[: len(s2)] += 1.2 * s2  # "max" mode: the shorter source is padded at the end
    got, sr = sf.read(str(path))
    info = sf.info(str(path))
    assert (sr, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert len(got) == len(s1) == int(0.5 * SR)
    assert np.max(np.abs(got - expected)) < 2 / 32768  # 16-bit quantisation only


def test_min_mode_cuts_to_the_shorter_source():
    a, b = np.ones(10, dtype=np.float32), np.ones(4, dtype=np.float32)
    mix = G.mix_sources([a, b], (1.0, 2.0), sample_rate=SR, mode="min")
    assert mix.tolist() == [3.0] * 4


def test_bad_metadata_names_the_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,path\n1,x\n")
    with pytest.raises(InputError, match="bad.csv.*missing column"):
        G.read_metadata(bad)


def test_missing_source_names_the_file(tiny_librispeech, tmp_path):
    root, csv = tiny_librispeech
    (root / "test-clean/2/20/2-20-0001.flac").unlink()
    with pytest.raises(InputError, match="2-20-0001.flac"):
        G.generate_all(csv, root, tmp_path / "out", progress=False)
