"""Embedding bench: tokens/s and model-FLOP utilisation of the BGE-M3 backbone vs homerag's path.

Side by side in one run, on one device:
  (a) ceiling   - raw forward passes of the backbone shape with random weights, full batches of
                  512-token rows, no tokenizer, no heads, no host transfer;
  (b) homerag   - BgeM3Embedder (fast backend) on household text of mixed lengths: tokenizing,
                  batching, forward, pooling, sparse pruning, results on the host as Python;
  (c) reference - the same texts through FlagEmbedding's BGEM3FlagModel (skip with --no-flag).
Query latency (one query at a time, warm) is measured separately. MFU = model FLOP/s (padding
not counted) / peak; peak = a measured large GEMM in the same dtype, and the datasheet figure
when the GPU is known.

    .venv/bin/python bench/embed.py --tiny          # CPU: the tiny test model (keeps code honest)
    .venv/bin/python bench/embed.py                 # CUDA: BGE-M3 (weights if present, else
                                                    # random weights of its shape)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, print_table, summary_ms, write_json

BGE_M3_SHAPE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                "intermediate_size": 4096, "vocab_size": 250002, "max_position_embeddings": 8194}
# Dense bf16/fp16 tensor-core peaks (no sparsity), TFLOP/s, from the vendors' datasheets.
SPEC_TFLOPS = {"H100 SXM": 989.4, "H100 NVL": 835.0, "H100 PCIe": 756.0, "H100": 989.4,
               "H200": 989.4, "A100": 312.0, "L40S": 362.1, "L4": 121.0, "A10": 125.0,
               "RTX 4090": 165.2, "RTX 3090": 71.0}


def flops_per_token(cfg: dict[str, Any], seq_len: int) -> float:
    """Forward FLOPs per token of an encoder layer stack at a sequence length (2 per MAC)."""
    h, f, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    return n * (8 * h * h + 4 * h * f + 4 * seq_len * h)


def sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measured_peak(device: Any, dtype: Any) -> float:
    """FLOP/s of a large square GEMM in this dtype (the achievable matmul peak)."""
    import torch

    n = 8192 if device.type == "cuda" else 1024
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        a @ b
        reps += 1
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def spec_peak(device: Any) -> float | None:
    import torch

    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, tflops in SPEC_TFLOPS.items():  # most specific names first
        if key in name:
            return tflops * 1e12
    return None


def ceiling(cfg: dict[str, Any], device: Any, dtype: Any, *, budget: int, seconds: float) -> dict:
    """(a): random-weight backbone, (budget // 512) x 512 token batches, forward only."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    config = XLMRobertaConfig(**cfg, type_vocab_size=1, pad_token_id=1)
    model = XLMRobertaModel(config, add_pooling_layer=False).to(device=device, dtype=dtype).eval()
    seq = 512
    rows = max(1, budget // seq)
    ids = torch.randint(5, cfg["vocab_size"], (rows, seq), device=device)
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        for _ in range(2):
            model(input_ids=ids, attention_mask=mask)
        sync(device)
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(input_ids=ids, attention_mask=mask)
            reps += 1
        sync(device)
        elapsed = time.perf_counter() - t0
    tokens = rows * seq * reps
    del model
    return {"tokens": tokens, "seconds": elapsed, "flops": tokens * flops_per_token(cfg, seq),
            "batch": f"{rows}x{seq}"}


def passages(count: int, seed: int) -> list[str]:
    """Household text cut into passages of mixed length (a sentence up to ~600 tokens)."""
    from bench.corpus_text import HouseholdWriter

    rng = random.Random(seed)
    writer = HouseholdWriter(rng)
    out: list[str] = []
    while len(out) < count:
        paras = writer.document(size=2.0).paragraphs()
        while paras and len(out) < count:
            take = rng.choice((1, 1, 2, 3, 5, 8, 13))
            out.append("\n".join(paras[:take]))
            paras = paras[take:]
    return out


def run_path(embedder: Any, texts: list[str], cfg: dict[str, Any], tokenizer: Any) -> dict:
    """(b)/(c): embed all texts; model FLOPs from the real (unpadded) token counts."""
    lengths = [len(x) for x in tokenizer(texts, truncation=True, max_length=8192)["input_ids"]]
    embedder.embed_documents(texts[:16])  # warm-up (allocator, kernels)
    sync(_device(embedder))
    t0 = time.perf_counter()
    embedder.embed_documents(texts)
    sync(_device(embedder))
    elapsed = time.perf_counter() - t0
    return {"tokens": sum(lengths), "seconds": elapsed,
            "flops": sum(n * flops_per_token(cfg, n) for n in lengths)}


def _device(embedder: Any) -> Any:
    import torch

    return torch.device(embedder.device)


def query_latency(embedder: Any, count: int, seed: int) -> dict[str, float]:
    from bench.corpus_text import bench_queries

    queries = [q.text for q in bench_queries(count + 10, seed)]
    for q in queries[:10]:
        embedder.embed_query(q)
    times = []
    for q in queries[10:]:
        t0 = time.perf_counter()
        embedder.embed_query(q)
        times.append((time.perf_counter() - t0) * 1e3)
    return summary_ms(times)


def model_dir(args: argparse.Namespace, work: Path) -> tuple[Path, str]:
    """The weights to run: tiny, the real BGE-M3, or random weights of its shape."""
    if args.tiny:
        sys.path.insert(0, str(REPO / "tests"))
        from tiny_m3 import build_tiny_m3

        return build_tiny_m3(work / "tiny-m3"), "tiny test model (random weights)"
    from ingest.embedders.m3_files import resolve_model_dir

    try:
        return resolve_model_dir(args.model, allow_download=False), f"{args.model} weights"
    except Exception as exc:  # no weights here: same shape, random weights
        print(f"note: {exc}; using random weights of the BGE-M3 shape", file=sys.stderr)
    return random_bge_m3(work / "random-m3"), "BGE-M3 shape, random weights, tiny tokenizer"


def random_bge_m3(directory: Path) -> Path:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    sys.path.insert(0, str(REPO / "tests"))
    from tiny_m3 import _train_tokenizer

    directory.mkdir(parents=True, exist_ok=True)
    _train_tokenizer(directory)  # ids < 3000: valid for the 250,002-token embedding table
    config = XLMRobertaConfig(**BGE_M3_SHAPE, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
                              eos_token_id=2, layer_norm_eps=1e-5)
    XLMRobertaModel(config).half().save_pretrained(str(directory), safe_serialization=True)
    h = BGE_M3_SHAPE["hidden_size"]
    torch.save(torch.nn.Linear(h, h).state_dict(), directory / "colbert_linear.pt")
    torch.save(torch.nn.Linear(h, 1).state_dict(), directory / "sparse_linear.pt")
    return directory


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="the tiny test model (CPU runs)")
    ap.add_argument("--model", default="BAAI/bge-m3", help="hub id or directory (not --tiny)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="bf16", choices=("fp16", "bf16", "fp32"))
    ap.add_argument("--budget", type=int, help="tokens per batch (default 32768 CUDA, 4096 CPU)")
    ap.add_argument("--passages", type=int, help="texts for (b)/(c) (default 20000 CUDA, 600 CPU)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=8.0, help="duration of the ceiling run")
    ap.add_argument("--no-flag", action="store_true", help="skip the FlagEmbedding reference")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="JSON name under bench/out/ (default embed-<device>)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch

    from ingest.embedders.bge_m3 import BgeM3Embedder
    from ingest.embedders.m3_files import read_config
    from ingest.embedders.m3_torch import resolve_device, resolve_dtype

    device = resolve_device(args.device)
    dtype = resolve_dtype(args.precision, device)
    cuda = device.type == "cuda"
    budget = args.budget or (32768 if cuda else 4096)
    count = args.passages or (20000 if cuda else 600)
    label = torch.cuda.get_device_name(device) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    with tempfile.TemporaryDirectory(prefix="hr-embed-") as tmp:
        directory, weights = model_dir(args, Path(tmp))
        raw = read_config(directory)
        cfg = {k: int(raw[k]) for k in BGE_M3_SHAPE}  # type: ignore[call-overload]
        print(f"device {label}, {dtype}, {weights}, budget {budget} tokens", file=sys.stderr)
        peak = measured_peak(device, dtype)
        spec = spec_peak(device)
        a = ceiling(cfg, device, dtype, budget=budget, seconds=args.seconds)
        texts = passages(count, args.seed)
        fast = BgeM3Embedder(str(directory), device=str(device), precision=args.precision,
                             max_batch_tokens=budget)
        b = run_path(fast, texts, cfg, fast._backend.tokenizer)
        b["padding_efficiency"] = fast._backend.stats["tokens"] / max(1, fast._backend.stats["padded_tokens"])
        queries = query_latency(fast, args.queries, args.seed)
        c = None
        if not args.no_flag:
            flag = BgeM3Embedder(str(directory), device=str(device), precision=args.precision,
                                 backend="flag", batch_size=max(1, budget // 512))
            c = run_path(flag, texts, cfg, fast._backend.tokenizer)
            flag.close()
        fast.close()

    def row(name: str, r: dict | None) -> list[Any] | None:
        if r is None:
            return None
        tps = r["tokens"] / r["seconds"]
        fps = r["flops"] / r["seconds"]
        return [name, r["tokens"], round(r["seconds"], 2), round(tps), round(fps / 1e9, 1),
                f"{100 * fps / peak:.1f}%", f"{100 * fps / spec:.1f}%" if spec else "-",
                f"{100 * tps / (a['tokens'] / a['seconds']):.0f}%",
                f"{100 * fps / (a['flops'] / a['seconds']):.0f}%"]

    rows = [r for r in (row("(a) ceiling: raw forward", a), row("(b) homerag fast path", b),
                        row("(c) FlagEmbedding encode", c)) if r]
    print_table(f"BGE-M3 embedding on {label} ({weights}, {dtype})", rows,
                ["path", "tokens", "s", "tokens/s", "GFLOP/s", "MFU (GEMM)", "MFU (spec)",
                 "tok/s vs (a)", "FLOP/s vs (a)"])
    print(f"\nmeasured GEMM peak {peak / 1e12:.3f} TFLOP/s"
          + (f", datasheet {spec / 1e12:.0f} TFLOP/s" if spec else "")
          + f"; (b) padding efficiency {b['padding_efficiency']:.1%}")
    print(f"query embedding (batch of one, warm): p50 {queries['p50_ms']} ms, "
          f"p95 {queries['p95_ms']} ms over {queries['n']} queries")
    path = write_json(args.out or f"embed-{'tiny-' if args.tiny else ''}{device.type}", {
        "device": label, "dtype": str(dtype), "weights": weights, "budget_tokens": budget,
        "passages": count, "peak_gemm_flops": peak, "peak_spec_flops": spec,
        "ceiling": a, "homerag": b, "flagembedding": c, "query_latency": queries,
        "homerag_vs_ceiling_tokens": (b["tokens"] / b["seconds"]) / (a["tokens"] / a["seconds"]),
        "homerag_vs_ceiling_flops": (b["flops"] / b["seconds"]) / (a["flops"] / a["seconds"]),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
