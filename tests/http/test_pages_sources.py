"""The sources and ingest-health pages on the real app: adding a folder and a mail account
writes sources.toml (the IMAP password only into a 0600 secret file), "sync now" runs in the
background and shows its counts, a second sync of a busy source is refused, and a failed file
is retried from the health page after it was fixed."""

from __future__ import annotations

import html
import stat
import tomllib
from pathlib import Path

from app.services.jobs import _registry, wait_for_jobs


def test_add_a_folder_then_sync_it_now(make_client, tmp_path: Path):
    sources = tmp_path / "sources.toml"
    client = make_client(sources_file=sources)
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "boat.txt").write_text("The boat mooring costs 300 euros a season.\n")
    (folder / "bad.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    r = client.post("/sources/add", data={"kind": "folder", "name": "papers",
                                          "path": str(folder), "interval_hours": "6",
                                          "sync": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    entry = tomllib.loads(sources.read_text())["source"][0]
    assert entry == {"name": "papers", "kind": "folder", "path": str(folder.resolve()),
                     "interval_hours": 6.0}
    assert wait_for_jobs(client.app.state.runtime)
    page = client.get("/sources")
    assert page.status_code == 200
    row = page.text.split("<strong>papers</strong>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num" data-label="Indexed">1</td>' in row  # one indexed
    assert 'href="/health#src-papers">1' in row  # one failed, linked to its reason
    assert 'action="/sources/papers/sync"' in row

    # Ingest health: the failure with its reason; fix the file, retry just that one.
    health = client.get("/health")
    assert str(folder.resolve() / "bad.pdf") in health.text
    from tests.http.corpus import write_pdf

    write_pdf(folder / "bad.pdf")
    r = client.post("/health/retry", data={"source": "papers",
                                           "origin": str(folder.resolve() / "bad.pdf")},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/health?job=")
    assert wait_for_jobs(client.app.state.runtime)
    after = client.get(r.headers["location"])
    assert "Retry of " + str(folder.resolve() / "bad.pdf") in after.text
    outcome = " ".join(after.text.split("Retry of", 1)[1].split("</span>", 1)[0].split())
    assert outcome.startswith(str(folder.resolve() / "bad.pdf") + ": indexed (<a href=")
    job = client.get("/api/jobs/" + r.headers["location"].rsplit("=", 1)[1]).json()
    assert job["kind"] == "retry" and job["counts"]["indexed"] == 1
    assert job["counts"]["unchanged"] == 0  # only the one file was looked at


def test_adding_refuses_mistakes_with_one_line(make_client, tmp_path: Path):
    sources = tmp_path / "sources.toml"
    sources.write_text('# my sources\n[[source]]\nname = "docs"\nkind = "folder"\n'
                       f'path = "{tmp_path}"\n')
    client = make_client(sources_file=sources)
    dup = client.post("/sources/add", data={"kind": "folder", "name": "docs",
                                            "path": str(tmp_path)})
    assert dup.status_code == 400
    assert "a source named 'docs' already exists" in html.unescape(dup.text)
    missing = client.post("/sources/add", data={"kind": "folder", "name": "new",
                                                "path": str(tmp_path / "nope")})
    assert missing.status_code == 400
    assert f"path: {tmp_path / 'nope'} is not a folder this server can read" in missing.text
    assert 'value="new"' in missing.text  # the form comes back filled in
    nopass = client.post("/sources/add", data={"kind": "imap", "name": "mail",
                                               "host": "imap.example.org", "username": "me"})
    assert nopass.status_code == 400 and "password: type the (app) password" in nopass.text
    assert sources.read_text().startswith("# my sources\n")  # untouched
    assert len(tomllib.loads(sources.read_text())["source"]) == 1


def test_an_imap_password_goes_to_a_secret_file(make_client, tmp_path: Path, corpus):
    _db, data_dir = corpus
    sources = tmp_path / "sources.toml"
    client = make_client(sources_file=sources)
    r = client.post("/sources/add", data={
        "kind": "imap", "name": "Home mail", "host": "imap.example.org", "username": "me",
        "password": "s3cret \"pw\"", "security": "ssl", "folders": "INBOX\nArchive"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    text = sources.read_text()
    assert "s3cret" not in text
    entry = tomllib.loads(text)["source"][0]
    secret = Path(entry["password_file"])
    assert secret.parent == data_dir / "secrets"
    assert secret.read_text() == 's3cret "pw"\n'
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert entry["folders"] == ["INBOX", "Archive"] and entry["kind"] == "imap"
    page = client.get("/sources")
    assert "Home mail" in page.text and "s3cret" not in page.text


def test_sync_now_of_a_busy_source_is_refused(make_client, tmp_path: Path):
    sources = tmp_path / "sources.toml"
    folder = tmp_path / "f"
    folder.mkdir()
    sources.write_text(f'[[source]]\nname = "f"\nkind = "folder"\npath = "{folder}"\n')
    client = make_client(sources_file=sources)
    lock = _registry(client.app.state.runtime).lock_for("f")
    assert lock.acquire(blocking=False)
    try:
        r = client.post("/sources/f/sync", follow_redirects=False)
        assert r.status_code == 409
        assert "source 'f' is already being synced" in html.unescape(r.text)
        api = client.post("/api/sources/f/sync")
        assert api.status_code == 409 and api.json()["code"] == "busy"
    finally:
        lock.release()
    ok = client.post("/api/sources/f/sync")
    assert ok.status_code == 200 and ok.json()["source"] == "f"
    assert wait_for_jobs(client.app.state.runtime)
    unknown = client.post("/api/sources/nope/sync")
    assert unknown.status_code == 404
