"""Review (issue 25): a URL whose port answers nothing (another program's port, a
firewall that swallows the packets) fails in one Chinese line after a bounded wait,
instead of hanging the command for ever.
NOT COMMITTED: fails on models/pg.py (owned elsewhere); the fix is in the report."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.cli.test_cli import ROOT, _env


def test_a_silent_port_fails_in_bounded_time():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)  # accepts (the kernel does), never answers
        port = silent.getsockname()[1]
        url = f"postgresql://mz:S3cret-Pw9@127.0.0.1:{port}/mz"
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "mzdesk", "stats", "--json", "--db", url],
                capture_output=True,
                text=True,
                env=_env(),
                cwd=ROOT,
                timeout=45,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError("mzdesk waited more than 45 s for a silent port") from None
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert line.startswith("错误 [open_failed]: 无法连接PostgreSQL数据库"), line
    assert "S3cret-Pw9" not in proc.stdout + proc.stderr
