"""One name per concept: a class name is defined once in the package, so ``Order`` or ``Fill``
read in a module, a log line or a traceback names one thing.

The exceptions below are different concepts that share a word inside parts that never meet;
each says which, so a new one is a choice made in review, not an accident.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.support.source import parsed

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "perpsbot"

#: Class name -> the modules allowed to define it, and why they may share it.
SHARED: dict[str, tuple[frozenset[str], str]] = {
    "Rule": (
        frozenset({"config._rules", "actors.risk._check"}),
        "a config key's validation rule; a per-order risk rule",
    ),
    "Session": (
        frozenset({"control._session", "sim.gateway._api"}),
        "an operator's shell session; a client's connection to the simulated gateway",
    ),
    "Table": (
        frozenset({"control._table", "journal._mapping"}),
        "a text table printed for people; a journaled class's SQLite table",
    ),
    "Trade": (
        frozenset({"journal._read_shapes", "sim._market"}),
        "a round trip the journal reports; a print on the simulated market",
    ),
    "Notice": (
        frozenset({"venue.global_derivatives._codec", "sim.gateway._notices"}),
        "the two sides of the Global Derivatives wire, kept independent",
    ),
    "Position": (
        frozenset({"_position", "venue.global_derivatives.records"}),
        "the bot's position; the Global Derivatives client's record of one (its gateway,"
        " issue 19, is being written over it)",
    ),
}


def _class_names() -> dict[str, set[str]]:
    """Each public class name defined at a module's top level -> the modules defining it."""
    defined: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in parsed(path).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                defined[node.name].add(module.removesuffix(".__init__"))
    return defined


def test_each_class_name_is_defined_once_in_the_package_unless_listed_as_shared() -> None:
    doubled = []
    for name, modules in sorted(_class_names().items()):
        allowed = SHARED.get(name, (frozenset(), ""))[0]
        if len(modules) > 1 and not modules <= allowed:
            doubled.append(f"{name}: defined in {', '.join(sorted(modules))}")
    assert not doubled, "one class per name (rename one, or list it in SHARED with why):\n" + (
        "\n".join(doubled)
    )


def test_every_shared_name_is_still_shared_where_it_says() -> None:
    defined = _class_names()
    stale = [
        f"{name}: listed for {', '.join(sorted(allowed))}, defined in"
        f" {', '.join(sorted(defined.get(name, set()))) or 'none'}"
        for name, (allowed, _) in sorted(SHARED.items())
        if defined.get(name, set()) != allowed
    ]
    assert not stale, "SHARED lists names no longer shared there:\n" + "\n".join(stale)
