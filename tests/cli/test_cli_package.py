"""The CLI is one package: a root group, ``common.py``, one module per command group.

Each command module imports ``mzdesk.cli.common`` and services, never another command
module (nor the root group), and imports on its own in a fresh interpreter.  The README's
command-line section names only commands that exist, and every top-level command.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

import mzdesk.cli
from mzdesk.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CLI_DIR = ROOT / "mzdesk" / "cli"
SHARED = {"__init__", "common"}
COMMAND_MODULES = sorted(p.stem for p in CLI_DIR.glob("*.py") if p.stem not in SHARED)

ALONE = """
import click, sys
import mzdesk.cli.{name} as module
assert module.COMMANDS, "COMMANDS is empty"
for command in module.COMMANDS:
    assert isinstance(command, click.Command), command
    try:
        command.main(["--help"], prog_name="mzdesk " + command.name, standalone_mode=False)
    except SystemExit as exc:
        sys.exit(exc.code)
print("ok", module.__name__, len(module.COMMANDS))
"""


def test_the_expected_command_modules_exist():
    expected = (
        "admin cases cipher county enrol households keys letters notice relatives reviews roster runs "
        "site standards sync visits"
    )
    assert COMMAND_MODULES == expected.split()


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_each_command_module_imports_alone(name):
    proc = subprocess.run(
        [sys.executable, "-c", ALONE.format(name=name)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"ok mzdesk.cli.{name}" in proc.stdout


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an import in ``path`` names (inside functions too), made absolute;
    ``from . import x`` counts as importing ``mzdesk.cli.x``."""
    package = "mzdesk.cli"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
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


@pytest.mark.parametrize("name", COMMAND_MODULES + ["common"])
def test_no_command_module_imports_another(name):
    bad = []
    for line, mod in _imported_modules(CLI_DIR / f"{name}.py"):
        if mod == "mzdesk.cli":
            bad.append(f"{name}.py:{line} imports the root group")
        elif mod.startswith("mzdesk.cli."):
            other = mod.split(".")[2]
            if other != "common" and other != name:
                bad.append(f"{name}.py:{line} imports mzdesk.cli.{other}")
    assert not bad, "\n".join(bad)


def test_the_import_check_sees_a_forbidden_import(tmp_path):
    """Guard: the checker catches each spelling of importing a sibling command module."""
    for source in (
        "from .sync import sync",
        "from . import roster",
        "import mzdesk.cli.keys",
        "from mzdesk.cli import cli",
        "def f():\n    from .enrol import enrol",
    ):
        path = tmp_path / "probe.py"
        path.write_text(source, encoding="utf-8")
        mods = [m for _, m in _imported_modules(path)]
        assert any(m == "mzdesk.cli" or m.startswith("mzdesk.cli.") for m in mods), source
        assert not all(m.startswith("mzdesk.cli.common") for m in mods), source


def test_every_command_module_is_registered_in_the_root():
    registered = {m.__name__.rsplit(".", 1)[1] for m in mzdesk.cli.COMMAND_MODULES}
    assert registered == set(COMMAND_MODULES)
    for module in mzdesk.cli.COMMAND_MODULES:
        for command in module.COMMANDS:
            assert cli.commands[command.name] is command


def test_the_root_has_no_bottom_imports():
    source = (CLI_DIR / "__init__.py").read_text(encoding="utf-8")
    assert "noqa: E402" not in source
    tree = ast.parse(source)
    first_code = next(
        i
        for i, n in enumerate(tree.body)
        if not isinstance(n, ast.Import | ast.ImportFrom | ast.Expr)
    )
    late = [n for n in tree.body[first_code:] if isinstance(n, ast.Import | ast.ImportFrom)]
    assert late == [], "command modules are imported at the top of mzdesk/cli/__init__.py"


# -- the README's command list against the click tree ----------------------------------
def _readme_command_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## 命令行 · Command line", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            lines += [part.strip() for part in line.split(";") if part.strip()]
    return lines


def readme_command_paths() -> list[tuple[str, ...]]:
    """``mzdesk sync export --to ...`` → ("sync", "export"); ``mzdesk booklet / checklist``
    → ("booklet",), ("checklist",); a group followed by ``...`` or an option names the group."""
    paths = []
    for line in _readme_command_lines():
        words = line.split()
        assert words[0] == "mzdesk", line
        names, rest = [words[1]], words[2:]
        while len(rest) >= 2 and rest[0] == "/":
            names.append(rest[1])
            rest = rest[2:]
        for name in names:
            command = cli.commands.get(name)
            if (
                isinstance(command, click.Group)
                and len(names) == 1
                and rest
                and not rest[0].startswith(("-", "."))
            ):
                paths.append((name, rest[0]))
            else:
                paths.append((name,))
    return paths


def test_the_readme_names_commands_that_exist():
    paths = readme_command_paths()
    assert len(paths) > 20, "the README's command list was not found"
    missing = []
    for path in paths:
        group: click.Command = cli
        for word in path:
            if not isinstance(group, click.Group) or word not in group.commands:
                missing.append(" ".join(path))
                break
            group = group.commands[word]
    assert missing == [], f"README.md names commands mzdesk --help does not have: {missing}"


def test_the_readme_lists_every_top_level_command():
    named = {path[0] for path in readme_command_paths()}
    assert sorted(set(cli.commands) - named) == [], "add them to README.md's command line"


def test_the_readme_parser_reads_the_shapes_it_meets():
    assert ("sync", "export") in readme_command_paths()
    assert ("checklist",) in readme_command_paths()
    assert ("enrol",) in readme_command_paths()


def test_the_package_is_installed_by_pyproject():
    """A wheel holds only the packages pyproject.toml lists: the CLI must be one of them."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mzdesk").rglob("__init__.py")
    }
    assert "mzdesk.cli" in on_disk
    assert sorted(on_disk - packages) == [], "add them to [tool.setuptools] packages"
    assert config["project"]["scripts"]["mzdesk"] == "mzdesk.cli:main"
