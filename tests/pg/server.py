"""A throw-away PostgreSQL server from Debian's ``postgresql`` package, for tests and benches.

``PgServer.start(folder)`` runs ``initdb`` into ``folder`` and starts ``postgres`` on a
free port of 127.0.0.1 with trust authentication (and a unix socket in the same folder);
``stop()`` ends it.  As root (CI, this machine) the server runs as the unprivileged
``postgres`` user the package creates, since PostgreSQL refuses to run as root.  No Docker,
no system cluster: the package's own cluster (if any) is not touched.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "mz"


class PgMissing(RuntimeError):
    pass


def pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/N/bin`` with initdb, or PgMissing saying what to do."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        raise PgMissing(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb): run "
            "`bash scripts/system-deps.sh` (apt-get install postgresql) first"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[int | None, int | None]:
    """The uid/gid to run the server as: None as a normal user, the postgres user as root."""
    if os.geteuid() != 0:
        return None, None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise PgMissing(
            "running as root and there is no 'postgres' user to run the server as "
            "(Debian's postgresql package creates it)"
        ) from None
    return pw.pw_uid, pw.pw_gid


@dataclass
class PgServer:
    folder: Path
    port: int
    proc: subprocess.Popen

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str | None = None, template: str | None = None) -> str:
        """A new database on this server (empty, or a copy of ``template``); its URL."""
        import psycopg

        name = name or "mz_" + uuid.uuid4().hex[:12]
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    @classmethod
    def start(cls, folder: Path, durable: bool = False) -> PgServer:
        """``durable``: the server's defaults (fsync, synchronous commit; checkpoints
        spaced for bulk loads), for benchmarks compared with SQLite's durable commits;
        else fsync off, for fast tests."""
        bindir = pg_bin()
        folder = Path(folder)
        data = folder / "data"
        sock = folder / "sock"
        sock.mkdir(parents=True, exist_ok=True)
        uid, gid = _as_user()
        if uid is not None:
            for p in (folder, sock):
                os.chown(p, uid, gid)
            # every ancestor must be searchable by the server's user (pytest's tmp folders
            # are 0700 under root)
            for parent in folder.parents:
                if str(parent) in ("/", "/tmp"):
                    continue
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)

        def demote() -> None:  # in the child, before exec: PostgreSQL refuses root
            os.setgid(gid)
            os.setuid(uid)

        pre = demote if uid is not None else None
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                *([] if durable else ["--no-sync"]),
            ],
            check=True,
            capture_output=True,
            preexec_fn=pre,
            cwd=folder,
        )
        port = free_port()
        log = open(folder / "server.log", "wb")  # noqa: SIM115 - kept for the server's life
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(sock),
                *(
                    # a receiver loads batches of ~100 MB of WAL each: checkpoints every
                    # 4 GB, not every 1 GB (the default: a checkpoint each 25 s, and every
                    # page written whole again after it); durability is unchanged
                    ["-c", "max_wal_size=4GB"]
                    if durable
                    else [
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                    ]
                ),
                "-c",
                "shared_buffers=128MB",
                "-c",
                "max_connections=60",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=pre,
            cwd=folder,
        )
        log.close()
        server = cls(folder, port, proc)
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "PostgreSQL stopped at start:\n"
                    + (self.folder / "server.log").read_text(errors="replace")
                )
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGINT: fast shutdown (a test's connection still open does not hold it up)
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
