"""The Windows dependency check (scripts/check_windows_wheels.py), on pip reports made here.

CI runs the script itself against PyPI (.ci/run); these tests check its verdicts offline.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "check_windows_wheels", ROOT / "scripts" / "check_windows_wheels.py"
)
assert _spec and _spec.loader
chk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(chk)


def item(name: str, version: str, filename: str) -> dict:
    return {
        "metadata": {"name": name, "version": version},
        "download_info": {"url": f"https://files.example/{filename}"},
    }


def good_report(wanted) -> dict:
    """A wheel for every wanted dependency, tagged the way PyPI tags them."""
    files = {
        "pyside6-essentials": "pyside6_essentials-6.11.3-cp310-abi3-win_amd64.whl",
        "pyside6-addons": "pyside6_addons-6.11.3-cp310-abi3-win_amd64.whl",
        "sqlcipher3-wheels": "sqlcipher3_wheels-0.5.7-cp311-cp311-win_amd64.whl",
        "orjson": "orjson-3.13.0-cp311-cp311-win_amd64.whl",
    }
    out = []
    for req in wanted:
        name = chk.canonicalize_name(req.name)
        version = "6.11.3" if name.startswith("pyside6") else "99.0"
        if name == "sqlcipher3-wheels":
            version = "0.5.7"
        filename = files.get(name, f"{name.replace('-', '_')}-{version}-py3-none-any.whl")
        out.append(item(name, version, filename))
    return {"install": out}


def test_windows_markers_pick_the_windows_projects():
    names = {chk.canonicalize_name(r.name) for r in chk.windows_requirements()}
    assert "sqlcipher3-wheels" in names
    assert "sqlcipher3-binary" not in names  # Linux only
    assert "pyside6-pdf" not in names  # Python 3.12 and later only
    assert {"pyside6-essentials", "reportlab", "openpyxl", "pyrage"} <= names


def test_a_report_of_windows_wheels_passes():
    wanted = chk.windows_requirements()
    lines, failures = chk.check_report(good_report(wanted), wanted)
    assert failures == []
    assert len(lines) == len(wanted)


def test_a_linux_wheel_an_sdist_and_a_missing_dependency_fail(tmp_path):
    wanted = chk.windows_requirements()
    report = good_report(wanted)
    by_name = {i["metadata"]["name"]: i for i in report["install"]}
    by_name["orjson"]["download_info"]["url"] = (
        "https://x/orjson-3.13.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    )
    by_name["pillow"]["download_info"]["url"] = "https://x/pillow-13.0.0.tar.gz"
    report["install"] = [i for i in report["install"] if i["metadata"]["name"] != "segno"]
    _, failures = chk.check_report(report, wanted)
    text = "\n".join(failures)
    assert "orjson" in text and "does not install on cp311 win_amd64" in text
    assert "pillow: not a wheel" in text
    assert "segno" in text and "not resolved" in text
    # the script's exit status says so too
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    assert chk.main(["--report", str(saved)]) == 1


def test_a_version_outside_the_range_fails():
    wanted = chk.windows_requirements()
    report = good_report(wanted)
    for i in report["install"]:
        if i["metadata"]["name"] == "pyside6-essentials":
            i["metadata"]["version"] = "6.12.0"  # the 3.11 pin excludes 6.12
            i["download_info"]["url"] = (
                "https://x/pyside6_essentials-6.12.0-cp310-abi3-win_amd64.whl"
            )
    _, failures = chk.check_report(report, wanted)
    assert any("outside the range" in f for f in failures)
