#!/usr/bin/env bash
# Regenerate the demo spoken WAVs from items.yaml (run once by a maintainer; the tests use the
# committed WAVs and their sha256s in data_manifests/datasets/demo-spoken.yaml, so after running
# this, update that manifest). Needs Debian's espeak-ng and sox:
#   apt-get install -y --no-install-recommends espeak-ng sox
# espeak-ng settings: US English, male variant m3, 130 words/min, 5 x 10 ms gaps between words;
# Whisper tiny.en transcribes this voice word-perfectly, the default speed (175) it does not.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../../../.venv/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$python" - "$here/items.yaml" > "$tmp/list.tsv" <<'PY'
import sys, yaml
for item in yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["items"]:
    print(f"{item['id']}\t{item['text']}")
PY

while IFS=$'\t' read -r id text; do
    espeak-ng -v en-us+m3 -s 130 -g 5 -w "$tmp/$id.wav" "$text"
    # 22.05 kHz -> 16 kHz mono 16-bit PCM (sox's default high-quality resampler)
    # -D: no dither, so the output is byte-identical on every run
    sox -D "$tmp/$id.wav" -r 16000 -c 1 -b 16 -e signed-integer "$here/$id.wav"
    echo "$id.wav: $text"
done < "$tmp/list.tsv"
