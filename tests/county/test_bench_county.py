"""bench/bench_county.py --quick runs end to end: real batches, real CLI imports, figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_county.py"


def test_bench_county_quick(tmp_path):
    r = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--cache", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for figure in (
        "import of all batches",
        "peak RSS of an import process",
        "duplicate report over",
        "monthly statistics",
        "status counts (stats --json)",
    ):
        assert figure in out
    assert "exactly the duplicates" in out
    assert "x the baseline" in out and "load average" in out
