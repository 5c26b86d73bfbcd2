"""The batch file (同步批次文件), format version 1 — see docs/batch-format.md.

A batch is an age file (X25519 recipients: the destination and the sender
itself) whose plaintext is a zip of

* ``manifest.json`` — format and schema version, sender, recipient, sequence,
  hash of the previous batch to that recipient, acknowledgement, created
  time, counts per table and the SHA-256 of every records file;
* ``records/<table>.jsonl`` — one change per line;
* ``signature.json`` — the sender's Ed25519 signature over ``manifest.json``.

:func:`open_batch` runs every check that needs no database write and raises
:class:`BatchRefused` with a Chinese message and a machine code otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import pyrage

from ..models.errors import MzError
from ..models.migrations import TEXT_RULE_VERSION
from ..models.text import FORBIDDEN
from .changelog import content_hashes
from .checkpoints import check_manifest_field as check_checkpoints
from .key_history import signing_key
from .keys import PublicKey, SiteKeys, b64, unb64

FORMAT = "mzdesk-batch"
FORMAT_VERSION = 1
AGE_MAGIC = b"age-encryption.org/v1\n"
MAX_PLAINTEXT_FILES = 200
# Limits checked before anything is inflated.  Anyone holding a site's PUBLIC key can encrypt
# a file to it, so everything before the signature check is hostile input: only the manifest
# and the signature are read then, each capped.  Records files are read after the signature
# and each checked against the signed manifest's SHA-256; their caps are sanity bounds (a
# full snapshot of a 100k-household township is a 44 MB file whose largest records file,
# members, is ≈ 240 MB inflated).
MAX_BATCH_BYTES = 1 << 30  # the age file (its plaintext is never larger)
MAX_MANIFEST_BYTES = 1 << 20  # a 100k township's manifest is ≈ 2 KB
MAX_SIGNATURE_BYTES = 64 << 10
MAX_RECORDS_FILE_BYTES = 2 << 30  # one records file, inflated
MAX_RECORDS_BYTES = 4 << 30  # all of them


class BatchRefused(MzError):
    """A batch that is not applied; the database is untouched."""

    code = "batch_refused"


@dataclass(slots=True)
class Record:
    uid: str
    op: str  # 'upsert' | 'delete'
    meta: dict
    row: dict | None
    # content hash of the row's JSON text as written (changelog.content_hash)
    hash: str | None = None


@dataclass
class Batch:
    manifest: dict
    records: dict[str, list[Record]]  # table -> records, in file order
    sha256: str  # of the encrypted file: what the next batch's previous_sha256 names
    # the zip, when its records files were left for mzdesk.sync.staging to read (and check)
    plain: bytes | None = None
    # the sender's new key and the rotation certificates that vouch for it (key_history),
    # when the batch is signed with a key newer than the one trusted here
    rekey: tuple[PublicKey, list[dict]] | None = None

    @property
    def count(self) -> int:
        """Records in the batch (as the signed manifest counts them, before they are read)."""
        if self.plain is None:
            return sum(len(v) for v in self.records.values())
        return sum(int(n) for n in self.manifest.get("counts", {}).values())

    @property
    def sender(self) -> str:
        return self.manifest["sender"]["code"]

    @property
    def sequence(self) -> int:
        return self.manifest["sequence"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_head(uid: str, meta: dict | str) -> str:
    """An upsert record up to its row: ``record_head(…) + content JSON + "}\\n"`` is the line
    (:func:`record_line`).  ``meta`` is a dict, or JSON already."""
    head = (
        f'{{"uid": "{uid}", "op": "upsert"'
        if uid.isalnum() and uid.isascii()
        else json.dumps({"uid": uid, "op": "upsert"}, ensure_ascii=False)[:-1]
    )
    meta_json = (
        meta
        if isinstance(meta, str)
        else json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    )
    return f'{head}, "meta": {meta_json}, "row": '


def record_line(uid: str, op: str, meta: dict | str | None, content_json: str | None) -> str:
    """One JSON Lines record; ``content_json`` (and ``meta`` when a str) is JSON already.
    The row is the last key: a reader hashes the row's bytes as written (``_ROW_KEY``)."""
    if op == "delete":
        return json.dumps({"uid": uid, "op": "delete"}, ensure_ascii=False) + "\n"
    return f"{record_head(uid, meta or {})}{content_json}}}\n"


class BatchWriter:
    """Writes a batch while its records are still being read: each records file is
    encoded, hashed and deflated on a worker thread (zlib and SHA-256 release the GIL, and
    SQLite releases it while it steps), then :meth:`finish` adds the signed manifest and
    encrypts.  The zip holds ``records/*.jsonl`` first, ``manifest.json`` and
    ``signature.json`` last; readers go by name."""

    def __init__(self) -> None:
        self._buf = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._files: dict[str, dict] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mzdesk-batch")
        self._jobs: list[Future] = []

    def add(self, table: str, parts: list[bytes], records: int) -> None:
        """Queue ``records/<table>.jsonl``: ``parts`` joined are its ``records`` lines (UTF-8)."""
        self._jobs.append(self._pool.submit(self._write, table, parts, records))

    def _write(self, table: str, parts: list[bytes], records: int) -> None:
        data = b"".join(parts)
        name = f"records/{table}.jsonl"
        self._files[name] = {"sha256": sha256(data), "records": records}
        self._zip.writestr(name, data)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def discard(self) -> None:
        """Give up the batch (an export refused or cancelled): the thread and the zip closed,
        so nothing is left for the garbage collector to complain about."""
        self.close()
        self._zip.close()

    def finish(self, manifest: dict, keys: SiteKeys, recipient: PublicKey) -> bytes:
        """Sign the manifest, close the zip and encrypt for the recipient and the sender."""
        try:
            for job in self._jobs:
                job.result()  # re-raises a failure of the worker here
        finally:
            self.close()
        manifest = dict(
            manifest,
            format=FORMAT,
            format_version=FORMAT_VERSION,
            files=dict(sorted(self._files.items())),
        )
        if keys.rotations:  # how a peer that trusts an old key of ours reaches this one
            manifest["key_rotations"] = keys.rotations
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        signature = {
            "algorithm": "Ed25519",
            "signer": keys.site.code,
            "fingerprint": keys.public.fingerprint,
            "signed_file": "manifest.json",
            "signature": b64(keys.sign(manifest_bytes)),
        }
        self._zip.writestr("manifest.json", manifest_bytes)
        self._zip.writestr("signature.json", json.dumps(signature, indent=1))
        self._zip.close()
        recipients = [
            pyrage.x25519.Recipient.from_str(recipient.age_recipient),
            keys.identity.to_public(),
        ]
        return pyrage.encrypt(self._buf.getvalue(), recipients)


def _refuse(code: str, message: str) -> BatchRefused:
    return BatchRefused(message, code)


def too_large(what: str) -> BatchRefused:
    return _refuse("too_large", f"不是有效的同步批次（{what}），拒绝读取")


def read_batch_file(path) -> bytes:
    """The bytes of a batch file, refused (``too_large``) before reading when it is larger
    than any batch can be."""
    from pathlib import Path

    size = Path(path).stat().st_size
    if size > MAX_BATCH_BYTES:
        raise too_large(
            f"文件有 {size / (1 << 20):,.0f} MB，超过 {MAX_BATCH_BYTES >> 20} MB 的上限"
        )
    return Path(path).read_bytes()


def decrypt(data: bytes, keys: SiteKeys) -> bytes:
    if len(data) > MAX_BATCH_BYTES:
        raise too_large(
            f"文件有 {len(data) / (1 << 20):,.0f} MB，超过 {MAX_BATCH_BYTES >> 20} MB 的上限"
        )
    if not data.startswith(AGE_MAGIC):
        raise _refuse("not_a_batch", "不是同步批次文件（不是age加密文件）")
    try:
        return pyrage.decrypt(data, keys.identities)  # old keys: batches sent before a rotation
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            raise _refuse(
                "wrong_recipient", "本站无法解密此文件：它不是发给本站的（或文件头已损坏）"
            ) from None
        raise _refuse("damaged", f"批次文件已损坏或被截断，无法解密（{exc}）") from None


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a JSON Lines file, split on ``\\n`` only: JSON escapes every control
    character inside strings, but not U+2028, U+2029 or U+0085, which ``str.splitlines``
    would also split on (text pasted from a word processor carries them)."""
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.split(b"\n") if data else []


_ROW_KEY = b', "row": '
_ROW_SKIP = len(_ROW_KEY)


def _parse_records(name: str, data: bytes, text_rule: bool = True) -> list[Record]:
    """Parse one ``records/<table>.jsonl``; ValueError (naming the line) on a bad record."""
    return parse_lines(name, split_lines(data), text_rule=text_rule)


def text_rule_applies(manifest: dict) -> bool:
    """Whether the sender applied the text rule (models/text.py): its schema is
    ``TEXT_RULE_VERSION`` or later.  An older sender's text is taken as it comes (refusing
    it would stop its batches for good: a refused sequence number is never sent again
    differently); its own upgrade cleans its records and sends them again as edits."""
    v = manifest.get("schema_version")
    return isinstance(v, int) and not isinstance(v, bool) and v >= TEXT_RULE_VERSION


def parse_lines(
    name: str,
    lines: list[bytes],
    first: int = 1,
    seen: set[str] | None = None,
    text_rule: bool = True,
) -> list[Record]:
    """Records of ``lines`` of ``name`` (``first``: the number of the first one, for errors);
    ValueError naming the line on a bad record, or on a uid already seen in the file
    (``seen``: the uids of the file's earlier lines, when it is read in parts): a sender
    writes each record once, and which of two copies wins is not for the importer to guess.
    ``text_rule``: refuse a line whose text holds a forbidden character (:class:`DirtyText`;
    see :func:`text_rule_applies`)."""
    out: list[Record] = []
    uids: list[str] = []
    rows: list[bytes] = []  # the row of each upsert as written: its hash is what this site
    hashed: list[Record] = []  # compares with later (no re-encoding of the parsed row)
    loads, new, put = orjson.loads, Record, out.append
    # one scan of the whole part for anything that may encode a forbidden character; only
    # then the lines one by one (models/text.py: refused, not cleaned, see _dirty)
    suspect = text_rule and _any_suspect(lines)
    for n, line in enumerate(lines, first):
        try:
            d = loads(line)
            uid, op = d["uid"], d["op"]
            row = d.get("row")
            meta = d.get("meta") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{name} 第 {n} 行不是有效的记录（{exc}）") from None
        if (
            uid.__class__ is not str
            or meta.__class__ is not dict
            or (row.__class__ is not dict if op == "upsert" else op != "delete")
        ) and not _valid(uid, op, row, meta):
            raise ValueError(f"{name} 第 {n} 行不是有效的记录")
        if suspect and op == "upsert" and _SUSPECT.search(line):
            _dirty(name, n, row)
        uids.append(uid)
        rec = new(uid, op, meta, row)
        put(rec)
        if op == "upsert":
            _keep_row(line, rec, rows, hashed)
    _check_unique(name, uids, first, seen)
    for rec, h in zip(hashed, content_hashes(rows), strict=True):
        rec.hash = h
    return out


def _keep_row(line: bytes, rec: Record, rows: list[bytes], hashed: list[Record]) -> None:
    """Keep the row of an upsert as written (its hash is what this site compares with
    later), when it is where record_line writes it: the value of the last key."""
    at = line.rfind(_ROW_KEY)
    if at > 0 and line.endswith(b"}"):
        rows.append(line[at + _ROW_SKIP : -1])
        hashed.append(rec)


def _any_suspect(lines: list[bytes]) -> bool:
    """Whether any of ``lines`` may encode a forbidden character (one scan of them all)."""
    return _SUSPECT.search(b"\n".join(lines)) is not None


def _check_unique(name: str, uids: list[str], first: int, seen: set[str] | None) -> None:
    """ValueError naming the first line whose uid came before (in ``uids`` or ``seen``);
    then ``seen`` (if given) takes in ``uids``."""
    fresh = set(uids)  # checked in bulk: one check per line cost 0.3 s at 446k records
    if len(fresh) != len(uids) or (seen and not seen.isdisjoint(fresh)):
        raise ValueError(_repeated(name, uids, first, seen or set()))
    if seen is not None:
        seen |= fresh


# what may encode a character of ``text.FORBIDDEN`` in a line as orjson writes it: a ``\u``,
# ``\b`` or ``\f`` escape, or the UTF-8 of a C1 control, U+061C, U+200B–U+200F,
# U+202A–U+202E, U+2060–U+2069, U+FEFF or U+FFF9–U+FFFF (a superset: _dirty decides)
_SUSPECT = re.compile(
    rb"\\[ubf]|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa0-\xa9]"
    rb"|\xef\xbb\xbf|\xef\xbf[\xb9-\xbf]"
)


class DirtyText(ValueError):
    """A batch line whose text holds a character no field may hold (models/text.py)."""


def check_outgoing(table: str, contents: list[bytes]) -> None:
    """The sender's side of the rule: rows (content JSON, UTF-8) about to go into a batch
    must hold no forbidden character, or the receiver would refuse the batch.  Raised
    before the batch takes its sequence number, so nothing is lost: the clerk corrects the
    record (``mzdesk check`` names it) and exports again."""
    step = 4096
    for at in range(0, len(contents), step):
        part = contents[at : at + step]
        if _SUSPECT.search(b"".join(part)) is None:
            continue
        for content in part:
            if not _SUSPECT.search(content):
                continue
            for col, value in orjson.loads(content).items():
                if value.__class__ is str and FORBIDDEN.search(value):
                    raise MzError(
                        f"{table} 表中有记录的“{col}”含控制字符或不可见字符，未生成批次。"
                        "请先运行 mzdesk check 查看位置并改正，再导出",
                        "dirty_text",
                    )


def _dirty(name: str, n: int, row: dict) -> None:
    """Refuse line ``n`` when a text of its row holds a forbidden character.

    Refused rather than cleaned: this version never sends one, and cleaning here would
    leave the two sites holding different text.  A sender on an older version cleans
    its own data when it upgrades (migration 14) and sends the cleaned rows again.
    The message names the column and the character, never the text itself.
    """
    for col, value in row.items():
        if value.__class__ is str:
            found = FORBIDDEN.search(value)
            if found:
                raise DirtyText(
                    f"{name} 第 {n} 行的“{col}”含控制字符或不可见字符"
                    f"（U+{ord(found.group()):04X}），拒绝导入。请发送站点升级 mzdesk"
                    "（升级时会清理这些字符）后重新导出批次"
                )


def _repeated(name: str, uids: list[str], first: int, before: set[str]) -> str:
    """The message naming the first line of ``uids`` whose uid came before, in these lines
    or in ``before`` (the file's earlier lines)."""
    here: set[str] = set()
    for n, uid in enumerate(uids, first):
        if uid in here or uid in before:
            return f"{name} 第 {n} 行：记录 {uid} 在本文件中重复出现"
        here.add(uid)
    return f"{name}：有记录在本文件中重复出现"


def _valid(uid, op, row, meta) -> bool:
    """The shape of a record, subclasses allowed (the fast check above takes exact types)."""
    return (
        isinstance(uid, str)
        and op in ("upsert", "delete")
        and (op == "delete" or isinstance(row, dict))
        and isinstance(meta, dict)
    )


# what reading a damaged or malformed batch raises: unreadable content, or content not shaped
# like a batch (a record's ValueError names its file and line)
UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    json.JSONDecodeError,
    orjson.JSONDecodeError,
    UnicodeDecodeError,
    NotImplementedError,
    RecursionError,
)
INVALID = (KeyError, TypeError, ValueError, AttributeError, EOFError, OSError)


def tampered(name: str) -> BatchRefused:
    """A records file whose SHA-256 is not the one the signed manifest gives."""
    return _refuse("bad_signature", f"{name} 与签名的清单不符，文件被改动过")


def bad_value(name: str, exc: Exception) -> BatchRefused:
    """A row of ``name`` with a value its column cannot hold (changelog.BadValue)."""
    return _refuse("not_a_batch", f"不是有效的同步批次（{name}: {exc}）")


def refusal(exc: Exception) -> BatchRefused:
    """The ``not_a_batch`` refusal for an error raised while reading a batch's content (one of
    ``UNREADABLE`` or ``INVALID``): by :func:`open_batch`, and by the worker process that
    reads a large batch's records (mzdesk.sync.staging)."""
    if isinstance(exc, DirtyText):
        return _refuse("dirty_text", str(exc))
    if isinstance(exc, UNREADABLE):
        return _refuse("not_a_batch", f"不是同步批次文件（内容无法读取: {exc}）")
    return _refuse("not_a_batch", f"不是有效的同步批次（{type(exc).__name__}: {exc}）")


def check_sizes(z: zipfile.ZipFile) -> None:
    """Refuse (``too_large``) a zip whose members declare more than a batch can hold, before
    any is inflated.  Reading never goes past a declared size (zipfile stops there and checks
    the CRC), so a header that lies makes the batch unreadable, not large."""
    infos = z.infolist()
    if len(infos) > MAX_PLAINTEXT_FILES:
        raise too_large(f"压缩包内有 {len(infos):,} 个文件，超过 {MAX_PLAINTEXT_FILES} 的上限")
    caps = {"manifest.json": MAX_MANIFEST_BYTES, "signature.json": MAX_SIGNATURE_BYTES}
    total = 0
    for info in infos:
        cap = caps.get(info.filename, MAX_RECORDS_FILE_BYTES)
        total += info.file_size
        if info.file_size > cap or total > MAX_RECORDS_BYTES:
            raise too_large(
                f"{info.filename[:60]} 解压后 {info.file_size / (1 << 20):,.1f} MB，"
                f"超过上限 {cap / (1 << 20):,.1f} MB"
            )


def read_member(z: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes, inflating no more than its declared size (bounded by
    :func:`check_sizes`).  ``ZipFile.read`` inflates up to 2 GiB in one call before cutting
    to the declared size: a member whose header says 1,000 bytes made it take 2 GB.  Read
    to exactly the declared size, zipfile checks the CRC (a lie is ``BadZipFile``)."""
    info = z.getinfo(name)
    with z.open(info) as f:
        return f.read(info.file_size)


def _strict_int(value, least: int) -> bool:
    """An int of JSON (not a bool, a float or a string of digits) of at least ``least``."""
    return value.__class__ is int and value >= least


def _field(name: str, value, want: str) -> BatchRefused:
    shown = json.dumps(value, ensure_ascii=False)[:40]
    return _refuse("bad_manifest", f"批次清单的字段 {name} 无效：{shown}（应为{want}），拒绝导入")


def check_fields(manifest: dict) -> None:
    """The signed manifest's fields have the types this version reads (``bad_manifest``):
    ``"sequence": "1"`` or ``true`` would compare as text or as 1 further on."""
    if not _strict_int(manifest.get("sequence"), 1):
        raise _field("sequence", manifest.get("sequence"), "正整数")
    if not _strict_int(manifest.get("schema_version"), 1):
        raise _field("schema_version", manifest.get("schema_version"), "正整数")
    if not isinstance(manifest.get("previous_sha256", ""), str):
        raise _field("previous_sha256", manifest.get("previous_sha256"), "文本")
    ack = manifest.get("ack")
    if ack is not None and not (
        isinstance(ack, dict)
        and (ack.get("sequence") is None or _strict_int(ack.get("sequence"), 0))
    ):
        raise _field(
            "ack.sequence", ack.get("sequence") if isinstance(ack, dict) else ack, "非负整数"
        )


def _vouched(manifest: dict, manifest_bytes: bytes, signature, trusted) -> str | None:
    """The sender of a batch in a newer format, if it is still signed the way this version
    signs, by a trusted key not revoked: so that "upgrade mzdesk" is never said on the word
    of an unsigned manifest."""
    try:
        sender = manifest["sender"]["code"]
        site = trusted(sender)
        ok = (
            site is not None
            and not site.revoked
            and signature.get("algorithm") == "Ed25519"
            and signature.get("signer") == sender
            and signature.get("fingerprint") == site.key.fingerprint
            and site.key.verify(unb64(signature["signature"]), manifest_bytes)
        )
    except Exception:  # noqa: BLE001 - anything unexpected in a file we cannot read: not vouched
        return None
    return sender if ok else None


def _read_signed(z: zipfile.ZipFile) -> tuple[bytes, dict, dict]:
    """The manifest's bytes, the signature and the manifest of an opened batch zip."""
    names = set(z.namelist())
    if "manifest.json" not in names or "signature.json" not in names:
        raise _refuse("not_a_batch", "不是同步批次文件（缺少 manifest.json 或 signature.json）")
    check_sizes(z)  # before anything is inflated: the signature is not checked yet
    manifest_bytes = read_member(z, "manifest.json")
    signature = json.loads(read_member(z, "signature.json"))
    manifest = json.loads(manifest_bytes)
    return manifest_bytes, signature, manifest


def _check_format(manifest, manifest_bytes: bytes, signature, trusted) -> None:
    """The manifest is a batch's, in a format version this version reads."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse("not_a_batch", "不是同步批次文件（manifest 格式不符）")
    version = manifest.get("format_version")
    if version is None:
        raise _refuse("not_a_batch", "不是同步批次文件（没有格式版本）")
    if not _strict_int(version, 1):  # 0, -1, true, "1", 1.0: not a version this reads
        raise _refuse(
            "bad_format_version",
            f"批次格式版本 {json.dumps(version, ensure_ascii=False)[:20]} 无效"
            f"（本程序读取版本 1–{FORMAT_VERSION}），拒绝导入",
        )
    if version > FORMAT_VERSION:  # its checks may differ from ours: say what is known
        who = _vouched(manifest, manifest_bytes, signature, trusted)
        if who:
            advice = f"（站点 {who} 签发，签名有效），请升级mzdesk"
        else:
            advice = "，且无法核验其签名：确认是可信站点发来的之后，再升级mzdesk导入"
        raise _refuse(
            "newer_format",
            f"批次格式版本 {version} 比本程序支持的 {FORMAT_VERSION} 新" + advice,
        )


def _check_sender(manifest: dict, manifest_bytes: bytes, signature, trusted, own_code: str):
    """The batch is for us, from a trusted site not revoked, signed with its key (or a newer
    key the trusted one vouches for: returned with its certificates, else None)."""
    recipient, sender = manifest["recipient"]["code"], manifest["sender"]["code"]
    if not isinstance(recipient, str) or not isinstance(sender, str):
        raise _refuse("not_a_batch", "不是同步批次文件（清单中的站点代码不是文本）")
    if recipient != own_code:
        raise _refuse("wrong_recipient", f"此批次是发给站点 {recipient} 的，不是本站（{own_code}）")
    site = trusted(sender)
    if site is None:
        raise _refuse("unknown_sender", f"发送站点 {sender} 不在信任列表中，拒绝导入")
    if site.revoked:
        raise _refuse("revoked_key", f"站点 {sender} 的密钥已于 {site.revoked_at} 吊销，拒绝导入")
    signer = signing_key(site.key, signature, manifest)  # the trusted key, or its successor
    if (
        signature.get("algorithm") != "Ed25519"
        or signature.get("signer") != sender
        or signature.get("signed_file") != "manifest.json"
        or signer is None
        or not signer[0].verify(unb64(signature["signature"]), manifest_bytes)
    ):
        raise _refuse("bad_signature", f"签名无效：此批次不是站点 {sender} 用其登记的密钥签发的")
    return signer if signer[1] else None


def _check_schema(manifest: dict, schema_version: int) -> None:
    """The batch's database version is not newer than ours."""
    if manifest["schema_version"] > schema_version:
        raise _refuse(
            "newer_schema",
            f"批次的数据库版本 {manifest['schema_version']} 比本站 {schema_version} 新，请先升级mzdesk",
        )


def _uid_list(v) -> bool:
    return isinstance(v, list) and all(isinstance(u, str) for u in v)


def _check_optional(manifest: dict) -> None:
    """The optional fields (households leaving a field laptop, records the peer held back)
    are well formed (ValueError, refused as ``not_a_batch``)."""
    for key in ("withdraw", "withdrawn"):
        v = manifest.get(key)
        if v is not None and not (isinstance(v, dict) and _uid_list(v.get("households"))):
            raise ValueError(f"manifest field {key} is malformed")
    check_checkpoints(manifest.get("audit_checkpoints"))
    held = (manifest.get("ack") or {}).get("held")
    if held is not None and not (
        isinstance(held, dict) and all(_uid_list(u) for u in held.values())
    ):
        raise ValueError("manifest field ack.held is malformed")


def _files_and_counts(manifest: dict) -> tuple[dict, dict]:
    """The manifest's ``files`` and ``counts``, checked (ValueError when malformed)."""
    files = manifest["files"]
    if not isinstance(files, dict) or not all(
        isinstance(n, str) and isinstance(i, dict) and isinstance(i.get("sha256"), str)
        for n, i in files.items()
    ):
        raise ValueError("manifest field files is malformed")
    counts = manifest.get("counts", {})
    if not isinstance(counts, dict) or not all(_strict_int(n, 0) for n in counts.values()):
        raise ValueError("manifest field counts is malformed")
    return files, counts


def _read_files(z: zipfile.ZipFile, manifest: dict, files: dict, step) -> dict[str, list[Record]]:
    """Each records file, checked against its signed hash and parsed."""
    records: dict[str, list[Record]] = {}
    total = sum(z.getinfo(name).file_size for name in files)
    done = 0
    for name, info in files.items():
        data_file = read_member(z, name)
        if sha256(data_file) != info["sha256"]:
            raise tampered(name)
        table = name.removeprefix("records/").removesuffix(".jsonl")
        records[table] = _parse_records(name, data_file, text_rule_applies(manifest))
        done += len(data_file)
        if step is not None:
            step(done, total)
    return records


def open_batch(
    data: bytes,
    keys: SiteKeys,
    trusted,
    own_code: str,
    schema_version: int,
    step=None,
    read_up_to: int | None = None,
) -> Batch:
    """Decrypt and verify a batch; ``trusted(code)`` returns a TrustedSite or None.

    Checks, in order: age file, decryptable by us, a zip with manifest and
    signature, known format, sender in the trust list and not revoked, valid
    signature, file hashes, recipient is us, schema not newer than ours.
    Sequence checks need the database and are done by the importer.  ``step(done, total)``,
    if given, is called after each records file is parsed (in bytes of the records files);
    it may raise (a cancel) to stop there.

    ``read_up_to``: when the manifest counts more records than this, the records files are
    neither read nor checked here: the batch comes back with its zip (``plain``) for
    :mod:`mzdesk.sync.staging`, which checks each file against the signed manifest as it
    reads it (and refuses the batch the same way).
    """
    plain = decrypt(data, keys)
    try:
        z = zipfile.ZipFile(io.BytesIO(plain))
        manifest_bytes, signature, manifest = _read_signed(z)
        _check_format(manifest, manifest_bytes, signature, trusted)
        rekey = _check_sender(manifest, manifest_bytes, signature, trusted, own_code)
        check_fields(manifest)
        _check_schema(manifest, schema_version)
        _check_optional(manifest)
        files, counts = _files_and_counts(manifest)
        if read_up_to is not None and sum(counts.values()) > read_up_to:
            for name in files:
                z.getinfo(name)  # KeyError: a file the manifest names is missing
            return Batch(manifest, {}, sha256(data), plain, rekey)
        records = _read_files(z, manifest, files, step)
    except BatchRefused:
        raise
    except UNREADABLE + INVALID as exc:
        raise refusal(exc) from None
    return Batch(manifest, records, sha256(data), rekey=rekey)


def read_records(data: bytes, keys: SiteKeys) -> dict[str, dict[str, dict]]:
    """Rows of a batch this site stored itself (sent or applied): table -> uid -> row.

    No checks beyond decryption: the bytes come from this site's own database,
    where they were verified (or written) before.
    """
    z = zipfile.ZipFile(io.BytesIO(pyrage.decrypt(data, keys.identities)))
    out: dict[str, dict[str, dict]] = {}
    for name in z.namelist():
        if name.startswith("records/") and name.endswith(".jsonl"):
            table = name.removeprefix("records/").removesuffix(".jsonl")
            rows = out.setdefault(table, {})
            for line in split_lines(z.read(name)):
                d = orjson.loads(line)
                if d.get("op") == "upsert":
                    rows[d["uid"]] = d["row"]
    return out
