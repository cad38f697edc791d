"""Imports go one way: services import the tasks they enqueue at module level, a task imports its
service inside the function (paylink/tasks.py), and no two modules of the project import each
other at load time, whichever is loaded first.

Two checks: every module of the project imports in a fresh interpreter, and the graph of the
imports each module runs when it is loaded (module level and class bodies; not function bodies,
nor `if TYPE_CHECKING:` blocks) has no cycle. A cycle there works or breaks depending on which of
its modules some process happens to import first, so it is refused outright.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fresh_process import ROOT, python_run

PACKAGES = ("hubsite", "paylink", "reminders", "simulator", "bench")


def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of the packages, by dotted name (scripts run as `__main__` left out)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _load_time_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements run when the module is loaded."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _load_time_imports_of(child))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _load_time_imports(node)


def _load_time_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _load_time_imports(node)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """For each module, the project's modules it imports when it is loaded."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _load_time_imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from package import module` imports the module; `from module import name`
                # the module itself.
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The graph's cycles, one per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return groups


def test_no_two_modules_of_the_project_import_each_other_when_loaded():
    assert import_cycles(import_graph(project_modules())) == []


def test_services_import_tasks_and_tasks_import_no_service_when_loaded():
    graph = import_graph(project_modules())
    services = {name for name in graph if name.startswith("paylink.services.")}
    assert graph["paylink.tasks"] & services == set()
    assert "paylink.tasks" in graph["paylink.services.accounts"]
    assert "paylink.tasks" in graph["paylink.services.webhooks"]


def test_the_checker_finds_a_service_and_a_task_importing_each_other(tmp_path):
    # The loop the lazy imports used to dodge: each side at module level.
    package = tmp_path / "app"
    (package / "services").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "services" / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from app.services.accounts import accounts_sync\n"
        "if TYPE_CHECKING:\n    from app import other\n"
    )
    (package / "services" / "accounts.py").write_text(
        "from app import tasks\n\ndef accounts_sync():\n    from app import other\n"
    )
    (package / "other.py").write_text("import app.tasks\n")

    graph = import_graph(project_modules(tmp_path, ("app",)))

    assert import_cycles(graph) == [["app.services.accounts", "app.tasks"]]


@pytest.mark.parametrize(
    ("settings_module", "packages"),
    [
        ("hubsite.settings", ("hubsite", "paylink", "reminders", "bench")),
        ("simulator.settings", ("simulator",)),
    ],
)
def test_every_module_of_the_project_imports_in_a_fresh_interpreter(settings_module, packages):
    names = sorted(project_modules(packages=packages))
    script = (
        "import importlib, json, sys, django\n"
        "django.setup()\n"
        "failed = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = f'{type(error).__name__}: {error}'\n"
        "print(json.dumps(failed))\n"
    )
    result = python_run(
        "-c",
        script,
        json.dumps(names),
        DJANGO_SETTINGS_MODULE=settings_module,
        DJANGO_DEBUG="true",
        PAYLINK_TESTING="true",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {}
