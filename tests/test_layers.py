"""Layer rules: which package may import which, no private helpers across modules, and
the core, sync, roster, reports and the CLI never pull in Qt.

The layers (the table ARCHITECTURE.md shows)::

    app (GUI entry) -> ui -> services -> models (domain, store, use cases)
    cli             ->       services
    services: sync, roster, reports (each over models; roster -> reports one way, for the
              one xlsx writer and the PDF fonts), hooks (start-up wiring of models' events)
    nothing imports ui but app; nothing imports cli but __main__

Packages are walked on disk, so modules added later (the CLI's command modules, the split
sync/roster/models modules) are covered without touching this test.  A new package or
top-level module must get its row in :data:`ALLOWED`.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mzdesk"
HEADLESS_PACKAGES = (
    "mzdesk.models",
    "mzdesk.sync",
    "mzdesk.roster",
    "mzdesk.reports",
    "mzdesk.cli",
)
QT_ROOTS = ("PySide6", "shiboken6", "PyQt5", "PyQt6")

PROBE = """
import importlib, importlib.util, json, pkgutil, sys
names = ["mzdesk", "mzdesk.cli", "mzdesk.__main__"] + %r
for pkg_name in %r:
    pkg = importlib.import_module(pkg_name)
    names.append(pkg_name)
    names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg_name + ".")]
for name in names:
    if name != "mzdesk.__main__":  # importing it would run the CLI
        importlib.import_module(name)
    else:
        importlib.util.find_spec(name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in %r)
print(json.dumps({"imported": names, "qt": qt}))
"""


def _top_level_modules() -> list[str]:
    skip = {"__init__", "__main__", "app"}
    return sorted(f"mzdesk.{p.stem}" for p in PKG.glob("*.py") if p.stem not in skip)


def test_headless_modules_import_without_qt():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (_top_level_modules(), HEADLESS_PACKAGES, QT_ROOTS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "mzdesk.models.store" in result["imported"]
    assert "mzdesk.models.registry" in result["imported"]
    assert result["qt"] == [], f"Qt was imported by a headless module: {result['qt']}"


def _headless_files() -> list[Path]:
    # every top-level module but the GUI entry (app.py): paths, selftest ...; the cli package
    files = sorted(p for p in PKG.glob("*.py") if p.name != "app.py")
    for pkg in HEADLESS_PACKAGES:
        files += sorted((ROOT / pkg.replace(".", "/")).rglob("*.py"))
    return files


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names, including imports inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


@pytest.mark.parametrize("path", _headless_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_qt_or_ui_import_even_inside_functions(path):
    bad = []
    for line, mod in _imports(path):
        top = mod.split(".")[0]
        if top in QT_ROOTS or mod.startswith("mzdesk.ui"):
            bad.append(f"{path.name}:{line} imports {mod}")
        # the CLI's root group may start the GUI when run without a command; nothing else may
        if mod.startswith("mzdesk.app") and path != PKG / "cli" / "__init__.py":
            bad.append(f"{path.name}:{line} imports {mod}")
    assert not bad, "\n".join(bad)


def test_the_walk_sees_every_headless_module():
    """Guard against the probe silently covering nothing (e.g. a renamed package)."""
    import mzdesk.models

    found = {m.name for m in pkgutil.walk_packages(mzdesk.models.__path__, "mzdesk.models.")}
    on_disk = {
        f"mzdesk.models.{p.stem}" for p in (PKG / "models").glob("*.py") if p.stem != "__init__"
    }
    assert on_disk <= found


# -- the table of allowed imports between packages (and top-level modules) -------------------
# node -> the nodes it may import.  A node is a subpackage of mzdesk or a top-level module;
# "mzdesk" (the root package: __version__, STARTED) may be imported by anyone.
SERVICES = {"models", "sync", "roster", "reports"}
ALLOWED: dict[str, set[str]] = {
    "resources": set(),  # where the shipped files are
    "paths": set(),  # where the user's files go
    "models": {"resources"},  # the domain, the store, the use cases
    "sync": {"models"},
    "idcard": {"models"},  # ID-card reader backends, no Qt
    "reports": {"models", "resources"},
    "roster": {"models", "reports", "resources"},  # reports.xlsx_writer, reports.fonts
    "hooks": {"models", "sync"},  # wires models' events to sync at start
    "selftest": {"models", "reports"},
    "cli": SERVICES | {"hooks", "paths", "selftest", "app"},  # app: only to open the window
    "ui": SERVICES | {"paths", "resources", "idcard"},
    "app": {"ui", "models", "hooks", "paths", "resources"},  # the GUI entry
    "__main__": {"cli"},
}

# Private helpers still imported from another module: TO BE REMOVED (each becomes public,
# moves to where it is used, or its caller goes through a public function).  Keyed by the
# module that defines the helper, so that splitting the importing module keeps it listed;
# an entry no longer used fails the test below and must be deleted.
PRIVATE_IMPORTS_TO_REMOVE: set[tuple[str, str]] = set()


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _node(dotted: str) -> str:
    """``mzdesk.sync.keys`` -> ``sync``; ``mzdesk.app`` -> ``app``; the root's attributes
    (``mzdesk.__version__``) -> ``mzdesk``."""
    parts = dotted.split(".")
    if len(parts) == 1 or not _is_module(".".join(parts[:2])):
        return "mzdesk"
    return parts[1]


def _all_files() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def _mzdesk_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) of every mzdesk import, also inside functions."""
    me = _module_of(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out += [(node.lineno, mod, a.name) for a in node.names]
    return [(line, mod, name) for line, mod, name in out if mod.split(".")[0] == "mzdesk"]


def _edges() -> dict[tuple[str, str], list[str]]:
    """(from node, to node) -> where, for every import between two nodes."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in _all_files():
        src = _node(_module_of(path))
        for line, mod, name in _mzdesk_imports(path):
            target = f"{mod}.{name}" if name and _is_module(f"{mod}.{name}") else mod
            dst = _node(target)
            if dst not in (src, "mzdesk"):
                where = f"{path.relative_to(ROOT)}:{line} imports {target}"
                edges.setdefault((src, dst), []).append(where)
    return edges


def test_every_package_and_top_level_module_has_its_row_in_the_table():
    nodes = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    nodes |= {p.parent.name for p in PKG.glob("*/__init__.py")}
    assert nodes == set(ALLOWED), "add the new package to ALLOWED (and to ARCHITECTURE.md)"


def test_every_import_between_packages_is_in_the_table():
    bad = [
        f"{src} -> {dst}: {where[0]}"
        for (src, dst), where in sorted(_edges().items())
        if dst not in ALLOWED.get(src, set())
    ]
    assert not bad, "imports outside the layer table:\n" + "\n".join(bad)


def test_the_table_has_no_cycle_and_nothing_but_app_imports_ui():
    seen: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(ALLOWED.get(node, ())):
            assert seen.get(nxt) != 1, f"cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for node in sorted(ALLOWED):
        if node not in seen:
            visit(node, [])
    assert {n for n, deps in ALLOWED.items() if "ui" in deps} == {"app"}
    assert {n for n, deps in ALLOWED.items() if "cli" in deps} == {"__main__"}


def _private_uses(path: Path) -> list[tuple[str, str, str]]:
    """(defining module, name, where) for every private name of another mzdesk module that
    ``path`` imports or reads as an attribute of an imported module."""
    me = _module_of(path)
    out = []
    modules: dict[str, str] = {}  # local name -> mzdesk module it is bound to
    for line, mod, name in _mzdesk_imports(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        if name is None:
            continue
        if _is_module(f"{mod}.{name}"):
            modules[name] = f"{mod}.{name}"
        elif name.startswith("_") and not name.startswith("__") and mod != me:
            out.append((mod, name, where))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and modules[node.value.id] != me
        ):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            out.append((modules[node.value.id], node.attr, where))
    return out


def test_no_private_helper_of_another_module_is_imported():
    uses = [u for path in _all_files() for u in _private_uses(path)]
    bad = [
        f"{where} uses {mod}.{name}"
        for mod, name, where in uses
        if (mod, name) not in PRIVATE_IMPORTS_TO_REMOVE
    ]
    assert not bad, "make the helper public or keep it in its module:\n" + "\n".join(bad)
    stale = PRIVATE_IMPORTS_TO_REMOVE - {(mod, name) for mod, name, _ in uses}
    assert not stale, f"no longer imported, delete from PRIVATE_IMPORTS_TO_REMOVE: {stale}"


def test_the_checks_see_a_forbidden_edge_and_a_private_import(tmp_path, monkeypatch):
    """The walk is not vacuous: a models module importing sync, and one importing another
    module's private helper, are both reported."""
    fake = tmp_path / "mzdesk"
    for pkg in ("models", "sync"):
        (fake / pkg).mkdir(parents=True)
        (fake / pkg / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "sync" / "keys.py").write_text("def _secret():\n    pass\n")
    (fake / "models" / "auth.py").write_text("from ..sync.keys import _secret\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    assert ("models", "sync") in _edges()
    assert [u[:2] for u in _private_uses(fake / "models" / "auth.py")] == [
        ("mzdesk.sync.keys", "_secret")
    ]


HOOKS_PROBE = """
import importlib, pkgutil, sys
import mzdesk
from mzdesk.models import auth
for pkg_name in ("mzdesk.models", "mzdesk.sync", "mzdesk.roster", "mzdesk.reports", "mzdesk.cli"):
    pkg = importlib.import_module(pkg_name)
    for m in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
        importlib.import_module(m.name)
print(len(auth.credentials_changed))
from click.testing import CliRunner
from mzdesk.cli import cli
result = CliRunner().invoke(cli, ["--db", sys.argv[1], "operators", "list"])
print(len(auth.credentials_changed), auth.credentials_changed[0].__module__)
"""


def test_hooks_are_registered_at_start_not_by_an_import(tmp_path):
    """Importing every headless module registers no hook; the CLI's root group does (the
    window's start-up calls the same ``mzdesk.hooks.register_hooks``)."""
    proc = subprocess.run(
        [sys.executable, "-c", HOOKS_PROBE, str(tmp_path / "mz.sqlite")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["0", "1 mzdesk.hooks"]
