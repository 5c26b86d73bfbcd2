"""The role matrix (issue 20, item 1): every command as every role, against the table.

``cli.common.COMMAND_PERMISSIONS`` maps each click command to the permissions it needs;
``auth.PERMISSIONS`` says which roles hold each.  Here every command of the click tree is
run, in-process through :func:`mzdesk.cli.main` as the CLI runs, on a copy of one prepared
township (the hostile-arguments fixture's records, plus one account per role), logged in
from ``MZDESK_OPERATOR``/``MZDESK_PASSWORD``.  A role the table denies must get exactly
``permission_denied``; a role it allows must not (the command may still fail on the
record's state, which is not this test's business).

``docs/roles.md`` is generated from the same tables: ``python tests/admin/test_roles_matrix.py
--write`` rewrites it, and :func:`test_docs_roles_matches_the_tables` fails when it drifts.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mzdesk.cli.common import COMMAND_PERMISSIONS, needed_permissions
from mzdesk.models import auth, cipher
from mzdesk.models.store import Store
from tests.cli.test_cli import command_paths, leaf
from tests.cli.test_hostile_args import SITE, Case, _argv, _prepare, _run_in_process, mz

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "roles.md"
ROLES = list(auth.ROLES)  # admin clerk field county_reviewer readonly
ACCOUNTS = {role: (f"u-{role}", f"{role}-pass-word-1") for role in ROLES}
DB_KEY = "roles-db-passphrase"
SAMPLE_XLSX = ROOT / "tests" / "fixtures" / "samples" / "roster_sample.xlsx"

# command -> extra parameters for the table (a variant of the same command) and argv
VARIANTS: dict[str, dict] = {"sync export --full": {"full": True}}
# commands that read a file before opening the database: give them a real one
FILES = {
    ("keys", "trust"): lambda base: [str(base / "341623.json")],
    ("roster", "import"): lambda base: [str(SAMPLE_XLSX), "--dry-run"],
}


def leaves() -> list[str]:
    return [" ".join(p) for p in command_paths() if leaf(p)]


def allowed_roles(name: str, params: dict | None = None) -> set[str]:
    needs = needed_permissions(name, params or {})
    return {r for r in ROLES if all(r in auth.PERMISSIONS[p] for p in needs)}


# -- the table covers the click tree ------------------------------------------------------
def test_every_command_has_a_permission_entry():
    names = set(leaves())
    assert sorted(names - set(COMMAND_PERMISSIONS)) == [], "add them to COMMAND_PERMISSIONS"
    assert sorted(set(COMMAND_PERMISSIONS) - names) == [], "stale COMMAND_PERMISSIONS entries"
    for name in names:
        for p in needed_permissions(name, {}):
            assert p in auth.PERMISSIONS, (name, p)


def test_every_permission_has_a_label_and_only_known_roles():
    assert set(auth.ACTION_LABELS) == set(auth.PERMISSIONS)
    for action, roles in auth.PERMISSIONS.items():
        assert roles <= set(auth.ROLES), action
        assert "admin" in roles, action
    for action, roles in auth.PERMISSIONS.items():
        if action != "records.view":
            assert "readonly" not in roles, f"readonly reads only: {action}"
    for actions in auth.GUI_ACTIONS.values():
        assert set(actions) <= set(auth.PERMISSIONS)


# -- running every command as every role ----------------------------------------------------
@pytest.fixture(scope="module")
def township(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("roles")
    tpl = base / "tpl"
    tpl.mkdir()
    db = tpl / "demo.sqlite"
    mz("init", "--db", str(db), *SITE)
    mz("demo", "--db", str(db), "--households", "12", "--seed", "280")  # one 在保 低保: 户1
    mz("keys", "init", "--db", str(db))
    _prepare(db, base)
    with pytest.MonkeyPatch.context() as mp:  # cheap password hashes: logins cost ms
        real = auth.hash_password
        mp.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))
        store = Store.open(db, create=False)
        try:
            for role in ROLES:  # admin first: it ends setup mode and acts as the admin
                name, password = ACCOUNTS[role]
                auth.add_operator(store, name, password, role, f"{role}的姓名")
        finally:
            store.close()
    enc = base / "enc"  # for decrypt: the same township, encrypted
    shutil.copytree(tpl, enc)
    cipher.encrypt_file(enc / db.name, DB_KEY)
    binary = base / "binary.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    return {"tpl": tpl, "enc": enc, "db_name": db.name, "base": base, "files": {"binary": binary}}


def _cases() -> list[tuple[str, str]]:
    names = [n for n in leaves() if n != "selftest"] + list(VARIANTS)
    return [(n, r) for n in sorted(names) for r in ROLES]


def _run(township: dict, tmp: Path, name: str, role: str, monkeypatch) -> tuple[int, str]:
    work = tmp / "w"
    shutil.copytree(township["enc" if name == "decrypt" else "tpl"], work)
    db = work / township["db_name"]
    command = name.removesuffix(" --full")
    path = tuple(command.split())
    argv = _argv(Case(path, "", "", ""), db, township["files"], work)
    if path in FILES:
        argv = [*path, "--db", str(db), *FILES[path](township["base"])]
    if name in VARIANTS:
        argv.append("--" + next(iter(VARIANTS[name])))
    account, password = ACCOUNTS[role]
    monkeypatch.setenv(auth.ENV_OPERATOR, account)
    monkeypatch.setenv(auth.ENV_PASSWORD, password)
    if name == "decrypt":
        monkeypatch.setenv(cipher.ENV_KEY, DB_KEY)
    else:
        monkeypatch.delenv(cipher.ENV_KEY, raising=False)
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    code, _out, err = _run_in_process(argv)
    return code, err


@pytest.mark.parametrize(("name", "role"), _cases())
def test_command_as_role(name, role, township, tmp_path, monkeypatch):
    code, err = _run(township, tmp_path, name, role, monkeypatch)
    assert "Traceback" not in err and "内部错误" not in err, err
    assert "not_logged_in" not in err, err  # the login itself worked
    if role in allowed_roles(name.removesuffix(" --full"), VARIANTS.get(name)):
        assert "permission_denied" not in err, f"{name} as {role} was refused: {err}"
    else:
        assert code != 0 and "[permission_denied]" in err, f"{name} as {role}: {code} {err}"


def test_selftest_needs_no_login_and_reads_no_records():
    assert needed_permissions("selftest", {}) == ()


# -- docs/roles.md ----------------------------------------------------------------------
def _roles_cell(roles) -> str:
    return " ".join(r for r in ROLES if r in roles) or "—"


def render() -> str:
    lines = [
        "# Roles and permissions",
        "",
        "<!-- generated by `python tests/admin/test_roles_matrix.py --write` from",
        "     auth.PERMISSIONS, auth.GUI_ACTIONS and cli.common.COMMAND_PERMISSIONS;",
        "     tests/admin/test_roles_matrix.py fails when this file drifts -->",
        "",
        "Roles: " + ", ".join(f"`{r}` {label}" for r, label in auth.ROLES.items()) + ".",
        "",
        "## What is enforced where",
        "",
        "- **Who acts** is the store's `Principal` (`models/auth.py`), fixed at login: only",
        "  `auth.login` (the window's login dialog, the CLI's `MZDESK_OPERATOR` and",
        "  `MZDESK_PASSWORD`) creates one, and the setup path that creates the first admin.",
        "  It is sealed with a key that lives only in the running process, so an object",
        "  built by hand or copied with another role is refused.  Rights are the role the",
        "  account had at login, while the account exists, is unlocked and keeps that role.",
        "- `store.operator` is only the name recorded on rows and in the audit trail.",
        "  `--operator` (the 经办人) is recorded beside the account, e.g.",
        "  `li（经办人：刘干事）`, and changes no right.",
        "- **Setup mode**: a database without accounts allows everything (the single-user",
        "  office, the demo); creating the first account (an admin) ends it.",
        "- **The check is in the service**: each use case calls `auth.require(store, ...)`",
        "  before it writes or exports (models, sync, roster, reports).  The CLI checks the",
        "  same permissions up front (below) before it reads any file, and the window's",
        "  actions call the same services (no check lives only in a widget).  Exceptions,",
        "  checked by the CLI only because the service has no store: `audit verify/show/seal`",
        "  (the audit module works on a connection) and `encrypt`/`decrypt` (a file",
        "  conversion); `operators list` is admin-only in the CLI, while the window's",
        "  操作员 page lists accounts to any login.",
        "- **Incoming sync changes** are applied under `sync.import` of the importing",
        "  account; the sender's scope (sync/scope.py) limits each change further.",
        "- **A city or province site** (a receiver of its counties' forwarded batches)",
        "  refuses, for every account and in setup mode too, the permissions in",
        "  `auth.RECEIVER_READS_ONLY` (`receiver_read_only`): "
        + ", ".join(f"`{p}`" for p in sorted(auth.RECEIVER_READS_ONLY))
        + ".  Records are made by the townships and decided by the counties.",
        "",
        "## Permissions",
        "",
        "| permission | what | roles |",
        "|---|---|---|",
    ]
    for action, roles in auth.PERMISSIONS.items():
        lines.append(f"| `{action}` | {auth.ACTION_LABELS[action]} | {_roles_cell(roles)} |")
    lines += [
        "",
        "## Commands",
        "",
        "| command | permission | roles |",
        "|---|---|---|",
    ]
    for name in sorted(leaves()) + list(VARIANTS):
        needs = needed_permissions(name.removesuffix(" --full"), VARIANTS.get(name, {}))
        perm = " + ".join(f"`{p}`" for p in needs) or "none (no records)"
        roles = allowed_roles(name.removesuffix(" --full"), VARIANTS.get(name))
        lines.append(f"| `mzdesk {name}` | {perm} | {_roles_cell(roles)} |")
    lines += [
        "",
        "## Window actions",
        "",
        "| action | permission | roles |",
        "|---|---|---|",
    ]
    for action, needs in auth.GUI_ACTIONS.items():
        roles = {r for r in ROLES if all(r in auth.PERMISSIONS[p] for p in needs)}
        perm = " + ".join(f"`{p}`" for p in needs)
        lines.append(f"| {action} | {perm} | {_roles_cell(roles)} |")
    return "\n".join(lines) + "\n"


def test_docs_roles_matches_the_tables():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/roles.md is stale: run python tests/admin/test_roles_matrix.py --write"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(render(), encoding="utf-8")
        print(f"wrote {DOC}")
