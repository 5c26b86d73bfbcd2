"""The receiver's contract from the command line, as an outside check runs it: the same
township batches into a SQLite county and a PostgreSQL county (real ``python -m mzdesk``
subprocesses, ``--db postgresql://…``), then the same answers from both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mzdesk.cli import cli
from mzdesk.models.store import Store
from tests.cli.test_cli import assert_one_line_failure, mz
from tests.sync.sites import content, edit

pytestmark = pytest.mark.pg

TOWNS = [("341623101", "青山镇"), ("341623102", "白塔镇")]


def run(*args: str) -> str:
    """In-process for the townships' own set-up (the counties go through subprocesses)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def call(db: str, *args: str, ok: bool = True) -> tuple[int, str]:
    """A county command: a real subprocess for the PostgreSQL county (the contract), in
    process for the SQLite one (the reference), to keep the test short."""
    if db.startswith("postgresql://"):
        proc = mz(*args, ok=ok)
        return proc.returncode, proc.stdout
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result.exit_code, result.stdout


def out(*args: str) -> str:
    db = args[args.index("--db") + 1]
    return call(db, *args)[1]


def as_json(*args: str):
    return json.loads(out(*args, "--json"))


def exported_records(store) -> dict[str, dict[str, tuple[bytes, bytes]]]:
    """Every synced record as an export writes it (record head, content JSON)."""
    from mzdesk.sync import changelog
    from mzdesk.sync.changelog import TableCodec
    from mzdesk.sync.local import Maps, exported

    out: dict[str, dict[str, tuple[bytes, bytes]]] = {}
    for t in changelog.synced_tables(store.conn):
        codec = TableCodec.load(store.conn, t)
        out[t] = {
            r[0]: (bytes(r[1]), bytes(r[2]))
            for chunk in exported(store, codec, None, Maps(store))
            for r in chunk
        }
    return out


def test_same_batches_same_answers_on_sqlite_and_postgresql(tmp_path, pg_server):
    url = pg_server.create_db()
    sq = str(tmp_path / "county.sqlite")
    counties = {"pg": (url, "341623"), "sqlite": (sq, "341624")}
    for db, code in counties.values():
        assert "已初始化" in out(
            "init", "--db", db, "--role", "county", "--site-code", code, "--site-name", "县民政局"
        )
        out("keys", "init", "--db", db)
        out("keys", "export-public", "--db", db, "--out", str(tmp_path / f"{code}.pub"))
    # the PG site's key is in the site-files folder, private like beside a file
    [key] = Path(tmp_path / "pg-files").rglob("site-key.json")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    towns = []
    for i, (code, name) in enumerate(TOWNS):
        t = str(tmp_path / f"{code}.sqlite")
        run("init", "--db", t, "--site-code", code, "--site-name", name, "--role", "township")
        run("demo", "--db", t, "--households", "30", "--seed", str(i + 1))
        run("keys", "init", "--db", t)
        run("keys", "export-public", "--db", t, "--out", str(tmp_path / f"{code}.pub"))
        for db, county in counties.values():
            run("keys", "trust", "--db", t, str(tmp_path / f"{county}.pub"))
            out("keys", "trust", "--db", db, str(tmp_path / f"{code}.pub"))
        towns.append(t)
    # a conflict at each county: the county and the township change the same field
    first = Store.open(towns[0])
    uid = first.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    first.close()
    reports = {}
    for key, (db, county) in counties.items():
        for t, (code, _) in zip(towns, TOWNS, strict=True):
            batch = tmp_path / f"{code}-to-{county}.age"
            run("sync", "export", "--db", t, "--to", county, "--out", str(batch))
            reports.setdefault(key, []).append(as_json("sync", "import", str(batch), "--db", db))
        store = Store.open(db)
        edit(store, "households", uid, phone="13900000009")
        store.close()
    t0 = Store.open(towns[0])
    edit(t0, "households", uid, phone="13800000008")
    t0.close()
    for key, (db, county) in counties.items():
        batch = tmp_path / f"again-to-{county}.age"
        run("sync", "export", "--db", towns[0], "--to", county, "--out", str(batch))
        reports[key].append(as_json("sync", "import", str(batch), "--db", db))
    assert reports["pg"] == reports["sqlite"]
    assert reports["pg"][-1]["tables"]["households"]["conflicts"] == 1

    answers = {}
    for key, (db, _) in counties.items():
        conflicts = as_json("sync", "conflicts", "--db", db)
        assert [c["fields"] for c in conflicts] == [["phone"]]
        out("sync", "resolve", str(conflicts[0]["id"]), "--keep", "remote", "--db", db)
        status = as_json("sync", "status", "--db", db)
        answers[key] = {
            "stats": as_json("stats", "--db", db),
            "find": as_json("households", "find", "王", "--db", db),
            "find_id": as_json("households", "find", "3416", "--db", db),
            "conflicts": as_json("sync", "conflicts", "--db", db),
            "check": call(db, "check", "--db", db, ok=False)[1],
            "status": sorted((h["peer"], h["seq"], h["direction"]) for h in status["history"]),
            "verify": call(db, "audit", "verify", "--db", db)[0],
        }
    assert answers["pg"]["stats"]["households"] == 60
    assert answers["pg"] == answers["sqlite"]

    # row by row: every synced record of both counties, the same
    stores = {k: Store.open(db) for k, (db, _) in counties.items()}
    try:
        assert stores["pg"].dialect == "postgresql"
        assert content(stores["pg"]) == content(stores["sqlite"])
        # and what each would send upward or down: the same bytes, record by record (but the
        # household each county edited and resolved itself, at its own time of day)
        sent = {k: exported_records(s) for k, s in stores.items()}
        for records in sent.values():
            del records["households"][uid]
        assert sent["pg"] == sent["sqlite"]
        assert sum(len(v) for v in sent["pg"].values()) > 200
    finally:
        for s in stores.values():
            s.close()

    # and back down: the PG county's batch is applied by the township
    back = tmp_path / "down.age"
    out("sync", "export", "--db", url, "--to", TOWNS[0][0], "--out", str(back))
    assert "已导入" in run("sync", "import", str(back), "--db", towns[0])
    t0 = Store.open(towns[0])
    assert t0.scalar("SELECT phone FROM households WHERE uid = ?", (uid,)) == "13800000008"
    t0.close()


def test_a_url_that_is_not_an_mzdesk_database_is_refused_in_one_line(pg_server):
    import psycopg

    url = pg_server.create_db()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE their_table (x integer)")
    proc = mz(
        "init",
        "--db",
        url,
        "--role",
        "county",
        "--site-code",
        "341623",
        "--site-name",
        "县",
        ok=False,
    )
    assert "not_mzdesk" in assert_one_line_failure(proc) or "不是民政桌面" in proc.stderr
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    proc = mz("stats", "--db", unreachable, "--json", ok=False)
    assert "无法连接PostgreSQL数据库" in assert_one_line_failure(proc)
