"""docs/DESIGN.md names only what exists: every path, class and attribute it writes in
backticks can be found in the repository, so a newcomer who follows it never hits a dead end."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import attrs

import perpsbot
from perpsbot.config import BotConfig

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "DESIGN.md"
PACKAGE = ROOT / "src" / "perpsbot"
#: Names the design uses of other people's code.
FOREIGN = frozenset({"BaseException", "Decimal", "SystemExit", "ActorRef"})
#: ``config.locate_bot`` names the subpackage, not a module-level ``config`` somewhere.
_SUBPACKAGES = frozenset(
    info.name for info in pkgutil.iter_modules(perpsbot.__path__) if info.ispkg
)


def _quoted() -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", DESIGN.read_text()))


def _namespace() -> dict[str, object]:
    """Every public and private module-level name of the package, by name."""
    names: dict[str, object] = {}
    for info in pkgutil.walk_packages(perpsbot.__path__, "perpsbot."):
        if info.name.endswith("__main__"):
            continue  # running it is the command line
        module = importlib.import_module(info.name)
        names.update(vars(module))
    return names


def _config_keys() -> set[str]:
    """Every ``section.key`` a config file may set."""
    attrs.resolve_types(BotConfig)
    keys = set()
    for section in attrs.fields(BotConfig):
        if attrs.has(section.type):
            keys |= {f"{section.name}.{f.name}" for f in attrs.fields(section.type)}
    return keys


def _a_file_name(quoted: str) -> bool:
    """A file the bot writes at run time (``endpoint.json``) or a module's file (``cli.py``,
    checked as a path), not a name in the code."""
    return quoted.rsplit(".", 1)[-1] in {"json", "sqlite3", "pem", "toml", "sock", "py", "md"}


def test_every_path_the_design_names_exists() -> None:
    paths = [q for q in _quoted() if re.fullmatch(r"[\w.-]+(/[\w.-]*)+|[\w-]+\.(py|md)", q)]
    assert paths, "the design names no paths: the pattern above is broken"
    missing = [
        p for p in sorted(paths)
        if not any((base / p).exists() for base in (ROOT, ROOT / "src", PACKAGE, ROOT / "docs"))
    ]  # fmt: skip
    assert missing == []


def test_every_class_and_attribute_the_design_names_exists() -> None:
    names, keys = _namespace(), _config_keys()
    quoted = [
        q
        for q in _quoted()
        if re.fullmatch(r"_?[A-Za-z]\w*(\.\w+)*", q) and q not in keys and not _a_file_name(q)
    ]
    missing = []
    for dotted in sorted(quoted):
        head, *rest = dotted.split(".")
        if head in FOREIGN or not (head[0].isupper() or rest):
            continue  # a plain word (`dev`, `ask`), not a name of ours
        value = names.get(head)
        if value is None or head in _SUBPACKAGES:
            value = importlib.import_module(f"perpsbot.{head}") if head in _SUBPACKAGES else None
        if value is None:
            missing.append(dotted)
            continue
        for attr in rest:
            fields = getattr(value, "__attrs_attrs__", ())
            known = {f.name for f in fields} | set(dir(value))
            if attr not in known:
                missing.append(dotted)
                break
            value = getattr(value, attr, None)
    assert missing == []
