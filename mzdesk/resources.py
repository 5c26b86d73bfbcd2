"""Where shipped data lives: a source tree, an installed wheel, a frozen app.

``resources/`` sits beside the package in the source tree; ``pip install``
puts it inside the package as ``mzdesk/_resources``; PyInstaller bundles it
as ``resources/`` under ``sys._MEIPASS``.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@functools.cache
def resources_dir() -> Path:
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates += [_HERE.parent / "resources", _HERE / "_resources"]
    for cand in candidates:
        if (cand / "vocab.json").is_file():
            return cand
    raise FileNotFoundError("mzdesk resources not found; tried " + ", ".join(map(str, candidates)))


def resource_path(name: str) -> Path:
    return resources_dir() / name


@functools.cache
def load_json(name: str) -> dict:
    with open(resource_path(name), encoding="utf-8") as fh:
        return json.load(fh)
