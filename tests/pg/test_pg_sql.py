"""The SQLite -> PostgreSQL statement translator (models/pg_sql.py), without a server."""

from __future__ import annotations

from mzdesk.models.pg_ddl import create_table
from mzdesk.models.pg_sql import Schema, expression, statement

SCHEMA = Schema(
    pk={"households": "id", "sync_changes": "seq"},
    columns={
        "households": ["id", "uid", "village"],
        "sync_changes": ["seq", "tbl", "uid", "op", "changed_at"],
    },
    uniques={"households": [("id",), ("uid",)], "sync_changes": [("seq",), ("tbl", "uid")]},
)


def test_parameters_positional_and_named():
    t = statement("SELECT uid FROM households WHERE id = ? AND village = ?", SCHEMA)
    assert "id = $1 AND village = $2" in t.sql and t.params == (0, 1)
    t = statement("SELECT 1 FROM households WHERE uid = :u OR village = :u", SCHEMA)
    assert t.sql.count("$1") == 2 and t.params == ("u",)


def test_insert_or_replace_and_ignore():
    t = statement(
        "INSERT OR REPLACE INTO sync_changes (tbl, uid, op, changed_at) VALUES (?, ?, ?, ?)",
        SCHEMA,
    )
    assert "ON CONFLICT (tbl, uid) DO UPDATE SET" in t.sql and '"op" = EXCLUDED."op"' in t.sql
    # REPLACE is a new row in SQLite: a new key, so the change sorts after the last export
    assert '"seq" = EXCLUDED."seq"' in t.sql
    assert t.returning == "seq"
    t = statement("INSERT OR IGNORE INTO households (uid, village) VALUES (?, ?)", SCHEMA)
    assert t.sql.startswith("INSERT INTO households") and "ON CONFLICT DO NOTHING" in t.sql
    t = statement("INSERT INTO households (id, uid, village) VALUES (?, ?, ?)", SCHEMA)
    assert t.explicit_key == "households"


def test_expressions_keep_sqlite_meaning():
    sql = expression("a IS NOT b AND c IS NULL AND d IS e AND x GLOB 'ab*'")
    assert "a IS DISTINCT FROM b" in sql and "c IS NULL" in sql
    assert "d IS NOT DISTINCT FROM e" in sql and "x ~# 'ab*'" in sql
    assert "coalesce(x, 1)" in expression("ifnull(x, 1)")
    assert "greatest(a, b)" in expression("max(a, b)") and "max(a)" in expression("max(a)")
    assert "string_agg(DISTINCT ( v)::text, ',')" in expression("group_concat(DISTINCT v)")
    assert "ORDER BY a NULLS FIRST, b DESC NULLS LAST" in expression("SELECT 1 ORDER BY a, b DESC")
    assert "WHERE h.id" in statement("SELECT 1 FROM households h WHERE +h.id > 0", SCHEMA).sql


def test_rowid_is_the_integer_key_or_a_temp_table_s_own():
    assert statement("SELECT rowid FROM households", SCHEMA).sql == "SELECT id FROM households"
    t = statement("SELECT c0 FROM temp.mz_stage ORDER BY rowid", SCHEMA)
    assert "pg_temp.mz_stage ORDER BY rowid" in t.sql


def test_create_table_types_and_text_order():
    sql, temp, name, pk = create_table(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, full INTEGER NOT NULL, "
        "name TEXT NOT NULL DEFAULT '', data BLOB, UNIQUE (name))"
    )
    assert (temp, name, pk) == (False, "t", "id")
    assert '"id" bigint PRIMARY KEY' in sql and "AUTOINCREMENT" not in sql
    assert '"name" text COLLATE "C" NOT NULL' in sql and '"data" bytea' in sql
    assert create_table("CREATE TABLE temp.x (a, b)")[1] is True
