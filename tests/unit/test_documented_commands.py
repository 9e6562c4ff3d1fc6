"""Every command documented in README.md, docs/*.md and `make help` runs as written (issue 9).

Commands are extracted from shell code blocks and inline code that start with `make` or
`audiorepro`, and from the target list of `make help`. Each one either runs for real (offline and
quick: listed in RUN_FOR_REAL) or, when it needs a GPU, gated data or the network, expands under
`make -n` to `audiorepro` command lines that the CLI's own argparse parser accepts. Placeholders
(`<task>`, `NAME`, `MODEL=...`) get one real value; notations that are not commands are listed in
NOT_COMMANDS, so a new documented command that cannot be checked fails here instead of rotting."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}

# one real value per placeholder notation used in the docs
PLACEHOLDERS = [
    ("<task>", "asr-librispeech-clean"),
    ("NAME [NAME...]", "librispeech-test-clean whisper-large-v2"),
    ("<name>", "librispeech-test-clean"),
    ("NAME", "librispeech-test-clean"),
    ("MODEL=...", "MODEL=salmonn-13b-v1"),
    ("DIR", "/models/dir"),
    ("FILE", "/models/file"),
    ("WAV", "/data/clip.wav"),
]
# inline code that names commands without being one (checked to stay the only such cases)
NOT_COMMANDS = {
    "audiorepro fetch | prepare | predict | judge | score | compare | report | run",  # a list of stages
    "audiorepro judge ... --agreement-with matcher|FILE",  # an option's description
    "audiorepro report --suite S",  # S: any suite, in a diagram
    "audiorepro report --suite S ─> reports/S/index.html + report.md",  # a diagram
    "audiorepro run ... --models qwen-audio-chat",  # prose: any run with that model
    "audiorepro run --nproc N",  # prose: the option of any run
}
# offline and quick: run for real, expected to exit 0
RUN_FOR_REAL = {
    "make help", "make compare-prior", "make tasks SUITE=table3", "audiorepro tasks", "audiorepro models", "audiorepro fetch --status",
}


def _joined(lines: list[str]) -> list[str]:
    """Shell lines with their backslash continuations joined."""
    out: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    return out + ([pending] if pending else [])


def _doc_commands() -> set[str]:
    commands: set[str] = set()
    for doc in DOCS:
        prose, block, language = [], [], None  # language None: outside a fenced block
        for line in doc.read_text(encoding="utf-8").splitlines():
            fence = re.match(r"^\s*```(\S*)", line)
            if fence:
                if language is not None and language in SHELL_LANGUAGES:
                    for shell_line in _joined(block):
                        command = " ".join(shell_line.split(" #", 1)[0].split()).removeprefix("$ ")
                        if re.match(r"^(make|audiorepro)( |$)", command):
                            commands.add(command)
                language, block = (fence.group(1), []) if language is None else (None, [])
            elif language is None:
                prose.append(line)
            else:
                block.append(line)
        for inline in re.findall(r"`([^`]+)`", " ".join(prose)):
            if re.match(r"^(make|audiorepro)( |$)", inline):
                commands.add(" ".join(inline.split()))
    return commands


def _help_commands() -> set[str]:
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {f"make {line.split()[0]}" for line in out.splitlines() if line.strip()}


def _substitute(command: str) -> str:
    for placeholder, value in PLACEHOLDERS:
        command = command.replace(placeholder, value)
    return command


def _parse(argv: list[str]) -> None:
    """What `audiorepro ...` would do with these arguments up to argparse: no usage error."""
    from audiorepro.cli import build_parser

    try:
        build_parser().parse_args(argv)
    except SystemExit as e:
        if e.code == 0 and argv[-1] == "--help":
            return
        pytest.fail(f"`audiorepro {shlex.join(argv)}` is rejected by the CLI's parser (exit {e.code})")


def _expanded_audiorepro_lines(make_args: list[str]) -> list[list[str]]:
    result = subprocess.run(["make", "-n", "--no-print-directory", *make_args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"make -n {shlex.join(make_args)}: {result.stderr}"
    argvs = []
    for line in _joined(result.stdout.splitlines()):
        if "audiorepro " not in line:
            continue
        tokens = shlex.split(line)
        for i, token in enumerate(tokens):
            if token == "audiorepro" or token.endswith("/audiorepro"):
                argvs.append(tokens[i + 1 :])
                break
    return argvs


def _sandbox_env(tmp_path: Path) -> dict:
    # outputs in the sandbox; a proxy on a closed port so nothing can reach the network
    proxy = "http://127.0.0.1:9"
    return dict(
        os.environ, AUDIOREPRO_RUNS=str(tmp_path / "runs"), AUDIOREPRO_REPORTS=str(tmp_path / "reports"),
        AUDIOREPRO_CACHE=str(tmp_path / "cache"), https_proxy=proxy, HTTPS_PROXY=proxy, http_proxy=proxy,
        HTTP_PROXY=proxy, GIT_TERMINAL_PROMPT="0",
    )


DOCUMENTED = sorted(_doc_commands() | _help_commands())


def test_the_extraction_finds_the_readme_commands():
    # a guard against an extractor that silently finds nothing
    assert {"make demo", "make test", "make sakura MODELS=salmonn-7b,qwen2-audio JUDGE=api", "audiorepro fetch --status"} <= set(DOCUMENTED)
    assert {"make help", "make reproduce-table3", "make sakura-judge"} <= set(DOCUMENTED)


@pytest.mark.parametrize("command", DOCUMENTED)
def test_documented_command_runs_or_expands_to_a_valid_command_line(command, tmp_path):
    if command in NOT_COMMANDS:
        return
    command = _substitute(command)
    assert "..." not in command and "|" not in command, f"{command!r}: a notation, not a command; add it to NOT_COMMANDS or fix the doc"
    words = shlex.split(command)
    if command in RUN_FOR_REAL:
        argv = ["make", "-s", *words[1:]] if words[0] == "make" else [sys.executable, "-m", "audiorepro.cli", *words[1:]]
        result = subprocess.run(argv, cwd=REPO, env=_sandbox_env(tmp_path), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"
    elif words[0] == "audiorepro" and not any(w.startswith("-") for w in words):
        _parse([*words[1:], "--help"])  # a subcommand named in prose: it exists, and its help works
    elif words[0] == "audiorepro":
        _parse(words[1:])
    else:
        for argv in _expanded_audiorepro_lines(words[1:]):
            _parse(argv)


def test_make_variables_of_the_readme_become_flags():
    (argv,) = _expanded_audiorepro_lines(
        ["sakura", "MODELS=salmonn-7b,qwen2-audio", "JUDGE=api", "VERDICTS=v.jsonl", "JUDGE_MODEL=m", "BASE_URL=http://h/v1", "DECODING=greedy"]
    )
    assert argv == [
        "run", "--suite", "sakura", "--models", "salmonn-7b,qwen2-audio", "--judge", "api", "--verdicts", "v.jsonl",
        "--judge-model", "m", "--base-url", "http://h/v1", "--model-arg", "decoding=greedy",
    ]
    (judge,) = _expanded_audiorepro_lines(["sakura-judge", "MODELS=qwen2-audio", "VERDICTS=v.jsonl"])
    assert judge == ["judge", "--suite", "sakura", "--models", "qwen2-audio", "--verdicts", "v.jsonl"]
    # with DECODING=, sakura-judge finds the run folders `run` wrote (layout.run_name)
    from audiorepro.layout import run_name

    (judge,) = _expanded_audiorepro_lines(["sakura-judge", "MODELS=salmonn-7b,qwen2-audio", "DECODING=greedy", "JUDGE=api"])
    runs = ",".join(run_name(m, {"decoding": "greedy"}) for m in ("salmonn-7b", "qwen2-audio"))
    assert judge == ["judge", "--suite", "sakura", "--models", runs, "--judge", "api"]


def test_sakura_without_data_names_the_dataset_and_fails_without_a_usage_error(tmp_path):
    result = subprocess.run(
        ["make", "-s", "sakura", "MODELS=qwen2-audio", "JUDGE=matcher"],
        cwd=REPO, env=_sandbox_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "not run: sakura-gender-single: dataset sakura not available" in output
    assert "nothing could run" in result.stderr
    assert "usage:" not in output and "unrecognized arguments" not in output
    assert "load model" not in output  # no model is loaded when no task has data


def test_make_demo_passes_decoding_to_its_run():
    """Found on the fresh-clone audit: `make demo DECODING=beam` ignored DECODING and exited 0."""
    [argv] = _expanded_audiorepro_lines(["demo", "DECODING=beam"])
    assert argv[argv.index("--model-arg") + 1] == "decoding=beam"
