"""Write the golden batch files of the current format version (run once per format version).

    python -m tests.sync.make_golden tests/sync/golden/v1

Makes a township with a few demo households, a visit with a photo (a BLOB)
and a follow-up task, and writes two batches to a county: a first batch
(sequence 1) and an incremental one (sequence 2: an edit, a soft deletion, a
new household).  The keys are test keys, committed beside the batches so the
golden test can decrypt them forever; ``expected.json`` holds the import
report and the content the county must end with.  Never regenerate an
existing version's files: they stand for batches already in the field.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from mzdesk.models.demo import generate_demo
from mzdesk.models.registry import Registry
from mzdesk.models.store import new_uid
from tests.helpers import household, make_id
from tests.sync.sites import content, edit, link, make_site


def main(out: Path) -> None:
    work = out / "_work"
    shutil.rmtree(work, ignore_errors=True)
    t = make_site(work, "341623101", "青山镇", "township")
    c = make_site(work, "341623", "县民政局", "county")
    link(t, c)
    generate_demo(t.store, 15, seed=11)
    hid, huid = t.store.conn.execute(
        "SELECT id, uid FROM households ORDER BY id LIMIT 1"
    ).fetchone()
    stamp = t.store.stamp(new=True)
    with t.store.transaction():
        vid = t.store.conn.execute(
            "INSERT INTO visits (uid, household_id, visit_date, kind, investigators, template_id, "
            "template_version, answers, conclusion, created_at, updated_at, created_by, updated_by) "
            "VALUES (?, ?, '2026-10-08', 'investigation', '[\"张明\", \"李芳\"]', 'home_visit', 1, "
            "'{\"housing\": \"砖混\"}', '情况属实', ?, ?, ?, ?)",
            (
                new_uid(),
                hid,
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            ),
        ).lastrowid
        t.store.conn.execute(
            "INSERT INTO visit_photos (uid, visit_id, seq, file_name, caption, sha256, width, height, "
            "image, thumbnail, created_at, updated_at, created_by, updated_by) "
            "VALUES (?, ?, 0, 'house.jpg', '房屋外观', 'x', 2, 2, ?, ?, ?, ?, ?, ?)",
            (
                new_uid(),
                vid,
                bytes(range(256)),
                b"\xff\xd8thumb",
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            ),
        )
        t.store.conn.execute(
            "INSERT INTO followup_tasks (uid, household_id, visit_id, kind, title, created_at, "
            "updated_at, created_by, updated_by) VALUES (?, ?, ?, 'review', '复核收入', ?, ?, ?, ?)",
            (
                new_uid(),
                hid,
                vid,
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            ),
        )
    b1 = t.export(c, name="batch-1.age")
    r1 = c.import_(b1)
    edit(t.store, "households", huid, phone="13912345678", notes="金标准批次")
    second = t.store.scalar("SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 1")
    Registry(t.store).delete(second, "迁出")
    Registry(t.store).save(household("红旗村", ("金标准", "户主", make_id("19550505", 55))))
    b2 = t.export(c, name="batch-2.age")
    r2 = c.import_(b2)
    assert content(c.store) == content(t.store)
    for name in ("batch-1.age", "batch-2.age"):
        shutil.copy(t.dir / name, out / name)
    shutil.copy(c.dir / "mz.sqlite.sync" / "keys" / "site-key.json", out / "county-site-key.json")
    (out / "township-public.json").write_text(t.keys.public.to_json(), encoding="utf-8")
    expected = {
        "reports": [r1.as_dict(), r2.as_dict()],
        "content": content(c.store),
    }
    (out / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    t.store.close()
    c.store.close()
    shutil.rmtree(work)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    main(target)
