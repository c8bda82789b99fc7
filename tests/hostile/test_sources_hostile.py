"""Hostile file names and links in sources, through the real pipeline.

A file name that is not UTF-8 used to abort the whole sync on every run (later files and
sources never indexed, `status` showing "0 failed"); now such files are indexed under an origin
with `\\xNN` escapes and the run carries on, in folders, mbox folders and maildirs. Symbolic
links out of an mbox folder or a chat folder are not followed (the folder source never did).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingest.sources.chat import ChatSource
from ingest.sources.folder import FolderSource
from ingest.sources.maildir import MaildirSource
from ingest.sources.mbox import MboxSource
from tests.hostile.support import Runner, assert_quiet

LATIN1 = b"K\xfcndigung Fitnessstudio.txt"  # "Kündigung" written by a Latin-1 system
JUNK = b"\xff\xfe notes.md"
DIR = b"\xe9t\xe9"  # "été" in Latin-1


@pytest.fixture
def runner(clean_db) -> Runner:
    return Runner(clean_db)


def _write(path: bytes, text: str) -> None:
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8"))


def _message(message_id: str, subject: str, body: str) -> bytes:
    return (f"From: a@example.org\nTo: b@example.org\nSubject: {subject}\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0100\nMessage-ID: <{message_id}>\n\n{body}\n"
            ).encode()


def _mbox_bytes(*messages: bytes) -> bytes:
    return b"".join(b"From a@example.org Mon Mar  2 10:00:00 2026\n" + m + b"\n" for m in messages)


def test_non_utf8_names_in_a_folder_are_indexed_and_the_run_carries_on(runner, tmp_path, capfd,
                                                                      caplog):
    root = os.fsencode(tmp_path / "docs")
    os.mkdir(root)
    os.mkdir(os.path.join(root, DIR))
    _write(os.path.join(root, LATIN1), "Die Kündigung des Fitnessstudios gilt zum 31. Mai.")
    _write(os.path.join(root, JUNK), "# Notes\n\nThe bike lock code is in the drawer.")
    _write(os.path.join(root, DIR, b"inside.txt"), "Summer holiday plans for the lake.")
    _write(os.path.join(root, b"zz-after.txt"), "The file after the odd names is indexed too.")
    source = FolderSource("docs", Path(os.fsdecode(root)))
    report = runner.run(source)
    assert report.status == "completed" and report.problems == []
    assert report.counts["indexed"] == 4
    base = str(tmp_path / "docs")
    docs = runner.documents()
    assert set(docs) == {f"{base}/K\\xfcndigung Fitnessstudio.txt", f"{base}/\\xff\\xfe notes.md",
                         f"{base}/\\xe9t\\xe9/inside.txt", f"{base}/zz-after.txt"}
    assert "Fitnessstudios" in docs[f"{base}/K\\xfcndigung Fitnessstudio.txt"].content
    # The next run finds the same origins: nothing is re-indexed or failed, every run.
    again = runner.run(source)
    assert again.counts["unchanged"] == 4 and again.problems == []
    os.remove(os.path.join(root, LATIN1))
    third = runner.run(source)
    assert third.counts["removed"] == 1 and third.counts["unchanged"] == 3
    assert_quiet(capfd, caplog)


def test_non_utf8_names_in_mail_stores(runner, tmp_path, capfd, caplog):
    mail = os.fsencode(tmp_path / "mail")
    os.mkdir(mail)
    with open(os.path.join(mail, b"Gesch\xe4ftlich.mbox"), "wb") as fh:
        fh.write(_mbox_bytes(_message("m1@example.org", "Angebot", "Das Angebot für die Küche.")))
    with open(os.path.join(mail, b"zz-private.mbox"), "wb") as fh:
        fh.write(_mbox_bytes(_message("m2@example.org", "Dinner", "Dinner on Friday at eight.")))
    report = runner.run(MboxSource("mail", Path(os.fsdecode(mail))))
    assert report.status == "completed" and report.problems == []
    assert report.counts["indexed"] == 2
    origins = set(runner.documents())
    assert f"{tmp_path}/mail/Gesch\\xe4ftlich.mbox#<m1@example.org>" in origins

    maildir = os.fsencode(tmp_path / "Maildir")
    for sub in (b"cur", b"new", b"tmp"):
        os.makedirs(os.path.join(maildir, sub))
    with open(os.path.join(maildir, b"cur", b"1700000000.\xff\xfe.host:2,S"), "wb") as fh:
        fh.write(_message("m3@example.org", "Odd name", "A message file with an odd name."))
    with open(os.path.join(maildir, b"new", b"1700000001.ok.host"), "wb") as fh:
        fh.write(_message("m4@example.org", "Plain name", "A message file with a plain name."))
    report = runner.run(MaildirSource("maildir", Path(os.fsdecode(maildir))))
    assert report.status == "completed" and report.problems == []
    assert report.counts["indexed"] == 2
    assert f"{tmp_path}/Maildir#1700000000.\\xff\\xfe.host" in set(runner.documents())
    assert_quiet(capfd, caplog)


def test_links_out_of_mbox_and_chat_folders_are_not_followed(runner, tmp_path, capfd, caplog):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.mbox").write_bytes(
        _mbox_bytes(_message("secret@example.org", "Secret", "Someone else's secret mail.")))
    (outside / "secret-dir").mkdir()
    shutil.copy(outside / "secret.mbox", outside / "secret-dir" / "more.mbox")
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "inbox.mbox").write_bytes(
        _mbox_bytes(_message("inside@example.org", "Inside", "Mail that lives in the folder.")))
    (mail / "link.mbox").symlink_to(outside / "secret.mbox")
    (mail / "linked-dir").symlink_to(outside / "secret-dir", target_is_directory=True)
    report = runner.run(MboxSource("mail", mail))
    assert report.status == "completed" and report.counts["indexed"] == 1
    assert set(runner.documents()) == {f"{mail}/inbox.mbox#<inside@example.org>"}

    chats = tmp_path / "chats"
    chats.mkdir()
    line = "02.03.26, 10:00 - Anna: The spare key is under the mat\n"
    (outside / "secret-chat.txt").write_text(line, encoding="utf-8")
    (chats / "family.txt").write_text(line.replace("spare key", "cake"), encoding="utf-8")
    (chats / "link.txt").symlink_to(outside / "secret-chat.txt")
    report = runner.run(ChatSource("chats", chats))
    assert report.status == "completed"
    origins = [o for o in runner.documents() if o.startswith(str(chats))]
    assert origins and all(o.startswith(f"{chats}/family.txt#") for o in origins)

    # The folder source keeps refusing links as before.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("A note inside the folder.", encoding="utf-8")
    (docs / "link.txt").symlink_to(outside / "secret-chat.txt")
    report = runner.run(FolderSource("docs", docs))
    assert report.counts["indexed"] == 1
    assert_quiet(capfd, caplog)
