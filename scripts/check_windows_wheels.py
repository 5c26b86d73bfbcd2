"""Check that every runtime dependency resolves to a wheel a Windows PC can install.

    python scripts/check_windows_wheels.py            # asks PyPI (pip's resolver)
    python scripts/check_windows_wheels.py --report r.json   # checks a saved pip report

This machine cannot build or run the Windows app.  What it can check is that pip, asked
for CPython 3.11 on win_amd64 with wheels only, resolves the dependencies of
``pyproject.toml`` (their Windows markers applied), and that every file it would install is
a wheel whose tags that interpreter accepts.  ``pip install --dry-run --report`` reads the
wheels' metadata (PEP 658) without downloading them, so the check takes seconds.

Exit status 0 when every dependency resolves; 1 with a line per failure otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
PYTHON = (3, 11)
PLATFORM = "win_amd64"
# the marker environment of CPython 3.11 on 64-bit Windows
WINDOWS_ENV = {
    "os_name": "nt",
    "sys_platform": "win32",
    "platform_system": "Windows",
    "platform_machine": "AMD64",
    "platform_release": "10",
    "platform_version": "10.0.19045",
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "implementation_name": "cpython",
    "implementation_version": "3.11.9",
    "platform_python_implementation": "CPython",
    "extra": "",
}


def windows_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[Requirement]:
    """The runtime dependencies a Windows install of CPython 3.11 asks for."""
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = []
    for text in deps:
        req = Requirement(text)
        if req.marker is None or Marker(str(req.marker)).evaluate(WINDOWS_ENV):
            req.marker = None
            out.append(req)
    return out


def supported_tags() -> set[Tag]:
    """Every wheel tag CPython 3.11 on win_amd64 installs."""
    abis = ["cp311", "abi3", "none"]
    tags = set(cpython_tags(PYTHON, abis=abis, platforms=[PLATFORM]))
    tags |= set(compatible_tags(PYTHON, interpreter="cp311", platforms=[PLATFORM]))
    return tags


def check_report(report: dict, wanted: list[Requirement]) -> tuple[list[str], list[str]]:
    """(lines of what resolved, failures) for a ``pip install --report`` document."""
    tags = supported_tags()
    lines: list[str] = []
    failures: list[str] = []
    installed = {}
    for item in report.get("install", []):
        name = canonicalize_name(item["metadata"]["name"])
        filename = item["download_info"]["url"].rsplit("/", 1)[-1]
        installed[name] = item["metadata"]["version"]
        if not filename.endswith(".whl"):
            failures.append(f"{name}: not a wheel ({filename})")
            continue
        try:
            _, _, _, wheel_tags = parse_wheel_filename(filename)
        except ValueError as exc:
            failures.append(f"{name}: bad wheel name {filename} ({exc})")
            continue
        if not wheel_tags & tags:
            failures.append(f"{name}: {filename} does not install on cp311 {PLATFORM}")
            continue
        lines.append(f"{name:24} {item['metadata']['version']:12} {filename}")
    for req in wanted:
        name = canonicalize_name(req.name)
        if name not in installed:
            failures.append(f"{req}: not resolved")
        elif not req.specifier.contains(installed[name], prereleases=True):
            failures.append(f"{req}: resolved to {installed[name]}, outside the range")
    return lines, failures


def resolve(wanted: list[Requirement], workdir: Path) -> dict:
    """Ask pip (dry run) what it would install for Windows; its JSON report."""
    report = workdir / "report.json"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--quiet",
        "--ignore-installed",
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--target",
        str(workdir / "target"),
        "--report",
        str(report),
        *[str(r) for r in wanted],
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            "pip could not resolve the dependencies for Windows:\n" + done.stderr[-4000:]
        )
    return json.loads(report.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="check this saved pip report instead")
    args = parser.parse_args(argv)
    wanted = windows_requirements()
    if args.report:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = resolve(wanted, Path(tmp))
    lines, failures = check_report(report, wanted)
    print(f"Windows (CPython 3.11, {PLATFORM}) wheels for {len(wanted)} dependencies:")
    for line in lines:
        print("  " + line)
    for failure in failures:
        print("FAIL " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
