"""Review (issue 25): the commands about a database *file* (backup, restore, encrypt,
decrypt) refuse a postgresql:// URL in one Chinese line, before they connect or ask for a
passphrase, instead of an internal error (``PgConnection`` has no ``backup``)."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import assert_one_line_failure, mz

URL = "postgresql://mz:S3cret-Pw9@127.0.0.1:1/mz"  # nothing listens there: never reached


@pytest.mark.parametrize(
    "args",
    [
        ["backup", "--out", "{tmp}/b.sqlite"],
        ["restore", "{tmp}/b.sqlite"],
        ["encrypt"],
        ["decrypt"],
    ],
)
def test_file_commands_refuse_a_url(tmp_path, args):
    (tmp_path / "b.sqlite").write_bytes(b"")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = mz(*argv, "--db", URL, ok=False)
    line = assert_one_line_failure(proc, 1)
    assert line.startswith("错误 [pg_unsupported]"), line
    assert "pg_dump" in line or "PostgreSQL" in line
    assert "S3cret-Pw9" not in proc.stdout + proc.stderr
