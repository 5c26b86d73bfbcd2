"""Batches upward (issue 25, item 4): two counties of two townships each forward what they
accepted to the province, in real signed and encrypted batches.

The province keeps each record's origin township and forwarding county, the townships'
and counties' audit checkpoints, and refuses a county that forwards another county's
township (the whole batch, nothing changes) or edits another county's household (that
change).  The same records arriving again through the city are merged, not duplicated.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from mzdesk.models import enrolment
from mzdesk.models.demo import generate_demo
from mzdesk.models.duplicates import duplicate_report
from mzdesk.models.enrolment_states import PAID_NOW_SQL, paid_now_params
from mzdesk.roster.monthly import monthly_stats
from mzdesk.sync import checkpoints, staging, upward
from mzdesk.sync.batch import BatchRefused, BatchWriter, decrypt
from mzdesk.sync.report import refusals
from mzdesk.sync.sender_scope import OUT_OF_SCOPE

from .sites import S, content, edit, fingerprint, link, make_site

PROVINCE, CITY = "34", "3416"
COUNTIES = {"341623": ("341623101", "341623102"), "341624": ("341624101", "341624102")}


@dataclass
class Region:
    province: S
    counties: dict[str, S]
    townships: dict[str, S]
    tmp: Path


def region(tmp: Path, forward: bool = True, households: int = 6, province=None) -> Region:
    """Four demo townships, each imported in full by its county; each county trusts the
    province (and with ``forward`` has sent it its first batch).  ``province`` makes the
    province site (``make_site``'s arguments), e.g. a PostgreSQL one."""
    p = (province or make_site)(tmp, PROVINCE, "省民政厅", "province")
    counties, towns = {}, {}
    for code, township_codes in COUNTIES.items():
        c = make_site(tmp, code, f"{code}县民政局", "county")
        counties[code] = c
        for tc in township_codes:
            t = make_site(tmp, tc, f"{tc}镇", "township")
            generate_demo(t.store, households, seed=int(tc) % 101)
            link(t, c)
            c.import_(t.export(c, full=True))
            towns[tc] = t
        link(c, p)
    r = Region(p, counties, towns, tmp)
    if forward:
        for c in counties.values():
            p.import_(c.export(p))
    return r


def county_of(township: str) -> str:
    return township[:6]


def test_two_counties_forward_to_the_province_with_origins_kept(tmp_path):
    r = region(tmp_path, forward=False)
    a, town = r.counties["341623"], r.townships["341623102"]
    # a county decision: a case the township submitted after its notice, confirmed at the
    # county (the county's decision travels up in its own batch)
    later = dt.date.today() + dt.timedelta(days=10)
    case = town.store.scalar("SELECT id FROM enrolments WHERE state = 'publicised' LIMIT 1")
    enrolment.submit(town.store, case, today=later)
    a.import_(town.export(a))
    uid = town.store.scalar("SELECT uid FROM enrolments WHERE id = ?", (case,))
    submitted = a.store.scalar("SELECT id FROM enrolments WHERE uid = ?", (uid,))
    enrolment.confirm(a.store, submitted, today=later)
    for c in r.counties.values():
        rep = r.province.import_(c.export(r.province))
        assert not rep.refused and not rep.duplicates
    p = r.province.store
    held = content(p)
    for tc, t in r.townships.items():
        sent = content(t.store)
        hh = list(sent["households"])
        assert hh and all(held["households"][u] == sent["households"][u] for u in hh)
        for table, rows in sent.items():
            if table in ("enrolments", "enrolment_events"):  # the confirmed case differs
                rows = {u: b for u, b in rows.items() if u != uid}
            assert all(held[table][u] == body for u, body in rows.items()), table
        # every household, and each of its members, is known by its township and county
        assert set(upward.origins(p, "households", hh).values()) == {(tc, county_of(tc))}
        members = list(sent["members"])
        assert set(upward.origins(p, "members", members).values()) == {(tc, county_of(tc))}
    # the county's own records (its decisions) are what it holds, no more, no less
    for c in r.counties.values():
        mine = content(c.store)
        for table, rows in mine.items():
            assert all(held[table][u] == body for u, body in rows.items()), table
    assert p.scalar("SELECT count(*) FROM households") == sum(
        t.store.scalar("SELECT count(*) FROM households") for t in r.townships.values()
    )
    assert p.scalar("SELECT state FROM enrolments WHERE uid = ?", (uid,)) == "active"
    assert town.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (uid,)) == "submitted"


def test_the_batch_carries_origins_as_an_optional_signed_file(tmp_path):
    r = region(tmp_path, forward=False)
    a = r.counties["341623"]
    path = a.export(r.province)
    z = zipfile.ZipFile(io.BytesIO(decrypt(path.read_bytes(), a.keys)))
    manifest = json.loads(z.read("manifest.json"))
    # not a table: older readers check it against the signed manifest and apply nothing
    assert upward.ORIGINS_FILE in manifest["files"] and "_origins" not in manifest["counts"]
    lines = [json.loads(x) for x in z.read(upward.ORIGINS_FILE).splitlines()]
    assert {(d["row"]["origin"], d["row"]["via"]) for d in lines} >= {
        ("341623101", "341623"),
        ("341623102", "341623"),
    }
    forwarded = manifest["forwarded"]["audit_checkpoints"]
    assert {cp["site"] for cp in forwarded} == {"341623101", "341623102"}
    named = {(d["row"]["origin"], d["row"]["names"][d["row"]["origin"]]) for d in lines}
    assert named >= {("341623101", "341623101镇"), ("341623102", "341623102镇")}
    assert all(cp["sign_key"] and cp["via"] == "341623" for cp in forwarded)
    # a batch to a township (downward) carries neither
    t = r.townships["341623101"]
    down = zipfile.ZipFile(io.BytesIO(decrypt(a.export(t).read_bytes(), a.keys)))
    dm = json.loads(down.read("manifest.json"))
    assert upward.ORIGINS_FILE not in dm["files"] and "forwarded" not in dm


def test_checkpoints_arrive_and_audit_verify_passes_at_the_province(tmp_path):
    r = region(tmp_path)
    sites = {rep.site: rep for rep in checkpoints.report(r.province.store)}
    for code in [*r.townships, *r.counties]:
        assert sites[code].count >= 1 and sites[code].ok, code
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", "audit", "verify", "--json", "--db"]
        + [str(r.province.store.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] and {c["site"] for c in out["checkpoints"]} >= set(r.townships)


def test_a_forged_forwarded_checkpoint_is_seen_at_the_province(tmp_path):
    r = region(tmp_path, forward=False)
    a = r.counties["341623"]
    # the county's copy of a township checkpoint altered (raw SQL on its own file): the
    # township's signature no longer covers it, which the province sees
    a.store.conn.execute("DROP TRIGGER audit_checkpoints_no_update")
    a.store.conn.execute(
        "UPDATE audit_checkpoints SET hash = CASE substr(hash, 1, 1) WHEN 'f' THEN 'e' ELSE 'f' END"
        " || substr(hash, 2) WHERE site = '341623101'"
    )  # the first digit changed whatever it was (a hash may start with 'f')
    r.province.import_(a.export(r.province))
    sites = {rep.site: rep for rep in checkpoints.report(r.province.store)}
    assert [p["code"] for p in sites["341623101"].problems] == ["checkpoint_bad_signature"]
    assert sites["341623102"].ok


@pytest.mark.parametrize("worker", [False, True], ids=["in-process", "worker-process"])
def test_a_county_forwarding_another_countys_township_is_refused_whole(
    tmp_path, monkeypatch, worker
):
    if worker:
        monkeypatch.setattr(staging, "STAGE_MIN", 1)  # records read by the worker process
    r = region(tmp_path)
    b = r.counties["341624"]
    # county 341624 accepted a "township" whose code is in county 341623
    intruder = make_site(tmp_path, "341623109", "冒名镇", "township")
    generate_demo(intruder.store, 3, seed=7)
    link(intruder, b)
    b.import_(intruder.export(b, full=True))
    before = fingerprint(r.province.store)
    batch = b.export(r.province)
    with pytest.raises(BatchRefused) as e:
        r.province.import_(batch)
    assert e.value.code == upward.FOREIGN and "341623109" in str(e.value)
    assert fingerprint(r.province.store) == before


def test_a_county_editing_another_countys_household_is_refused(tmp_path):
    r = region(tmp_path)
    a, b, p = r.counties["341623"], r.counties["341624"], r.province
    victim = a.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    own = b.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    edit(b.store, "households", own, address="乙县新地址")
    # county 341624's next real batch, plus the other county's household with a change,
    # signed with its real key (nothing distinguishes it from what its software writes)
    real = b.export(p)
    plain = decrypt(real.read_bytes(), b.keys)
    z = zipfile.ZipFile(io.BytesIO(plain))
    manifest = json.loads(z.read("manifest.json"))
    for k in ("files", "format", "format_version"):
        manifest.pop(k)
    row = json.loads(content(p.store)["households"][victim])
    row["address"] = "被冒改的地址"
    writer = BatchWriter()
    lines = [
        x + b"\n"
        for x in z.read("records/households.jsonl").splitlines()
        + [json.dumps({"uid": victim, "op": "upsert", "meta": {}, "row": row}).encode()]
    ]
    writer.add("households", lines, len(lines))
    writer.add("_origins", [x + b"\n" for x in z.read(upward.ORIGINS_FILE).splitlines()], 1)
    manifest["counts"] = {"households": len(lines)}
    data = writer.finish(manifest, b.keys, p.keys.public)
    forged = tmp_path / "forged.age"
    forged.write_bytes(data)
    rep = p.import_(forged)
    assert [(x["uid"], x["reason"]) for x in rep.refused] == [(victim, OUT_OF_SCOPE)]
    assert p.store.scalar("SELECT address FROM households WHERE uid = ?", (victim,)) != (
        "被冒改的地址"
    )
    assert p.store.scalar("SELECT address FROM households WHERE uid = ?", (own,)) == "乙县新地址"
    assert [x["uid"] for x in refusals(p.store)] == [victim]
    assert upward.origins(p.store, "households", [victim])[victim] == ("341623101", "341623")


def test_replayed_and_tampered_batches_are_refused(tmp_path):
    r = region(tmp_path, forward=False)
    a, p = r.counties["341623"], r.province
    path = a.export(p)
    p.import_(path)
    before = fingerprint(p.store)
    with pytest.raises(BatchRefused) as e:
        p.import_(path)
    assert e.value.code == "replay"
    edit(a.store, "households", a.store.scalar("SELECT uid FROM households LIMIT 1"), address="x")
    nxt = a.export(p)
    data = bytearray(nxt.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "bad.age"
    bad.write_bytes(bytes(data))
    with pytest.raises(BatchRefused) as e:
        p.import_(bad)
    assert e.value.code == "damaged"
    assert fingerprint(p.store) == before


def test_the_same_records_through_the_city_are_not_duplicated(tmp_path):
    r = region(tmp_path)
    a, p = r.counties["341623"], r.province
    city = make_site(tmp_path, CITY, "市民政局", "city")
    link(a, city)
    link(city, p)
    city.import_(a.export(city))
    counts = {t: p.store.scalar(f"SELECT count(*) FROM {t}") for t in ("households", "members")}
    rep = p.import_(city.export(p))
    assert not rep.refused and rep.tables["households"].new == 0
    assert rep.tables["households"].unchanged == a.store.scalar("SELECT count(*) FROM households")
    assert {t: p.store.scalar(f"SELECT count(*) FROM {t}") for t in counts} == counts
    # the origin is still the township, and the county that forwarded it
    hh = [u for (u,) in p.store.conn.execute("SELECT uid FROM households")]
    got = set(upward.origins(p.store, "households", hh).values())
    assert got == {(tc, county_of(tc)) for tc in r.townships}


PAID_MEMBER = (
    "SELECT m.uid, m.id_number FROM members m JOIN enrolments e "
    "ON e.household_id = m.household_id AND e.status = 'active' AND (e.member_id = m.id "
    "OR (e.member_id IS NULL AND m.in_assistance = 1 AND m.deceased_on IS NULL)) "
    f"WHERE m.status = 'active' AND m.id_number IS NOT NULL AND {PAID_NOW_SQL} "
    "ORDER BY m.id LIMIT 1"
)


def plant_cross_county_duplicate(r: Region) -> tuple[str, str]:
    """A person paid in township 341623101 also registered and paid in 341624101 (another
    county), as the township's update reaches its county.  Returns (ID number, the second
    member's uid)."""
    a1, b1 = r.townships["341623101"], r.townships["341624101"]
    _, number = a1.store.conn.execute(PAID_MEMBER, paid_now_params()).fetchone()
    other, _ = b1.store.conn.execute(PAID_MEMBER, paid_now_params()).fetchone()
    edit(b1.store, "members", other, id_number=number)
    b = r.counties["341624"]
    b.import_(b1.export(b))
    return number, other


def test_an_id_active_in_two_counties_is_in_the_province_duplicate_report(tmp_path):
    r = region(tmp_path, forward=False, households=20)
    number, other = plant_cross_county_duplicate(r)
    for c in r.counties.values():
        r.province.import_(c.export(r.province))
    [d] = duplicate_report(r.province.store)
    assert d.id_number == number and d.sites == ["341623101", "341624101"]
    here, aside = d.claims
    assert (here.site, here.via, here.set_aside) == ("341623101", "341623", False)
    assert (aside.site, aside.via, aside.set_aside) == ("341624101", "341624", True)
    assert (aside.site_name, aside.via_name) == ("341624101镇", "341624县民政局")
    assert (here.site_name, here.via_name) == ("341623101镇", "341623县民政局")
    assert aside.conflict_id and all(c.categories for c in d.claims)
    assert (
        r.province.store.scalar("SELECT uid FROM sync_conflicts WHERE id = ?", (aside.conflict_id,))
        == other
    )
    # the counties themselves see no duplicate: each holds one of the two townships
    assert all(duplicate_report(c.store) == [] for c in r.counties.values())
    # the workbook names the forwarding county of each claim, the ID masked
    from openpyxl import load_workbook

    from mzdesk.reports.duplicates_xlsx import write_duplicates_xlsx

    out = write_duplicates_xlsx(r.province.store, [d], {}, tmp_path / "重复享受.xlsx")
    rows = [r for r in load_workbook(out).active.iter_rows(values_only=True) if r[0] == 1]
    assert [(row[3], row[5]) for row in rows] == [
        ("341623101", "341623县民政局"),
        ("341624101", "341624县民政局"),
    ]
    assert all(row[1] != number and row[1].endswith(number[-4:]) for row in rows)


def test_province_statistics_go_by_origin_township_not_by_county(tmp_path):
    """``stats --month`` at a province: one by_township row per township and category, the
    same figures as the county that holds it, even where villages of two townships share a
    name (they would add up keyed on the county or the village), and named as there (the
    county's batch names its townships)."""
    r = region(tmp_path, households=20)
    month = dt.date.today()
    villages = [
        {v for (v,) in t.store.conn.execute("SELECT DISTINCT village FROM households")}
        for t in r.townships.values()
    ]
    assert set.intersection(*villages)  # same-named villages in different townships
    at_province = monthly_stats(r.province.store, month)["by_township"]
    assert {row["site"] for row in at_province} == set(r.townships)
    for county in r.counties.values():
        assert monthly_stats(county.store, month)["by_township"] == [
            row for row in at_province if row["site"][:6] == county.code
        ]


def test_the_province_sends_down_only_what_that_county_has(tmp_path):
    r = region(tmp_path)
    a, p = r.counties["341623"], r.province
    before = {t: a.store.scalar(f"SELECT count(*) FROM {t}") for t in ("households", "notices")}
    runs = a.store.scalar("SELECT count(*) FROM payment_runs")
    rep = a.import_(p.export(a, full=True))
    assert not rep.refused
    assert {t: a.store.scalar(f"SELECT count(*) FROM {t}") for t in before} == before
    assert a.store.scalar("SELECT count(*) FROM payment_runs") == runs
    assert rep.acked == 1  # the county's batch is acknowledged


def test_the_worker_process_path_keeps_origins_too(tmp_path, monkeypatch):
    r = region(tmp_path, forward=False)
    monkeypatch.setattr(staging, "STAGE_MIN", 1)  # every batch read by the worker process
    for c in r.counties.values():
        r.province.import_(c.export(r.province))
    p = r.province.store
    hh = [u for (u,) in p.conn.execute("SELECT uid FROM households")]
    assert len(hh) == sum(
        t.store.scalar("SELECT count(*) FROM households") for t in r.townships.values()
    )
    got = upward.origins(p, "households", hh)
    assert set(got) == set(hh)
    assert set(got.values()) == {(tc, county_of(tc)) for tc in r.townships}


def test_init_roles_and_export_upward_through_the_cli(tmp_path):
    from tests.cli.test_cli import assert_one_line_failure, mz

    prov, county = str(tmp_path / "p.sqlite"), str(tmp_path / "c.sqlite")
    town = str(tmp_path / "t.sqlite")
    assert (
        "province"
        in mz(
            "init",
            "--db",
            prov,
            "--site-code",
            "34",
            "--site-name",
            "省民政厅",
            "--role",
            "province",
        ).stdout
    )
    for code, role in (("341623", "province"), ("34", "city"), ("3416231", "city")):
        line = assert_one_line_failure(
            mz(
                "init",
                "--db",
                str(tmp_path / "x.sqlite"),
                "--site-code",
                code,
                "--site-name",
                "x",
                "--role",
                role,
                ok=False,
            ),
            1,
        )
        assert "bad_site_code" in line
    assert not (tmp_path / "x.sqlite").exists()
    mz(
        "init",
        "--db",
        county,
        "--site-code",
        "341623",
        "--site-name",
        "县民政局",
        "--role",
        "county",
    )
    mz("init", "--db", town, "--site-code", "341623101", "--site-name", "青山镇")
    mz("demo", "--db", town, "--households", "4")
    for db, name in ((prov, "p"), (county, "c"), (town, "t")):
        mz("keys", "init", "--db", db)
        mz("keys", "export-public", "--db", db, "--out", str(tmp_path / f"{name}.pub"))
    for db, pub in ((town, "c"), (county, "t"), (county, "p"), (prov, "c")):
        mz("keys", "trust", "--db", db, str(tmp_path / f"{pub}.pub"))
    b1, b2 = str(tmp_path / "b1.age"), str(tmp_path / "b2.age")
    mz("sync", "export", "--db", town, "--to", "341623", "--out", b1)
    mz("sync", "import", b1, "--db", county)
    assert "第 1 批" in mz("sync", "export", "--db", county, "--to", "34", "--out", b2).stdout
    report = json.loads(mz("sync", "import", b2, "--db", prov, "--json").stdout)
    assert report["tables"]["households"]["new"] == 4
    stats = json.loads(mz("stats", "--db", prov, "--json").stdout)
    assert stats["households"] == 4


def test_a_province_reads_and_never_makes_or_decides_records(tmp_path):
    from mzdesk.models.auth import PermissionDenied, allowed, require

    r = region(tmp_path)
    p = r.province.store
    case = p.scalar("SELECT id FROM enrolments WHERE state = 'publicised' LIMIT 1")
    for action in ("household.edit", "enrolment.confirm", "notice.publish"):
        assert not allowed(p, action)
        with pytest.raises(PermissionDenied) as e:
            require(p, action)
        assert e.value.code == "receiver_read_only"
    with pytest.raises(PermissionDenied):
        enrolment.confirm(p, case)
    assert allowed(p, "sync.import") and allowed(p, "records.view")
    # a county is not a receiver: it still decides
    assert allowed(r.counties["341623"].store, "enrolment.confirm")


GROUP = {"origin": "341623101", "via": "341623", "tables": {}}


@pytest.mark.parametrize(
    "bad_row",
    [
        {"origin": "341623101", "via": 1},
        {**GROUP, "names": {"341624101": "别县的镇"}},  # a name for a code not in the group
        {**GROUP, "names": {"341623101": "镇" * 61}},  # longer than a site name may be
        {**GROUP, "names": ["341623101"]},
    ],
)
def test_a_malformed_origins_file_refuses_the_batch(tmp_path, bad_row):
    r = region(tmp_path, forward=False)
    a, p = r.counties["341623"], r.province
    real = a.export(p)
    z = zipfile.ZipFile(io.BytesIO(decrypt(real.read_bytes(), a.keys)))
    manifest = json.loads(z.read("manifest.json"))
    for k in ("files", "format", "format_version"):
        manifest.pop(k)
    writer = BatchWriter()
    for name in z.namelist():
        if name.startswith("records/") and name != upward.ORIGINS_FILE:
            lines = [x + b"\n" for x in z.read(name).splitlines()]
            writer.add(name[len("records/") : -len(".jsonl")], lines, len(lines))
    bad = {"uid": "x@y", "op": "upsert", "meta": {}, "row": bad_row}
    writer.add("_origins", [json.dumps(bad).encode() + b"\n"], 1)
    forged = tmp_path / "bad-origins.age"
    forged.write_bytes(writer.finish(manifest, a.keys, p.keys.public))
    before = fingerprint(p.store)
    with pytest.raises(BatchRefused) as e:
        p.import_(forged)
    assert e.value.code == "not_a_batch"
    assert fingerprint(p.store) == before


def test_a_reader_without_origins_applies_an_upward_batch_as_before(tmp_path, monkeypatch):
    """What a reader that predates the origins file does with it: checks it against the
    signed manifest, parses it, and applies the records of the tables as before."""
    r = region(tmp_path, forward=False)
    monkeypatch.setattr(upward, "receive", lambda *a: 0)
    monkeypatch.setattr(upward, "settle", lambda *a: None)
    for c in r.counties.values():
        rep = r.province.import_(c.export(r.province))
        assert "_origins" not in rep.tables
    p = r.province.store
    assert p.scalar("SELECT count(*) FROM households") == 4 * 6
    assert p.scalar("SELECT count(*) FROM record_origins") == 0


def test_a_townships_edit_travels_up_as_a_change_with_its_origin(tmp_path):
    r = region(tmp_path)
    t, a, p = r.townships["341623102"], r.counties["341623"], r.province
    a.import_(p.export(a))  # the province's acknowledgement: the county's base advances
    uid = t.store.scalar("SELECT uid FROM households ORDER BY id DESC LIMIT 1")
    edit(t.store, "households", uid, address="新住址 3 号")
    a.import_(t.export(a))
    path = a.export(p)
    z = zipfile.ZipFile(io.BytesIO(decrypt(path.read_bytes(), a.keys)))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["counts"] == {"households": 1}  # only the change goes up
    rep = p.import_(path)
    assert rep.tables["households"].updated == 1 and not rep.refused
    assert p.store.scalar("SELECT address FROM households WHERE uid = ?", (uid,)) == "新住址 3 号"
    assert upward.origins(p.store, "households", [uid])[uid] == ("341623102", "341623")
