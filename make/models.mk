# Per-model environments. Qwen-Audio-Chat's remote code needs transformers 4.32.0 (its own
# requirements pin it); it runs as a worker subprocess of the main CLI in this environment
# (audiorepro.models.qwen_audio_chat). Included by the top-level Makefile (include make/*.mk).

QWEN_AUDIO_CHAT_VENV ?= .venv-qwen-audio-chat
QWEN_AUDIO_CHAT_LOCK := requirements/qwen-audio-chat.lock.txt
QWEN_AUDIO_CHAT_STAMP := $(QWEN_AUDIO_CHAT_VENV)/.setup-done

.PHONY: setup-qwen-audio-chat lock-qwen-audio-chat tiny-qwen-audio-chat

setup-qwen-audio-chat: $(QWEN_AUDIO_CHAT_STAMP) ## Qwen-Audio-Chat's own env (transformers 4.32.0, hash-locked) in .venv-qwen-audio-chat

$(QWEN_AUDIO_CHAT_STAMP): $(QWEN_AUDIO_CHAT_LOCK) scripts/install_python_packages.sh
	VENV=$(QWEN_AUDIO_CHAT_VENV) PYTHON=$(PYTHON) LOCK=$(QWEN_AUDIO_CHAT_LOCK) PROJECT=0 \
	  scripts/install_python_packages.sh
	touch $@

lock-qwen-audio-chat: ## re-resolve requirements/qwen-audio-chat.lock.txt (needs uv)
	$(UV) pip compile requirements/qwen-audio-chat.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes --find-links /opt/wheels \
	  --override requirements/overrides.txt --no-emit-package torch -o $(QWEN_AUDIO_CHAT_LOCK)

tiny-qwen-audio-chat: setup-qwen-audio-chat ## a tiny random Qwen-Audio-Chat in OUT=DIR from its remote code in CODE=DIR
	@test -n "$(CODE)" -a -n "$(OUT)" || { echo "usage: make tiny-qwen-audio-chat CODE=DIR OUT=DIR (CODE: the files of QwenLM/Qwen-Audio)" >&2; exit 2; }
	$(QWEN_AUDIO_CHAT_VENV)/bin/python scripts/make_tiny_qwen_audio_chat.py --code "$(CODE)" --out "$(OUT)"

.PHONY: setup-gpu lock-gpu

setup-gpu: ## GPU extras (bitsandbytes for load_in_8bit) into an existing VENV (default .venv); the image has them
	@test -x $(VENV)/bin/python || { echo "no environment at $(VENV): run make setup first" >&2; exit 2; }
	$(VENV)/bin/python -m pip install --no-deps --require-hashes -r requirements/gpu.lock.txt

lock-gpu: ## re-resolve requirements/gpu.lock.txt (needs uv)
	$(UV) pip compile requirements/gpu.in --no-deps --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements/gpu.lock.txt
