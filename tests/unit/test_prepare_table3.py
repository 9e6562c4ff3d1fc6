"""Table 3 preparers on tiny hand-made data in the official layouts (sine-wave audio written in
tmp dirs): the right items, references and meta; bad or missing audio stops with the file name."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiorepro.errors import InputError
from audiorepro.manifests import Manifest
from audiorepro.prepare.registry import get_preparer

SR = 16000


def _wav(path: Path, seconds: float = 0.5, sr: int = SR, freq: float = 220.0, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * freq * t), sr, subtype="PCM_16", format=fmt)
    return path


def _manifest(root: Path, name: str = "toy", **kw) -> Manifest:
    return Manifest.model_validate(
        {
            "name": name,
            "kind": "dataset",
            "description": "toy",
            "licence": "CC0",
            "access": "manual",
            "source": {"type": "manual"},
            "local_root": str(root),
            **kw,
        }
    )


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AUDIOREPRO_DATA", str(tmp_path))


def _librispeech(root: Path) -> Path:
    chapter = root / "LibriSpeech" / "test-clean" / "1089" / "134686"
    _wav(chapter / "1089-134686-0000.flac", 0.6, fmt="FLAC")
    _wav(chapter / "1089-134686-0001.flac", 0.4, freq=330, fmt="FLAC")
    (chapter / "1089-134686.trans.txt").write_text(
        "1089-134686-0000 HE HOPED THERE WOULD BE STEW FOR DINNER\n1089-134686-0001 STUFF IT INTO YOU\n"
    )
    return root


def test_librispeech(tmp_path):
    root = _librispeech(tmp_path / "ls")
    items = list(get_preparer("librispeech")(_manifest(root), subset="test-clean"))
    assert [i["id"] for i in items] == ["1089-134686-0000", "1089-134686-0001"]
    assert items[0]["references"] == ["HE HOPED THERE WOULD BE STEW FOR DINNER"]
    assert items[1]["meta"] == {
        "subset": "test-clean",
        "speaker": "1089",
        "chapter": "134686",
        "transcript": "STUFF IT INTO YOU",
    }
    assert items[0]["audio"] == "ls/LibriSpeech/test-clean/1089/134686/1089-134686-0000.flac"


def test_librispeech_bad_audio_is_named_before_any_item(tmp_path):
    root = _librispeech(tmp_path / "ls")
    bad = root / "LibriSpeech/test-clean/1089/134686/1089-134686-0001.flac"
    bad.write_bytes(b"not audio")
    gen = get_preparer("librispeech")(_manifest(root), subset="test-clean")
    with pytest.raises(InputError, match="1089-134686-0001.flac"):
        next(gen)  # validation happens up front, before the first item
    _wav(bad, 0.5, sr=8000, fmt="FLAC")
    with pytest.raises(InputError, match="sample rate 8000"):
        list(get_preparer("librispeech")(_manifest(root), subset="test-clean"))


def test_gigaspeech_segments_of_long_audio(tmp_path):
    root = tmp_path / "gs"
    _wav(root / "audio/podcast/P0001/POD0000000001.wav", 3.0)
    meta = {
        "audios": [
            {
                "aid": "POD0000000001",
                "path": "audio/podcast/P0001/POD0000000001.opus",
                "source": "podcast",
                "subsets": ["{TEST}"],
                "segments": [
                    {
                        "sid": "POD0000000001_S0000000",
                        "begin_time": 0.5,
                        "end_time": 1.25,
                        "text_tn": "AS THEY'RE LEAVING <COMMA>",
                        "subsets": ["{TEST}"],
                    },
                    {
                        "sid": "POD0000000001_S0000001",
                        "begin_time": 1.5,
                        "end_time": 2.9,
                        "text_tn": "CAN KASH CALL",
                        "subsets": ["{DEV}"],
                    },
                ],
            }
        ]
    }
    (root / "GigaSpeech.json").write_text(json.dumps(meta))
    [item] = list(get_preparer("gigaspeech")(_manifest(root)))
    assert item["id"] == "POD0000000001_S0000000"
    assert (item["audio_offset"], item["audio_duration"]) == (0.5, 0.75)
    assert item["references"] == ["AS THEY'RE LEAVING <COMMA>"]
    assert item["audio"].endswith("POD0000000001.wav")  # converted copy with the same stem
    meta["audios"][0]["segments"][0]["end_time"] = 9.0  # beyond the 3 s recording
    (root / "GigaSpeech.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="segment ends at 9.00"):
        list(get_preparer("gigaspeech")(_manifest(root)))


def test_covost2_keeps_test_split_and_joins_common_voice_sentences(tmp_path):
    cv = tmp_path / "cv"
    _wav(cv / "clips" / "common_voice_en_1.wav", 0.5)
    _wav(cv / "clips" / "common_voice_en_2.wav", 0.5)
    (cv / "validated.tsv").write_text(
        "client_id\tpath\tsentence\tup_votes\n"
        'c1\tcommon_voice_en_1.wav\tHe said "hi".\t2\n'
        "c2\tcommon_voice_en_2.wav\tGood morning.\t2\n"
    )
    root = tmp_path / "covost"
    root.mkdir()
    (root / "covost_v2.en_de.tsv").write_text(
        "path\ttranslation\tsplit\n"
        'common_voice_en_1.wav\tEr sagte "hallo".\ttest\n'
        "common_voice_en_2.wav\tGuten Morgen.\ttrain\n"
    )
    prep = get_preparer("covost2")
    items = list(prep(_manifest(root), table="covost_v2.en_de.tsv", common_voice_dir=str(cv)))
    assert [(i["id"], i["references"], i["meta"]) for i in items] == [
        ("common_voice_en_1", ['Er sagte "hallo".'], {"transcript": 'He said "hi".', "client_id": "c1"})
    ]
    (cv / "validated.tsv").write_text("client_id\tpath\tsentence\n")
    with pytest.raises(InputError, match="validated.tsv.*1 CoVoST clips not in Common Voice"):
        list(prep(_manifest(root), table="covost_v2.en_de.tsv", common_voice_dir=str(cv)))


def test_audiocaps_five_captions_and_missing_clips(tmp_path):
    root = tmp_path / "ac"
    rows = ["audiocap_id,youtube_id,start_time,caption"]
    rows += [f"{i},abc,30,caption {i}" for i in range(5)] + [f"{i},gone,0,lost {i}" for i in range(5, 10)]
    root.mkdir()
    (root / "test.csv").write_text("\n".join(rows) + "\n")
    _wav(root / "audio" / "abc_30.wav", 1.0)
    [item] = list(get_preparer("audiocaps")(_manifest(root)))
    assert item["id"] == "abc_30" and item["references"] == [f"caption {i}" for i in range(5)]
    assert item["meta"]["clips_available"] == "1/2 clips"
    with pytest.raises(InputError, match="1 of 2 clips missing"):
        list(get_preparer("audiocaps")(_manifest(root), skip_missing=False))


def test_iemocap_four_classes_with_excited_as_happy(tmp_path):
    root = tmp_path / "iemocap"
    session = root / "IEMOCAP_full_release" / "Session5"
    ev = session / "dialog" / "EmoEvaluation"
    ev.mkdir(parents=True)
    (ev / "Ses05F_impro01.txt").write_text(
        "% header line\n\n"
        "[6.2901 - 8.2357]\tSes05F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
        "C-E1:\tNeutral;\t()\n"
        "[10.0 - 11.5]\tSes05F_impro01_M001\texc\t[3.5, 3.0, 3.0]\n"
        "[12.0 - 13.0]\tSes05F_impro01_F002\tfru\t[2.0, 3.5, 3.5]\n"
    )
    for utt in ("Ses05F_impro01_F000", "Ses05F_impro01_M001", "Ses05F_impro01_F002"):
        _wav(session / "sentences" / "wav" / "Ses05F_impro01" / f"{utt}.wav", 0.5)
    items = list(get_preparer("iemocap")(_manifest(root)))
    assert [(i["id"], i["references"], i["meta"]["speaker_gender"]) for i in items] == [
        ("Ses05F_impro01_F000", ["neutral"], "F"),
        ("Ses05F_impro01_M001", ["happy"], "M"),
    ]


def test_musiccaps_eval_split(tmp_path):
    root = tmp_path / "mc"
    root.mkdir()
    (root / "musiccaps-public.csv").write_text(
        "ytid,start_s,end_s,audioset_positive_labels,aspect_list,caption,author_id,is_balanced_subset,is_audioset_eval\n"
        "-0Gj8-vB1q4,30,40,x,\"['low quality', 'sustained strings']\",\"A low quality, string recording.\",4,False,True\n"
        "-0SdAVK79lg,30,40,x,[],Train caption.,0,False,False\n"
    )
    _wav(root / "audio" / "-0Gj8-vB1q4.wav", 1.0)
    _wav(root / "audio" / "-0SdAVK79lg.wav", 1.0)
    [item] = list(get_preparer("musiccaps")(_manifest(root)))
    assert item["id"] == "-0Gj8-vB1q4" and item["references"] == ["A low quality, string recording."]
    assert item["meta"]["clips_available"] == "1/1 clips"


def test_librimix_items_have_both_transcripts(tmp_path):
    ls = _librispeech(tmp_path / "ls")
    root = tmp_path / "lm"
    root.mkdir()
    (root / "libri2mix_test-clean.csv").write_text(
        "mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain\n"
        "1089-134686-0000_1089-134686-0001,test-clean/1089/134686/1089-134686-0000.flac,0.9,"
        "test-clean/1089/134686/1089-134686-0001.flac,1.1,n.wav,0.5\n"
    )
    [item] = list(
        get_preparer("librimix")(
            _manifest(root), librispeech_root=str(ls / "LibriSpeech"), out_dir=str(tmp_path / "mix")
        )
    )
    assert item["references"] == ["HE HOPED THERE WOULD BE STEW FOR DINNER", "STUFF IT INTO YOU"]
    assert sf.info(
        str(tmp_path / "mix/mix_clean/1089-134686-0000_1089-134686-0001.wav")
    ).duration == pytest.approx(0.6)


def test_voxceleb_pairs_are_seeded_and_labelled(tmp_path):
    root = tmp_path / "vox"
    for spk, n in (("id10270", 3), ("id10271", 3)):
        for k in range(n):
            _wav(root / "wav" / spk / "vidA" / f"{k:05d}.wav", 0.3, freq=200 + 50 * k)
    prep = get_preparer("voxceleb1")
    items = list(prep(_manifest(root), pairing="per_utterance", seed=0, out_dir=str(tmp_path / "pairs0")))
    again = list(prep(_manifest(root), pairing="per_utterance", seed=0, out_dir=str(tmp_path / "pairs1")))
    assert [i["meta"] for i in items] == [i["meta"] for i in again]
    assert len(items) == 6
    for item in items:
        same = item["meta"]["utterance_1"].split("/")[0] == item["meta"]["utterance_2"].split("/")[0]
        assert item["references"] == ["yes" if same else "no"]
        assert item["meta"]["utterance_1"] != item["meta"]["utterance_2"]
    joined = tmp_path / "pairs0" / f"{items[0]['id']}.wav"
    assert sf.info(str(joined)).frames == 2 * int(0.3 * SR) + 1600  # two clips + 0.1 s of silence
    (root / "veri_test2.txt").write_text(
        "1 id10270/vidA/00000.wav id10270/vidA/00001.wav\n0 id10270/vidA/00000.wav id10271/vidA/00002.wav\n"
    )
    official = list(prep(_manifest(root), out_dir=str(tmp_path / "trials")))  # the default pairing
    assert [i["references"] for i in official] == [["yes"], ["no"]]
    assert [i["meta"]["trial_line"] for i in official] == [1, 2]
    assert official[1]["meta"]["utterance_2"] == "id10271/vidA/00002.wav"


@pytest.mark.parametrize(
    ("seconds", "keep"),
    [
        ((8.0, 12.0), (8.0, 12.0)),  # fits: unchanged
        ((25.0, 3.0), (25.0, 3.0)),  # 28.1 s with the silence: fits
        ((28.0, 3.0), (26.9, 3.0)),  # the long one gives way, the short one is kept whole
        ((3.0, 40.0), (3.0, 26.9)),
        ((20.0, 15.0), (14.95, 14.95)),  # both longer than half the room: half each
    ],
)
def test_sv_pairs_fit_the_30s_window_with_both_speakers(seconds, keep):
    from audiorepro.prepare.voxceleb import fit_window

    got = fit_window(*seconds, silence=0.1, window=30.0)
    assert got == pytest.approx(keep)
    assert sum(got) + 0.1 <= 30.0 + 1e-9 and min(got) > 0


def test_sv_long_trial_is_cut_so_the_second_speaker_is_heard(tmp_path):
    root = tmp_path / "vox"
    _wav(root / "wav" / "id10270" / "vidA" / "00000.wav", 28.0)
    _wav(root / "wav" / "id10271" / "vidB" / "00000.wav", 3.0, freq=300)
    (root / "veri_test2.txt").write_text("0 id10270/vidA/00000.wav id10271/vidB/00000.wav\n")
    [item] = list(get_preparer("voxceleb1")(_manifest(root), out_dir=str(tmp_path / "pairs")))
    assert item["meta"]["cut_to_window"] is True and item["meta"]["seconds_kept"] == [26.9, 3.0]
    # 26.9 s of the first, 0.1 s of silence, all 3 s of the second: exactly the 30 s SALMONN reads
    assert sf.info(str(tmp_path / "pairs" / f"{item['id']}.wav")).frames == 30 * SR


def test_sv_subset_is_balanced_seeded_and_in_list_order():
    from audiorepro.prepare.voxceleb import balanced_subset

    pairs = [("a", "b", True), ("a", "c", False), ("a", "d", True), ("b", "c", True), ("c", "d", False), ("d", "a", True)]
    chosen = balanced_subset(pairs, 4, seed=0)
    assert chosen == sorted(chosen) and chosen == balanced_subset(pairs, 4, seed=0)
    assert sum(pairs[i][2] for i in chosen) == 2 and len(chosen) == 4


def test_slurp_one_item_per_slot_type(tmp_path):
    root = tmp_path / "slurp"
    root.mkdir()
    rec = {
        "slurp_id": 13804,
        "sentence": "wake me up at five am this week",
        "sentence_annotation": "wake me up at [time : five am] [date : this week]",
        "intent": "alarm_set",
        "recordings": [{"file": "audio-1.flac"}, {"file": "audio-1-headset.flac"}],
    }
    (root / "test.jsonl").write_text(json.dumps(rec) + "\n")
    _wav(root / "slurp_real" / "audio-1.flac", 0.5, fmt="FLAC")
    _wav(root / "slurp_real" / "audio-1-headset.flac", 0.5, fmt="FLAC")
    items = list(get_preparer("slurp")(_manifest(root)))
    assert [(i["id"], i["references"], i["meta"]["slot"]) for i in items] == [
        ("13804-time", ["five am"], "time"),
        ("13804-date", ["this week"], "date"),
    ]
    assert items[0]["meta"]["question_text"] == "wake me up at five am this week"
    assert items[0]["meta"]["recording"] == "audio-1.flac"
    headset = list(get_preparer("slurp")(_manifest(root), recording="headset"))
    assert headset[0]["meta"]["recording"] == "audio-1-headset.flac"


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed (make setup installs it)"
)
def test_wikiqa_tts_with_offline_engine(tmp_path):
    root = tmp_path / "wikiqa"
    corpus = root / "WikiQACorpus"
    corpus.mkdir(parents=True)
    (corpus / "WikiQA-test.tsv").write_text(
        "QuestionID\tQuestion\tDocumentID\tDocumentTitle\tSentenceID\tSentence\tLabel\n"
        "Q0\twhat is a cat\tD0\tCat\tD0-0\tThe cat is a small mammal.\t1\n"
        "Q0\twhat is a cat\tD0\tCat\tD0-1\tCats purr.\t0\n"
        "Q1\twho is nobody\tD1\tX\tD1-0\tUnrelated.\t0\n"
    )
    prep = get_preparer("wikiqa_tts")
    [item] = list(prep(_manifest(root), engine="espeak-ng", out_dir=str(tmp_path / "tts")))
    assert item["id"] == "Q0" and item["references"] == ["The cat is a small mammal."]
    assert item["meta"]["question_text"] == "what is a cat"
    assert item["meta"]["tts_engine"] == "espeak-ng" and item["meta"]["tts_version"].startswith("eSpeak NG")
    assert sf.info(str(tmp_path / "tts" / "Q0.wav")).samplerate == 16000
    both = list(
        prep(_manifest(root), engine="espeak-ng", only_answerable=False, out_dir=str(tmp_path / "tts"))
    )
    assert [i["id"] for i in both] == ["Q0", "Q1"] and both[1]["references"] == []


def _hulth_archive(tmp_path: Path) -> Path:
    """A two-document Test.zip in Hulth's layout, inside Hulth2003/ as the distribution has it.
    Keywords wrap over a tab-indented line, as in the real .uncontr files."""
    root = tmp_path / "inspec"
    (root / "Hulth2003").mkdir(parents=True)
    long_abstract = "Wavelet image compression. " + " ".join(["We study how wavelets compress natural images."] * 18)
    with zipfile.ZipFile(root / "Hulth2003" / "Test.zip", "w") as zf:
        zf.writestr("10.abstr", "Compression of images\n\tWe study wavelets.")
        zf.writestr("10.uncontr", "image compression; wavelets;\n\tnatural\n\timages")
        zf.writestr("10.contr", "data compression; wavelets")
        zf.writestr("9.abstr", long_abstract)
        zf.writestr("9.uncontr", "wavelet image compression")
        zf.writestr("9.contr", "image coding")
    return root


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (make setup installs it)")
def test_inspec_reads_hulths_test_split_with_uncontrolled_keys(tmp_path):
    root = _hulth_archive(tmp_path)
    items = list(get_preparer("inspec_tts")(_manifest(root), engine="flite", out_dir=str(tmp_path / "tts")))
    # numeric order (9 before 10), Hulth's uncontrolled keywords split at ';' with whitespace joined
    assert [i["id"] for i in items] == ["inspec-9", "inspec-10"]
    assert items[1]["references"] == ["image compression", "wavelets", "natural images"]
    assert items[1]["meta"]["text"] == "Compression of images We study wavelets."
    assert items[1]["meta"]["split"] == "test" and items[1]["meta"]["keys"] == "uncontrolled"
    # the long abstract runs past SALMONN's 30 s window, the short one does not
    assert items[0]["meta"]["audio_seconds"] > 30 and items[0]["meta"]["longer_than_30s"] is True
    assert items[1]["meta"]["audio_seconds"] < 30 and items[1]["meta"]["longer_than_30s"] is False
    assert items[1]["meta"]["tts_engine"] == "flite"


def test_inspec_all_keys_adds_the_controlled_terms_once(tmp_path):
    from audiorepro.prepare.text_to_speech import read_hulth_split

    root = _hulth_archive(tmp_path)
    docs = {d: k for d, _, k in read_hulth_split(root / "Hulth2003" / "Test.zip", keys="all")}
    assert docs["10"] == ["image compression", "wavelets", "natural images", "data compression"]
    with pytest.raises(InputError, match="keys must be one of"):
        read_hulth_split(root / "Hulth2003" / "Test.zip", keys="controlled")


def test_sac_reads_a_readers_own_data_in_the_documented_layout(tmp_path):
    root = tmp_path / "sac"
    _wav(root / "audio" / "q1.wav", 2.0)
    _wav(root / "audio" / "q2.wav", 1.5, freq=300)
    (root / "sac.csv").write_text(
        "id,audio,question,background_caption\n"
        'q1,audio/q1.wav,What animal is barking?,"A dog barks, cars pass by."\n'
        "q2,audio/q2.wav,Is it raining?,Rain falls on a tin roof.\n"
    )
    items = list(get_preparer("sac")(_manifest(root)))
    assert [i["id"] for i in items] == ["q1", "q2"]
    assert items[0]["meta"] == {"question_text": "What animal is barking?", "background_caption": "A dog barks, cars pass by."}
    assert items[1]["references"] == [] and items[1]["audio"].endswith("audio/q2.wav")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("id,audio,question\nq1,audio/q1.wav,Why?\n", "missing column"),
        ("id,audio,question,background_caption\nq1,audio/q1.wav,Why?,\n", "empty 'background_caption'"),
        ("id,audio,question,background_caption\nq1,audio/none.wav,Why?,Rain.\n", "not found"),
    ],
)
def test_sac_layout_errors_name_the_problem(tmp_path, table, message):
    root = tmp_path / "sac"
    _wav(root / "audio" / "q1.wav", 1.0)
    (root / "sac.csv").write_text(table)
    with pytest.raises(InputError, match=message):
        list(get_preparer("sac")(_manifest(root)))
