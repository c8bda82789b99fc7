"""A throwaway Dovecot IMAP server on a free loopback port, and a proxy that cuts connections.

`Dovecot(root)` writes its own config (no system service touched): plaintext IMAP on 127.0.0.1,
passwd-file users, maildirs under `root`. It works as root (the CI case: login and internal
processes run as Debian's `dovenull`/`dovecot` users, mail as `nobody`, because Dovecot refuses
uid 0 for both) and as an ordinary user (everything runs as that user, chroot off).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class Dovecot:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.users: dict[str, str] = {}
        self.pid: int | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Dovecot:
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
            internal = "dovecot" if _user_exists("dovecot") else "nobody"
            login = "dovenull" if _user_exists("dovenull") else "nobody"
            for sub in ("mail", "home"):
                os.chown(self.root / sub, mail_uid, mail_gid)
            extra = ""
        else:
            mail_uid, mail_gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(mail_uid).pw_name
            extra = f"default_internal_group = {grp.getgrgid(mail_gid).gr_name}\n"
        self._write_passwd()
        (self.root / "dovecot.conf").write_text(f"""\
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.root}/mail/%n
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
{extra}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={self.root}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
        # The master daemonizes; its children would hold captured pipes open forever.
        started = subprocess.run([DOVECOT, "-c", str(self.root / "dovecot.conf")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, timeout=30, check=False)
        if started.returncode != 0:
            raise RuntimeError(f"dovecot failed to start: {self.log_tail()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1) as s:
                if s.recv(64).startswith(b"* OK"):
                    self.pid = int((self.root / "run" / "master.pid").read_text().strip())
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log_tail()}")

    def stop(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = None

    def log_tail(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    # -- users and mail ---------------------------------------------------------------------------
    def _write_passwd(self) -> None:
        lines = [f"{u}:{{PLAIN}}{p}::::" for u, p in self.users.items()]
        path = self.root / "passwd"
        path.write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o644)


    def add_user(self, user: str, password: str) -> None:
        """Add a user before `start()` (Dovecot's passwd-file reload is not instant)."""
        self.users[user] = password
        if self.pid is None:
            return
        self._write_passwd()

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in IMAP connection (the test's "mail client" that changes the mailbox)."""
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(user, self.users[user])
        return conn


def quote_folder(name: str) -> str:
    from ingest.sources.imap_session import encode_folder

    return encode_folder(name)


def append(conn: imaplib.IMAP4, folder: str, data: bytes) -> None:
    typ, resp = conn.append(quote_folder(folder), None, None, data)
    assert typ == "OK", resp


class CuttingProxy:
    """Forwards 127.0.0.1:port to the server; `cut_next_fetch()` closes the connection after a
    few KiB of the answer to the next UID FETCH (a connection dropped mid-fetch)."""

    def __init__(self, target_port: int, *, cut_after: int = 3000) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self._armed = False
        self.cuts = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_next_fetch(self) -> None:
        self._armed = True

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            state = {"fetching": False, "sent": 0}
            threading.Thread(target=self._pump_up, args=(client, upstream, state),
                             daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client, state),
                             daemon=True).start()

    def _pump_up(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if self._armed and b"UID FETCH" in data.upper():
                    self._armed = False
                    state["fetching"] = True
                upstream.sendall(data)
        with contextlib.suppress(OSError):
            upstream.close()

    def _pump_down(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(4096):
                if state["fetching"]:
                    state["sent"] += len(data)
                    if state["sent"] > self.cut_after:
                        self.cuts += 1
                        client.shutdown(socket.SHUT_RDWR)
                        client.close()
                        upstream.close()
                        return
                client.sendall(data)
        with contextlib.suppress(OSError):
            client.close()


class CountingIMAP4(imaplib.IMAP4):
    """The real client, counting the commands it sends (what a sync costs on the wire)."""

    def __init__(self, *args, commands: Counter[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.commands = commands
        super().__init__(*args, **kwargs)

    def _command(self, name, *args):  # type: ignore[no-untyped-def]
        self.commands[name] += 1
        return super()._command(name, *args)
