"""Fixtures for the bank tests: a real ingest pipeline with the statement parser and hook."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def bank_run(clean_db, tmp_path: Path):
    """Run the real pipeline over a folder (lexical embedder, built-in category rules)."""
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.money.categories import BUILTIN_RULES
    from ingest.money.csvprofiles import CsvOptions
    from ingest.money.hook import StatementHook
    from ingest.parsers.archive import ArchiveParser
    from ingest.parsers.statement import StatementParser
    from ingest.parsers.text import TextParser
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    embedder = LexicalHashEmbedder()

    def _run(folder: Path, name: str = "bank"):
        pipeline = Pipeline(
            clean_db, embedder=embedder,
            parsers=[TextParser(), StatementParser(CsvOptions(default_currency="EUR")),
                     ArchiveParser()],
            hooks=[StatementHook(BUILTIN_RULES)],
            options=IngestOptions(originals_dir=tmp_path / "originals"),
        )
        return pipeline.run(FolderSource(name, folder))

    return _run


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "statements"
    root.mkdir()
    return root


@pytest.fixture
def openai_stub():
    """The loopback OpenAI-compatible stub (see tests/openai_stub.py)."""
    from tests.openai_stub import OpenAIStub

    with OpenAIStub() as stub:
        yield stub


class SmtpStub:
    """A tiny SMTP server on 127.0.0.1 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) that keeps
    every message it receives; enough for smtplib, no TLS."""

    def __init__(self) -> None:
        import socketserver
        import threading

        self.messages: list[dict] = []
        self.logins: list[str] = []
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 stub ESMTP\r\n")
                mail: dict = {"rcpt": []}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode().strip()
                    upper = cmd.upper()
                    if upper.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250-stub\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
                    elif upper.startswith("AUTH PLAIN"):
                        stub.logins.append(cmd.split()[-1])
                        self.wfile.write(b"235 ok\r\n")
                    elif upper.startswith("MAIL FROM"):
                        mail["from"] = cmd[10:]
                        self.wfile.write(b"250 ok\r\n")
                    elif upper.startswith("RCPT TO"):
                        mail["rcpt"].append(cmd[8:])
                        self.wfile.write(b"250 ok\r\n")
                    elif upper == "DATA":
                        self.wfile.write(b"354 go\r\n")
                        data = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b""):
                                break
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        mail["data"] = b"".join(data)
                        stub.messages.append(mail)
                        mail = {"rcpt": []}
                        self.wfile.write(b"250 queued\r\n")
                    elif upper == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp_stub():
    stub = SmtpStub()
    yield stub
    stub.close()
