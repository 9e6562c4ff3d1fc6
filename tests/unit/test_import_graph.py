"""The package's import graph (issue 14 acceptance): no cycle among audiorepro's modules, counting
function-level imports too (a lazy import is still a dependency), and no module of the compare/
and fetch/ packages over 300 lines. Built from the source with ast, so nothing is imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import audiorepro

PACKAGE = Path(audiorepro.__file__).parent
MAX_LINES = 300


def _modules() -> dict[str, tuple[Path, bool]]:
    """dotted name -> (file, is a package __init__)"""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _imported(node: ast.AST, here: str, modules: dict) -> list[str]:
    """The package modules one import statement names (`from .x import y` names x.y when y is a
    submodule, else x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        parts = here.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported(node, here, modules):
                while target and target not in modules:  # `import audiorepro.x.y` names x.y or x
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    graph = import_graph()
    # a relative import two levels up, and a submodule named in `from . import x`
    assert "audiorepro.errors" in graph["audiorepro.models.salmonn.model"]
    assert "audiorepro.models.registry" in graph["audiorepro.cli"]


def test_no_import_cycle_among_the_package_modules():
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize("package", ["compare", "fetch"])
def test_no_module_of_the_split_packages_is_over_300_lines(package):
    folder = PACKAGE / package
    if not (folder / "__init__.py").exists():
        pytest.skip(f"audiorepro/{package} is not a package yet (issue 14 splits it)")
    long = {p.name: n for p in folder.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines in audiorepro/{package}/: {long}"


# Function-level imports of the package's own modules hide its dependency graph; in these packages
# each one left must be a measured start-up cost, named here and explained by a comment beside it.
LAZY_OWN_IMPORTS = {
    ("audiorepro.report", "audiorepro.report.html"),  # matplotlib: about doubles the CLI's start-up
}


def test_own_modules_are_imported_at_module_top_unless_named_as_lazy():
    modules, found = _modules(), set()
    for package in ("compare", "report", "fetch", "judge", "tasks"):
        for path in (PACKAGE / package).rglob("*.py"):
            name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
            here = name if path.name == "__init__.py" else name.rpartition(".")[0]
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for function in ast.walk(ast.parse(source)):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    for target in _imported(node, here, modules):
                        if target.startswith("audiorepro"):
                            found.add((name, target))
                            # the reason sits on the line above or on the import's own line
                            assert "#" in lines[node.lineno - 2] + lines[node.lineno - 1], (name, target)
    assert found == LAZY_OWN_IMPORTS


def test_the_cli_starts_without_the_heavy_libraries():
    # what keeps a lazy import lazy: `audiorepro --help` (and every command that does not need
    # them) must not pay for matplotlib, torch or transformers
    code = (
        "import sys, audiorepro.cli; audiorepro.cli.build_parser();"
        "print(sorted(m for m in ('matplotlib', 'torch', 'transformers', 'huggingface_hub') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
