"""Task YAML schema. One YAML file per paper cell (or per group of cells scored from the same
predictions), under audiorepro/tasks/<suite>/. Unknown fields are errors, and every error names
the file and the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..models.base import DecodingConfig
from ..provenance import Deviation


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricSpec(_Strict):
    name: str = Field(description="metric name known to audiorepro.metrics.compute")
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options for the metric")
    item_options: dict[str, str] = Field(
        default_factory=dict,
        description="per-item keyword options taken from each example's meta: {option: meta_field}",
    )
    report_as: str | None = Field(default=None, description="name under which the value is reported")
    verdicts: str | None = Field(
        default=None,
        description="judge_accuracy only: the judge protocol whose verdicts it counts (default: the task's first)",
    )


class TaskSpec(_Strict):
    name: str
    suite: str
    version: int = 1
    description: str = ""
    dataset: str = Field(description="prepared dataset name (data_manifests/datasets/<name>.yaml)")
    where: dict[str, Any] = Field(default_factory=dict, description="keep dataset items whose meta matches")
    prompt: str = Field(description="instruction; {field} placeholders are filled from item meta")
    model_prompts: dict[str, str] = Field(default_factory=dict, description="per-model prompt overrides")
    decoding: dict[str, Any] = Field(default_factory=dict, description="decoding overrides (paper-stated)")
    postprocess: list[Literal["strip", "collapse_whitespace", "first_line"]] = Field(default_factory=list)
    judge: Literal["sakura", "salmonn-sqqa", "salmonn-sac"] | None = Field(
        default=None,
        description="judge the outputs with this protocol (audiorepro.judge.protocols); judge_accuracy "
        "metrics count its verdicts (verdicts.jsonl)",
    )
    record: list[Literal["token_logprobs"]] = Field(
        default_factory=list,
        description="per-item model statistics the predict stage records in item_stats.jsonl "
        "(token_logprobs: log-probabilities of the generated ids, teacher-forced; Table 4)",
    )
    metric: MetricSpec
    extra_metrics: list[MetricSpec] = Field(default_factory=list)
    deviations: list[Deviation] = Field(
        default_factory=list, description="departures from the paper's protocol, copied into every score's provenance"
    )
    notes: str = ""

    @field_validator("decoding")
    @classmethod
    def _known_decoding(cls, v: dict[str, Any]) -> dict[str, Any]:
        DecodingConfig().merged(v)  # raises ValueError naming unknown settings
        return v

    def prompt_for(self, model_name: str, meta: dict[str, Any]) -> str:
        template = self.model_prompts.get(model_name, self.prompt)
        try:
            return template.format(**meta)
        except KeyError as e:
            raise KeyError(f"task {self.name}: prompt placeholder {e} not in item meta") from e
