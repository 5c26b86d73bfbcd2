"""Reading a large batch on the second core while the first applies it.

A full snapshot of a 100k-household township is 446,669 JSON lines.  Parsing them,
hashing them and binding their 12 M values into SQLite took about 10 s of a 24 s import,
all of it on the one core that then writes them.  For a batch above :data:`STAGE_MIN`
records, :func:`start` hands the batch's (already verified) zip to a worker *process*,
which, table by table in the order the importer applies them,

* inflates each records file and checks it against the signed manifest's SHA-256,
* parses and checks every line exactly as :func:`mzdesk.sync.batch.parse_lines` does
  (the same function: the same refusals, naming the same line),
* writes the records, :data:`CHUNK` at a time, into a small in-memory SQLite database:
  one row per line with its uid, operation and content hash, and, for an upsert that
  carries every column, the row as it would be inserted (parents still as uids) —
  :meth:`mzdesk.sync.changelog.TableCodec.insert_row`, the in-process fast path's own
  code —,
* and sends that database's bytes (``sqlite3`` serialize) through a pipe.

The importer deserializes each chunk into an attached in-memory schema (allowed inside
its transaction, unlike ATTACH) and moves the new records from there with one
``INSERT … SELECT`` while the worker reads the next chunk; records that need a decision
(already here, a parent missing, an ID number in use, a tombstone) go through the
ordinary merge afterwards.  Nothing of the batch is written to disk in clear on its way
in: the pipe and the two processes' memory only (the importer's temp data, the bulk
moves' journals, goes to a temp file only for a database in clear, which holds the same
records in clear: ``sync.common.temp_on_disk``).  The worker imports no Qt, and is
started with ``spawn`` (a GUI process must not ``fork``).
"""

from __future__ import annotations

import io
import multiprocessing
import sqlite3
import traceback
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from ..models.errors import MzError
from .batch import (
    INVALID,
    UNREADABLE,
    BatchRefused,
    bad_value,
    parse_lines,
    read_member,
    refusal,
    sha256,
    split_lines,
    tampered,
)
from .changelog import BadValue, TableCodec, canonical, content_hash

STAGE_MIN = 50_000  # records: below this a batch is read in-process (starting a process: ~0.15 s)
CHUNK = 40_000  # records per chunk: small enough to overlap, large enough to amortise

# the staged table, per chunk: line number (1-based, in its file), uid, op, content hash,
# ``ready`` (1: an upsert with every column, c0… hold its insert row), the insert row
STAGE_HEAD = ("line", "uid", "op", "hash", "ready")


@dataclass(frozen=True)
class Plan:
    """What the worker needs to know of one local table (picklable: plain values)."""

    table: str
    columns: tuple[str, ...]
    fks: tuple[tuple[str, str], ...]
    blobs: tuple[str, ...]
    has_status: bool
    # the wire names of each UNIQUE key but the uid: a line whose key an earlier line of the
    # file holds is left to the merge, which decides between them in file order
    keys: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, codec: TableCodec, keys: Sequence[Sequence[str]] = ()) -> Plan:
        wire = {c: codec.wire_name(c) if c in codec.fks else c for c in codec.columns}
        return cls(
            codec.table,
            tuple(codec.columns),
            tuple(codec.fks.items()),
            tuple(sorted(codec.blobs)),
            codec.has_status,
            tuple(tuple(wire[c] for c in key) for key in keys),
        )

    def codec(self) -> TableCodec:
        return TableCodec(
            self.table, list(self.columns), dict(self.fks), set(self.blobs), self.has_status
        )


def stage_sql(n: int) -> str:
    """The chunk table ``s`` for a table of ``n`` insert columns (its rowid: the line)."""
    head = ["line INTEGER PRIMARY KEY", *STAGE_HEAD[1:]]
    return f"CREATE TABLE s ({', '.join([*head, *(f'c{i}' for i in range(n))])})"


def _key(row: dict | None, wires: tuple[str, ...]):
    """A UNIQUE key's value in a row as it travels; None when any part is NULL (or no row)."""
    if row is None:
        return None
    if len(wires) == 1:
        return row.get(wires[0])
    key = tuple(map(row.get, wires))
    return None if None in key else key


def _claimed(recs, held: list[tuple[tuple[str, ...], set]]) -> set[int]:
    """Positions in ``recs`` whose key an earlier line of the file (or of ``recs``) holds;
    ``held`` grows by the keys of ``recs``.  In bulk: collisions are rare, and a check per
    line cost 0.45 s for the 280k members of a 100k township."""
    out: set[int] = set()
    for wires, values in held:
        keys = [_key(r.row, wires) for r in recs]
        fresh = set(keys)
        fresh.discard(None)
        if len(fresh) == len(keys) - keys.count(None) and values.isdisjoint(fresh):
            values |= fresh
            continue
        for i, key in enumerate(keys):  # someone claims a key twice: find who, line by line
            if key is None:
                continue
            if key in values:
                out.add(i)
            else:
                values.add(key)
    return out


def _chunk_db(
    codec: TableCodec, recs, first: int, held: list[tuple[tuple[str, ...], set]]
) -> bytes:
    """One chunk of records as a serialized SQLite database (table ``s``).  ``held``: each
    UNIQUE key's wire names and the values the file's earlier lines gave it."""
    n = len(codec.insert_columns())
    blank = (None,) * n
    rows = []
    insert_row = codec.insert_row
    claimed = _claimed(recs, held)
    for i, rec in enumerate(recs):
        line = first + i
        if rec.op != "upsert":
            rows.append((line, rec.uid, rec.op, None, 0, *blank))
            continue
        h = rec.hash or content_hash(canonical(rec.row))
        row = None if i in claimed else insert_row(rec.row, rec.meta, rec.uid, None)
        if row is None:
            rows.append((line, rec.uid, rec.op, h, 0, *blank))
        else:
            rows.append((line, rec.uid, rec.op, h, 1, *row))
    db = sqlite3.connect(":memory:")
    try:
        db.execute(stage_sql(n))
        db.executemany(f"INSERT INTO s VALUES ({', '.join('?' * (len(STAGE_HEAD) + n))})", rows)
        db.commit()
        return db.serialize()
    finally:
        db.close()


def _work(
    conn,
    plain: bytes,
    files: list[tuple[str, str]],
    plans: dict[str, Plan],
    chunk: int,
    text_rule: bool = True,
) -> None:
    """The worker: every records file in ``files`` order (name, expected SHA-256); chunks of
    the tables in ``plans``, the others only checked.  Messages: ("chunk", table, first line,
    bytes), ("table", table, records), ("done",), ("refused", code, message), ("failed", text)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(plain))
        for name, digest in files:
            table = name.removeprefix("records/").removesuffix(".jsonl")
            plan = plans.get(table)
            codec = plan.codec() if plan else None
            held: list[tuple[tuple[str, ...], set]] = [
                (wires, set()) for wires in (plan.keys if plan else ())
            ]
            seen: set[str] = set()
            try:  # reading and checking the file: what goes wrong here is the batch's fault
                data = read_member(z, name)
                if sha256(data) != digest:
                    raise tampered(name)
                lines = split_lines(data)
                del data
            except BatchRefused as exc:
                conn.send(("refused", exc.code, exc.message))
                return
            except UNREADABLE + INVALID as exc:
                refused = refusal(exc)
                conn.send(("refused", refused.code, refused.message))
                return
            for at in range(0, len(lines), chunk):
                try:
                    recs = parse_lines(name, lines[at : at + chunk], at + 1, seen, text_rule)
                except UNREADABLE + INVALID as exc:
                    refused = refusal(exc)
                    conn.send(("refused", refused.code, refused.message))
                    return
                if codec is not None:
                    try:
                        image = _chunk_db(codec, recs, at + 1, held)
                    except BadValue as exc:
                        refused = bad_value(name, exc)
                        conn.send(("refused", refused.code, refused.message))
                        return
                    conn.send(("chunk", table, at + 1, image))
            if codec is not None:
                conn.send(("table", table, len(lines)))
        conn.send(("done",))
    except Exception:  # noqa: BLE001 - a fault of this code, not of the batch: reported as such
        conn.send(("failed", traceback.format_exc(limit=5)))
    finally:
        conn.close()


def _main(conn) -> None:
    """The worker process's entry: the batch comes through the pipe, not as an argument."""
    try:
        files, plans, chunk, text_rule = conn.recv()
        plain = conn.recv_bytes()
    except EOFError:
        return
    _work(conn, plain, files, plans, chunk, text_rule)


class WorkerFailed(MzError):
    """The worker process died or failed: nothing of the batch was applied."""

    code = "reader_failed"


class Reader:
    """The importer's side: chunks in the order the worker sends them."""

    def __init__(
        self,
        plain: bytes,
        files: list[tuple[str, str]],
        plans: dict[str, Plan],
        text_rule: bool = True,
    ):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_main, args=(child,), name="mzdesk-batch-reader", daemon=True
        )
        self._proc.start()
        child.close()
        self._ended = False
        try:
            self._conn.send((files, plans, CHUNK, text_rule))
            self._conn.send_bytes(plain)
        except OSError:
            self.close()
            raise WorkerFailed("读取批次的进程意外退出（未能接收批次）") from None

    def next(self, poll=None):
        """The next message; ``poll()`` is called while waiting (it may raise: a cancel)."""
        while not self._conn.poll(0.05):
            if poll is not None:
                poll()
            if not self._proc.is_alive() and not self._conn.poll(0):
                raise WorkerFailed(f"读取批次的进程意外退出（退出码 {self._proc.exitcode}）")
        try:
            msg = self._conn.recv()
        except (EOFError, OSError):
            raise WorkerFailed("读取批次的进程意外退出") from None
        if msg[0] == "refused":
            self._ended = True
            raise BatchRefused(msg[2], msg[1])
        if msg[0] == "failed":
            self._ended = True
            raise WorkerFailed(f"读取批次时出错：\n{msg[1]}")
        if msg[0] == "done":
            self._ended = True
        return msg

    def close(self) -> None:
        if self._proc.is_alive() and not self._ended:
            self._proc.terminate()
        self._proc.join(5)
        self._conn.close()
