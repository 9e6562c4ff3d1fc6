"""The one registry idiom (audiorepro.registry) and the one device/dtype rule (models/placement.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from audiorepro.errors import AudioreproError
from audiorepro.judge.matcher import OptionMatcherJudge
from audiorepro.judge.registry import JUDGES
from audiorepro.judge.salmonn_judges import SalmonnMatcherJudge
from audiorepro.judge.stage import build_judge
from audiorepro.models.placement import resolve_device, resolve_dtype
from audiorepro.prepare.registry import get_preparer
from audiorepro.registry import Registry


def test_a_string_target_is_imported_only_when_first_used():
    registry = Registry("widget")
    registry.register("missing", "audiorepro.no_such_module:Thing", description="never importable")
    assert "missing" in registry and registry.entry("missing").description == "never importable"
    with pytest.raises(AudioreproError, match="missing: cannot import audiorepro.no_such_module"):
        registry.get("missing")
    registry.register("json", "json:dumps")
    import json

    assert registry.get("json") is json.dumps


def test_decorator_registration_duplicates_and_unknown_names():
    registry = Registry("widget")

    @registry.register("double", description="x2", arity=1)
    def double(x):
        return 2 * x

    assert registry.get("double")(4) == 8 and registry.entry("double").metadata == {"arity": 1}
    with pytest.raises(AudioreproError, match="widget 'double' is already registered"):
        registry.register("double", "json:dumps")
    registry.register("double", "json:dumps", replace=True)
    with pytest.raises(AudioreproError, match="unknown widget 'triple'; registered: double"):
        registry.get("triple")


def test_listing_models_imports_no_model_code():
    # the registry's reason to be lazy: `audiorepro models` must not import torch or transformers
    code = (
        "import sys; from audiorepro.models.registry import list_models; names = [n for n, _ in list_models()];"
        "assert 'salmonn-13b-v1' in names and 'qwen2-audio' in names, names;"
        "print(sorted(m for m in ('torch', 'transformers', 'audiorepro.models.salmonn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_preparers_and_judges_resolve_through_their_registries():
    from audiorepro.prepare.demo import prepare_librivox

    assert get_preparer("demo_librivox") is prepare_librivox
    with pytest.raises(AudioreproError, match="unknown preparer 'nope'"):
        get_preparer("nope")
    assert JUDGES.names() == ["api", "local", "matcher"]
    assert type(build_judge("matcher", "sakura")) is OptionMatcherJudge
    assert type(build_judge("matcher", "salmonn")) is SalmonnMatcherJudge
    with pytest.raises(AudioreproError, match="needs --judge-model PATH"):
        build_judge("local", "sakura")
    with pytest.raises(AudioreproError, match="unknown judge 'oracle'"):
        build_judge("oracle", "sakura")


def test_device_and_dtype_defaults():
    assert resolve_device("cpu") == "cpu"
    if torch.cuda.device_count() > 1:
        assert resolve_device("cuda:1") == "cuda:1"
    else:  # a GPU that is not there is a one-line error, not a torch traceback at load time
        with pytest.raises(AudioreproError, match="device 'cuda:1': torch sees "):
            resolve_device("cuda:1")
    assert resolve_device(None) == resolve_device("auto") in ("cpu", "cuda")
    # half precision only on an accelerator; each model names its GPU default
    assert resolve_dtype(None, "cpu", gpu_default="bfloat16", model="m") == "float32"
    assert resolve_dtype("auto", "cuda:0", gpu_default="float16", model="m") == "float16"
    assert resolve_dtype("bfloat16", "cpu", gpu_default="float16", model="m") == "bfloat16"
    with pytest.raises(AudioreproError, match="cascade: dtype 'fp8' not one of float32, float16, bfloat16"):
        resolve_dtype("fp8", "cpu", gpu_default="float16", model="cascade")


def test_entry_metadata_reads_as_attributes():
    registry = Registry("widget")
    registry.register("w", "json:dumps", description="d", scale="percent")
    entry = registry.entry("w")
    assert entry.scale == "percent" and entry.description == "d"
    with pytest.raises(AttributeError, match="has no 'unit'"):
        getattr(entry, "unit")  # noqa: B009
