"""The package's source as the structure tests read it (layering, layout, names): each file
read and parsed once per test process, since the checks only read the trees."""

from __future__ import annotations

import ast
import functools
import gc
from pathlib import Path

__all__ = ["imports", "parsed"]


@functools.cache
def parsed(path: Path) -> ast.Module:
    """``path``'s syntax tree.

    Parsed with the cyclic garbage collector paused: a syntax tree holds no cycles (its nodes
    are freed by reference counting), but the hundreds of thousands of nodes of the package's
    trees set off collections of the whole heap, and in a test process that has run hundreds
    of tests before this one those took most of the time of parsing the package.
    """
    source = path.read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=str(path))
    finally:
        if enabled:
            gc.enable()


@functools.cache
def imports(path: Path) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """Every import statement in ``path``, wherever it is (a function, ``TYPE_CHECKING``), in
    the order they are written."""
    found = [
        node for node in _statements(parsed(path)) if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    return tuple(sorted(found, key=lambda node: (node.lineno, node.col_offset)))


def _statements(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those inside expressions, in no particular order: an import
    is a statement, and no expression holds a statement (a lambda's body is an expression),
    so this finds what ``ast.walk`` would while skipping most of the tree's nodes."""
    found = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        todo.extend(
            child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr)
        )
    return found
