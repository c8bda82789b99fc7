"""The high-throughput BGE-M3 backend (imports torch, transformers; never FlagEmbedding).

Same maths as FlagEmbedding's BGEM3FlagModel (CLS pooling, ReLU sparse head with max per token,
ColBERT head without CLS), organised to keep the GPU busy:
- texts sorted by length; batches cut by a token budget (rows x longest row), not a count;
- tokenization and padding in a worker thread, into pinned host memory, copied non-blocking;
- pooling, normalisation, per-token max and top-1,000 pruning of the sparse weights on the
  device, so only (batch x dim) floats and (batch x <=1,000) pairs cross to the host;
- host-side conversion of batch i overlaps the GPU work of batch i+1;
- CUDA out-of-memory: the batch is halved and retried, and the budget stays halved.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from app.core.errors import EmbedderUnavailableError
from ingest.embedders.m3_common import (
    M3Vectors,
    count_batches,
    length_order,
    token_budget_batches,
)
from ingest.embedders.m3_torch import is_out_of_memory

QUERY_BUCKETS = (16, 32, 64, 128, 256, 512)
_TEXTS_PER_TOKENIZE = 1024  # texts tokenized per step of the worker thread
_PREFETCH = 6  # padded batches the worker may run ahead


@dataclass(slots=True)
class _Batch:
    rows: list[int]  # input positions
    ids: torch.Tensor  # (B, L) int64, pinned when the device is CUDA
    mask: torch.Tensor  # (B, L) int64
    lengths: list[int]


@dataclass(slots=True)
class _Pending:
    rows: list[int]
    lengths: list[int]
    outputs: dict[str, torch.Tensor]  # host tensors, valid once `event` completed
    event: Any  # torch.cuda.Event | None


class FastM3Backend:
    """BGE-M3 on one device with token-budget batches and a tokenizer thread."""

    name = "fast"

    def __init__(
        self,
        directory: Path,
        *,
        device: torch.device,
        dtype: torch.dtype,
        max_batch_tokens: int,
        max_sparse_terms: int | None,
        compile_queries: bool = False,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.device = device
        self.dtype = dtype
        self.max_batch_tokens = max_batch_tokens
        self.max_sparse_terms = max_sparse_terms
        self.cuda = device.type == "cuda"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(directory))
            # The pooler is loaded (and ignored) like FlagEmbedding does: leaving it out makes
            # transformers log a scary "weights not used" notice on every start.
            model = AutoModel.from_pretrained(
                str(directory), dtype=dtype, attn_implementation="sdpa"
            )
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailableError(
                f"cannot load BGE-M3 from {directory}: {str(exc).splitlines()[0]}"
            ) from exc
        hidden = int(model.config.hidden_size)
        self.colbert_linear = _load_head(directory / "colbert_linear.pt", hidden, hidden, dtype)
        self.sparse_linear = _load_head(directory / "sparse_linear.pt", hidden, 1, dtype)
        try:
            self.model = model.to(device).eval()
            self.colbert_linear.to(device)
            self.sparse_linear.to(device)
        except RuntimeError as exc:
            if is_out_of_memory(exc):
                raise EmbedderUnavailableError(
                    f"embedding device {device} ran out of memory loading BGE-M3; is it busy?"
                ) from exc
            raise
        self.vocab_size = len(self.tokenizer)
        self.pad_id = int(self.tokenizer.pad_token_id)
        # FlagEmbedding gives these no lexical weight (cls, eos, pad, unk).
        unused = {
            self.tokenizer.cls_token_id,
            self.tokenizer.eos_token_id,
            self.tokenizer.pad_token_id,
            self.tokenizer.unk_token_id,
        }
        self._unused = torch.tensor(sorted(i for i in unused if i is not None), device=device)
        self.stats = {"tokens": 0, "padded_tokens": 0, "batches": 0, "oom_splits": 0}
        self._query_model: Any = self.model
        if compile_queries and self.cuda:
            # CUDA graphs through torch.compile, one per query bucket length (experimental).
            self._query_model = torch.compile(self.model, mode="reduce-overhead", dynamic=False)
        self._warm_up()

    # -- public --------------------------------------------------------------------------------
    def encode(
        self, texts: Sequence[str], *, max_length: int, colbert: bool = False
    ) -> list[M3Vectors]:
        texts = list(texts)
        if not texts:
            return []
        if len(texts) == 1:
            return self._encode_one(texts[0], max_length=max_length, colbert=colbert)
        out: list[M3Vectors | None] = [None] * len(texts)
        pending: list[_Pending] = []
        for batch in self._batches(texts, max_length):
            launched = self._launch_with_retry(batch, colbert)
            for p in pending:  # host work for the previous batch while the device runs this one
                self._finish(p, out)
            pending = launched
        for p in pending:
            self._finish(p, out)
        assert all(v is not None for v in out)
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self.model.to("cpu")
        if self.cuda:
            torch.cuda.empty_cache()

    # -- batching and the tokenizer thread -----------------------------------------------------
    def _tokenize(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        enc = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return list(enc["input_ids"])

    def _pad(self, rows: list[int], ids: list[list[int]], width: int | None = None) -> _Batch:
        lengths = [len(x) for x in ids]
        width = width or max(lengths)
        arr = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        for r, x in enumerate(ids):
            arr[r, : len(x)] = x
        mask = (np.arange(width)[None, :] < np.asarray(lengths)[:, None]).astype(np.int64)
        t_ids, t_mask = torch.from_numpy(arr), torch.from_numpy(mask)
        if self.cuda:
            t_ids, t_mask = t_ids.pin_memory(), t_mask.pin_memory()
        return _Batch(rows=rows, ids=t_ids, mask=t_mask, lengths=lengths)

    def _produce(self, texts: list[str], max_length: int) -> Iterator[_Batch]:
        # Characters approximate tokens well enough to group texts before tokenizing them.
        by_chars = length_order([len(t) for t in texts])
        for group in count_batches(by_chars, _TEXTS_PER_TOKENIZE):
            ids = self._tokenize([texts[i] for i in group], max_length)
            lengths = [len(x) for x in ids]
            order = length_order(lengths)
            for b in token_budget_batches(order, lengths, max_tokens=self.max_batch_tokens):
                yield self._pad([group[i] for i in b], [ids[i] for i in b])

    def _batches(self, texts: list[str], max_length: int) -> Iterator[_Batch]:
        """Batches from a worker thread (tokenizers releases the GIL while it encodes)."""
        q: queue.Queue[_Batch | BaseException | None] = queue.Queue(maxsize=_PREFETCH)
        stop = threading.Event()

        def work() -> None:
            try:
                for batch in self._produce(texts, max_length):
                    while not stop.is_set():
                        try:
                            q.put(batch, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(None)
            except BaseException as exc:  # handed to the consumer, raised there
                q.put(exc)

        worker = threading.Thread(target=work, name="m3-tokenize", daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join(timeout=5)

    # -- device work ---------------------------------------------------------------------------
    def _launch_with_retry(self, batch: _Batch, colbert: bool) -> list[_Pending]:
        try:
            return [self._launch(batch, colbert)]
        except RuntimeError as exc:
            if not is_out_of_memory(exc):
                raise
        # Out of memory: free what the failed attempt held, halve, retry the halves.
        if self.cuda:
            torch.cuda.empty_cache()
        longest = max(batch.lengths)
        if len(batch.rows) == 1:
            raise EmbedderUnavailableError(
                f"one text of {longest} tokens does not fit on {self.device}; lower "
                "HOMERAG_EMBED_MAX_LENGTH or free the device"
            )
        self.stats["oom_splits"] += 1
        self.max_batch_tokens = max(longest, self.max_batch_tokens // 2)
        half = len(batch.rows) // 2
        out: list[_Pending] = []
        for part in (slice(0, half), slice(half, None)):
            lengths = batch.lengths[part]
            width = max(lengths)
            sub = _Batch(
                rows=batch.rows[part],
                ids=batch.ids[part, :width],
                mask=batch.mask[part, :width],
                lengths=lengths,
            )
            out.extend(self._launch_with_retry(sub, colbert))
        return out

    def _forward(
        self, ids: torch.Tensor, mask: torch.Tensor, *, query: bool = False
    ) -> torch.Tensor:
        model = self._query_model if query else self.model
        return model(input_ids=ids, attention_mask=mask).last_hidden_state

    @torch.inference_mode()
    def _launch(self, batch: _Batch, colbert: bool, *, query: bool = False) -> _Pending:
        ids = batch.ids.to(self.device, non_blocking=True)
        mask = batch.mask.to(self.device, non_blocking=True)
        h = self._forward(ids, mask, query=query)
        dense = F.normalize(h[:, 0].float(), dim=-1)
        weights = torch.relu(self.sparse_linear(h)).squeeze(-1).float()
        weights = weights.masked_fill(torch.isin(ids, self._unused) | (mask == 0), 0.0)
        sp_ids, sp_w = sparse_top(ids, weights, self.max_sparse_terms)
        outputs = {"dense": dense, "sp_ids": sp_ids.to(torch.int32), "sp_w": sp_w}
        if colbert:
            vecs = self.colbert_linear(h[:, 1:]) * mask[:, 1:, None].to(h.dtype)
            outputs["colbert"] = F.normalize(vecs.float(), dim=-1)
        real = sum(batch.lengths)
        self.stats["tokens"] += real
        self.stats["padded_tokens"] += int(ids.numel())
        self.stats["batches"] += 1
        if not self.cuda:
            return _Pending(batch.rows, batch.lengths, outputs, None)
        host = {}
        for k, v in outputs.items():
            host[k] = torch.empty(v.shape, dtype=v.dtype, pin_memory=True)
            host[k].copy_(v, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        return _Pending(batch.rows, batch.lengths, host, event)

    def _finish(self, p: _Pending, out: list[M3Vectors | None]) -> None:
        if p.event is not None:
            p.event.synchronize()
        dense = p.outputs["dense"].numpy()
        sp_ids = p.outputs["sp_ids"].numpy()
        sp_w = p.outputs["sp_w"].numpy()
        multi = p.outputs["colbert"].numpy() if "colbert" in p.outputs else None
        for r, row in enumerate(p.rows):
            keep = sp_w[r] > 0
            keys, vals = sp_ids[r][keep], sp_w[r][keep]
            order = np.argsort(keys, kind="stable")
            out[row] = M3Vectors(
                dense=dense[r].copy(),
                sparse=dict(zip(keys[order].tolist(), vals[order].tolist(), strict=True)),
                colbert=None if multi is None else multi[r, : p.lengths[r] - 1].copy(),
            )

    # -- queries -------------------------------------------------------------------------------
    def _encode_one(self, text: str, *, max_length: int, colbert: bool) -> list[M3Vectors]:
        ids = self._tokenize([text], max_length)
        width = None
        if self.cuda:  # fixed shapes: the kernels (and compiled graphs) are reused
            n = len(ids[0])
            width = next((b for b in QUERY_BUCKETS if b >= n), n)
        batch = self._pad([0], ids, width)
        out: list[M3Vectors | None] = [None]
        for p in self._launch_with_retry_query(batch, colbert):
            self._finish(p, out)
        return out  # type: ignore[return-value]

    def _launch_with_retry_query(self, batch: _Batch, colbert: bool) -> list[_Pending]:
        try:
            return [self._launch(batch, colbert, query=True)]
        except RuntimeError as exc:
            if is_out_of_memory(exc):
                raise EmbedderUnavailableError(
                    f"embedding device {self.device} is out of memory for a single query"
                ) from exc
            raise

    def _warm_up(self) -> None:
        """One pass per query shape, so the first real query does not pay for set-up."""
        widths = QUERY_BUCKETS if self.cuda else (8,)
        for w in widths:
            batch = self._pad([0], [[self.pad_id + 1] * min(w, 8)], w if self.cuda else None)
            self._finish(self._launch(batch, False, query=True), [None])
        self.stats = {"tokens": 0, "padded_tokens": 0, "batches": 0, "oom_splits": 0}


def sparse_top(
    ids: torch.Tensor, weights: torch.Tensor, limit: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: max weight per distinct token id, then the `limit` largest (ties: lower id).

    Fixed output shapes (B, min(L, limit)), so nothing waits for the device; zero weights mark
    empty slots. Runs wherever the tensors are.
    """
    sorted_ids, perm = ids.sort(dim=1)
    sorted_w = weights.gather(1, perm)
    new = torch.ones_like(sorted_ids, dtype=torch.bool)
    new[:, 1:] = sorted_ids[:, 1:] != sorted_ids[:, :-1]
    segment = new.long().cumsum(1) - 1
    seg_w = torch.zeros_like(sorted_w).scatter_reduce(1, segment, sorted_w, reduce="amax")
    seg_ids = torch.zeros_like(sorted_ids).scatter(1, segment, sorted_ids)
    if limit is not None and seg_w.shape[1] > limit:
        # Stable descending sort keeps ascending token ids among equal weights.
        seg_w, order = seg_w.sort(dim=1, descending=True, stable=True)
        seg_w, seg_ids = seg_w[:, :limit], seg_ids.gather(1, order[:, :limit])
    return seg_ids, seg_w


def _load_head(path: Path, n_in: int, n_out: int, dtype: torch.dtype) -> torch.nn.Linear:
    head = torch.nn.Linear(n_in, n_out)
    try:
        head.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError) as exc:
        raise EmbedderUnavailableError(
            f"{path}: not a Linear({n_in}->{n_out}) BGE-M3 head ({str(exc).splitlines()[0]})"
        ) from exc
    return head.to(dtype).eval()
