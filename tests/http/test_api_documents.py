"""Citation targets: document metadata, the stored original (inline, right media type), passages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.http.corpus import doc_id


@pytest.fixture
def doc(corpus):
    return lambda name: doc_id(corpus[0], name)


def test_document_metadata_and_chunks(client, doc):
    doc_id = doc("electricity.pdf")
    r = client.get(f"/api/documents/{doc_id}", params={"chunks": "true"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["media_type"] == "application/pdf" and doc["page_count"] == 3
    assert doc["source"] == {"name": "home", "kind": "folder"}
    assert doc["file_url"] == f"/api/documents/{doc_id}/file"
    assert doc["parent"] is None and doc["children"] == []
    chunks = doc["chunks"]
    assert [c["ordinal"] for c in chunks] == list(range(len(chunks)))
    assert chunks[0]["page"] == 1 and chunks[-1]["page_end"] == 3
    assert "content" not in doc and "text" not in chunks[0]
    with_text = client.get(f"/api/documents/{doc_id}", params={"content": "true"}).json()
    assert "31 cents" in with_text["content"]


def test_attachment_names_the_message_it_came_in(client, doc):
    doc_id = doc("sweep-invoice.txt")
    doc = client.get(f"/api/documents/{doc_id}").json()
    assert doc["parent"]["title"] == "Invoice for the chimney sweep"
    assert doc["parent"]["label"] == ('attachment of "Invoice for the chimney sweep" from '
                                      "Alice Example <alice@example.org>, 2025-03-03")
    parent = client.get(f"/api/documents/{doc['parent']['id']}").json()
    assert [c["id"] for c in parent["children"]] == [doc_id]
    assert parent["kind"] == "email"


def test_pdf_original_is_served_inline_with_its_media_type(client, doc, corpus):
    doc_id = doc("electricity.pdf")
    r = client.get(f"/api/documents/{doc_id}/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="electricity.pdf"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" not in r.headers["content-security-policy"]  # Chromium shows no PDF in one
    assert r.content.startswith(b"%PDF")
    doc = client.get(f"/api/documents/{doc_id}").json()
    assert hashlib.sha256(r.content).hexdigest() == doc["sha256"]


def test_html_original_is_sandboxed(client, doc):
    doc_id = doc("page.html")
    r = client.get(f"/api/documents/{doc_id}/file")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert b"<script>" in r.content  # the original bytes, unchanged, but never run in our origin


def test_attachment_file_is_named_after_the_attachment(client, doc):
    r = client.get(f"/api/documents/{doc('sweep-invoice.txt')}/file")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'inline; filename="sweep-invoice.txt"'
    assert r.text.startswith("Chimney sweep invoice: 87 euros")


def test_original_missing_on_disk_is_a_404_problem(client, doc, corpus):
    _db, data_dir = corpus
    doc_id = doc("rent.txt")
    blob = client.get(f"/api/documents/{doc_id}").json()["sha256"]
    stored = data_dir / "originals" / blob[:2] / blob
    assert stored.is_file()
    moved = stored.with_name("moved")
    stored.rename(moved)
    try:
        r = client.get(f"/api/documents/{doc_id}/file")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        assert "no stored original" in r.json()["detail"]
        assert client.get(f"/api/documents/{doc_id}").json()["file_url"] is None
    finally:
        moved.rename(stored)


@pytest.mark.parametrize("path", ["/api/documents/999999", "/api/documents/999999/file",
                                  "/api/chunks/999999"])
def test_unknown_document_or_chunk_is_a_404_problem(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "not_found" and "999999" in body["detail"]
    assert body["instance"] == path


def test_bad_document_id_is_a_400(client):
    r = client.get("/api/documents/abc")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_chunk_offsets_point_into_the_document_text(client):
    hit = client.get("/api/search", params={"q": "gym membership notice period"}).json()[0]
    r = client.get(f"/api/chunks/{hit['chunk_id']}")
    assert r.status_code == 200
    chunk = r.json()
    assert chunk["text"] == hit["text"]
    assert chunk["document"]["id"] == hit["document_id"]
    assert chunk["page_url"] == f"/documents/{hit['document_id']}?chunk={hit['chunk_id']}#passage"
    content = client.get(f"/api/documents/{hit['document_id']}",
                         params={"content": True}).json()["content"]
    assert content[chunk["char_start"]:chunk["char_end"]] == chunk["text"]
    assert Path(chunk["document"]["path"]).name == "gym.md"
