"""Which of our runs are compared with which paper row: a run folder's options against the
options the row assumes (expected/<table>.yaml `compare_with`)."""

from __future__ import annotations

from ..expected import CompareWith
from ..layout import parse_run_name
from .schema import ModelResults

# Model options compared with the paper row anyway: the model records them as a deviation in its
# provenance, which the report shows next to the row (DECODING=greedy).
DEVIATION_OPTIONS = {"decoding"}


def run_matches(run: str, cw: CompareWith) -> bool:
    """A run folder belongs to a paper row's model when it is that model with no options, or
    only with options the row assumes (salmonn-13b-v1+lora_scaling=4.0 for lora_scaling 4.0) or
    options recorded as deviations (DEVIATION_OPTIONS)."""
    base, options = parse_run_name(run)
    return base == cw.model and all(
        k in DEVIATION_OPTIONS or cw.options.get(k, object()) == v for k, v in options.items()
    )


def assumed_options_warnings(cw: CompareWith, mr: ModelResults | None) -> list[str]:
    """Where a run's provenance does not show the options the paper row assumes."""
    if not cw.options or mr is None or not mr.provenance:
        return []
    warnings = []
    for task, prov in sorted(mr.provenance.items()):
        described = prov.get("model") or {}
        options = {**described, **(described.get("options") or {})} if isinstance(described, dict) else {}
        for key, want in cw.options.items():
            if key not in options:
                warnings.append(
                    f"{task}: provenance does not record {key}; the paper row assumes {key}={want}"
                )
            elif options[key] != want:
                warnings.append(f"{task}: run used {key}={options[key]}, the paper row assumes {key}={want}")
    return warnings
