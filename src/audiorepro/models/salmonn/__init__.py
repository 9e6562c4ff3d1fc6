"""SALMONN re-implemented on transformers + peft (see docs/salmonn.md).

`SalmonnModel` is the project-facing model (registered as `salmonn`, `salmonn-13b-v1`,
`salmonn-7b`); `SalmonnForConditionalGeneration` is the network itself."""

from .configuration import PRESETS
from .model import SalmonnModel
from .modeling_salmonn import SalmonnForConditionalGeneration

__all__ = ["PRESETS", "SalmonnForConditionalGeneration", "SalmonnModel"]
