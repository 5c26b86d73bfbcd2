"""SQLite's dialect of SQL, as mzdesk writes it, turned into PostgreSQL's.

The one SQL the code base writes (``?``/``:name`` parameters, ``INSERT OR IGNORE``,
``strftime``, ``IS`` as null-safe equality ...) is translated here, statement by statement,
so that the same services, importer and statistics run on a PostgreSQL receiver
(``models/pg.py``).  Pure text work on a token list: no database, no psycopg.

What is translated (and what is knowingly not) is listed in :func:`translate`; the
functions it maps to (``mz_strftime``, ``mz_substr``, ``group_concat`` ...) are created in
the database by :data:`FUNCTIONS_SQL`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<cast>::)
  | (?P<param>\?\d*|[:@$][A-Za-z_]\w*)
  | (?P<word>[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)
  | (?P<op>\|\||<>|!=|==|<=|>=|<<|>>|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class Tok:
    kind: str
    text: str

    @property
    def up(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


def tokens(sql: str) -> list[Tok]:
    return [Tok(m.lastgroup or "op", m.group()) for m in _TOKEN.finditer(sql)]


def join(toks: list[Tok]) -> str:
    return "".join(t.text for t in toks)


@dataclass(frozen=True)
class Translated:
    sql: str
    # None: no parameters; else the names (``:name``) or ints (``?``/``?N``, 0-based) in
    # the order of $1, $2 ...
    params: tuple | None
    # the integer primary key a single INSERT returns (for ``lastrowid``), or ""
    returning: str = ""
    # an INSERT that names the table's integer key: the table (its sequence is moved after)
    explicit_key: str = ""


# functions renamed one to one
_RENAME = {
    "IFNULL": "coalesce",
    "INSTR": "strpos",
    "SUBSTR": "mz_substr",
    "SUBSTRING": "mz_substr",
    "STRFTIME": "mz_strftime",
    "DATE": "mz_date",
    "DATETIME": "mz_datetime",
    "JULIANDAY": "mz_julianday",
    "JSON_EXTRACT": "mz_json_extract",
    "JSON_EACH": "mz_json_each",
    "JSON_QUOTE": "mz_json_quote",
    "JSON_PATCH": "mz_json_patch",
    "JSON_VALID": "mz_json_valid",
    "JSON_ARRAY_LENGTH": "mz_json_array_length",
    "CHAR": "chr",
    "UNICODE": "ascii",
    "TYPEOF": "mz_typeof",
    "ROUND": "mz_round",
    "PRINTF": "format",
    "MZ_REVERSE": "reverse",
}
_TYPES = {"INTEGER": "bigint", "INT": "bigint", "REAL": "double precision", "BLOB": "bytea"}
_NOT_AFTER_IS = {"NULL", "TRUE", "FALSE", "NOT", "DISTINCT"}
_END_OF_ORDER = {"LIMIT", "OFFSET", ")", ";", "UNION", "EXCEPT", "INTERSECT", "RETURNING"}


def _next(toks: list[Tok], i: int) -> int:
    """Index of the next non-blank token after ``i`` (len when none)."""
    i += 1
    while i < len(toks) and toks[i].kind in ("ws", "comment"):
        i += 1
    return i


def _prev(toks: list[Tok], i: int) -> int:
    i -= 1
    while i >= 0 and toks[i].kind in ("ws", "comment"):
        i -= 1
    return i


def _close(toks: list[Tok], i: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``i``."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced parentheses")


def args_of(toks: list[Tok], open_: int, close: int) -> list[list[Tok]]:
    """The top-level comma-separated arguments between ``open_`` and ``close``."""
    out: list[list[Tok]] = [[]]
    depth = 0
    for t in toks[open_ + 1 : close]:
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        if t.text == "," and depth == 0:
            out.append([])
        else:
            out[-1].append(t)
    return out


def _w(text: str) -> Tok:
    return Tok("word", text)


def _functions(toks: list[Tok]) -> list[Tok]:
    """Function calls: renamed, or rewritten when the argument count decides."""
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "word":
            j = _next(toks, i)
            if j < len(toks) and toks[j].text == "(" and _prev(toks, i) >= -1:
                name = t.up
                before = toks[_prev(toks, i)].text if _prev(toks, i) >= 0 else ""
                if before == ".":  # a qualified name (pg_temp.x(...)): not a function
                    i += 1
                    continue
                if name in _RENAME:
                    toks[i] = _w(_RENAME[name])
                elif name in ("MAX", "MIN"):
                    k = _close(toks, j)
                    if len(args_of(toks, j, k)) > 1:
                        toks[i] = _w("greatest" if name == "MAX" else "least")
                elif name == "GROUP_CONCAT":
                    k = _close(toks, j)
                    args = args_of(toks, j, k)
                    first = args[0]
                    distinct = ""
                    fi = next((n for n, x in enumerate(first) if x.kind not in ("ws",)), 0)
                    if first and first[fi].up == "DISTINCT":
                        distinct = "DISTINCT "
                        first = first[fi + 1 :]
                    sep = join(args[1]) if len(args) > 1 else "','"
                    inner = tokens(f"string_agg({distinct}({join(first)})::text, {sep})")
                    toks[i : k + 1] = _functions(inner)
                    i += len(inner)
                    continue
                elif name == "JSON_OBJECT":
                    # SQLite's compact text ({"a":1,"b":"x"}), in the order given
                    k = _close(toks, j)
                    toks[i] = _w("mz_json_text(json_build_object")
                    toks.insert(k + 1, Tok("op", ")"))
                elif name == "CAST":
                    k = _close(toks, j)
                    inner = [x for x in toks[j + 1 : k] if x.kind not in ("ws", "comment")]
                    if len(inner) >= 2 and inner[-1].up == "BLOB" and inner[-2].up == "AS":
                        body = toks[j + 1 : k]
                        # drop the trailing "AS BLOB"
                        while body and body[-1].up != "AS":
                            body.pop()
                        body.pop()
                        new = tokens("convert_to((") + _functions(body) + tokens(")::text, 'UTF8')")
                        toks[i : k + 1] = new
                        i += len(new)
                        continue
                elif name == "JSON_ARRAY":
                    k = _close(toks, j)
                    toks[i] = _w("json_build_array")
                    toks.insert(k + 1, Tok("op", "::text"))
                elif name == "JSON_GROUP_ARRAY":  # SQLite's is '[]' over no rows, not NULL
                    k = _close(toks, j)
                    toks[k + 1 : k + 1] = tokens("::text, '[]')")
                    toks[i : i + 1] = tokens("coalesce(json_agg")
                elif name == "TOTAL":
                    k = _close(toks, j)
                    toks[i] = _w("mz_total")
                elif name == "IIF":
                    k = _close(toks, j)
                    a = args_of(toks, j, k)
                    inner = tokens(
                        f"(CASE WHEN {join(a[0])} THEN {join(a[1])} ELSE {join(a[2])} END)"
                    )
                    toks[i : k + 1] = _functions(inner)
                    i += len(inner)
                    continue
        i += 1
    return toks


def _order_nulls(toks: list[Tok]) -> list[Tok]:
    """SQLite sorts NULL first ascending, last descending: say so on every ORDER BY key."""
    out: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        out.append(t)
        j = _next(toks, i)
        if t.up == "ORDER" and j < n and toks[j].up == "BY":
            out.extend(toks[i + 1 : j + 1])
            i = j + 1
            depth = 0
            item: list[Tok] = []
            while i < n:
                u = toks[i]
                if depth == 0 and (u.up in _END_OF_ORDER or u.text == ","):
                    out.extend(_nulls(item))
                    item = []
                    if u.text != ",":
                        break
                    out.append(u)
                    i += 1
                    continue
                if u.text == "(":
                    depth += 1
                elif u.text == ")":
                    depth -= 1
                item.append(u)
                i += 1
            else:
                out.extend(_nulls(item))
            continue
        i += 1
    return out


def _nulls(item: list[Tok]) -> list[Tok]:
    words = [t.up for t in item if t.kind not in ("ws", "comment")]
    if not words or "NULLS" in words:
        return item
    # trailing blanks stay after the added words
    k = len(item)
    while k and item[k - 1].kind in ("ws", "comment"):
        k -= 1
    tail = " NULLS LAST" if words[-1] == "DESC" else " NULLS FIRST"
    return [*item[:k], Tok("word", tail), *item[k:]]


_TABLE_WORDS = {"FROM", "UPDATE", "INTO", "JOIN"}
_CLAUSE_AFTER_SUBQUERY = {
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "JOIN",
    "LEFT",
    "INNER",
    "CROSS",
    "ON",
    "HAVING",
    "OFFSET",
    "RETURNING",
    ")",
    ";",
    ",",
    "",
}


def translate_tokens(
    toks: list[Tok], rowid: str = "", pks: dict[str, str] | None = None
) -> list[Tok]:
    """Expression-level translation shared by statements, CHECKs and trigger bodies.

    ``rowid``: what NEW.rowid/OLD.rowid are (a trigger's table key); ``pks``: each table's
    integer key, for a ``rowid`` of the nearest table named before it (a temp table keeps
    its own ``rowid`` column)."""
    out: list[Tok] = []
    n = len(toks)
    i = 0
    current = ""  # the last table named after FROM/UPDATE/INTO/JOIN
    first = _first_table(toks)
    while i < n:
        t = toks[i]
        u = t.up
        if u in _TABLE_WORDS:
            j = _next(toks, i)
            if j < n and toks[j].kind in ("word", "qid"):
                name = toks[j].text.strip('"')
                k = _next(toks, j)
                if name.upper() in ("TEMP", "PG_TEMP") and k < n and toks[k].text == ".":
                    current = "temp"
                else:
                    current = name
            elif u in ("FROM", "JOIN") and j < n and toks[j].text == "(":
                k = _close(toks, j)
                after = _next(toks, k)
                word = toks[after].up if after < n else ""
                if word in _CLAUSE_AFTER_SUBQUERY:
                    toks.insert(k + 1, Tok("word", f" AS mz_sub{k}"))
                    n += 1
        if u == "ROWID" and not rowid_done(out):
            p = _prev(toks, i)
            qualified = p >= 0 and toks[p].text == "."
            q = toks[_prev(toks, p)].up if qualified else ""
            if qualified and q in ("NEW", "OLD") and rowid:
                out.append(_w(rowid))
                i += 1
                continue
            table = current or first
            if pks is not None and table != "temp" and pks.get(table):
                out.append(_w(pks[table]))
                i += 1
                continue
        if t.kind == "param" and _param_is_null_test(toks, i):
            out.append(t)
            out.append(Tok("op", "::text"))
            i += 1
            continue
        if t.text == "+" and _unary(toks, i):
            i += 1  # SQLite's "+col" (keeps the planner off an index): nothing here
            continue
        if t.kind == "qid" and t.text[0] in "`[":
            out.append(Tok("qid", '"' + t.text[1:-1] + '"'))
        elif t.text == "==":
            out.append(Tok("op", "="))
        elif u == "IS":
            j = _next(toks, i)
            if j < n and toks[j].up == "NOT":
                k = _next(toks, j)
                if k < n and toks[k].up not in _NOT_AFTER_IS:
                    out.append(_w("IS DISTINCT FROM"))
                    i = j + 1
                    continue
                out.append(t)
            elif j < n and toks[j].up not in _NOT_AFTER_IS:
                out.append(_w("IS NOT DISTINCT FROM"))
            else:
                out.append(t)
        elif u == "GLOB":
            p = _prev(toks, i)
            if out and p >= 0 and toks[p].up == "NOT":
                # drop the NOT already written
                while out and out[-1].up != "NOT":
                    out.pop()
                out.pop()
                out.append(Tok("op", "!~#"))
            else:
                out.append(Tok("op", "~#"))
        elif u == "LIKE":
            out.append(_w("ILIKE"))
        elif u == "COLLATE":
            j = _next(toks, i)
            i = j + 1  # SQLite's NOCASE/BINARY: the columns are "C" already
            continue
        elif t.kind == "word" and t.text.lower() in _PG_RESERVED and _is_name(toks, i):
            out.append(Tok("qid", f'"{t.text.lower()}"'))
        elif u == "TEMP" and i + 1 < n and toks[i + 1].text == ".":
            out.append(_w("pg_temp"))
        elif u in _TYPES and out and _cast_context(out):
            out.append(_w(_TYPES[u]))
        elif u == "LIMIT":
            j = _next(toks, i)
            out.append(t)
            if j < n and toks[j].text == "-":
                k = _next(toks, j)
                out.append(_w(" ALL"))
                i = k + 1
                continue
        else:
            out.append(t)
        i += 1
    return out


# words PostgreSQL reserves that SQLite lets a column be named (sync_batches.full ...)
_PG_RESERVED = {
    "full",
    "user",
    "analyse",
    "analyze",
    "array",
    "both",
    "leading",
    "trailing",
    "only",
    "similar",
    "verbose",
    "freeze",
    "binary",
    "ilike",
    "lateral",
    "fetch",
    "placing",
    "symmetric",
    "variadic",
    "window",
    "grant",
    "authorization",
    "overlaps",
}
_JOIN_WORDS = {"OUTER", "JOIN"}


def _is_name(toks: list[Tok], i: int) -> bool:
    """The reserved word at ``i`` names a column (not ``FULL JOIN``, not a function)."""
    j = _next(toks, i)
    nxt = toks[j].up if j < len(toks) else ""
    return nxt not in _JOIN_WORDS and nxt != "("


def _first_table(toks: list[Tok]) -> str:
    for i, t in enumerate(toks):
        if t.up in _TABLE_WORDS:
            j = _next(toks, i)
            if j < len(toks) and toks[j].kind in ("word", "qid"):
                name = toks[j].text.strip('"')
                k = _next(toks, j)
                if name.upper() in ("TEMP", "PG_TEMP") and k < len(toks) and toks[k].text == ".":
                    return "temp"
                return name
    return ""


_BEFORE_UNARY = {
    "WHERE",
    "AND",
    "OR",
    "BY",
    ",",
    "(",
    "=",
    "SELECT",
    "ON",
    "NOT",
    "THEN",
    "ELSE",
    "WHEN",
    "<",
    ">",
    "<=",
    ">=",
    "<>",
    "!=",
}


def _unary(toks: list[Tok], i: int) -> bool:
    p = _prev(toks, i)
    j = _next(toks, i)
    return (
        p >= 0 and toks[p].up in _BEFORE_UNARY and j < len(toks) and toks[j].kind in ("word", "qid")
    )


def rowid_done(out: list[Tok]) -> bool:
    return bool(out) and out[-1].text == "::"


def _param_is_null_test(toks: list[Tok], i: int) -> bool:
    """``? IS NULL`` / ``? IS NOT NULL``: the server cannot type a lone parameter there."""
    j = _next(toks, i)
    return j < len(toks) and toks[j].up == "IS"


def _cast_context(out: list[Tok]) -> bool:
    """True when the last non-blank token written is the AS of a CAST."""
    k = len(out) - 1
    while k >= 0 and out[k].kind in ("ws", "comment"):
        k -= 1
    return k >= 0 and out[k].up == "AS"


def expression(sql: str, rowid: str = "", pks: dict[str, str] | None = None) -> str:
    return join(_order_nulls(translate_tokens(_functions(tokens(sql)), rowid, pks)))


_FIRST_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+([A-Za-z_]\w*)", re.IGNORECASE)


_IN_JSON_EACH = re.compile(
    r"\b(\w+(?:\.\w+)?)(\s+(?:NOT\s+)?IN\s*\(\s*SELECT\s+)value(\s+FROM\s+json_each\s*\()",
    re.IGNORECASE,
)


def _in_json_each(sql: str) -> str:
    """``x IN (SELECT value FROM json_each(?))``: the value as the column's type (an id or
    ``…_id`` column is an integer), as SQLite compares it."""

    def cast(m: re.Match) -> str:
        col = m.group(1).rsplit(".", 1)[-1].lower()
        typed = "value::bigint" if col == "id" or col.endswith("_id") else "value"
        return f"{m.group(1)}{m.group(2)}{typed}{m.group(3)}"

    return _IN_JSON_EACH.sub(cast, sql)


def _params(toks: list[Tok]) -> tuple[list[Tok], tuple | None]:
    order: list = []
    names: dict[str, int] = {}
    pos = 0
    out = []
    for t in toks:
        if t.kind != "param":
            out.append(t)
            continue
        if t.text == "?":
            order.append(pos)
            pos += 1
            out.append(Tok("param", f"${len(order)}"))
        elif t.text[0] == "?":
            idx = int(t.text[1:]) - 1
            order.append(idx)
            out.append(Tok("param", f"${len(order)}"))
        else:
            name = t.text[1:]
            if name not in names:
                order.append(name)
                names[name] = len(order)
            out.append(Tok("param", f"${names[name]}"))
    return out, (tuple(order) if order else None)


@dataclass(eq=False)
class Schema:
    """What the translator needs to know about the tables (from the shadow schema)."""

    # table -> its integer primary key column ("" when none)
    pk: dict[str, str]
    # table -> its columns in order
    columns: dict[str, list[str]]
    # table -> unique keys (tuples of columns), the primary key first
    uniques: dict[str, list[tuple[str, ...]]]


def _without_main(toks: list[Tok]) -> list[Tok]:
    """SQLite's ``main.`` schema qualifier (the database, beside an attached one) dropped:
    a PostgreSQL receiver's tables are in its search path."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "word" and t.up == "MAIN" and i + 1 < len(toks) and toks[i + 1].text == ".":
            i += 2
            continue
        out.append(t)
        i += 1
    return out


_AFTER_JOIN = {"JOIN", "WHERE", "GROUP", "ORDER", "LIMIT", "UNION", "HAVING", "ON", "USING"}


def _cross_join_on(toks: list[Tok]) -> list[Tok]:
    """``CROSS JOIN t ON …`` (SQLite: an inner join the planner must keep in this order) is
    an inner join in PostgreSQL, which refuses ON after CROSS JOIN: the CROSS is dropped."""
    drop = set()
    for i, t in enumerate(toks):
        if t.up != "CROSS":
            continue
        depth = 0
        for j in range(_next(toks, _next(toks, i)), len(toks)):
            x = toks[j]
            depth += (x.text == "(") - (x.text == ")")
            if depth < 0 or x.text == ";":
                break
            if depth == 0 and x.up in _AFTER_JOIN:
                if x.up == "ON":
                    drop.add(i)
                break
    return [t for i, t in enumerate(toks) if i not in drop]


def statement(sql: str, schema: Schema, new_rowid: str = "") -> Translated:
    """One SQLite statement (DML or query) in PostgreSQL's dialect.  ``new_rowid``: in a
    trigger body, the key column NEW.rowid/OLD.rowid stand for."""
    return _statement_cached(sql, schema, new_rowid)


_NOW_STAMP = "strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')"
_NOW_PG = "to_char(localtimestamp(0), 'YYYY-MM-DD HH24:MI:SS')"


@functools.lru_cache(maxsize=4096)
def _statement_cached(sql: str, schema: Schema, new_rowid: str) -> Translated:
    sql = sql.replace(_NOW_STAMP, _NOW_PG)
    if "json_each" in sql:
        sql = _in_json_each(sql)
    toks = _cross_join_on(_without_main(tokens(sql)))
    words = [t for t in toks if t.kind not in ("ws", "comment")]
    head = [t.up for t in words[:4]]
    m = _FIRST_TABLE.search(join(toks))
    table = m.group(1) if m else ""
    rowid = schema.pk.get(table, "")
    returning = ""
    conflict = ""
    explicit = ""
    if head[:1] == ["BEGIN"]:
        return Translated("BEGIN", None)
    if head[:1] in (["INSERT"], ["REPLACE"]):
        verb = head[1] if head[0] == "INSERT" and head[1:2] == ["OR"] else ""
        mode = head[2] if verb else ("REPLACE" if head[0] == "REPLACE" else "")
        # drop "OR X" / turn REPLACE into INSERT
        if head[0] == "REPLACE":
            idx = toks.index(words[0])
            toks[idx] = _w("INSERT")
        elif verb:
            a, b = toks.index(words[1]), toks.index(words[2])
            del toks[a : b + 1]
        cols = _insert_columns(toks, schema.columns.get(table, []))
        if mode == "IGNORE":
            conflict = " ON CONFLICT DO NOTHING"
        elif mode == "REPLACE":
            target = _conflict_target(schema, table, cols)
            # SQLite's REPLACE deletes the old row and inserts a new one: a new integer key
            # too (sync_changes.seq moves past the last export), from the proposed row's default
            moved = [rowid] if rowid and rowid not in cols and rowid not in target else []
            sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in [*cols, *moved])
            conflict = f" ON CONFLICT ({', '.join(target)}) DO UPDATE SET {sets}"
        has_returning = any(t.up == "RETURNING" for t in words)
        if rowid and not has_returning:
            returning = rowid
        if rowid and rowid in cols:
            explicit = table
    toks = translate_tokens(_functions(toks), new_rowid, schema.pk)
    toks = _order_nulls(toks)
    toks, params = _params(toks)
    text = re.sub(r"^(\s*)INSERT\s+INTO\b", r"\1INSERT INTO", join(toks).rstrip().rstrip(";"))
    if conflict:
        k = _find_word(text, "RETURNING")
        text = text[:k] + conflict + " " + text[k:] if k >= 0 else text + conflict
    if returning:
        text += f" RETURNING {returning}"
    return Translated(text, params, returning, explicit)


def _find_word(text: str, word: str) -> int:
    m = re.search(rf"\b{word}\b", text, re.IGNORECASE)
    return m.start() if m else -1


def _insert_columns(toks: list[Tok], all_columns: list[str]) -> list[str]:
    """The column list of an INSERT (the table's columns when it has none)."""
    words = [t for t in toks if t.kind not in ("ws", "comment")]
    # INSERT INTO table ( cols ) ...
    for k, t in enumerate(words):
        if t.up == "INTO":
            if k + 2 < len(words) and words[k + 2].text == "(":
                nxt = words[k + 3] if k + 3 < len(words) else None
                if nxt is not None and nxt.up not in ("SELECT", "VALUES", "WITH"):
                    cols = []
                    for w in words[k + 3 :]:
                        if w.text == ")":
                            break
                        if w.text != ",":
                            cols.append(w.text.strip('"'))
                    return cols
            break
    return list(all_columns)


def _conflict_target(schema: Schema, table: str, cols: list[str]) -> tuple[str, ...]:
    keys = schema.uniques.get(table, [])
    pk = schema.pk.get(table, "")
    for key in keys:
        if key == (pk,) and pk not in cols:
            continue  # a new row's id comes from the sequence: it never conflicts
        if all(c in cols for c in key):
            return key
    if keys:
        return keys[0]
    raise ValueError(f"INSERT OR REPLACE into {table}, which has no unique key")
