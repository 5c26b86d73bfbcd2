"""Every service entry point that writes checks a permission itself (issue 20, item 1).

Two halves:

* **Enumerated.**  Every public function of the service packages (models, sync, roster,
  reports) that takes the store (or a class's ``self.store``) and writes (a transaction, or
  a name that says it writes or exports) must call ``require`` itself, or be listed in
  :data:`CHECKED_ELSEWHERE` with the reason.  A new writer without a check fails here.
* **Called.**  The entry points of the issue's attacks, called as a logged-in ``readonly``
  account, raise :class:`PermissionDenied` and change nothing.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from mzdesk.models import auth
from mzdesk.models.auth import PermissionDenied
from mzdesk.models.store import Store
from tests.admin.test_roles_matrix import ACCOUNTS, SAMPLE_XLSX, township  # noqa: F401
from tests.helpers import household, make_id

PKG = Path(__file__).resolve().parents[2] / "mzdesk"
SERVICES = ("models", "sync", "roster", "reports")
WRITES = re.compile(
    r"^(export|write|save|init|import|resolve|revoke|trust|undo|restore|backup|reassign|set"
    r"|add|delete|record|declare|withdraw|apply|create|publish|confirm|reject|stop|submit"
    r"|generate|insert)"
)

# function -> why it has no require of its own
CHECKED_ELSEWHERE = {
    "models/audit_guard.py on_open": "the tamper check run at every open; no user action",
    "models/enrolment.py record_event": "called by enrolment_states/components after their check",
    "models/enrolment_bulk.py settle_received": "sync apply: sync.import checked by apply",
    "sync/upward.py settle": "sync apply: sync.import checked by import_batch",
    "models/enrolment_bulk.py write_received": "sync apply: sync.import checked by apply",
    "models/enrolment_demo.py insert_demo_enrolments": "demo: household.import checked by demo",
    "models/support.py write_demo_support": "demo: household.import checked by demo",
    "models/enrolment_import.py write_imported": "roster import: household.import checked",
    "models/enrolment_import.py undo_imported": "roster undo: household.import checked",
    "models/components.py write_imported_parts": "the caller holds the transaction: "
    "roster import_apply.apply (household.import)",
    "models/uprating.py apply_uprating": "called by uprating.confirm after its checks",
    "roster/monthly.py add": "a local helper of the month's figures, which checks",
    "sync/history.py adopt_held_files": "sync import: sync.import checked by apply",
    "sync/history.py hold": "sync import: sync.import checked by apply",
    "sync/key_history.py record_own_key": "keys init/rotate: keys.manage checked there",
    "sync/key_history.py record_trusted_key": "keys trust / a rotation applied by sync import",
    "models/auth.py set_agent": "records the 经办人 name; changes no right, writes nothing",
    "models/auth.py setup_mode": "a question, not a write",
    "models/auth.py authenticate": "the login itself: the failure counter is bookkeeping",
    "models/backup.py backup_dir": "a folder name",
    "models/enrolment_import.py record_imported": "the caller holds the transaction: "
    "roster import_apply.apply (household.import)",
    "models/notice.py preview_notice": "rolls back; runs create_notice (notice.publish)",
    "models/registry.py write_new_households": "the caller holds the transaction: "
    "Registry.bulk_create / import_apply.apply (household.import)",
    "models/registry.py add_to_household": "the caller holds the transaction: "
    "import_apply.apply (household.import)",
    "models/registry.py delete_blocker": "a question, not a write",
    "sync/keys.py trusted_sites": "reads the trust list",
    "sync/local.py exported": "bookkeeping inside export_batch (sync.export)",
    "sync/scope.py records_of": "reads",
    "sync/scope.py withdraw_list": "reads",
    "sync/scope.py withdraw": "applied inside import_batch (sync.import)",
    "sync/scope.py confirmations": "reads, inside export_batch (sync.export)",
    "reports/notice_pdf.py write_pdf": "the writer of publish_notice (notice.publish); "
    "the masked public notice",
    "reports/notice_xlsx.py write_xlsx": "the writer of publish_notice (notice.publish); "
    "the masked public notice",
}


def writers() -> dict[str, str]:
    """``"pkg/module.py name"`` -> source, for each writing entry point."""
    found = {}
    for pkg in SERVICES:
        for f in sorted((PKG / pkg).glob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                    continue
                args = [a.arg for a in node.args.args]
                if not args:
                    continue
                src = ast.unparse(node)
                method = args[0] in ("self", "cls")
                first = args[1] if method and len(args) > 1 else args[0]
                takes_store = first == "store" or (method and "self.store" in src)
                if takes_store and (".transaction()" in src or WRITES.match(node.name)):
                    found[f"{pkg}/{f.name} {node.name}"] = src
    return found


def test_every_writing_service_checks_a_permission():
    found = writers()
    assert len(found) > 60  # the scan sees the services (not an empty glob)
    unchecked = sorted(n for n, src in found.items() if "require" not in src)
    assert [n for n in unchecked if n not in CHECKED_ELSEWHERE] == [], (
        "call auth.require(store, ...) in these, or say in CHECKED_ELSEWHERE who checks"
    )
    assert sorted(set(CHECKED_ELSEWHERE) - set(unchecked)) == [], "stale CHECKED_ELSEWHERE"


# -- called as readonly -------------------------------------------------------------------
@pytest.fixture
def readonly(township, tmp_path):  # noqa: F811
    work = tmp_path / "w"
    shutil.copytree(township["tpl"], work)
    store = Store.open(work / township["db_name"], create=False)
    auth.login(store, *ACCOUNTS["readonly"])
    yield store
    store.close()


def _calls(tmp: Path, base: Path):
    from mzdesk.models import backup, enrolment, notice, relatives, spotcheck
    from mzdesk.models.demo import generate_demo
    from mzdesk.models.registry import Registry
    from mzdesk.reports.booklet_pdf import write_booklets
    from mzdesk.reports.checklist_pdf import write_checklists
    from mzdesk.roster import exporter, import_undo, importer
    from mzdesk.sync import apply, conflicts, export, keys, scope

    county = keys.PublicKey.read_file(base / "341623.json")
    month = dt.date(2026, 11, 1)
    return {
        "keys.init_keys": lambda s: keys.init_keys(s, force=True),
        "keys.trust": lambda s: keys.trust(s, county),
        "keys.revoke": lambda s: keys.revoke(s, "341623"),
        "keys.set_villages": lambda s: keys.set_villages(s, "341623101001", ["新华村"]),
        "keys.export_site_identity": lambda s: keys.export_site_identity(s, None, tmp / "i"),
        "scope.reassign": lambda s: scope.reassign(s, "341623101001", ["新华村"]),
        "export.export_batch": lambda s: export.export_batch(
            s, keys.load_keys(s), "341623", tmp / "b.age"
        ),
        "export.resend": lambda s: export.resend(s, "341623", 1, tmp / "r.age"),
        "apply.import_batch": lambda s: apply.import_batch(s, keys.load_keys(s), b"x", "x"),
        "conflicts.resolve_conflict": lambda s: conflicts.resolve_conflict(s, 1, "remote"),
        "import_undo.undo": lambda s: import_undo.undo(s),
        "importer.import_roster": lambda s: importer.import_roster(s, SAMPLE_XLSX),
        "exporter.export_payment_roster": lambda s: exporter.export_payment_roster(
            s, month, tmp / "p.xlsx"
        ),
        "exporter.export_registry": lambda s: exporter.export_registry(s, tmp / "r.xlsx"),
        "write_booklets": lambda s: write_booklets(s, [1], tmp / "b.pdf"),
        "write_checklists": lambda s: write_checklists(s, [1], tmp / "c.pdf"),
        "backup.backup_to": lambda s: backup.backup_to(s, tmp / "copy.sqlite"),
        "backup.restore": lambda s: backup.restore(s, tmp / "copy.sqlite"),
        "demo.generate_demo": lambda s: generate_demo(s, 1),
        "Registry.save": lambda s: Registry(s).save(
            household("新华村", ("某某", "户主", make_id("19800101", 77)))
        ),
        "Registry.delete": lambda s: Registry(s).delete(1, "迁出"),
        "enrolment.confirm": lambda s: enrolment.confirm(s, 1),
        "enrolment.stop": lambda s: enrolment.stop(s, 1, "测试"),
        "notice.close_objection": lambda s: notice.close_objection(s, 1, "已核实", "keep"),
        "relatives.withdraw": lambda s: relatives.withdraw(s, 1),
        "spotcheck.save_sample": lambda s: spotcheck.save_sample(
            s, spotcheck.draw_sample(s, 10, 1)
        ),
        "auth.add_operator": lambda s: auth.add_operator(s, "mole", "mole-pass-word", "admin"),
        "auth.set_password": lambda s: auth.set_password(s, "u-admin", "hijacked-pass"),
        "auth.set_locked": lambda s: auth.set_locked(s, "u-admin", True),
    }


CALLED = (
    "keys.init_keys",
    "keys.trust",
    "keys.revoke",
    "keys.set_villages",
    "keys.export_site_identity",
    "scope.reassign",
    "export.export_batch",
    "export.resend",
    "apply.import_batch",
    "conflicts.resolve_conflict",
    "import_undo.undo",
    "importer.import_roster",
    "exporter.export_payment_roster",
    "exporter.export_registry",
    "write_booklets",
    "write_checklists",
    "backup.backup_to",
    "backup.restore",
    "demo.generate_demo",
    "Registry.save",
    "Registry.delete",
    "enrolment.confirm",
    "enrolment.stop",
    "notice.close_objection",
    "relatives.withdraw",
    "spotcheck.save_sample",
    "auth.add_operator",
    "auth.set_password",
    "auth.set_locked",
)


@pytest.mark.parametrize("name", CALLED)
def test_readonly_is_refused_by_the_service(name, readonly, township, tmp_path):  # noqa: F811
    from tests.cli.test_hostile_args import dump_hash

    calls = _calls(tmp_path, township["base"])
    assert set(calls) == set(CALLED)
    call = calls[name]
    (tmp_path / "copy.sqlite").write_bytes(b"")
    before = dump_hash(Path(readonly.path))
    with pytest.raises(PermissionDenied):
        call(readonly)
    assert dump_hash(Path(readonly.path)) == before
