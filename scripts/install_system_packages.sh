#!/usr/bin/env bash
# Debian packages audiorepro needs, installed only when missing. `make setup` and the Dockerfile
# both run this script, so the native and container installs are the same steps.
#   espeak-ng, flite, sox : offline TTS for the demo/KE/SQQA fallbacks and audio conversion
#   java (JRE 17)         : pycocoevalcap's PTB tokenizer and METEOR 1.5 jar
#   ffmpeg                : only with AUDIOREPRO_WITH_FFMPEG=1 (Qwen-Audio-Chat reads audio through it)
set -euo pipefail

need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v flite >/dev/null 2>&1 || need+=(flite)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [[ "${AUDIOREPRO_WITH_FFMPEG:-0}" == "1" ]]; then
  command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
fi

if ((${#need[@]} == 0)); then
  echo "system packages: all present"
  exit 0
fi

echo "system packages to install: ${need[*]}"
if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "error: need root or sudo to install: ${need[*]} (or install them yourself and rerun)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
