"""The architecture's rules (docs/architecture.md), checked on the source itself: the core never
names an area, the package root holds only packages, and the import graph has no cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import medora

SOURCE = Path(medora.__file__).parent
AREAS = SOURCE / "areas"
#: The task classes of medora's own areas, and the comparisons of a task's modality.
AREA_BRANCH = re.compile(r"isinstance\([^)]*(Task|MoleculeTask|SurvivalTask|EffectTask|"
                         r"EventSequenceTask)|modality *(==|!=|in)")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, modules: set[str], *, typing_too: bool) -> set[str]:
    """The medora modules ``path`` imports, at module level or inside functions; imports under
    ``if TYPE_CHECKING:`` only with ``typing_too`` (they never run)."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent /
                                                                                 "__init__.py")

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not typing_too:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("medora"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.startswith("medora"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph(*, typing_too: bool = False) -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in SOURCE.rglob("*.py")}
    modules = set(paths)
    return {name: {m for m in _imports(path, modules, typing_too=typing_too) if m in modules}
            for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return [*path[path.index(imported):], imported]
            if imported not in state and (found := visit(imported)):
                return found
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    assert len(graph) > 100  # the whole package was read
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_core_package_imports_an_area() -> None:
    offenders = {module: sorted(m for m in imported if m.startswith("medora.areas"))
                 for module, imported in _graph(typing_too=True).items()
                 if not module.startswith("medora.areas")}
    assert {module: found for module, found in offenders.items() if found} == {}


def test_the_core_never_branches_on_an_area() -> None:
    branches = [f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
                for path in SOURCE.rglob("*.py") if AREAS not in path.parents
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if AREA_BRANCH.search(line)]
    assert branches == []


def test_the_package_root_holds_only_packages() -> None:
    loose = sorted(path.name for path in SOURCE.glob("*.py") if path.name != "__init__.py")
    assert loose == []


def test_each_area_is_one_folder_registered_through_entry_points() -> None:
    from importlib.metadata import entry_points

    from medora.core.registry import ENTRY_POINT_GROUP, areas

    builtin = {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)
               if entry.value.startswith("medora.areas.")}
    assert set(builtin) == {"risk", "molecules", "survival", "effects", "ehr"}
    for name, value in builtin.items():
        assert value.startswith(f"medora.areas.{name}:") and (AREAS / name).is_dir()
    assert {area.name for area in areas()} >= set(builtin)
