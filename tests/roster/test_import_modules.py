"""The roster import's modules (importer.py and import_*.py) write through the public
registry and enrolment services: none imports another module's private ``_name``."""

from __future__ import annotations

import ast
from pathlib import Path

import mzdesk.roster

ROSTER = Path(mzdesk.roster.__file__).parent


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.name}:{node.lineno} {node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__future__"
    ]


def test_the_import_borrows_no_private_helper():
    files = [ROSTER / "importer.py", *sorted(ROSTER.glob("import_*.py"))]
    assert len(files) >= 5  # entry, plan, sheet, match, apply, undo
    assert [bad for f in files for bad in _private_imports(f)] == []


def test_the_old_single_module_would_have_failed(tmp_path):
    """The check catches the borrowing the split removed (registry._member_row)."""
    old = tmp_path / "importer.py"
    old.write_text("from ..models.registry import Registry, _insert_sql, _member_row\n")
    assert _private_imports(old) == [
        "importer.py:1 models.registry._insert_sql",
        "importer.py:1 models.registry._member_row",
    ]
