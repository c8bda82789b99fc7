"""`homerag db repack-vectors`: vectors stored before migration 0016 (out of line, in TOAST)
are rewritten whole into their rows, and none is lost."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.cli import cli
from app.core.models.core import TOAST_TUPLE_TARGET
from app.services.maintenance import repack_vectors
from app.services.runtime import Runtime
from tests.support.vectors import store_bge_sized_vectors, toasted_bytes


@pytest.fixture
def stored_before_0016(clean_db):
    """30 BGE-sized vectors written as PostgreSQL's default TOAST target wrote them."""
    with clean_db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE chunk_embeddings RESET (toast_tuple_target)"))
        store_bge_sized_vectors(conn, 1, 30)
        conn.execute(text("ALTER TABLE chunk_embeddings "
                          f"SET (toast_tuple_target = {TOAST_TUPLE_TARGET})"))
    with clean_db.engine.connect() as conn:
        assert toasted_bytes(conn) > 0
    return clean_db


def _vectors(db) -> list[tuple]:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT chunk_id, dense::text, sparse::text "
                                 "FROM chunk_embeddings ORDER BY chunk_id")).all()


def test_repack_moves_every_vector_into_its_row(settings, stored_before_0016):
    db = stored_before_0016
    vectors = _vectors(db)
    done = repack_vectors(Runtime(settings=settings, db=db))
    assert done["before"]["toast_bytes"] > 0 and done["after"]["toast_bytes"] == 0
    assert done["after"]["rows"] == 30 and done["after"]["heap_bytes"] > 0
    assert _vectors(db) == vectors


def test_the_cli_says_what_it_moved(settings, stored_before_0016):
    result = CliRunner().invoke(cli, ["db", "repack-vectors"])
    assert result.exit_code == 0, result.output
    assert "rewriting 30 stored vectors" in result.output
    assert "out of line (TOAST)" in result.output and "-> 0 MB" in result.output
    with stored_before_0016.engine.connect() as conn:
        assert toasted_bytes(conn) == 0


@pytest.mark.parametrize(("vectors", "machine_mb", "expected"), [
    (30, 24_000, 512),              # a small index: the floor
    (1_000_000, 24_000, 2_929),     # ~3 KB a vector: the graph of 10^6 in memory
    (1_000_000, 8_000, 2_000),      # but no more than a quarter of the machine
    (10_000_000, 64_000, 4_096),    # and no more than 4 GB
    (1_000_000, None, 2_929),       # memory unknown: the 4 GB bound alone
    (1_000_000, 1_000, 512),        # a tiny machine still gets the floor
])
def test_the_rebuild_memory_follows_the_graph_within_bounds(vectors, machine_mb, expected):
    from app.services.maintenance import build_memory_mb

    assert build_memory_mb(vectors, machine_mb) == expected


def test_status_advises_the_repack_until_it_is_done(settings, stored_before_0016):
    """`homerag status` names the command while most vector bytes are out of line, and no
    longer once they are in their rows."""
    from app.services.status import index_status

    db = stored_before_0016
    with db.session() as s:
        assert index_status(s)["vectors"]["repack_advised"] is True
    before = CliRunner().invoke(cli, ["status"])
    assert before.exit_code == 0, before.output
    assert "homerag db repack-vectors" in before.output
    repack_vectors(Runtime(settings=settings, db=db))
    with db.session() as s:
        layout = index_status(s)["vectors"]
    assert layout["repack_advised"] is False and layout["heap_bytes"] > 0
    assert "repack-vectors" not in CliRunner().invoke(cli, ["status"]).output
