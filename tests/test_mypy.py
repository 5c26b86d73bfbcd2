"""mypy passes on the headless packages with the project's configuration.

``[tool.mypy]`` in pyproject.toml names what is checked (models, sync, roster, reports, cli)
and which untyped libraries are let through; running it here makes the README's test command
a type check as well.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_is_configured_for_the_headless_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    checked = set(config["files"])
    for package in ("models", "sync", "roster", "reports", "cli"):
        assert f"mzdesk/{package}" in checked
    assert "ignore_errors" not in config


def test_mypy_passes():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
