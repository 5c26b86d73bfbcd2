"""SQLite's CREATE TABLE/INDEX/TRIGGER in PostgreSQL's dialect (models/pg.py ``ddl``).

Types: INTEGER -> bigint, REAL -> double precision, BLOB -> bytea, TEXT -> text COLLATE "C";
a trigger becomes a plpgsql function and a ``CREATE TRIGGER`` executing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .pg_sql import Schema, Tok, args_of, expression, join, statement, tokens

_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+(?:(TEMP|TEMPORARY)\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?"
    r"(?:(temp|main)\.)?(\"?[\w]+\"?)\s*\((.*)\)\s*((?:WITHOUT\s+ROWID|STRICT|\s|,)*)$",
    re.IGNORECASE | re.DOTALL,
)


def create_table(sql: str, schema: Schema | None = None) -> tuple[str, bool, str, str]:
    """``CREATE TABLE`` in PostgreSQL's types.  Returns (sql, temp, table, integer pk).

    Types: INTEGER -> bigint, REAL -> double precision, BLOB -> bytea, TEXT and no type ->
    text COLLATE "C" (SQLite compares and sorts text byte by byte); AUTOINCREMENT dropped
    (the caller gives the integer key a sequence).  A temp table gets a ``rowid`` column.
    """
    m = _CREATE_TABLE.match(sql)
    if not m:
        raise ValueError(f"CREATE TABLE not understood: {sql[:80]}")
    temp = bool(m.group(1)) or (m.group(3) or "").lower() == "temp"
    name = m.group(4).strip('"')
    parts = args_of(tokens("(" + m.group(5) + ")"), 0, len(tokens("(" + m.group(5) + ")")) - 1)
    out = []
    pk = ""
    for part in parts:
        words = [t for t in part if t.kind not in ("ws", "comment")]
        if not words:
            continue
        first = words[0].up
        if first in ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"):
            out.append(expression(join(part).strip()))
            continue
        col = words[0].text.strip('"')
        rest = words[1:]
        decl = rest[0].up if rest and rest[0].kind == "word" else ""
        if decl in ("INTEGER", "INT") and len(rest) > 2 and rest[1].up == "PRIMARY":
            pk = col
        body = join(part).strip()
        # the column's type: the first word after its name, when it is a type name
        after_name = body[len(words[0].text) :]
        if decl in ("INTEGER", "INT", "TEXT", "REAL", "BLOB", "NUMERIC"):
            after_type = after_name.lstrip()[len(rest[0].text) :]
        else:
            after_type = after_name
            decl = ""
        pg_type = {
            "INTEGER": "bigint",
            "INT": "bigint",
            "REAL": "double precision",
            "BLOB": "bytea",
            "NUMERIC": "numeric",
        }.get(decl, 'text COLLATE "C"')
        after_type = re.sub(r"\bAUTOINCREMENT\b", "", after_type, flags=re.IGNORECASE)
        out.append(f'"{col}" {pg_type}{expression(after_type)}')
    if temp:
        out.append("rowid bigserial")
    head = "CREATE TEMP TABLE" if temp else "CREATE TABLE"
    exists = " IF NOT EXISTS" if m.group(2) else ""
    return f'{head}{exists} "{name}" (\n  ' + ",\n  ".join(out) + "\n)", temp, name, pk


_CREATE_INDEX = re.compile(
    r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+(\w+)\s*(\(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def create_index(sql: str) -> str:
    m = _CREATE_INDEX.match(sql)
    if not m:
        raise ValueError(f"CREATE INDEX not understood: {sql[:80]}")
    unique, exists, name, table, rest = m.groups()
    return (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX {exists or ''}{name} ON {table} "
        f"{expression(rest)}"
    )


_CREATE_TRIGGER = re.compile(
    r"^\s*CREATE\s+(?:TEMP\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+"
    r"(BEFORE|AFTER|INSTEAD\s+OF)?\s*(INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(\w+)"
    r"(?:\s+FOR\s+EACH\s+ROW)?(?:\s+WHEN\s+(.*?))?\s+BEGIN\s+(.*)\s*END\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RAISE = re.compile(
    r"^\s*SELECT\s+RAISE\s*\(\s*(ABORT|FAIL|ROLLBACK|IGNORE)\s*(?:,\s*('(?:[^']|'')*'))?\s*\)"
    r"\s*(?:WHERE\s+(.*))?$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class Trigger:
    name: str
    timing: str
    event: str
    table: str
    when: str
    body: list[str]


def parse_trigger(sql: str) -> Trigger:
    m = _CREATE_TRIGGER.match(sql)
    if not m:
        raise ValueError(f"CREATE TRIGGER not understood: {sql[:100]}")
    name, timing, event, table, when, body = m.groups()
    stmts = [s.strip() for s in split_statements(body) if s.strip()]
    return Trigger(name, (timing or "BEFORE").upper(), event, table, when or "", stmts)


def split_statements(body: str) -> list[str]:
    out: list[str] = []
    cur: list[Tok] = []
    for t in tokens(body):
        if t.text == ";":
            out.append(join(cur))
            cur = []
        else:
            cur.append(t)
    out.append(join(cur))
    return out


def create_trigger(sql: str, schema: Schema) -> list[str]:
    """A SQLite trigger as a plpgsql function and a ``CREATE TRIGGER`` executing it."""
    tr = parse_trigger(sql)
    rowid = schema.pk.get(tr.table, "")
    lines = []
    for stmt in tr.body:
        r = _RAISE.match(stmt)
        if r:
            kind, msg, cond = r.groups()
            if kind.upper() == "IGNORE":
                act = "RETURN NULL;"
            else:
                act = f"RAISE EXCEPTION USING MESSAGE = {msg}, ERRCODE = '23000';"
            if cond:
                lines.append(f"IF {expression(cond, rowid)} THEN {act} END IF;")
            else:
                lines.append(act)
            continue
        t = statement(stmt, schema, rowid)
        if t.params:
            raise ValueError(f"parameter in trigger {tr.name}")
        text = t.sql
        if t.returning:
            text = text[: text.rfind(" RETURNING ")]
        if re.match(r"^\s*SELECT\b", text, re.IGNORECASE):
            text = re.sub(r"^\s*SELECT\b", "PERFORM", text, flags=re.IGNORECASE)
        lines.append(text + ";")
    ret = "RETURN OLD;" if tr.event.upper() == "DELETE" else "RETURN NEW;"
    if tr.timing == "AFTER":
        ret = "RETURN NULL;"
    fn = f"mzt_{tr.name}"
    body = "\n  ".join(lines)
    when = f" WHEN ({expression(tr.when, rowid)})" if tr.when.strip() else ""
    timing = "INSTEAD OF" if tr.timing.startswith("INSTEAD") else tr.timing
    return [
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $mz$\n"
        f"BEGIN\n  {body}\n  {ret}\nEND $mz$",
        f"CREATE TRIGGER {tr.name} {timing} {tr.event} ON {tr.table} FOR EACH ROW{when} "
        f"EXECUTE FUNCTION {fn}()",
    ]
