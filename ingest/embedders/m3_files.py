"""Where BGE-M3 weights live: a local directory or the Hugging Face cache (file I/O, no torch).

`resolve_model_dir()` turns `HOMERAG_EMBED_MODEL` (a hub id such as "BAAI/bge-m3" or a path) into
a complete local directory, downloading only when the hub is not switched off (`HF_HUB_OFFLINE`);
`bge_m3_available()` answers the same question without loading or downloading anything heavy.
The model is always loaded from the resolved directory, so loading itself never touches the net.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from app.core.errors import EmbedderUnavailableError

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model")
# FlagEmbedding initialises these at random when they are missing (and only logs it), which
# would silently give meaningless sparse and ColBERT scores; we refuse instead.
HEAD_FILES = ("colbert_linear.pt", "sparse_linear.pt")
DOWNLOAD_PATTERNS = [
    "*.json",
    "*.safetensors",
    "pytorch_model.bin",
    "sentencepiece.bpe.model",
    *HEAD_FILES,
]
_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """True when the Hugging Face hub is switched off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return any(
        os.environ.get(k, "").strip().lower() in _TRUE
        for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def looks_like_path(model: str) -> bool:
    """A value meant as a directory rather than a hub id ("org/name")."""
    return (
        model.startswith(("/", ".", "~"))
        or os.sep in model.strip("/").replace("/", "", 1)
        or Path(model).expanduser().exists()
    )


def missing_files(directory: Path, heads: tuple[str, ...] = HEAD_FILES) -> list[str]:
    """What a directory lacks to be loaded as BGE-M3 (empty list: complete).

    `heads=()` checks a plain transformers model (the bge-reranker cross-encoder).
    """
    missing = []
    if not (directory / "config.json").is_file():
        missing.append("config.json")
    if not any((directory / f).is_file() for f in WEIGHT_FILES):
        missing.append("model.safetensors (or pytorch_model.bin)")
    if not any((directory / f).is_file() for f in TOKENIZER_FILES):
        missing.append("tokenizer.json")
    missing.extend(f for f in heads if not (directory / f).is_file())
    return missing


BGE_EXTRA_HINT = "install the bge extra: pip install 'homerag[bge]'"


def hf_cache_dir(cache_dir: Path | str | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    try:
        from huggingface_hub import constants
    except ImportError:
        raise EmbedderUnavailableError(
            f"model weights need huggingface_hub, which is not installed ({BGE_EXTRA_HINT})"
        ) from None
    return Path(constants.HF_HUB_CACHE)


def _cached_snapshot(repo_id: str, cache_dir: Path | str | None) -> Path | None:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        return None
    try:
        folder = snapshot_download(
            repo_id=repo_id,
            cache_dir=str(cache_dir) if cache_dir else None,
            local_files_only=True,
        )
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None
    return Path(folder)


def resolve_model_dir(
    model: str,
    *,
    cache_dir: Path | str | None = None,
    allow_download: bool | None = None,
    heads: tuple[str, ...] = HEAD_FILES,
    what: str = "BGE-M3",
    setting: str = "HOMERAG_EMBED_MODEL",
) -> Path:
    """A complete local directory for `model`, or EmbedderUnavailableError saying where we looked.

    Args:
        model: a directory, or a hub id looked up in the Hugging Face cache.
        cache_dir: the Hugging Face hub cache (default: HF_HUB_CACHE / HF_HOME).
        allow_download: fetch a missing hub model; default: unless HF_HUB_OFFLINE is set.
        heads: extra files the model needs beyond transformers' (BGE-M3's two heads).
        what, setting: the model's name and its setting, for error messages.
    """
    if allow_download is None:
        allow_download = not hub_offline()
    if looks_like_path(model):
        directory = Path(model).expanduser().resolve()
        if not directory.is_dir():
            raise EmbedderUnavailableError(f"{what} model directory {directory} does not exist")
        gaps = missing_files(directory, heads)
        if gaps:
            raise EmbedderUnavailableError(
                f"{what} model directory {directory} is incomplete: missing {', '.join(gaps)}"
            )
        return directory

    cache = hf_cache_dir(cache_dir)
    snapshot = _cached_snapshot(model, cache)
    if snapshot is not None and not missing_files(snapshot, heads):
        return snapshot
    found = "incomplete" if snapshot is not None else "not found"
    if not allow_download:
        why = "HF_HUB_OFFLINE is set" if hub_offline() else "downloading is off for this model"
        raise EmbedderUnavailableError(
            f"{what} weights for {model} {found} in the Hugging Face cache {cache} and {why}, "
            f"so they cannot be downloaded; download them on a connected machine or set {setting} "
            "to a local directory"
        )
    return _download(model, cache, heads)


def _download(repo_id: str, cache: Path, heads: tuple[str, ...]) -> Path:
    try:
        from huggingface_hub import snapshot_download

        folder = Path(
            snapshot_download(
                repo_id=repo_id,
                cache_dir=str(cache),
                allow_patterns=DOWNLOAD_PATTERNS,
                ignore_patterns=["onnx/*", "imgs/*"],
            )
        )
    except Exception as exc:  # network, auth, disk: all mean "not available", said once here
        raise EmbedderUnavailableError(
            f"could not download BGE-M3 weights {repo_id} into {cache} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "set HOMERAG_EMBED_MODEL to a local directory or HF_HUB_OFFLINE=1"
        ) from exc
    gaps = missing_files(folder, heads)
    if gaps:
        raise EmbedderUnavailableError(
            f"downloaded weights {repo_id} in {folder} are incomplete: missing {', '.join(gaps)}"
        )
    return folder


def runtime_installed() -> bool:
    """torch, transformers and FlagEmbedding importable (the `bge` extra), without importing them."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("torch", "transformers", "FlagEmbedding")
    )


def bge_m3_available(
    model: str, *, cache_dir: Path | str | None = None, probe_hub: bool = False
) -> bool:
    """Can BGE-M3 run here: runtime installed and weights local, cached, or (not offline) fetchable.

    Imports nothing heavy and never downloads weights. A hub model that is not cached counts as
    available when the hub is not switched off; with `probe_hub` that is checked with one HTTP
    HEAD request (3 s timeout) instead of assumed.
    """
    if not runtime_installed():
        return False
    try:
        resolve_model_dir(model, cache_dir=cache_dir, allow_download=False)
        return True
    except EmbedderUnavailableError:
        pass
    if looks_like_path(model) or hub_offline():
        return False
    if not probe_hub:
        return True
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        get_hf_file_metadata(hf_hub_url(model, "config.json"), timeout=3)
        return True
    except Exception:  # any failure to reach the hub means "not downloadable now"
        return False


def model_fingerprint(directory: Path) -> str:
    """8 hex digits over config.json, the sparse head and the weight files' sizes (cheap)."""
    h = hashlib.sha256()
    h.update((directory / "config.json").read_bytes())
    for name in ("sparse_linear.pt", "colbert_linear.pt", *WEIGHT_FILES):
        path = directory / name
        if path.is_file():
            h.update(name.encode())
            h.update(
                path.read_bytes()
                if name == "sparse_linear.pt"
                else str(path.stat().st_size).encode()
            )
    return h.hexdigest()[:8]


def model_id_for(model: str, directory: Path) -> str:
    """The id of the embedding space: hub id or resolved path, plus the fingerprint."""
    name = str(directory) if looks_like_path(model) else model
    return f"{name}#{model_fingerprint(directory)}"


def read_config(directory: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    return data
