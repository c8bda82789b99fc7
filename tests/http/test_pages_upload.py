"""Uploads into the inbox through the real app and the real pipeline: streamed files are
indexed and listed in the library; names are sanitised; the size limit, empty and hidden files
and a corrupt PDF each give their one-line reason; the form without JavaScript works too."""

from __future__ import annotations

import time
from pathlib import Path

from app.services.jobs import wait_for_jobs

PDF_CORRUPT = b"%PDF-1.7\n1 0 obj <<>> garbage without xref or trailer\n"


def _batch(client) -> str:
    r = client.post("/api/uploads")
    assert r.status_code == 200, r.text
    return r.json()["batch"]


def _finish(client, batch: str) -> dict:
    r = client.post(f"/api/uploads/{batch}/ingest")
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while True:
        status = client.get(f"/api/uploads/{batch}").json()
        if status["finished"]:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_uploaded_files_and_folders_are_indexed_and_listed(client, corpus):
    _db, data_dir = corpus
    batch = _batch(client)
    body = "Pool membership: the notice period is six weeks before the season ends.\n"
    r = client.put(f"/api/uploads/{batch}/files", params={"name": "club/pool/terms.txt"},
                   content=body.encode())
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "club/pool/terms.txt"
    saved = Path(r.json()["origin"])
    assert saved == (data_dir / "inbox" / "club" / "pool" / "terms.txt").resolve()
    assert saved.read_text() == body
    bad = client.put(f"/api/uploads/{batch}/files", params={"name": "broken.pdf"},
                     content=PDF_CORRUPT)
    assert bad.status_code == 200
    status = _finish(client, batch)
    by_name = {f["name"]: f for f in status["files"]}
    assert by_name["club/pool/terms.txt"]["status"] == "indexed"
    doc_id = by_name["club/pool/terms.txt"]["document_id"]
    failed = by_name["broken.pdf"]
    assert failed["status"] == "failed" and failed["message"] and "\n" not in failed["message"]
    assert status["job"]["state"] == "done"

    listing = client.get("/api/library", params={"source": "inbox"}).json()
    assert [d["id"] for d in listing["documents"]] == [doc_id]
    page = client.get("/library", params={"q": "six weeks"})
    assert page.status_code == 200 and f'href="/library/{doc_id}"' in page.text
    detail = client.get(f"/library/{doc_id}")
    assert detail.status_code == 200 and "club/pool/terms.txt" in detail.text
    # The failure is on the ingest health page with its reason and a retry button.
    health = client.get("/health")
    assert "broken.pdf" in health.text and failed["message"] in health.text
    assert 'action="/health/retry"' in health.text


def test_names_are_sanitised_and_never_leave_the_inbox(client, corpus):
    _db, data_dir = corpus
    batch = _batch(client)
    r = client.put(f"/api/uploads/{batch}/files", params={"name": "../../../outside/evil.txt"},
                   content=b"escape attempt\n")
    assert r.status_code == 200
    assert r.json()["name"] == "outside/evil.txt"
    assert Path(r.json()["origin"]).is_relative_to((data_dir / "inbox").resolve())
    assert not (data_dir.parent / "outside").exists()
    win = client.put(f"/api/uploads/{batch}/files", params={"name": "C:\\Users\\me\\a|b.txt"},
                     content=b"windows path\n")
    assert win.json()["name"] == "C_/Users/me/a_b.txt"
    hidden = client.put(f"/api/uploads/{batch}/files", params={"name": "dir/.secret"},
                        content=b"x")
    assert hidden.status_code == 400
    assert "hidden or temporary name" in hidden.json()["detail"]
    empty = client.put(f"/api/uploads/{batch}/files", params={"name": "empty.txt"}, content=b"")
    assert empty.status_code == 400 and empty.json()["detail"] == "empty.txt: the file is empty"
    status = client.get(f"/api/uploads/{batch}").json()
    assert {r["name"] for r in status["refused"]} == {"dir/.secret", "empty.txt"}
    # The same content under the same name again is not a second copy; other content is.
    again = client.put(f"/api/uploads/{batch}/files", params={"name": "outside/evil.txt"},
                       content=b"escape attempt\n")
    assert again.json()["unchanged"] is True and again.json()["name"] == "outside/evil.txt"
    other = client.put(f"/api/uploads/{batch}/files", params={"name": "outside/evil.txt"},
                       content=b"another file\n")
    assert other.json()["name"] == "outside/evil (2).txt"
    _finish(client, batch)


def test_the_size_limit_is_enforced_while_streaming(make_client, corpus):
    _db, data_dir = corpus
    client = make_client(max_upload_mb=0.01)  # 10 KiB
    batch = _batch(client)

    def chunks():  # no Content-Length: the limit must hold while the bytes arrive
        for _ in range(40):
            yield b"x" * 1024

    r = client.put(f"/api/uploads/{batch}/files", params={"name": "big.txt"}, content=chunks())
    assert r.status_code == 400
    assert r.json()["detail"] == ("big.txt: larger than the upload limit of 0.01 MB "
                                  "(HOMERAG_MAX_UPLOAD_MB)")
    partial = data_dir / "inbox" / ".uploading"
    assert not any(partial.iterdir())
    assert not (data_dir / "inbox" / "big.txt").exists()
    declared = client.put(f"/api/uploads/{batch}/files", params={"name": "big2.txt"},
                          content=b"y" * 20_000)
    assert declared.status_code == 400 and "upload limit" in declared.json()["detail"]


def test_the_form_without_javascript(client, corpus):
    files = [("files", ("note-a.txt", b"Bike insurance renews every April.\n", "text/plain")),
             ("folder", ("trip/plan.txt", b"Train to Basel on the 4th.\n", "text/plain")),
             ("files", (".hidden", b"x", "text/plain"))]
    r = client.post("/upload", files=files, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/upload?batch=")
    wait_for_jobs(client.app.state.runtime)
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    assert "note-a.txt" in page.text and "trip/plan.txt" in page.text
    assert page.text.count(">indexed</a>") == 2
    assert "refused: .hidden" in page.text
    assert client.get("/upload").status_code == 200


def test_unknown_batch_and_job_are_404(client):
    assert client.get("/api/uploads/nope").status_code == 404
    assert client.get("/api/jobs/999999").status_code == 404


def test_shutdown_waits_for_the_upload_job(make_client, corpus):
    """The app's shutdown lets a running upload job finish: no writer is left at work on the
    database once the app is gone (it deadlocked the next owner's TRUNCATE in CI)."""
    from app.services.jobs import list_jobs

    client = make_client()
    r = client.post("/upload", files=[("files", ("n.txt", b"Gas meter read in May.\n",
                                                 "text/plain"))], follow_redirects=False)
    assert r.status_code == 303
    rt = client.app.state.runtime
    client.__exit__(None, None, None)  # the lifespan's shutdown, as uvicorn runs it
    jobs = list_jobs(rt)
    assert jobs and all(j.finished for j in jobs)
