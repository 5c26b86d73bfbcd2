"""The PyInstaller build (build.spec) works: the frozen ``mzdesk`` runs headless commands
and opens its window offscreen.  Slow (about a minute): run in CI, skip locally with
``-m "not slow"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mzdesk import __version__
from mzdesk.cli import cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    import PyInstaller  # noqa: F401 - a dev dependency: missing means a broken setup, not a skip

    work = tmp_path_factory.mktemp("pyinstaller")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "build.spec"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = work / "dist" / "mzdesk"
    size = sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"\nfrozen build: {seconds:.1f} s, {size / 2**20:.0f} MB in {folder}")
    return folder


def run(folder: Path, *args: str, exe: str = "mzdesk", **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **env)
    full_env.pop("MZDESK_DB", None)
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(folder / (exe + EXE_SUFFIX)), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=full_env,
        timeout=180,
        cwd=folder.parent,  # not the source tree: nothing may be imported from there
    )


def test_both_executables_and_resources_are_in_one_folder(frozen):
    assert (frozen / f"mzdesk{EXE_SUFFIX}").is_file()
    assert (frozen / f"mzdesk-gui{EXE_SUFFIX}").is_file()
    internal = frozen / "_internal"
    assert (internal / "resources" / "vocab.json").is_file()
    assert list((internal / "pypinyin").glob("*.json")), "pypinyin dictionaries missing"
    names = {p.name.lower() for p in internal.rglob("*")}
    assert not any(
        "virtualkeyboard" in n or n.startswith(("libqt6qml", "libqt6quick")) for n in names
    )


def test_frozen_cli_end_to_end(frozen, tmp_path):
    proc = run(frozen, "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"mzdesk, version {__version__}"
    db = str(tmp_path / "frozen.sqlite")
    proc = run(frozen, "init", "--db", db, "--site-code", "341623101", "--site-name", "青山镇")
    assert proc.returncode == 0, proc.stderr
    proc = run(frozen, "demo", "--db", db, "--households", "200", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    proc = run(frozen, "stats", "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["households"] == 200 and stats["members"] > 200
    # pinyin keys were made by the frozen pypinyin: find someone by initials
    proc = run(frozen, "households", "find", "341623", "--db", db, "--json", "--limit", "1")
    head = json.loads(proc.stdout)[0]["head_name"]
    from mzdesk.models.pinyin import name_keys

    proc = run(frozen, "households", "find", name_keys(head)[0], "--db", db, "--json")
    assert head in [i["head_name"] for i in json.loads(proc.stdout)]
    # a failure is still one line and a non-zero exit
    proc = run(frozen, "stats", "--db", str(tmp_path / "missing.sqlite"))
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    if "selftest" in cli.commands:
        proc = run(frozen, "selftest")
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_frozen_window_opens_offscreen(frozen, tmp_path):
    db = str(tmp_path / "gui.sqlite")
    run(frozen, "init", "--db", db, "--site-code", "341623101", "--site-name", "青山镇")
    run(frozen, "demo", "--db", db, "--households", "50")
    for exe in ("mzdesk", "mzdesk-gui"):
        proc = run(
            frozen, "--db", db, exe=exe, QT_QPA_PLATFORM="offscreen", MZDESK_BENCH_STARTUP="1"
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "startup_ms=" in proc.stdout


def test_frozen_sync_import_of_a_large_batch_runs_its_reader_process(frozen, tmp_path):
    """Above 50,000 records the import reads the batch in a worker process, which a frozen
    build starts as itself (multiprocessing.freeze_support in mzdesk/__main__.py)."""
    town, county = str(tmp_path / "town.sqlite"), str(tmp_path / "county.sqlite")
    steps = [
        ("init", "--db", town, "--site-code", "341623101", "--site-name", "青山镇"),
        ("demo", "--db", town, "--households", "12000", "--seed", "2"),
        (
            "init",
            "--db",
            county,
            "--site-code",
            "341623",
            "--site-name",
            "县民政局",
            "--role",
            "county",
        ),
        ("keys", "init", "--db", town),
        ("keys", "init", "--db", county),
        ("keys", "export-public", "--db", town, "--out", str(tmp_path / "town.pub")),
        ("keys", "export-public", "--db", county, "--out", str(tmp_path / "county.pub")),
        ("keys", "trust", str(tmp_path / "county.pub"), "--db", town),
        ("keys", "trust", str(tmp_path / "town.pub"), "--db", county),
        (
            "sync",
            "export",
            "--db",
            town,
            "--to",
            "341623",
            "--out",
            str(tmp_path / "b.age"),
            "--full",
        ),
    ]
    for args in steps:
        proc = run(frozen, *args)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
    proc = run(frozen, "sync", "import", str(tmp_path / "b.age"), "--db", county, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    records = sum(t["new"] for t in report["tables"].values())
    assert records > 50_000 and report["tables"]["households"]["new"] == 12000
