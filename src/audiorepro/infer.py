"""`audiorepro infer <model> ...`: one model, one audio file, one prompt; for external checks.

Contract (SALMONN):

    audiorepro infer salmonn --whisper-path DIR --beats-path FILE --llm-path DIR --ckpt-path FILE \\
        --audio WAV --prompt TEXT --num-beams N --max-new-tokens N [--lora-scaling X] \\
        --device cpu --dtype float32 --json

prints one JSON object with `text` (special tokens stripped) and `token_ids` (the generated ids,
without the `<s>` that transformers 4.28 seeded, ending with `</s>` = 2 when it was produced),
plus `raw_text` and `finish_reason`. `--prompt` is the instruction only; the command applies the
template `USER: <Speech><SpeechHere></Speech> {prompt}\\nASSISTANT:`. With `--preset` the
component paths default to the fetched checkpoints (see `make fetch-<name>`)."""

from __future__ import annotations

import argparse
import json
import sys

from .audio import load_clip
from .errors import AudioreproError
from .models.base import DecodingConfig, GenerationRequest


def add_infer_arguments(subparsers) -> argparse.ArgumentParser:
    infer = subparsers.add_parser(
        "infer",
        help="run one model on one audio file and print its output",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    models = infer.add_subparsers(dest="infer_model", metavar="MODEL", required=True)
    salmonn = models.add_parser("salmonn", help="SALMONN (re-implementation loading the public checkpoints)")
    salmonn.add_argument("--preset", choices=["salmonn-13b-v1", "salmonn-7b"], help="component defaults")
    salmonn.add_argument("--whisper-path", help="Whisper directory (HF layout, e.g. openai/whisper-large-v2)")
    salmonn.add_argument("--beats-path", help="BEATs checkpoint .pt ({'cfg', 'model'})")
    salmonn.add_argument("--llm-path", help="Vicuna directory (HF layout with tokenizer.model)")
    salmonn.add_argument("--ckpt-path", help="SALMONN checkpoint .pth")
    salmonn.add_argument(
        "--audio", required=True, help="audio file (any rate/channels; channel 0, first 30 s)"
    )
    salmonn.add_argument("--prompt", required=True, help="the instruction (the template is applied)")
    salmonn.add_argument("--num-beams", type=int, default=4)
    salmonn.add_argument("--max-new-tokens", type=int, default=200)
    salmonn.add_argument(
        "--lora-scaling", type=float, default=4.0, help="LoRA alpha/r at inference (reference 4.0)"
    )
    salmonn.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if available)")
    salmonn.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float16")
    salmonn.add_argument(
        "--qformer-num-heads",
        type=int,
        default=None,
        help="Q-Former heads (default: 64-dim heads, 8-dim below 64)",
    )
    salmonn.add_argument("--json", action="store_true", help="print one JSON object instead of the text")
    salmonn.set_defaults(func=infer_command)
    return infer


def infer_command(args: argparse.Namespace) -> int:
    # lazy: importing SALMONN imports torch and transformers (about 4.7 s against the CLI's 1.1 s
    # start on the development machine), and every other subcommand imports this module
    from .models.salmonn import SalmonnModel

    if args.infer_model != "salmonn":
        raise AudioreproError(f"unknown model for infer: {args.infer_model}")
    # read the audio first (a bad file should fail before minutes of model loading); as v1:
    # channel 0, cut to 30 s, then resample to 16 kHz
    clip = load_clip(args.audio, max_seconds=SalmonnModel.max_audio_seconds)
    if clip.cut_from_seconds is not None:
        print(
            f"note: {args.audio} is {clip.cut_from_seconds:.1f} s long; SALMONN reads its first "
            f"{SalmonnModel.max_audio_seconds:g} s (as the reference does)",
            file=sys.stderr,
        )
    audio = clip.samples
    model = SalmonnModel(
        preset=args.preset,
        whisper_path=args.whisper_path,
        beats_path=args.beats_path,
        llm_path=args.llm_path,
        ckpt_path=args.ckpt_path,
        lora_scaling=args.lora_scaling,
        dtype=args.dtype,
        device=args.device,
        qformer_num_heads=args.qformer_num_heads,
    )
    request = GenerationRequest(
        id=str(args.audio), prompt=args.prompt, audio=audio, audio_path=str(args.audio)
    )
    decoding = DecodingConfig(num_beams=args.num_beams, max_new_tokens=args.max_new_tokens)
    [result] = model.generate([request], decoding)
    if args.json:
        payload = {
            "text": result.text,
            "token_ids": result.token_ids,
            "raw_text": result.raw_text,
            "finish_reason": result.finish_reason,
        }
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(result.text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m audiorepro.infer salmonn ...`); the CLI wires the same parser."""
    parser = argparse.ArgumentParser(prog="audiorepro")
    add_infer_arguments(parser.add_subparsers(dest="command", required=True))
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["infer"]:
        argv.insert(0, "infer")
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AudioreproError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
