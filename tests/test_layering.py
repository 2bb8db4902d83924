"""The package's import directions (docs/DESIGN.md section 1), read from the source with ``ast``:
a module that imports against them fails here, naming the module, the line and the rule.

Type-only and deferred imports count: a name a module must know to type-check or to run is a
dependency too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.source import imports

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "perpsbot"

#: Leaves: each imports nothing of ours but the leaves listed with it.
LEAVES: dict[str, frozenset[str]] = {
    "__init__": frozenset(),  # the package itself: its version
    "errors": frozenset(),
    "backoff": frozenset(),
    "cfm_calendar": frozenset(),
    "candle_sizes": frozenset(),
    "_paths": frozenset(),
    "_args": frozenset(),
    "clock": frozenset({"errors"}),
    "ids": frozenset({"clock", "errors"}),
    "keys": frozenset({"errors"}),
    "token_bucket": frozenset({"clock"}),
}
_LEAF = frozenset(LEAVES)

#: What each part of the package may import besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    **LEAVES,
    "messages": frozenset({"errors", "clock", "ids"}),
    # The generic actor runtime knows nothing about trading.
    "runtime": frozenset({"errors", "clock", "ids", "backoff"}),
    "config": _LEAF,  # plain data: never the code that uses it
    "venue": _LEAF | {"messages"},  # never config (its values come in), never the simulator
    "sim": _LEAF | {"config"},  # never the client code it exists to check
    "_position": _LEAF | {"messages"},
    "journal": _LEAF | {"messages", "config", "_position"},
    "actors": _LEAF | {"messages", "runtime", "config", "venue", "journal", "_position"},
    # Operating any actor system: nothing of the bot's trading (the bot plugs its views in).
    "control": _LEAF | {"runtime"},
    "bot": _LEAF
    | {
        "messages",
        "runtime",
        "config",
        "venue",
        "sim",
        "journal",
        "actors",
        "control",
        "_position",
    },
    # Market data for backtests: uses the venue and reaches the paper account through the bot.
    "data": _LEAF | {"messages", "config", "venue", "sim", "bot"},
    # Backtests: the bot's tree against the sim fed by stored data, and what is made of a run.
    "backtest": _LEAF
    | {
        "messages",
        "runtime",
        "config",
        "venue",
        "sim",
        "journal",
        "actors",
        "control",
        "_position",
        "bot",
        "data",
    },
}
#: The command line and the daemon assemble everything.
TOP = frozenset({"cli", "daemon", "__main__"})

#: Venue-specific subpackages: what each may import of its own part (besides itself), and
#: no other module of the part imports them (a venue's wire never leaks into another's).
#: The Global Derivatives client reuses the Advanced Trade side's transport helpers only, and its
#: gateway implements the venue-neutral protocol (venue.gateway).
INSIDE: dict[str, frozenset[str]] = {
    "venue.global_derivatives": frozenset(
        {
            "venue._http",
            "venue._deadline",
            "venue._wsframes",
            "venue.auth",
            "venue.ratelimit",
            "venue.gateway",
        }
    ),
    # The simulated gateway is a second face of the exchange: it uses the sim, never the reverse.
    "sim.gateway": frozenset({"sim"}),
}


def _part(path: Path, package: Path = PACKAGE) -> str:
    """``control`` for ``control/_server.py``, ``ids`` for ``ids.py``."""
    return path.relative_to(package).parts[0].removesuffix(".py")


_PARTS = frozenset(_part(path) for path in PACKAGE.rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, part)`` of every import of ``perpsbot.<part>`` in ``path``, wherever it is;
    ``from perpsbot import __version__`` imports the package itself, ``__init__``."""
    for node in imports(path):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "perpsbot":
                names = [f"perpsbot.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "perpsbot" and len(parts) > 1:
                yield node.lineno, parts[1] if parts[1] in _PARTS else "__init__"


def _broken(package: Path = PACKAGE) -> list[str]:
    """Each import in ``package`` against the rules, as ``where: what; the rule``."""
    broken = []
    for path in sorted(package.rglob("*.py")):
        part = _part(path, package)
        if part in TOP:
            continue
        for line, imported in _imports(path):
            if imported == part or imported in ALLOWED[part]:
                continue
            where = f"{path.relative_to(package.parent)}:{line}"
            allowed = ", ".join(sorted(ALLOWED[part])) or "nothing of ours"
            broken.append(f"{where}: {part} imports {imported}; it may import only {allowed}")
    return broken


def _module_imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every ``perpsbot.<module>`` import in ``path``, dotted without
    the ``perpsbot.`` prefix (``venue._http``)."""
    for node in imports(path):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("perpsbot."):
                yield node.lineno, name.removeprefix("perpsbot.")


#: The modules outside each venue-specific subpackage that may build it into the bot: the
#: bot's venue, and its one-shot commands (``account``, ``order preview``) on that venue.
ASSEMBLERS: dict[str, frozenset[str]] = {
    "bot._global": frozenset({"venue.global_derivatives", "sim.gateway"}),
    "bot._global_cli": frozenset({"venue.global_derivatives"}),
}


def _inside_broken(package: Path = PACKAGE) -> list[str]:
    """Imports against :data:`INSIDE`, as ``where: what; the rule``."""
    broken = []
    for path in sorted(package.rglob("*.py")):
        dotted = ".".join(path.relative_to(package).with_suffix("").parts)
        where_sub = next((sub for sub in INSIDE if dotted.startswith(sub + ".")), None)
        for line, name in _module_imports(path):
            where = f"{path.relative_to(package.parent)}:{line}"
            target_sub = next(
                (sub for sub in INSIDE if name == sub or name.startswith(sub + ".")), None
            )
            assembles = target_sub in ASSEMBLERS.get(dotted, frozenset())
            if target_sub is not None and where_sub != target_sub and not assembles:
                broken.append(f"{where}: imports {name}; only {target_sub} itself may")
            if where_sub is None or target_sub == where_sub:
                continue
            part = where_sub.split(".")[0]
            if name.split(".")[0] != part:
                continue  # another part: the part rules above decide
            allowed = INSIDE[where_sub]
            if not any(name == a or name.startswith(a + ".") for a in allowed):
                broken.append(
                    f"{where}: {where_sub} imports {name}; of {part} it may import only "
                    + ", ".join(sorted(allowed))
                )
    return broken


def test_venue_specific_subpackages_import_only_what_their_rule_allows() -> None:
    assert _inside_broken() == []


def test_every_part_of_the_package_has_a_rule() -> None:
    assert _PARTS - set(ALLOWED) - TOP == set()


def test_every_import_follows_the_layering() -> None:
    assert _broken() == []


def test_an_import_against_the_layering_is_named_with_its_line_and_the_rule(
    tmp_path: Path,
) -> None:
    package = tmp_path / "perpsbot"
    (package / "control").mkdir(parents=True)
    (package / "control" / "_views.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from perpsbot.runtime import ActorSystem\n"
        "if TYPE_CHECKING:\n"
        "    from perpsbot.bot import ROOT\n"
        "def view() -> None:\n"
        "    import perpsbot.messages.orders\n"
    )
    (package / "clock.py").write_text("from perpsbot import __version__, errors\n")
    rule = "it may import only " + ", ".join(sorted(ALLOWED["control"]))
    assert _broken(package) == [
        "perpsbot/clock.py:1: clock imports __init__; it may import only errors",
        f"perpsbot/control/_views.py:4: control imports bot; {rule}",
        f"perpsbot/control/_views.py:6: control imports messages; {rule}",
    ]
