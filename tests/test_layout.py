"""Which package may import which: the apps never reach into the project that hosts them, and
`paylink/lib/` knows nothing of the domain (bills, Atomic, reminders), so any app could use it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("paylink", "reminders")


def imports(source: str) -> Iterator[str]:
    """Every module `source` imports from, at module level or inside a function."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def imports_under(*packages: str) -> set[tuple[str, str]]:
    """(file, module imported) for every Python file under `packages`."""
    return {
        (str(path.relative_to(ROOT)), name)
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imports(path.read_text())
    }


def test_imports_are_read_from_function_bodies_too():
    source = "import os\n\ndef f():\n    from hubsite.settings import X\n"
    assert set(imports(source)) == {"os", "hubsite.settings"}


def test_no_app_module_imports_the_hubsite_project():
    found = {
        (path, name)
        for path, name in imports_under(*APPS)
        if name == "hubsite" or name.startswith("hubsite.")
    }
    # An app that needs a thing from hubsite gets its own.
    assert not found, sorted(found)


def test_lib_imports_nothing_of_the_domain():
    allowed = ("paylink.lib", "paylink.observability")
    found = {
        (path, name)
        for path, name in imports_under("paylink/lib")
        if name.split(".")[0] in APPS and not name.startswith(allowed)
    }
    assert not found, sorted(found)
