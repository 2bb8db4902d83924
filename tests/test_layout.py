"""Where things live: messages in perpsbot.messages, one definition of each venue endpoint and
shared class, keys and the environment read only by the config loader.

These read the source with ``ast`` (and import modules to resolve names), so a message class
defined in an actor module, or a URL written twice, fails here rather than in review.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import perpsbot.backoff
import perpsbot.config
import perpsbot.messages
import perpsbot.runtime
import perpsbot.sim
import perpsbot.venue
from tests.support.source import parsed

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = ("actors", "bot", "venue", "control")

#: Calls that carry a message (telling, asking, publishing, arming a timer).
SENDS = frozenset({"tell", "ask", "publish", "every", "once"})


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((SRC / "perpsbot" / package).rglob("*.py")):
            name = ".".join(path.relative_to(SRC).with_suffix("").parts)
            yield name.removesuffix(".__init__"), parsed(path)


def _message_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Class names matched by ``case X(...)`` in an ``on_receive``, or built as the message
    of a send (``tell``, ``ask``, ``publish``, ``every``, ``once``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "on_receive":
            for inner in ast.walk(node):
                if isinstance(inner, ast.MatchClass):
                    yield inner.lineno, ast.unparse(inner.cls)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SENDS
        ):
            built = [a for a in node.args if isinstance(a, ast.Call)]
            if built and isinstance(built[-1].func, ast.Name | ast.Attribute):
                # every/once take (delay, message): the message is the last call argument
                yield node.lineno, ast.unparse(built[-1].func)


def _resolve(module: Any, dotted: str) -> Any:
    value = module
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _home(cls: type) -> str | None:
    for package in (perpsbot.messages, perpsbot.runtime):
        if getattr(package, cls.__name__, None) is cls:
            return package.__name__
    return None


def test_every_message_an_actor_sends_or_matches_comes_from_messages_or_runtime() -> None:
    seen: set[str] = set()
    offenders = []
    for name, tree in _modules():
        module = importlib.import_module(name)
        for line, dotted in _message_names(tree):
            cls = _resolve(module, dotted)
            if not isinstance(cls, type) or cls.__module__.startswith("builtins"):
                continue  # a function call (a factory, a stamper method), not a class
            seen.add(cls.__name__)
            if _home(cls) is None:
                offenders.append(f"{name}:{line}: {cls.__module__}.{cls.__qualname__}")
    assert {
        "PollQuotes",
        "CheckFeedSilence",
        "CoalescedReady",
        "OrderFilled",
        "UserOrdersReceived",
    } <= seen
    assert offenders == [], (
        "messages belong in perpsbot.messages (runtime primitives in perpsbot.runtime):\n"
        + "\n".join(offenders)
    )


def test_each_coinbase_endpoint_is_written_once_in_the_source() -> None:
    places: dict[str, list[str]] = {}
    for path in sorted((SRC / "perpsbot").rglob("*.py")):
        for node in ast.walk(parsed(path)):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(https|wss)://[^\s/]*coinbase\.com\S*", node.value)
            ):
                where = f"{path.relative_to(SRC)}:{node.lineno}"
                places.setdefault(node.value, []).append(where)
    # Advanced Trade: REST, market websocket, user websocket; the Global Derivatives
    # gateway: HTTP, trading socket, streams socket.
    assert len(places) == 6
    assert {url: where for url, where in places.items() if len(where) > 1} == {}


def test_one_backoff_and_one_sim_config() -> None:
    assert perpsbot.runtime.Backoff is perpsbot.venue.Backoff is perpsbot.backoff.Backoff
    assert perpsbot.sim.SimConfig is perpsbot.config.SimConfig


def _reads_environment_or_files(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            yield node.lineno, ast.unparse(node)
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called in {"open", "os.open", "io.open"} or called.endswith(
                (".read_text", ".read_bytes")
            ):
                yield node.lineno, called


def test_keys_and_the_environment_are_read_only_by_the_config_loader() -> None:
    offenders = []
    for package in ("venue", "actors", "runtime", "messages"):
        for path in sorted((SRC / "perpsbot" / package).rglob("*.py")):
            for line, what in _reads_environment_or_files(parsed(path)):
                offenders.append(f"{path.relative_to(SRC)}:{line}: {what}")
    assert offenders == [], "config.load_config reads keys and the environment:\n" + "\n".join(
        offenders
    )


#: The modules allowed to change a position: the portfolio actor and the book it owns.
_POSITION_OWNERS = {
    "perpsbot.actors.portfolio.portfolio",
    "perpsbot.actors.portfolio._positions",
    "perpsbot._position",
}
#: What changes a book, or announces a change of one.
_POSITION_WRITES = {
    "PositionBook", "apply_fill", "book_funding", "restore_funding", "correct", "with_fill",
}  # fmt: skip


def _calls(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            yield node.lineno, name


def test_only_the_portfolio_changes_a_position_or_publishes_one() -> None:
    # Two owners of positions, kept in step by a round trip, lost money (trading-core review):
    # a position is booked, corrected and announced by the portfolio alone.
    found = []
    for module, tree in _modules():
        if module in _POSITION_OWNERS or module.startswith("perpsbot.journal."):
            continue  # the journal rebuilds what it stored: reading, not booking
        for line, name in _calls(tree):
            if name in _POSITION_WRITES | {"PositionChanged"}:
                found.append(f"{module}:{line} {name}(...)")
        for node in ast.walk(tree):
            # A copy may only be set from the portfolio's event: ``positions[s] =
            # message.position...`` (the executor once moved it by its own fills).
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Attribute)
                    and target.value.attr.lstrip("_") == "positions"
                    and not ast.unparse(node.value).startswith("message.position")
                ):
                    found.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    assert found == [], found


def test_the_reduce_only_predicate_is_defined_once_and_both_gates_decide_by_it() -> None:
    definitions, users = [], set()
    for module, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and re.search(
                r"reduces|shrink", node.name
            ):
                definitions.append(f"{module}.{node.name}")
        if any(name == "only_reduces" for _, name in _calls(tree)):
            users.add(module)
    # OrderCheck.reduces is risk's name for the same question, answered by the predicate.
    assert sorted(definitions) == [
        "perpsbot.actors.execution._reduce_only.only_reduces",
        "perpsbot.actors.risk._check.reduces",
    ]
    assert {"perpsbot.actors.execution._reduce_only", "perpsbot.actors.risk._check"} <= users


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """The modules ``tree`` imports (``from a.b import c`` names ``a.b``), at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _executor_modules() -> dict[str, ast.Module]:
    """The executor's module and every actors module it is built from, followed through
    their imports."""
    trees = dict(_modules())
    found: dict[str, ast.Module] = {}
    todo = ["perpsbot.actors.execution.executor"]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = trees[name]
        todo += [m for _, m in _imports(trees[name]) if m.startswith("perpsbot.actors.")]
    return found


#: The one module of perpsbot.venue the executor may import: the venue-neutral gateway.
_GATEWAY = "perpsbot.venue.gateway"


def test_the_executor_reaches_the_venue_only_through_the_gateway_protocol() -> None:
    # A second venue plugs in behind VenueGateway: no Advanced Trade type (its REST client,
    # records, order requests, catalogue) may cross into the executor, nor the venue package
    # that re-exports them.
    modules = _executor_modules()
    desk = {"perpsbot.actors.execution._order_desk", "perpsbot.actors.execution._reconcile"}
    assert desk <= set(modules)
    found = [
        f"{name}:{line} imports {imported}"
        for name, tree in sorted(modules.items())
        for line, imported in _imports(tree)
        if (imported == "perpsbot.venue" or imported.startswith("perpsbot.venue."))
        and imported != _GATEWAY
    ]
    assert found == [], f"the executor may import only {_GATEWAY} of perpsbot.venue:\n" + (
        "\n".join(found)
    )


def test_the_gateway_protocol_imports_nothing_of_a_venue() -> None:
    tree = dict(_modules())[_GATEWAY]
    ours = sorted({m for _, m in _imports(tree) if m.startswith("perpsbot")})
    assert ours == ["perpsbot.messages"], f"{_GATEWAY} must import only the bot's records"
