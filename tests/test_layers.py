"""Layer rules: the core, sync, reports and the CLI never pull in Qt.

Packages are walked with pkgutil, so modules added later are covered without
touching this test.
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
HEADLESS_PACKAGES = ("mzdesk.models", "mzdesk.sync", "mzdesk.reports", "mzdesk.cli")
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
