"""mbox and maildir sources through the real pipeline, and Message-ID dedup across them."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

from sqlalchemy import func, select

from app.core.models import Document, MessageCopy, SourceItem
from app.core.types import RawItem, Removed
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.mail.dedup import MessageIdDedup
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources import source_for_path
from ingest.sources.maildir import MaildirSource, folder_label, message_key
from ingest.sources.mbox import MboxSource, message_id_of
from tests.mail.mailgen import build_message


def _pipeline(db) -> Pipeline:
    return Pipeline(db, embedder=LexicalHashEmbedder(), hooks=[MessageIdDedup()],
                    options=IngestOptions())


def _write_mbox(path: Path, messages: list[bytes]) -> None:
    if path.exists():
        path.unlink()
    box = mailbox.mbox(path)
    for i, data in enumerate(messages):
        msg = mailbox.mboxMessage(data)
        msg.set_from("sender@example.org", (2024, 1, 2 + i, 10, 0, 0, 0, 1, 0))
        box.add(msg)
    box.flush()
    box.close()


def _msg(n: int, **kw) -> bytes:
    return build_message(subject=f"Message {n}", message_id=f"<m{n}@example.org>",
                         body=f"Body of message number {n}.", **kw)


def _docs(db) -> dict[str, Document]:
    with db.session() as s:
        return {d.origin: d for d in s.scalars(select(Document).where(Document.parent_id.is_(None)))}


def test_message_id_of_reads_folded_headers() -> None:
    assert message_id_of(b"Subject: x\r\nMessage-ID:\r\n <A@Example.ORG>\r\n\r\nbody") == (
        "<A@example.org>")
    assert message_id_of(b"Subject: x\n\nMessage-ID: <in-body@x>\n") is None


def test_mbox_source_scan_origins_folders_and_times(tmp_path: Path) -> None:
    path = tmp_path / "Archive.mbox"
    no_id = build_message(subject="no id", message_id=None)
    _write_mbox(path, [_msg(1), _msg(2), _msg(1), no_id])
    items = list(MboxSource("mb", path).scan({}))
    assert all(isinstance(i, RawItem) for i in items)
    origins = [i.origin for i in items]
    assert origins[:2] == [f"{path}#<m1@example.org>", f"{path}#<m2@example.org>"]
    assert len(items) == 3  # the repeated message is offered once
    assert origins[2].startswith(f"{path}#sha256=")
    assert items[0].hints["folder"] == "Archive"
    assert items[0].hints["received_at"] == 1704189600.0  # the "From " line's date
    assert items[0].data.startswith(b"From: Alice")  # the separator line is not part of it


def test_mbox_ingest_is_incremental_and_syncs_deletions(clean_db, tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    _write_mbox(path, [_msg(i) for i in range(1, 6)])
    source = MboxSource("inbox", path)
    first = _pipeline(clean_db).run(source)
    assert first.counts["indexed"] == 5, first.to_json()
    again = _pipeline(clean_db).run(source)
    assert again.counts["unchanged"] == 5 and again.counts["indexed"] == 0
    _write_mbox(path, [_msg(i) for i in (1, 2, 4, 5, 6)])
    third = _pipeline(clean_db).run(source)
    assert (third.counts["indexed"], third.counts["removed"], third.counts["unchanged"]) == (1, 1, 4)
    docs = _docs(clean_db)
    assert f"{path}#<m3@example.org>" not in docs
    assert docs[f"{path}#<m6@example.org>"].meta["folder"] == "inbox"


def _maildir(root: Path) -> mailbox.Maildir:
    return mailbox.Maildir(root, create=True)


def test_maildir_labels_and_keys() -> None:
    root = Path("/m")
    assert folder_label(root, root) == "INBOX"
    assert folder_label(root, root / ".Archive.2023") == "Archive/2023"
    assert folder_label(root, root / "Work" / "Projects") == "Work/Projects"
    assert message_key("1700000000.M1P2Q3.host:2,S") == "1700000000.M1P2Q3.host"
    assert message_key("1700000000.M1P2Q3.host") == "1700000000.M1P2Q3.host"


def test_maildir_flags_do_not_reindex_and_deletions_sync(clean_db, tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    box = _maildir(root)
    keys = [box.add(mailbox.MaildirMessage(_msg(i))) for i in range(1, 4)]
    archive = box.add_folder("Archive")
    archive.add(mailbox.MaildirMessage(_msg(10)))
    source = source_for_path(root)
    assert isinstance(source, MaildirSource)
    first = _pipeline(clean_db).run(source)
    assert first.counts["indexed"] == 4, first.to_json()
    folders = {d.meta["message_id"]: d.meta["folder"] for d in _docs(clean_db).values()}
    assert folders == {"<m1@example.org>": "INBOX", "<m2@example.org>": "INBOX",
                       "<m3@example.org>": "INBOX", "<m10@example.org>": "Archive"}
    # Reading a mail moves it to cur/ with flags; that is no change to its content.
    msg = box.get_message(keys[0])
    msg.set_subdir("cur")
    msg.add_flag("S")
    box[keys[0]] = msg
    box.remove(keys[1])
    second = _pipeline(clean_db).run(source)
    assert second.counts["removed"] == 1 and second.counts["indexed"] == 0, second.to_json()
    assert second.counts["unchanged"] == 3


def test_dedup_across_folders_sources_and_reimport(clean_db, tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    box = _maildir(root)
    box.add(mailbox.MaildirMessage(_msg(1)))
    box.add_folder("Archive").add(mailbox.MaildirMessage(_msg(1)))  # same mail, two folders
    report = _pipeline(clean_db).run(MaildirSource("md", root))
    assert (report.counts["indexed"], report.counts["skipped"]) == (1, 1), report.to_json()
    skipped = report.problems[0]
    assert skipped.code == "duplicate" and "same Message-ID <m1@example.org>" in skipped.message
    # The same mail in an mbox (another source) and the mbox imported again under a new path.
    mbox_a = tmp_path / "a.mbox"
    _write_mbox(mbox_a, [_msg(1), _msg(2)])
    rep_a = _pipeline(clean_db).run(MboxSource("a", mbox_a))
    assert (rep_a.counts["indexed"], rep_a.counts["skipped"]) == (1, 1)
    mbox_b = tmp_path / "copy-of-a.mbox"
    mbox_b.write_bytes(mbox_a.read_bytes())
    rep_b = _pipeline(clean_db).run(MboxSource("b", mbox_b))
    assert (rep_b.counts["indexed"], rep_b.counts["skipped"]) == (0, 2)
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 2
    # Re-running skips the duplicates again without parsing (ledger: same bytes, skipped).
    again = _pipeline(clean_db).run(MboxSource("b", mbox_b))
    assert again.counts["unchanged"] == 2


def test_dedup_indexes_a_copy_when_the_indexed_one_goes(clean_db, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.mbox"
    other = tmp_path / "other.mbox"
    _write_mbox(inbox, [_msg(7)])
    _write_mbox(other, [_msg(7)])
    assert _pipeline(clean_db).run(MboxSource("inbox", inbox)).counts["indexed"] == 1
    assert _pipeline(clean_db).run(MboxSource("other", other)).counts["skipped"] == 1
    _write_mbox(inbox, [])  # the indexed copy is deleted
    assert _pipeline(clean_db).run(MboxSource("inbox", inbox)).counts["removed"] == 1
    with clean_db.session() as s:
        # Its duplicate's ledger row was cleared, so the other source offers it again.
        assert s.scalar(select(func.count()).select_from(SourceItem)
                        .where(SourceItem.code == "duplicate")) == 0
    rep = _pipeline(clean_db).run(MboxSource("other", other))
    assert rep.counts["indexed"] == 1, rep.to_json()
    docs = _docs(clean_db)
    assert list(docs) == [f"{other}#<m7@example.org>"]
    with clean_db.session() as s:
        copies = s.execute(select(MessageCopy.origin, MessageCopy.document_id)).all()
        assert [(o, d is not None) for o, d in copies] == [(f"{other}#<m7@example.org>", True)]


def test_maildir_move_between_folders_keeps_the_mail_in_one_sync(clean_db, tmp_path) -> None:
    root = tmp_path / "Maildir"
    box = _maildir(root)
    key = box.add(mailbox.MaildirMessage(_msg(5)))
    archive = box.add_folder("Archive")
    source = MaildirSource("md", root)
    assert _pipeline(clean_db).run(source).counts["indexed"] == 1
    archive.add(box.get_message(key))
    box.remove(key)
    rep = _pipeline(clean_db).run(source)
    assert (rep.counts["removed"], rep.counts["indexed"]) == (1, 1), rep.to_json()
    (doc,) = _docs(clean_db).values()
    assert doc.meta["folder"] == "Archive"


def test_maildir_scan_yields_removals_first(tmp_path: Path) -> None:
    from app.core.protocols import LedgerEntry

    root = tmp_path / "Maildir"
    _maildir(root).add(mailbox.MaildirMessage(_msg(1)))
    gone = LedgerEntry(origin=f"{root}#old", status="indexed", sha256=None, size=1, mtime=1.0,
                       transient=False, cursor={})
    events = list(MaildirSource("md", root).scan({gone.origin: gone}))
    assert events[0] == Removed(f"{root}#old")
    assert isinstance(events[1], RawItem) and events[1].hints["folder"] == "INBOX"


def test_source_for_path_recognises_mbox_files(tmp_path: Path) -> None:
    path = tmp_path / "export"
    _write_mbox(path, [_msg(1)])
    assert isinstance(source_for_path(path), MboxSource)
    plain = tmp_path / "notes.txt"
    plain.write_text("From here on, notes.\n")
    assert source_for_path(plain) is None
    os.remove(plain)


def test_folder_scan_finds_every_mbox_the_full_check_finds(tmp_path: Path) -> None:
    """The scan's cheap name test (run on every file) must pass every name is_mbox_file can
    accept, including a trailing dot (Path sees no suffix there) and upper-case suffixes."""
    from ingest.sources.folder import FolderSource, _maybe_mbox, is_mbox_file

    message = build_message(subject="Kept")
    names = ["Inbox", "Archive.mbox", "OLD.MBX", "sent.", "notes.txt", "a.b.mbox", "x.eml"]
    for name in names:
        (tmp_path / name).write_bytes(b"From me@example.org Mon Jan  1 00:00:00 2024\n" + message)
    for name in names:
        if is_mbox_file(tmp_path / name):
            assert _maybe_mbox(name), name
    origins = {Path(i.origin.split("#")[0]).name for i in FolderSource("f", tmp_path).scan({})}
    assert origins == set(names)
    boxes = {name for name in names if is_mbox_file(tmp_path / name)}
    assert boxes == {"Inbox", "Archive.mbox", "OLD.MBX", "sent.", "a.b.mbox"}
