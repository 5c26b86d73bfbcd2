"""Every refusal from the issue: a clear message, a machine code, and the database untouched."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyrage
import pytest

from mzdesk.sync import batch as batch_mod
from mzdesk.sync.batch import BatchRefused
from mzdesk.sync.keys import revoke

from .sites import fingerprint, link, make_site, township_county


@pytest.fixture
def pair(tmp_path):
    t, c = township_county(tmp_path, 5, seed=2)
    yield t, c
    t.store.close()
    c.store.close()


def refused(site, data: bytes, code: str) -> str:
    before = fingerprint(site.store)
    with pytest.raises(BatchRefused) as e:
        from mzdesk.sync.apply import import_batch

        import_batch(site.store, site.keys, data)
    assert e.value.code == code, e.value.message
    assert fingerprint(site.store) == before
    return e.value.message


def reencrypt(plain: bytes, site) -> bytes:
    """What anyone holding the recipient's public key can do: encrypt other content to it."""
    return pyrage.encrypt(plain, [pyrage.x25519.Recipient.from_str(site.keys.public.age_recipient)])


def rezip(plain: bytes, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(plain))
    files = {n: src.read(n) for n in src.namelist()}
    change(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return buf.getvalue()


def test_unknown_sender(tmp_path, pair):
    t, c = pair
    stranger = make_site(tmp_path, "341623109", "外镇", "township")
    from mzdesk.sync.keys import trust

    trust(stranger.store, c.keys.public)
    msg = refused(c, stranger.export(c).read_bytes(), "unknown_sender")
    assert "341623109" in msg and "信任列表" in msg


def test_bad_signature_from_an_impostor_with_the_same_site_code(tmp_path, pair):
    t, c = pair
    impostor = make_site(tmp_path / "x", "341623101", "青山镇", "township")  # own, different keys
    from mzdesk.sync.keys import trust

    trust(impostor.store, c.keys.public)
    assert "签名无效" in refused(c, impostor.export(c).read_bytes(), "bad_signature")


def test_tampered_records_or_manifest_are_bad_signatures(pair):
    t, c = pair
    plain = pyrage.decrypt(
        t.export(c).read_bytes(), [t.keys.identity]
    )  # the sender can read its own

    def edit_records(files):
        files["records/households.jsonl"] = files["records/households.jsonl"].replace(
            b'"phone":"', b'"phone":"1'
        )

    def edit_manifest(files):
        m = json.loads(files["manifest.json"])
        m["sequence"] = 7
        files["manifest.json"] = json.dumps(m).encode()

    refused(c, reencrypt(rezip(plain, edit_records), c), "bad_signature")
    refused(c, reencrypt(rezip(plain, edit_manifest), c), "bad_signature")


def test_revoked_key(pair):
    t, c = pair
    data = t.export(c).read_bytes()
    revoke(c.store, t.code)
    assert "吊销" in refused(c, data, "revoked_key")


def test_wrong_recipient(tmp_path, pair):
    t, c = pair
    other = make_site(tmp_path, "341624", "邻县", "county")
    link(t, other)
    data = t.export(other).read_bytes()
    assert "不是发给本站" in refused(c, data, "wrong_recipient")  # cannot even decrypt it
    refused(t, t.export(c).read_bytes(), "wrong_recipient")  # the sender's own copy


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated(pair, cut):
    t, c = pair
    data = t.export(c).read_bytes()
    refused(c, data[: int(len(data) * cut)], "damaged")


def test_bit_flipped(pair):
    t, c = pair
    data = bytearray(t.export(c).read_bytes())
    data[len(data) // 2] ^= 0x10
    refused(c, bytes(data), "damaged")


@pytest.mark.parametrize(
    "data", [b"", b"%PDF-1.4\n", b"PK\x03\x04" + b"\0" * 40, "青山镇".encode() * 50]
)
def test_not_a_batch(pair, data):
    t, c = pair
    refused(c, data, "not_a_batch")


def test_a_zip_encrypted_to_us_but_not_a_batch(pair):
    t, c = pair
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    refused(c, reencrypt(buf.getvalue(), c), "not_a_batch")


def test_newer_schema(pair, monkeypatch):
    t, c = pair
    monkeypatch.setattr(type(t.store), "schema_version", property(lambda s: 999))
    data = t.export(c).read_bytes()
    monkeypatch.undo()
    assert "升级" in refused(c, data, "newer_schema")


def test_newer_format(pair, monkeypatch):
    t, c = pair
    monkeypatch.setattr(batch_mod, "FORMAT_VERSION", 2)
    data = t.export(c).read_bytes()
    monkeypatch.undo()
    msg = refused(c, data, "newer_format")
    assert f"站点 {t.code} 签发，签名有效" in msg and "请升级" in msg


def test_newer_format_claimed_by_an_unsigned_manifest_is_not_vouched_for(pair):
    """Anyone with the county's public key can encrypt a file claiming a newer format; the
    refusal must not tell the clerk to upgrade on that file's word alone."""
    t, c = pair
    plain = batch_mod.decrypt(t.export(c).read_bytes(), c.keys)

    def forge(files):
        m = json.loads(files["manifest.json"])
        m["format_version"] = 2
        files["manifest.json"] = json.dumps(m).encode()

    msg = refused(c, reencrypt(rezip(plain, forge), c), "newer_format")
    assert "无法核验其签名" in msg and "签名有效" not in msg


def test_replay_and_gap(pair):
    t, c = pair
    first = t.export(c)
    c.import_(first)
    assert "重复导入" in refused(c, first.read_bytes(), "replay")
    t.export(c)  # lost
    third = t.export(c)
    before = fingerprint(c.store)
    with pytest.raises(BatchRefused) as e:
        c.import_(third)
    assert e.value.code == "gap" and "第 2 批" in e.value.message and "暂存" in e.value.message
    # held inside the database, and nothing else changed
    from mzdesk.sync.history import held_batches

    assert held_batches(c.store) == [f"{t.code}-000003.age"]
    assert not (Path(c.store.path + ".sync") / "held").exists()
    c.store.conn.execute("DELETE FROM sync_held")
    assert fingerprint(c.store) == before


def test_a_signed_batch_with_a_bad_record_names_file_and_line(pair, monkeypatch):
    """A trusted sender's bug (a record that is not one): refused, naming where."""
    t, c = pair
    from mzdesk.sync import batch as batch_mod

    real = batch_mod.BatchWriter.add

    def third_is_bad(self, table, parts, records):
        lines = b"".join(parts).split(b"\n")
        if table == "households":
            lines[2] = lines[2].replace(b'"op": "upsert"', b'"op": "upsort"')
        real(self, table, [b"\n".join(lines)], records)

    monkeypatch.setattr(batch_mod.BatchWriter, "add", third_is_bad)
    data = t.export(c).read_bytes()
    monkeypatch.undo()
    msg = refused(c, data, "not_a_batch")
    assert "records/households.jsonl 第 3 行" in msg


def test_a_malformed_held_list_in_a_signed_manifest_is_refused(pair, monkeypatch):
    """ack.held decides which records are common ground: a sender whose software wrote it
    wrong (signed, so no forgery) gets its batch refused whole, not half understood."""
    from mzdesk.sync import export

    t, c = pair
    c.import_(t.export(c))
    monkeypatch.setattr(export, "_ack", lambda *a: {"sequence": 1, "sha256": "", "held": [1]})
    data = c.export(t).read_bytes()
    monkeypatch.undo()
    assert "ack.held" in refused(t, data, "not_a_batch")
