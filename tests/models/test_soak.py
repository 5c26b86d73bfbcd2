"""The soak (bench/bench_soak.py) for ~25 seconds: windows killed with SIGKILL mid-work,
CLI readers, a sync import and backups on one database; nothing acknowledged is lost.

Marked slow (it runs for half a minute); ``make test`` and CI run the slow tests too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_short_soak_loses_nothing_and_shows_no_raw_error(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_soak.py"),
            "--seconds",
            "25",
            "--processes",
            "5",
            "--dir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["losses"] == 0, result["lost"]
    assert result["raw_errors"] == [] and result["failed_processes"] == [], result
    assert result["check_clean"] and result["audit_clean"], result
    assert result["batches_imported"] == 6
    # it did hammer the file: saves, edits, worker connections, CLI reads and backups
    kinds = result["by_kind"]
    assert kinds["saves"] > 50 and kinds["edits"] > 10 and kinds["op worker"] > 5, kinds
    assert kinds.get("op backup", 0) >= 2 and kinds.get("op stats", 0) >= 1, kinds
    assert proc.returncode == 0, proc.stderr
