"""Run a command in a child process and measure its peak memory (for hostile-input tests).

>>> import sys
>>> r = run_measured([sys.executable, "-c", "print(1)"])
>>> (r.code, r.out.strip(), r.peak_mb > 0)
(0, '1', True)
"""

from __future__ import annotations

import hashlib
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a safety net for the shared machine, far above what the tests allow (PEAK_LIMIT_MB): a
# regression fails the RSS assertion or dies of MemoryError instead of swapping the box
ADDRESS_SPACE = 4 << 30
PEAK_LIMIT_MB = 500


@dataclass
class Measured:
    code: int
    out: str
    err: str
    peak_mb: float  # the child's ru_maxrss (its own peak resident set, not its siblings')
    seconds: float


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_measured(args: list[str], timeout: float = 300, root: Path = ROOT) -> Measured:
    """``args`` in a child (``root``'s ``mzdesk`` first on its path: this worktree's), waited
    for with ``os.wait4`` so that the peak memory is this child's alone."""
    import time

    env = dict(os.environ, PYTHONPATH=str(root), QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=root, preexec_fn=_limit)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_maxrss / 1024,
            seconds,
        )


def mzdesk(*args: str, timeout: float = 300, root: Path = ROOT) -> Measured:
    return run_measured([sys.executable, "-m", "mzdesk", *args], timeout, root)


def dump_hash(db: Path) -> str:
    """SHA-256 of the database's ``.dump`` (read through its own connection)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode())
        return h.hexdigest()
    finally:
        conn.close()
