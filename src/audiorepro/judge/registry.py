"""Judge registry: `--judge KIND` -> a factory `fn(family, **options) -> Judge` (audiorepro.registry).

A kind (api, local, matcher) is how verdicts are obtained; the family (judge/protocols.py:
"sakura" or "salmonn") picks which reference judge its deviation records refer to, so each
factory chooses its class by family. Options are the CLI's (judge_model, base_url, ...); a
factory takes the ones it uses. Adding a judge kind is one decorated factory here (or a
`JUDGES.register(name, "module:factory")` line for one kept elsewhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import AudioreproError
from ..registry import Registry
from .base import Judge
from .client import OpenAICompatibleJudge
from .local import LocalTransformersJudge
from .matcher import OptionMatcherJudge
from .protocols import FAMILIES
from .salmonn_judges import SalmonnAPIJudge, SalmonnMatcherJudge, salmonn_local_judge

JUDGES: Registry[Callable[..., Judge]] = Registry("judge")

API_OPTIONS = ("base_url", "temperature", "top_p", "timeout", "max_retries", "backoff_base", "concurrency")


@JUDGES.register("api", description="an OpenAI-compatible API (the benchmark's judge model by default)")
def api_judge(family: str, *, judge_model: str | None = None, **options: Any) -> Judge:
    if options.get("timeout") is not None and options["timeout"] <= 0:
        raise AudioreproError(f"--judge-timeout must be a positive number of seconds, got {options['timeout']}")
    if options.get("max_retries") is not None and options["max_retries"] < 0:
        raise AudioreproError(f"--judge-retries must be 0 or more, got {options['max_retries']}")
    kwargs = {k: options[k] for k in API_OPTIONS if options.get(k) is not None}
    api = SalmonnAPIJudge if family == "salmonn" else OpenAICompatibleJudge
    return api(model=judge_model or FAMILIES[family]["model"], **kwargs)


@JUDGES.register("local", description="a local transformers chat model (deviation)")
def local_judge(family: str, *, judge_model: str | None = None, **_options: Any) -> Judge:
    if not judge_model:
        raise AudioreproError("--judge local needs --judge-model PATH (a transformers chat model folder)")
    return (salmonn_local_judge if family == "salmonn" else LocalTransformersJudge)(judge_model)


@JUDGES.register("matcher", description="the deterministic option matcher (deviation)")
def matcher_judge(family: str, **_options: Any) -> Judge:
    return SalmonnMatcherJudge() if family == "salmonn" else OptionMatcherJudge()
