"""Every third-party module the package imports belongs to a declared runtime dependency, and test-only
tools are not runtime dependencies."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {_canonical(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in specs}


def _imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "roundabout").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"roundabout"}


def test_every_imported_module_is_a_declared_runtime_dependency() -> None:
    owners = packages_distributions()
    declared = _declared()
    undeclared = {
        module: owners.get(module)
        for module in _imported_top_level_modules()
        if not {_canonical(d) for d in owners.get(module, [])} & declared
    }
    assert undeclared == {}


def test_httpx_is_for_tests_and_benches_only() -> None:
    assert "httpx" not in _declared()
    assert "httpx" in _declared("dev")
