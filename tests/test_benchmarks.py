"""Every benchmark still runs: each script in ``bench/`` on a tiny size (``--quick``), as a
subprocess, exits 0 and prints its figures and ratios.

The figures of a tiny run mean nothing; what is checked is that a benchmark has not
broken (a date that went stale, an API that moved) long before someone needs its figures.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"\d+(?:\.\d+)?"

# script, extra arguments, what its output must show (each a figure or a ratio)
CASES = {
    "bench_core": (
        ["--out", "{tmp}"],
        [
            rf"write ratio {NUMBER}x wall",
            rf"search \+ list \+ first page .* ratio to bare lookup p50 +{NUMBER}x",
            rf"sort id .* total +{NUMBER} ms +\( *{NUMBER}x\)",
            rf"mzdesk main window .* ratio {NUMBER}x time, {NUMBER}x RSS",
        ],
    ),
    "bench_county_list": (
        ["--out", "{tmp}"],
        [
            rf"search p50 +{NUMBER} ms +p95 +{NUMBER} ms .* ratio to bare lookup p50 +{NUMBER}x",
            rf"township \d+, head +[\d,]+ rows +first +{NUMBER} ms +deep +{NUMBER} ms",
            rf"slowest page {NUMBER} ms .* target <= 100 ms",
            rf"mzdesk county window .* ratio {NUMBER}x time, {NUMBER}x RSS",
        ],
    ),
    "bench_notice": ([], [rf"ratio full/bare = {NUMBER}x", r"notice pages [1-9]"]),
    "bench_booklet": ([], [rf"ratio mzdesk / bare: +{NUMBER}", r"households: 10, pages: [1-9]"]),
    "bench_roster": (
        [],
        [
            r"import: \d+ households, 60 members, problems \{\}",
            rf"ratio import / openpyxl read_only = {NUMBER}",
            r"export: 60 rows",
            rf"ratio export / openpyxl write_only = {NUMBER}",
        ],
    ),
    "bench_sync": (
        [],
        [
            r"households 30, members \d+, records \d+",
            rf"ratio {NUMBER}%",
            r"new \d+, conflicts 0",
            rf"import / baseline {NUMBER}x",
        ],
    ),
}


def run_bench(name: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.pop("MZDESK_DB", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--quick", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.gui) if n in ("bench_core", "bench_county_list") else n
        for n in CASES
    ],
)
def test_benchmark_runs_on_a_tiny_size(name, tmp_path):
    args, expected = CASES[name]
    proc = run_bench(name, [a.format(tmp=tmp_path) for a in args], tmp_path)
    assert proc.returncode == 0, f"{name} exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    for pattern in expected:
        assert re.search(pattern, proc.stdout), f"{name}: no /{pattern}/ in:\n{proc.stdout}"


@pytest.mark.parametrize("name", ["bench_notice", "bench_roster"])
def test_benchmark_takes_a_frozen_today(name, tmp_path):
    """``--today`` moves every date the benchmark makes: a run "a year from now" works."""
    later = dt.date.today() + dt.timedelta(days=400)
    proc = run_bench(name, ["--today", later.isoformat()], tmp_path)
    assert proc.returncode == 0, f"{name} exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    assert re.search(CASES[name][1][0], proc.stdout), proc.stdout
