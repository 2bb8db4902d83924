"""Rules for single configuration values: how to read one and what it must be.

A :class:`Rule` is the attrs validator of each section field: attrs runs it when a section is
built, and the loader runs it on every field before building, so one message can
report every broken value at once. Messages follow one pattern:
``"<section>.<key> must be <expected>, was '<found>'"``.
"""

from __future__ import annotations

import enum
import math
import urllib.parse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from perpsbot.errors import InvalidConfigError

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _always(_: Any) -> bool:
    return True


@attrs.frozen
class Rule:
    """What one configuration value must be.

    ``kind`` is the Python type the value ends up as (``int``, ``float``, ``Decimal``, ``bool``,
    ``str``, ``Path``, ``tuple`` of strings, or a ``StrEnum``); ``check`` is any further
    condition; ``optional`` also allows ``None``; a ``secret`` value is never echoed.
    """

    expected: str
    kind: type
    check: Callable[[Any], bool] = _always
    optional: bool = False
    secret: bool = False
    converter: Callable[[object], object] | None = None
    """Reads a TOML value or an environment string; the kind's own reading if None."""

    def __call__(self, instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        """Check ``value`` as the attrs validator of a section field."""
        section = instance.SECTION
        self.enforce(f"{section}.{attribute.name}" if section else attribute.name, value)

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is of the right kind and passes the check."""
        if value is None:
            return self.optional
        if isinstance(value, bool) and self.kind is not bool:
            return False
        kinds: type | tuple[type, ...] = (float, int) if self.kind is float else self.kind
        return isinstance(value, kinds) and bool(self.check(value))

    def enforce(self, key: str, value: object) -> None:
        """Raise :class:`InvalidConfigError` naming ``key`` unless the rule accepts ``value``."""
        if not self.accepts(value):
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else value
            found = "a value that is not shown (secret)" if self.secret else f"'{shown}'"
            raise InvalidConfigError(f"{key} must be {self.expected}, was {found}")

    def convert(self, value: object) -> object:
        """Turn a TOML value or an environment string into ``kind`` when it reads as one.

        A value that does not convert is returned unchanged, so :meth:`enforce` reports it.
        """
        if self.converter is not None:
            return self.converter(value)
        if isinstance(value, str):
            return self._from_text(value)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if self.kind is Decimal and isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        if self.kind is tuple and isinstance(value, list):
            return tuple(value)
        return value

    def _from_text(self, text: str) -> object:
        stripped = text.strip()
        if self.optional and not stripped:
            return None
        try:
            if self.kind is int:
                return int(stripped)
            if self.kind is float:
                return float(stripped)
            if self.kind is Decimal:
                return Decimal(stripped)
            if self.kind is Path and stripped:
                return Path(stripped)
            if issubclass(self.kind, enum.Enum):
                return self.kind(stripped)
        except (ValueError, InvalidOperation):
            return text
        if self.kind is bool and stripped.lower() in _TRUE | _FALSE:
            return stripped.lower() in _TRUE
        if self.kind is tuple:
            return tuple(part.strip() for part in stripped.split(",") if part.strip())
        return text


def rule_of(field: attrs.Attribute[Any]) -> Rule:
    """The rule a section field was declared with (its attrs validator)."""
    assert isinstance(field.validator, Rule), f"{field.name} has no Rule validator"
    return field.validator


def require(condition: bool, message: str, errors: list[str]) -> None:
    """Append ``message`` to ``errors`` unless ``condition`` holds (for rules across fields)."""
    if not condition:
        errors.append(message)


def raise_if_any(errors: list[str]) -> None:
    """Raise one :class:`InvalidConfigError` listing every message in ``errors``, if any."""
    if errors:
        raise InvalidConfigError(errors[0] if len(errors) == 1 else _listed(errors))


def _listed(errors: list[str]) -> str:
    return f"{len(errors)} configuration errors:\n" + "\n".join(f"  - {e}" for e in errors)


# --- the rules the sections use ---------------------------------------------------------------


def _finite(value: float | Decimal) -> bool:
    return math.isfinite(value)


POSITIVE_INT = Rule("a positive integer", int, lambda v: v > 0)
NON_NEGATIVE_INT = Rule("an integer >= 0", int, lambda v: v >= 0)
PORT = Rule("a port number from 0 (any free port) to 65535", int, lambda v: 0 <= v <= 65535)
POSITIVE_SECONDS = Rule("a positive number of seconds", float, lambda v: _finite(v) and v > 0)
POSITIVE_RATE = Rule("a positive rate per second", float, lambda v: _finite(v) and v > 0)
BOOLEAN = Rule("true or false", bool)
NON_EMPTY_TEXT = Rule("a non-empty string", str, lambda v: bool(v.strip()))
PATH = Rule("a file path", Path, lambda v: str(v) != ".")
OPTIONAL_PATH = Rule("a file path or unset", Path, lambda v: str(v) != ".", optional=True)
POSITIVE_DECIMAL = Rule("a positive number", Decimal, lambda v: v.is_finite() and v > 0)
FRACTION = Rule("a number above 0 and at most 1", Decimal, lambda v: v.is_finite() and 0 < v <= 1)
PERCENT_FRACTION = Rule(
    "a fraction above 0 and below 1 (0.01 is 1%)", Decimal, lambda v: v.is_finite() and 0 < v < 1
)


def one_of(kind: type[enum.StrEnum]) -> Rule:
    """A rule for a value of the string enum ``kind``, naming its members when broken."""
    names = ", ".join(f"'{member.value}'" for member in kind)
    return Rule(f"one of {names}", kind)


def url(*schemes: str) -> Rule:
    """A rule for an optional URL whose scheme is one of ``schemes``."""
    expected = " or ".join(f"a {scheme}://... URL" for scheme in schemes) + " or unset"

    def check(value: str) -> bool:
        parts = urllib.parse.urlsplit(value)
        return parts.scheme in schemes and bool(parts.netloc)

    return Rule(expected, str, check, optional=True)
