"""Layering habits the import-linter contract cannot see (issue #8).

`lint-imports` (run by `make check`) enforces the layers themselves. This test keeps
imports at module level, where a reader sees what a module depends on: an import
inside a function must say why in a comment (on its line, or on the line above the
first of a run of imports), e.g. AppConfig.ready() waiting for the app registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("opsportal", "incidents", "drills")


def _function_local_imports(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines), filename=str(path))
    unexplained = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        previous: ast.stmt | None = None
        for node in ast.walk(func):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            continues_run = (
                isinstance(previous, ast.Import | ast.ImportFrom)
                and previous.end_lineno is not None
                and node.lineno == previous.end_lineno + 1
            )
            previous = node
            own_lines = lines[node.lineno - 1 : node.end_lineno]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if continues_run or above.startswith("#") or any("#" in line for line in own_lines):
                continue
            unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {own_lines[0].strip()}")
    return unexplained


def test_function_local_imports_say_why():
    offenders = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for hit in _function_local_imports(path)
    ]

    assert offenders == []
