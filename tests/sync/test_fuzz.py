"""Property test: mutated batches are refused, change nothing, never crash.

Two attackers: one who damages the file (any byte of the age file flipped,
cut, inserted or dropped), and one who holds the recipient's public key and
re-encrypts a damaged plaintext (bit flips or cuts inside any member of the
zip).  Every mutant must end in :class:`BatchRefused`; the database's change
counter must not move.
"""

from __future__ import annotations

import io
import zipfile

import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mzdesk.sync.apply import import_batch
from mzdesk.sync.batch import BatchRefused

from .sites import township_county

_SETTINGS = dict(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    t, c = township_county(tmp, 3, seed=9)
    data = t.export(c).read_bytes()
    plain = pyrage.decrypt(data, [t.keys.identity])
    yield c, data, plain
    t.store.close()
    c.store.close()


def assert_refused(c, mutant: bytes) -> None:
    before = (c.store.conn.total_changes, c.store.scalar("PRAGMA data_version"))
    with pytest.raises(BatchRefused):
        import_batch(c.store, c.keys, mutant)
    assert (c.store.conn.total_changes, c.store.scalar("PRAGMA data_version")) == before


def _mutate(data: bytes, kind: str, pos: int, byte: int, n: int) -> bytes:
    pos %= len(data)
    if kind == "flip":
        return data[:pos] + bytes([data[pos] ^ (1 << (byte % 8))]) + data[pos + 1 :]
    if kind == "set":
        b = byte if byte != data[pos] else (byte + 1) % 256
        return data[:pos] + bytes([b]) + data[pos + 1 :]
    if kind == "cut":
        return data[:pos]
    if kind == "insert":
        return data[:pos] + bytes([byte]) * n + data[pos:]
    return data[:pos] + data[pos + n :]  # drop


mutation = st.tuples(
    st.sampled_from(["flip", "set", "cut", "insert", "drop"]),
    st.integers(0, 10**9),
    st.integers(0, 255),
    st.integers(1, 64),
)


def damaged_file(world, m):
    c, data, _ = world
    assert_refused(c, _mutate(data, *m))


def reencrypted_damaged_plaintext(world, member, m):
    c, _, plain = world
    assert_refused(c, _reencrypted_mutant(c, plain, member, m))


def _reencrypted_mutant(c, plain: bytes, member: int, m) -> bytes:
    kind, pos, byte, n = m
    if kind != "flip":
        kind = "cut"  # whitespace-only edits of JSON could be harmless; flips and cuts never are
    src = zipfile.ZipFile(io.BytesIO(plain))
    names = src.namelist()
    name = names[member % len(names)]
    files = {x: src.read(x) for x in names}
    files[name] = _mutate(files[name], kind, pos, byte, n)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for x, d in files.items():
            z.writestr(x, d)
    recipient = pyrage.x25519.Recipient.from_str(c.keys.public.age_recipient)
    return pyrage.encrypt(buf.getvalue(), [recipient])


# a quick pass in every run; thousands of mutants in the slow run (make test-slow / CI)
test_damaged_file_is_refused = settings(max_examples=200, **_SETTINGS)(
    given(m=mutation)(damaged_file)
)
test_reencrypted_damaged_plaintext_is_refused = settings(max_examples=200, **_SETTINGS)(
    given(member=st.integers(0, 10), m=mutation)(reencrypted_damaged_plaintext)
)
test_thousands_of_damaged_files_are_refused = pytest.mark.slow(
    settings(max_examples=3000, **_SETTINGS)(given(m=mutation)(damaged_file))
)
test_thousands_of_reencrypted_mutants_are_refused = pytest.mark.slow(
    settings(max_examples=3000, **_SETTINGS)(
        given(member=st.integers(0, 10), m=mutation)(reencrypted_damaged_plaintext)
    )
)


def test_the_unmutated_batch_is_accepted_afterwards(world):
    c, data, _ = world
    assert import_batch(c.store, c.keys, data).totals().new > 0


# the same attackers against a batch read by the worker process (mzdesk.sync.staging): the
# worker finds a damaged records file only while the first tables are being applied, so the
# database is compared whole (its change counter moves, then the transaction rolls back)
@pytest.fixture(scope="module")
def staged_world(tmp_path_factory):
    from .sites import fingerprint

    tmp = tmp_path_factory.mktemp("fuzz-staged")
    t, c = township_county(tmp, 12, seed=9)
    data = t.export(c).read_bytes()
    plain = pyrage.decrypt(data, [t.keys.identity])
    yield c, data, plain, fingerprint(c.store)
    t.store.close()
    c.store.close()


@settings(max_examples=40, **_SETTINGS)
@given(member=st.integers(0, 10), m=mutation)
def test_reencrypted_mutants_read_by_the_worker_are_refused(staged_world, member, m):
    from mzdesk.sync import staging

    from .sites import fingerprint

    c, _, plain, before = staged_world
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(staging, "STAGE_MIN", 0)
        mp.setattr(staging, "CHUNK", 7)
        with pytest.raises(BatchRefused):  # never WorkerFailed: a bad file is a refusal
            import_batch(c.store, c.keys, _reencrypted_mutant(c, plain, member, m))
    assert fingerprint(c.store) == before
