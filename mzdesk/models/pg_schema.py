"""An empty PostgreSQL database made an mzdesk one (``mzdesk init --db postgresql://…``)."""

from __future__ import annotations

from . import pg_functions, pg_triggers
from .pg import LOCK_KEY, MASTER, META, PgConnection


def create_schema(conn: PgConnection, version: int) -> None:
    """Make an empty PostgreSQL database an mzdesk one, at schema ``version``.

    The SQLite schema of a fresh, fully migrated in-memory store (with the rows its
    migrations seed) is translated object by object, in one transaction."""
    from .store import Store

    ref = Store.open(":memory:", operator="mzdesk")
    try:
        objects = ref.conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
        conn.raw.execute("BEGIN")
        conn.raw.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        conn.raw.execute(f"CREATE TABLE {META} (key text PRIMARY KEY, value text NOT NULL)")
        conn.raw.execute(
            f"CREATE TABLE {MASTER} (ord integer PRIMARY KEY, type text, name text, "
            "tbl_name text, sql text)"
        )
        for stmt in split_sql(pg_functions.FUNCTIONS_SQL):
            conn.raw.execute(stmt)
        for stmt in pg_triggers.CHAIN_SQL:
            conn.raw.execute(stmt)
        conn._bulk_ddl = True
        tables = [o for o in objects if o[0] == "table"]
        for _t, _n, _tbl, sql in tables:
            conn.ddl(sql)
        flush_ddl(conn)
        # the sqlite_sequence of SQLite, for code that reads an AUTOINCREMENT's top
        conn.raw.execute(
            "CREATE VIEW sqlite_sequence AS SELECT c.relname::text AS name, "
            "pg_sequence_last_value(s.oid) AS seq FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' "
            "JOIN pg_class c ON c.oid = d.refobjid WHERE s.relkind = 'S' "
            "UNION ALL SELECT 'audit_log', max(seq) FROM audit_log"
        )
        # the rows the migrations seed (vocabularies, form templates, their audit entries)
        for _t, name, _tbl, _sql in tables:
            cur = ref.conn.execute(f'SELECT * FROM "{name}"')
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
            if rows:
                ph = ", ".join(f"${i + 1}" for i in range(len(cols)))
                names = ", ".join(f'"{c}"' for c in cols)
                with conn.raw.cursor() as c:
                    c.executemany(f'INSERT INTO "{name}" ({names}) VALUES ({ph})', rows)
        for _t, name, _tbl, _sql in tables:
            conn._bump(name)
        for kind in ("index", "view", "trigger"):
            for _t, _n, _tbl, sql in (o for o in objects if o[0] == kind):
                conn.ddl(sql)
        flush_ddl(conn)
        conn._bulk_ddl = False
        conn._save_shadow()
        conn.raw.execute(
            f"INSERT INTO {META} VALUES ('user_version', $1), ('application_id', $2)",
            (str(version), str(0x4D5A444B)),
        )
        conn.raw.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.raw.execute("ROLLBACK")
        raise
    finally:
        ref.close()


def flush_ddl(conn: PgConnection) -> None:
    """The statements collected while creating the schema, sent in one round trip."""
    if conn._pending_ddl:
        conn.raw.execute(";\n".join(conn._pending_ddl))
        conn._pending_ddl = []


def split_sql(script: str) -> list[str]:
    """Statements of a script whose function bodies are dollar-quoted."""
    out, cur, quoted = [], [], False
    for line in script.splitlines():
        cur.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            out.append("\n".join(cur).rstrip().rstrip(";"))
            cur = []
    if "".join(cur).strip():
        out.append("\n".join(cur))
    return out
