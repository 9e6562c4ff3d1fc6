"""Dataset preparers: manifest name family -> "module:function" (lazy, audiorepro.registry).

A preparer is `fn(manifest: Manifest, **prepare_options) -> Iterator[dict]` yielding dataset items
`{"id", "audio", "references", "meta"}` (optionally "audio_offset", "audio_duration"), with `audio`
a path relative to the data root or absolute. It validates every audio file up front (decodable,
duration, sample rate) and raises InputError naming the file. The prepare stage then applies a
task (filter, prompt) to the items and writes runs/<suite>/<task>/examples.jsonl."""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Registry

PREPARERS: Registry[Callable] = Registry("preparer")
for _name, _target in {
    # demo (bundled)
    "demo_librivox": "audiorepro.prepare.demo:prepare_librivox",
    "demo_spoken": "audiorepro.prepare.demo:prepare_spoken",
    # SAKURA
    "sakura": "audiorepro.prepare.sakura:prepare_sakura",
    # SALMONN Table 3
    "librispeech": "audiorepro.prepare.librispeech:prepare_librispeech",
    "gigaspeech": "audiorepro.prepare.gigaspeech:prepare_gigaspeech",
    "covost2": "audiorepro.prepare.covost2:prepare_covost2",
    "audiocaps": "audiorepro.prepare.audiocaps:prepare_audiocaps",
    "iemocap": "audiorepro.prepare.iemocap:prepare_iemocap",
    "musiccaps": "audiorepro.prepare.musiccaps:prepare_musiccaps",
    "librimix": "audiorepro.prepare.librimix:prepare_librimix",
    "voxceleb1": "audiorepro.prepare.voxceleb:prepare_voxceleb1_sv",
    "inspec_tts": "audiorepro.prepare.text_to_speech:prepare_inspec",
    "wikiqa_tts": "audiorepro.prepare.text_to_speech:prepare_wikiqa",
    "slurp": "audiorepro.prepare.slurp:prepare_slurp",
    "sac": "audiorepro.prepare.sac:prepare_sac",
}.items():
    PREPARERS.register(_name, _target)


def get_preparer(name: str) -> Callable:
    return PREPARERS.get(name)
