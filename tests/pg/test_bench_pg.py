"""bench/bench_pg.py still runs (``--quick``, on the session's server) and prints its
figures and both ratios."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\d+(?:\.\d+)?"


def test_bench_pg_runs_on_a_tiny_size(pg_server, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MZDESK_DB", None)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_pg.py"), "--quick", "--url", pg_server.url()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for pattern in (
        r"households 40, members \d+, synced rows \d+",
        rf"ratio PostgreSQL import / COPY = {NUMBER}x",
        rf"ratio PostgreSQL / SQLite import = {NUMBER}x",
    ):
        assert re.search(pattern, proc.stdout), proc.stdout
