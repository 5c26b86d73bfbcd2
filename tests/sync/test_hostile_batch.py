"""Hostile batches are refused before anything large is inflated (issue 18, items 3 and 7).

Anyone holding the county's PUBLIC key can encrypt a file to it.  Such a file of 1 MB whose
manifest inflates to 1 GiB took 3.2 GB of memory before any signature was checked.  And a
properly signed manifest (a trusted sender's bug) with ``"sequence": "1"`` or
``"format_version": true`` must be refused by its field check, not read as 1.
"""

from __future__ import annotations

import io
import json
import zipfile

import pyrage
import pytest

from mzdesk.sync import batch as batch_mod
from mzdesk.sync.apply import import_batch
from mzdesk.sync.batch import BatchRefused
from tests.measure import PEAK_LIMIT_MB, dump_hash, mzdesk

from .sites import fingerprint, township_county

GIB = 1 << 30


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    t, c = township_county(tmp_path_factory.mktemp("hostile"), 3, seed=4)
    yield t, c
    t.store.close()
    c.store.close()


def refused(site, data: bytes, code: str) -> str:
    before = fingerprint(site.store)
    with pytest.raises(BatchRefused) as e:
        import_batch(site.store, site.keys, data)
    assert e.value.code == code, e.value.message
    assert fingerprint(site.store) == before
    return e.value.message


def to(site, plain: bytes) -> bytes:
    """What anyone with the site's public key can make."""
    return pyrage.encrypt(plain, [pyrage.x25519.Recipient.from_str(site.keys.public.age_recipient)])


def padded_manifest(sender: str, recipient: str, size: int) -> bytes:
    """A zip whose manifest is valid JSON followed by ``size`` bytes of blanks (a bomb that
    json.loads would even accept), with a signature that is not one."""
    head = json.dumps(
        {
            "format": "mzdesk-batch",
            "format_version": 1,
            "schema_version": 1,
            "sender": {"code": sender},
            "recipient": {"code": recipient},
            "sequence": 1,
            "files": {},
        }
    ).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("manifest.json", "w") as f:
            f.write(head)
            block = b" " * (1 << 20)
            for _ in range(size >> 20):
                f.write(block)
        z.writestr("signature.json", json.dumps({"algorithm": "Ed25519", "signature": "AA=="}))
    return buf.getvalue()


def lie_about_sizes(plain: bytes, name: str, size: int = 1000) -> bytes:
    """The zip with ``name``'s declared uncompressed size set to ``size`` in both headers."""
    data = bytearray(plain)
    info = zipfile.ZipFile(io.BytesIO(plain)).getinfo(name)
    real = info.file_size.to_bytes(4, "little")
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        while pos >= 0:
            if data[pos + at : pos + at + 4] == real:
                data[pos + at : pos + at + 4] = size.to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    return bytes(data)


@pytest.fixture(scope="module")
def bomb(world):
    """1 GiB of manifest in about a megabyte, encrypted to the county."""
    t, c = world
    plain = padded_manifest(t.code, c.code, GIB)
    assert len(plain) < 8 << 20
    return plain


def test_a_manifest_bomb_is_refused_before_inflating(world, bomb):
    t, c = world
    msg = refused(c, to(c, bomb), "too_large")
    assert "manifest.json" in msg and "1,024.0 MB" in msg


def test_a_manifest_bomb_whose_headers_lie_is_unreadable(world, bomb):
    t, c = world
    refused(c, to(c, lie_about_sizes(bomb, "manifest.json")), "not_a_batch")


@pytest.mark.parametrize("lie, code", [(False, "too_large"), (True, "not_a_batch")])
def test_a_manifest_bomb_in_a_child_stays_small(world, bomb, tmp_path, lie, code):
    """Lying about its size too: ZipFile.read inflated up to 2 GiB in one call before
    cutting to the declared 1,000 bytes (2.1 GB peak)."""
    t, c = world
    path = tmp_path / "bomb.age"
    path.write_bytes(to(c, lie_about_sizes(bomb, "manifest.json") if lie else bomb))
    db = c.store.path
    before = dump_hash(db)
    r = mzdesk("sync", "import", str(path), "--db", str(db), timeout=120)
    assert r.code != 0 and f"[{code}]" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert r.peak_mb <= PEAK_LIMIT_MB, r.peak_mb
    assert dump_hash(db) == before


def test_a_records_bomb_is_never_inflated_without_a_signature(world):
    """Records files are read only after the signature over the manifest verifies."""
    t, c = world
    plain = batch_mod.decrypt(t.export(c).read_bytes(), c.keys)
    src = zipfile.ZipFile(io.BytesIO(plain))
    manifest = json.loads(src.read("manifest.json"))
    manifest["files"]["records/households.jsonl"]["sha256"] = "0" * 64  # a forgery
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("records/households.jsonl", "w") as f:
            for _ in range(GIB >> 20):
                f.write(b"\n" * (1 << 20))
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("signature.json", src.read("signature.json"))
    with pytest.MonkeyPatch.context() as mp:
        read = []
        real = zipfile.ZipFile.read
        mp.setattr(
            zipfile.ZipFile,
            "read",
            lambda self, name, *a: read.append(name) or real(self, name, *a),
        )
        refused(c, to(c, buf.getvalue()), "bad_signature")
    assert "records/households.jsonl" not in read


def test_too_many_members(world):
    t, c = world
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in range(batch_mod.MAX_PLAINTEXT_FILES + 1):
            z.writestr(f"records/t{n}.jsonl", "")
        z.writestr("manifest.json", "{}")
        z.writestr("signature.json", "{}")
    assert "个文件" in refused(c, to(c, buf.getvalue()), "too_large")


def test_a_deeply_nested_manifest_is_not_an_internal_error(world):
    t, c = world
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", "[" * 500_000)
        z.writestr("signature.json", "{}")
    refused(c, to(c, buf.getvalue()), "not_a_batch")


def test_a_batch_file_larger_than_any_batch_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.age"
    with open(path, "wb") as f:
        f.truncate(batch_mod.MAX_BATCH_BYTES + 1)  # sparse: costs no disk
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read"))
    with pytest.raises(BatchRefused) as e:
        batch_mod.read_batch_file(path)
    assert e.value.code == "too_large"


# -- signed manifests with fields of the wrong type: the sender's own writer and key -------
def signed_with(monkeypatch, t, c, **fields) -> bytes:
    """A batch from ``t`` whose manifest carries ``fields``, signed with ``t``'s real key."""
    real = batch_mod.BatchWriter.finish

    def forged(self, manifest, keys, recipient):
        rest = {k: v for k, v in fields.items() if k != "format_version"}
        with pytest.MonkeyPatch.context() as mp:  # finish writes its own format_version
            mp.setattr(
                batch_mod, "FORMAT_VERSION", fields.get("format_version", batch_mod.FORMAT_VERSION)
            )
            return real(self, dict(manifest, **rest), keys, recipient)

    monkeypatch.setattr(batch_mod.BatchWriter, "finish", forged)
    data = t.export(c).read_bytes()
    monkeypatch.undo()
    manifest = json.loads(
        zipfile.ZipFile(io.BytesIO(batch_mod.decrypt(data, c.keys))).read("manifest.json")
    )
    for k, v in fields.items():
        assert manifest[k] == v and type(manifest[k]) is type(v)
    return data


@pytest.fixture
def pair(tmp_path):
    t, c = township_county(tmp_path, 2, seed=6)
    yield t, c
    t.store.close()
    c.store.close()


@pytest.mark.parametrize("value", ["1", True, 1.0, 0, -1, None])
def test_a_signed_sequence_that_is_no_positive_int(pair, monkeypatch, value):
    t, c = pair
    msg = refused(c, signed_with(monkeypatch, t, c, sequence=value), "bad_manifest")
    assert "sequence" in msg and "正整数" in msg


@pytest.mark.parametrize("value", [0, -1, True, "1", 1.0])
def test_a_signed_format_version_that_is_not_one_this_reads(pair, monkeypatch, value):
    t, c = pair
    msg = refused(c, signed_with(monkeypatch, t, c, format_version=value), "bad_format_version")
    assert "格式版本" in msg


@pytest.mark.parametrize(
    "field, value",
    [
        ("schema_version", "12"),
        ("schema_version", True),
        ("ack", {"sequence": "1"}),
        ("previous_sha256", 0),
    ],
)
def test_other_signed_fields_of_the_wrong_type(pair, monkeypatch, field, value):
    t, c = pair
    assert field.split(".")[0] in refused(
        c, signed_with(monkeypatch, t, c, **{field: value}), "bad_manifest"
    )


@pytest.mark.parametrize(
    "field, value, code",
    [("sequence", "1", "bad_manifest"), ("format_version", True, "bad_format_version")],
)
def test_signed_bad_fields_through_the_cli(pair, monkeypatch, tmp_path, field, value, code):
    t, c = pair
    path = tmp_path / "s.age"
    path.write_bytes(signed_with(monkeypatch, t, c, **{field: value}))
    before = dump_hash(c.store.path)
    r = mzdesk("sync", "import", str(path), "--db", str(c.store.path), timeout=120)
    assert r.code == 1 and r.err.startswith(f"错误 [{code}]"), r.err
    assert len(r.err.strip().splitlines()) == 1 and "内部错误" not in r.err
    assert r.peak_mb <= PEAK_LIMIT_MB
    assert dump_hash(c.store.path) == before


def test_the_writer_still_writes_what_the_reader_takes(pair):
    t, c = pair
    assert c.import_(t.export(c)).sequence == 1
