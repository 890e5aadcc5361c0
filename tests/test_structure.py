"""The shape of the code: data flows one way, no cycles, small modules, settings and MLflow at the edges.

Read from the source (every `import`, at the top of a module or inside a function), so an arrow that runs
back up fails here before anyone has to find it by reading.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "roundabout"

#: Each unit's place in the flow: a unit imports only units of a lower rank (and itself).
RANKS = {
    "errors": 0,
    "settings": 0,
    "audit": 1,
    "yaml_config": 1,
    "reference": 1,
    "data": 2,
    "parties": 2,
    "features": 3,
    "simulation": 3,
    "models": 4,
    "store": 4,
    "training": 5,
    "monitoring": 4.5,
    "console": 4.7,
    "serving": 5,
    "loop": 6,
    "cli": 7,
}
#: Who may import these at all (beyond the rank rule).
ONLY_FROM = {
    "simulation": {
        "simulation",
        "loop",
        "cli",
    },  # the synthetic world feeds the loop, the CLI, tests and bench
    "settings": {"settings", "cli", "serving"},  # settings are read at the edges
}
#: The only modules that touch MLflow: the model's flavour and the adapter everyone else goes through.
MLFLOW_MODULES = {"roundabout.models.pyfunc", "roundabout.models.mlflow_service"}
#: The edges: the only places that call `get_settings()`.
SETTINGS_EDGES = ("roundabout.cli", "roundabout.serving.app")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def _imports(name: str) -> set[str]:
    """Every module of `roundabout` that module `name` imports (resolved to a known module or package)."""
    out: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(TREES[name]):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            # `from package import module` imports the module; `from module import name`, the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("roundabout.") and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name) for name in MODULES}


def _unit(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "roundabout"


def test_every_unit_has_a_rank() -> None:
    units = {_unit(m) for m in MODULES} - {"roundabout"}
    assert units <= set(RANKS), f"place these in RANKS: {sorted(units - set(RANKS))}"


def test_data_flows_one_way() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _unit(module) != "roundabout"
        and _unit(target) != _unit(module)
        and (
            RANKS[_unit(target)] >= RANKS[_unit(module)]
            or _unit(module) not in ONLY_FROM.get(_unit(target), {_unit(module)})
        )
    ]
    assert wrong == []


def test_no_import_cycles() -> None:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state[target] == 1:
                return [*path[path.index(target) :], target]
            if state[target] == 0 and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(GRAPH):
        if state[module] == 0:
            cycle = visit(module)
            assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_classes_stay_small(name: str) -> None:
    tree = TREES[name]
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            assert size <= MAX_CLASS_LINES, f"{name}.{node.name}: {size} lines"


def test_settings_are_read_only_at_the_edges() -> None:
    callers = {
        name
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "get_settings"
    }
    assert all(c.startswith(SETTINGS_EDGES) for c in callers), sorted(callers)


def test_one_mlflow_adapter() -> None:
    users = {
        name
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "mlflow" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow")
    }
    assert users <= MLFLOW_MODULES, sorted(users - MLFLOW_MODULES)


def test_every_package_says_what_lives_there() -> None:
    missing = [
        name
        for name, path in MODULES.items()
        if path.name == "__init__.py" and not ast.get_docstring(TREES[name])
    ]
    assert missing == []
