"""Loading transformers checkpoints strictly.

`from_pretrained` fills any weight the checkpoint lacks with random values and only logs it, so a
Whisper or Vicuna folder with one tensor missing (a bad conversion, a shard cut short, an edited
index) gives a model that runs and produces plausible-looking garbage. Every transformers load of
model weights goes through `load_pretrained_strict`, which asks for transformers' own load report
(`output_loading_info=True`) and stops on a missing or misshapen weight, naming the folder and the
keys. Unexpected keys (saved but unused, such as old rotary `inv_freq` buffers) are allowed: they
change nothing the model computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError


def load_pretrained_strict(model_class: Any, path: str | Path, *, what: str, **kwargs: Any) -> Any:
    """`model_class.from_pretrained(path, **kwargs)`, refusing a checkpoint that does not fill
    every weight of the model. `what` names the component in the error ("Whisper", "Vicuna")."""
    model, info = model_class.from_pretrained(path, output_loading_info=True, **kwargs)
    check_loading_info(info, path, what)
    return model


def check_loading_info(info: dict, path: str | Path, what: str) -> None:
    missing = sorted(info.get("missing_keys") or [])
    mismatched = [str(m) for m in info.get("mismatched_keys") or []]
    errors = [str(e) for e in info.get("error_msgs") or []]
    problems = []
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        problems.append(f"{len(missing)} weight(s) missing from the checkpoint ({shown})")
    if mismatched:
        problems.append(f"{len(mismatched)} weight(s) of the wrong shape ({'; '.join(mismatched[:5])})")
    if errors:
        problems.append("; ".join(errors[:3]))
    if problems:
        raise InputError(
            path,
            f"{what} checkpoint does not fill the model: " + " | ".join(problems)
            + "; they would be randomly initialised. Fetch the component again (or fix its index)",
        )


def torch_load_weights(path: str | Path, what: str) -> Any:
    """`torch.load(path, weights_only=True)`: tensors and plain containers only, so a checkpoint
    carrying a pickled payload (code run on load) is refused, never executed. The error is one
    line naming the file and what the unpickler refused; torch's own text suggests retrying with
    weights_only=False, which is exactly what must not be done with an untrusted file."""
    import torch  # lazy: the CLI imports this module at start-up; torch takes about a second

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        refused = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), None)
        if refused is not None:
            raise InputError(
                path,
                f"refusing to load this {what} checkpoint: it holds more than tensors ({refused.rstrip('.')}); "
                "it may run code when unpickled. Fetch the file again from its published source",
            ) from e
        raise InputError(path, f"cannot read {what} checkpoint ({lines[0] if lines else type(e).__name__})") from e
