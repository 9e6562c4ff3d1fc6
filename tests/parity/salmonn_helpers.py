"""Shared by the SALMONN parity tests: the model built from the tiny golden fixture."""

from __future__ import annotations


def build_model(root, **options):
    """SalmonnModel on tests/fixtures/salmonn_parity/model; float32 on CPU (the fixture's setting) by default."""
    from audiorepro.models.salmonn import SalmonnModel

    model_dir = root / "model"
    options = {"dtype": "float32", "device": "cpu", **options}
    return SalmonnModel(
        whisper_path=model_dir / "whisper",
        beats_path=model_dir / "beats.pt",
        llm_path=model_dir / "llama",
        ckpt_path=model_dir / "salmonn.pth",
        **options,
    )
