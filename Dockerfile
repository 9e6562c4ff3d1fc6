# audiorepro GPU image. The base is pinned by digest (PyTorch 2.13.0, CUDA 12.6, cuDNN 9); the
# install runs the same two scripts as `make setup`, so the image and a native checkout get the
# same packages from the same hash-locked requirements/lock.txt.
# Digest of pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime as referenced by public Dockerfiles;
# check it with `docker buildx imagetools inspect pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime`.
FROM pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime@sha256:6acf597eeb8e376a96580dde4952f37cc017fef732bb40bfc73f28f25e3f64b4

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AUDIOREPRO_CACHE=/data/cache \
    AUDIOREPRO_RUNS=/data/runs \
    AUDIOREPRO_REPORTS=/data/reports \
    HF_HOME=/data/hf

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /opt/audiorepro

# System packages (same script as `make setup`), plus ffmpeg for Qwen-Audio-Chat.
COPY scripts/install_system_packages.sh scripts/
RUN AUDIOREPRO_WITH_FFMPEG=1 scripts/install_system_packages.sh \
    && rm -rf /var/lib/apt/lists/*

# Python packages: the venv sees the base image's CUDA torch 2.13.0, so the torch pin is a no-op.
COPY requirements/ requirements/
COPY pyproject.toml README.md ./
COPY src/ src/
COPY scripts/install_python_packages.sh scripts/
RUN VENV=/opt/venv VENV_FLAGS=--system-site-packages PYTHON=python scripts/install_python_packages.sh \
    && /opt/venv/bin/python -m pip install --no-deps --require-hashes -r requirements/gpu.lock.txt \
    && touch /opt/venv/.setup-done

# Qwen-Audio-Chat's own environment (transformers 4.32.0 for its remote code), the same step as
# `make setup-qwen-audio-chat`; the main CLI runs the model there as a worker subprocess.
RUN VENV=/opt/venv-qwen-audio-chat VENV_FLAGS=--system-site-packages PYTHON=python \
    LOCK=requirements/qwen-audio-chat.lock.txt PROJECT=0 scripts/install_python_packages.sh \
    && touch /opt/venv-qwen-audio-chat/.setup-done

COPY Makefile ./
COPY make/ make/
COPY data_manifests/ data_manifests/
COPY expected/ expected/
COPY data/ data/
ENV PATH=/opt/venv/bin:$PATH \
    VENV=/opt/venv \
    QWEN_AUDIO_CHAT_VENV=/opt/venv-qwen-audio-chat \
    AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON=/opt/venv-qwen-audio-chat/bin/python

VOLUME ["/data"]
ENTRYPOINT ["audiorepro"]
CMD ["--help"]
