"""The package's source as the structure tests read it (layering, layout, names): each file
read and parsed once per test process, since the checks only read the trees."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

__all__ = ["imports", "parsed"]


@functools.cache
def parsed(path: Path) -> ast.Module:
    """``path``'s syntax tree."""
    return ast.parse(path.read_text(), filename=str(path))


@functools.cache
def imports(path: Path) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """Every import statement in ``path``, wherever it is (a function, ``TYPE_CHECKING``)."""
    return tuple(
        node for node in ast.walk(parsed(path)) if isinstance(node, ast.Import | ast.ImportFrom)
    )
