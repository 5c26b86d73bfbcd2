"""mzdesk.roster is core: importing every module of it pulls in no Qt."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import importlib, json, pkgutil, sys
import mzdesk.cli  # the roster commands (mzdesk.cli.roster) load it, as in use
import mzdesk.roster as pkg
names = [m.name for m in pkgutil.walk_packages(pkg.__path__, "mzdesk.roster.")]
for n in names:
    importlib.import_module(n)
print(json.dumps({"names": names, "loaded": sorted(sys.modules), "qt": sorted(m for m in sys.modules if m.startswith("PySide6"))}))
"""


def test_roster_package_imports_no_qt():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert "mzdesk.roster.importer" in data["names"] and "mzdesk.cli.roster" in data["loaded"]
    assert data["qt"] == []
