"""Torch-side set-up for BGE-M3: pick and check the device, choose the dtype (imports torch).

Only imported from inside the embedder once a model is really being built.
"""

from __future__ import annotations

from typing import Any

import torch

from app.core.errors import EmbedderUnavailableError

PRECISIONS = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
# Activations, the CUDA context and the allocator's slack on top of the weights.
_HEADROOM_BYTES = 768 * 2**20


def resolve_device(spec: str) -> torch.device:
    """ "auto" -> cuda:0 when CUDA is present, else cpu; "cuda:N" must exist. Error names the value."""
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_DEVICE={spec!r} is not a device (use cpu, cuda, cuda:1 or auto)"
        ) from exc
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_DEVICE={spec!r}: only cpu and cuda devices are supported"
        )
    if not torch.cuda.is_available():
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_DEVICE={spec!r} but this machine has no usable CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'})"
        )
    count = torch.cuda.device_count()
    index = 0 if device.index is None else device.index
    if index >= count:
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_DEVICE={spec!r} does not exist: this machine has {count} CUDA "
            f"device(s), cuda:0 to cuda:{count - 1}"
        )
    return torch.device("cuda", index)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """fp16/bf16/fp32 on CUDA; always fp32 on CPU (as FlagEmbedding does: half is slow there)."""
    if precision not in PRECISIONS:
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_PRECISION={precision!r} is not one of {', '.join(PRECISIONS)}"
        )
    if device.type != "cuda":
        return torch.float32
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise EmbedderUnavailableError(
            f"HOMERAG_EMBED_PRECISION=bf16 but {torch.cuda.get_device_name(device)} has no bf16 "
            "support; use fp16"
        )
    return PRECISIONS[precision]


def estimate_param_count(config: dict[str, Any]) -> int:
    """Parameters of an XLM-RoBERTa encoder from its config (embeddings + layers + heads)."""
    h = int(config["hidden_size"])
    ffn = int(config.get("intermediate_size", 4 * h))
    layers = int(config["num_hidden_layers"])
    emb = (int(config["vocab_size"]) + int(config.get("max_position_embeddings", 514)) + 2) * h
    per_layer = 4 * (h * h + h) + 2 * h * ffn + ffn + h + 4 * h
    return emb + layers * per_layer + h * h + h + h + 1  # + colbert and sparse heads


def check_device_free(device: torch.device, *, need_bytes: int) -> None:
    """Raise EmbedderUnavailableError when a CUDA device cannot be opened or lacks the memory."""
    if device.type != "cuda":
        return
    label = f"cuda:{device.index}"
    try:
        free, total = torch.cuda.mem_get_info(device)
    except RuntimeError as exc:  # exclusive-process mode held by another process, driver error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EmbedderUnavailableError(
            f"embedding device {label} cannot be used ({first}); is another process holding it?"
        ) from exc
    need = need_bytes + _HEADROOM_BYTES
    if free < need:
        raise EmbedderUnavailableError(
            f"embedding device {label} is busy: {free / 2**30:.1f} GiB free of "
            f"{total / 2**30:.1f} GiB, BGE-M3 needs about {need / 2**30:.1f} GiB; "
            "free it or set HOMERAG_EMBED_DEVICE to another GPU"
        )


def prepare_device(
    spec: str, precision: str, config: dict[str, Any]
) -> tuple[torch.device, torch.dtype]:
    """Device and dtype for the model, checked to exist and to have room for the weights."""
    device = resolve_device(spec)
    dtype = resolve_dtype(precision, device)
    itemsize = torch.empty((), dtype=dtype).element_size()
    check_device_free(device, need_bytes=estimate_param_count(config) * itemsize)
    return device, dtype


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM (its own class in recent torch; a RuntimeError message in older ones)."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )
