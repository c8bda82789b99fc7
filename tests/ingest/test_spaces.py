"""Embedding-model migration: build beside the active space, resume, catch up, switch, drop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from tiny_m3 import build_tiny_m3

from app.core.errors import InvalidInputError, NotFoundError
from app.core.models import ChunkEmbedding, EmbeddingSpace
from app.retrieval import resolve_space, search
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from ingest.spaces import (
    build_space,
    drop_space,
    embedder_for_space,
    find_space,
    space_status,
    start_space,
    switch_space,
)
from tests.support.postings import postings_mismatches

OLD = LexicalHashEmbedder()  # the active model
NEW = LexicalHashEmbedder(dim=128, prefix_len=4)  # the model we migrate to

DOCS = {
    f"note-{i}.txt": f"Note {i}: the {w} contract renews in May; notice period {i} months."
    for i, w in enumerate(["gym", "phone", "power", "internet", "car", "flat", "bike"])
}


def _ingest(db, root: Path, emb=OLD) -> None:
    Pipeline(db, embedder=emb, options=IngestOptions()).run(FolderSource("notes", root))


@pytest.fixture
def indexed(clean_db, tmp_path):
    root = tmp_path / "notes"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    _ingest(clean_db, root)
    return clean_db, root


def _vectors(db, space_id: int) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(ChunkEmbedding)
            .where(ChunkEmbedding.space_id == space_id)
        )


def _indexes(db, space_id: int) -> list[str]:
    with db.session() as s:
        return sorted(
            s.scalars(
                text("SELECT indexname FROM pg_indexes WHERE indexname LIKE :p "
                     "OR indexname = :q"),
                {"p": f"ix_chunk_embeddings_space_{space_id}_%",
                 "q": f"ix_sparse_postings_space_{space_id}"},
            )
        )


def test_build_beside_active_then_switch(indexed):
    db, _ = indexed
    with db.session() as s:
        new = start_space(s, NEW)
        new_id = new.id
        assert new.status == "building"
    assert _indexes(db, new_id) == [
        f"ix_chunk_embeddings_space_{new_id}_dense",
        f"ix_sparse_postings_space_{new_id}",
    ]
    report = build_space(db, new_id, NEW, batch=3)
    assert report.embedded == len(DOCS) and report.batches == 3
    assert postings_mismatches(db) == []  # both spaces' postings
    with db.session() as s:
        # Still building: search answers from the old space, and refuses the new model.
        assert resolve_space(s, OLD).id != new_id
        assert search(s, OLD, "gym contract", top_k=1)
        with pytest.raises(InvalidInputError, match="migrate"):
            search(s, NEW, "gym contract", top_k=1)
        info = {i.id: i for i in space_status(s)}
        assert info[new_id].complete and info[new_id].status == "building"
    with db.session() as s:
        switched = switch_space(s, new_id)
    assert switched.status == "active"
    with db.session() as s:
        statuses = sorted(i.status for i in space_status(s))
        assert statuses == ["active", "retired"]
        hits = search(s, NEW, "gym contract renews", top_k=1)
        assert "gym" in hits[0].text


def test_build_resumes_after_an_interruption(indexed):
    db, _ = indexed
    with db.session() as s:
        new_id = start_space(s, NEW).id

    def stop(_n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_space(db, new_id, NEW, batch=2, progress=stop)
    assert _vectors(db, new_id) == 2  # the first batch was committed
    report = build_space(db, new_id, NEW, batch=2)
    assert report.embedded == len(DOCS) - 2
    assert _vectors(db, new_id) == len(DOCS)


def test_switch_catches_up_chunks_ingested_during_the_build(indexed):
    db, root = indexed
    with db.session() as s:
        new_id = start_space(s, NEW).id
    build_space(db, new_id, NEW, batch=50)
    (root / "late.txt").write_text("A late letter about the water bill.", encoding="utf-8")
    _ingest(db, root)  # the pipeline writes the old space only
    with db.session() as s, pytest.raises(InvalidInputError, match="incomplete"):
        switch_space(s, new_id)  # without an embedder it cannot catch up
    with db.session() as s:
        switch_space(s, new_id, NEW)
    assert _vectors(db, new_id) == len(DOCS) + 1
    with db.session() as s:
        assert "water bill" in search(s, NEW, "water bill", top_k=1)[0].text


def test_drop_refuses_the_active_space_and_removes_a_retired_one(indexed):
    db, _ = indexed
    with db.session() as s:
        old_id = resolve_space(s, OLD).id
        new_id = start_space(s, NEW).id
    build_space(db, new_id, NEW)
    with db.session() as s, pytest.raises(InvalidInputError, match="active one"):
        drop_space(s, str(old_id))
    with db.session() as s:
        switch_space(s, new_id)
    with db.session() as s:
        dropped = drop_space(s, str(old_id))
    assert dropped.status == "retired" and dropped.vectors == len(DOCS)
    assert _vectors(db, old_id) == 0 and _indexes(db, old_id) == []
    assert postings_mismatches(db) == []  # the old space's postings went with its vectors
    with db.session() as s, pytest.raises(NotFoundError, match="spaces: "):
        find_space(s, "nope")


def test_switch_back_to_a_retired_space_is_a_rollback(indexed):
    db, _ = indexed
    with db.session() as s:
        old_id = resolve_space(s, OLD).id
        new_id = start_space(s, NEW).id
    build_space(db, new_id, NEW)
    with db.session() as s:
        switch_space(s, new_id)
    with db.session() as s:
        switch_space(s, old_id)
        assert resolve_space(s, OLD).id == old_id


def test_embedder_for_space_rebuilds_the_model_of_a_space(indexed, tmp_path):
    db, _ = indexed
    with db.session() as s:
        space = s.scalar(select(EmbeddingSpace))
        emb = embedder_for_space(space, _settings(tmp_path))
    assert emb.model_id == OLD.model_id


def _settings(tmp_path: Path):
    from app.core.config import load_settings

    return load_settings(data_dir=tmp_path, embed_device="cpu")


@pytest.fixture(scope="module")
def tiny_m3(tmp_path_factory) -> Path:
    return build_tiny_m3(tmp_path_factory.mktemp("spaces-m3") / "model")


def test_cli_migrates_from_lexical_to_bge_m3(settings, clean_db, tmp_path, tiny_m3):
    from app.cli import cli

    root = tmp_path / "notes"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body, encoding="utf-8")
    _ingest(clean_db, root)
    run = CliRunner().invoke
    res = run(
        cli,
        [
            "embeddings",
            "migrate",
            "--embedder",
            "bge-m3",
            "--model",
            str(tiny_m3),
            "--device",
            "cpu",
            "--batch",
            "4",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report == {
        "space": report["space"],
        "embedded": len(DOCS),
        "batches": 2,
        "switched": True,
        "status": "active",
    }
    res = run(cli, ["embeddings", "status", "--json"])
    spaces = json.loads(res.output)
    assert [(sp["embedder"], sp["status"], sp["complete"]) for sp in spaces] == [
        ("lexical-hash", "retired", True),
        ("bge-m3", "active", True),
    ]
    again = run(
        cli,
        [
            "embeddings",
            "migrate",
            "--embedder",
            "bge-m3",
            "--model",
            str(tiny_m3),
            "--device",
            "cpu",
        ],
    )
    assert again.exit_code == 1 and "nothing to migrate" in again.output
    with clean_db.session() as s:  # the new space's embedder can be rebuilt from its record
        active = s.scalar(select(EmbeddingSpace).where(EmbeddingSpace.status == "active"))
        assert embedder_for_space(active, _settings(tmp_path)).model_id == active.model_id
    res = run(cli, ["embeddings", "drop", str(spaces[0]["id"]), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["dropped"]["embedder"] == "lexical-hash"
    res = run(cli, ["embeddings", "drop", str(spaces[1]["id"]), "--yes"])
    assert res.exit_code == 1 and "active one" in res.output
