"""Rules for single configuration values: how to read one and what it must be.

A :class:`Rule` is the attrs validator of each section field: attrs runs it when a section is
built, and the loader runs it on every field before building, so one message can
report every broken value at once. Messages follow one pattern:
``"<section>.<key> must be <expected>, was '<found>'"``.
"""

from __future__ import annotations

import enum
import threading
import urllib.parse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from perpsbot.errors import InvalidConfigError

_TRUE = frozenset({"1", "true", "yes", "on"})
_SHOWN_MAX = 80  # a found value longer than this is cut in messages
_FLOAT_INT_MAX = 2**1023
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

    def enforce(self, key: str, value: object, *, written: object = None) -> None:
        """Raise :class:`InvalidConfigError` naming ``key`` unless the rule accepts ``value``.

        ``written`` is what the operator wrote, shown instead of ``value`` when given (an
        environment string before conversion).
        """
        if not self.accepts(value):
            found = value if written is None else written
            shown = ", ".join(map(str, found)) if isinstance(found, tuple | list) else str(found)
            if len(shown) > _SHOWN_MAX:
                shown = f"{shown[: _SHOWN_MAX - 3]}..."
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
            # An integer beyond the float range stays an int, which enforce() reports.
            return float(value) if abs(value) <= _FLOAT_INT_MAX else value
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


#: Field metadata marking a section field that files and the environment cannot set; its value
#: says where the field comes from instead.
SET_ELSEWHERE = "perpsbot.config.set_elsewhere"


def config_keys(kind: type[attrs.AttrsInstance]) -> tuple[attrs.Attribute[Any], ...]:
    """The fields of section ``kind`` that a file or the environment may set, in order."""
    return tuple(f for f in attrs.fields(kind) if SET_ELSEWHERE not in f.metadata)


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

#: The longest interval or timeout any key may hold: one day. Every timer and wait the bot
#: builds from its configuration stays far below ``threading.TIMEOUT_MAX``.
MAX_SECONDS = 86_400
#: The shortest timer interval: anything shorter would only spin a thread.
MIN_INTERVAL_S = 0.001
assert MAX_SECONDS < threading.TIMEOUT_MAX


def _number(value: float | Decimal) -> str:
    """``86400`` and ``0.001``, never ``8.64e+04`` or ``1e-03``."""
    return format(Decimal(str(value)).normalize(), "f")


def integer(low: int, high: int) -> Rule:
    """An ``int`` from ``low`` to ``high``."""
    expected = (
        f"a positive integer at most {high}" if low == 1 else f"an integer from {low} to {high}"
    )
    return Rule(expected, int, lambda v: low <= v <= high)


def seconds(
    *, at_most: float = MAX_SECONDS, at_least: float | None = None, optional: bool = False
) -> Rule:
    """A number of seconds above 0 (or from ``at_least``) up to ``at_most``; NaN never passes."""
    low = at_least
    if low is None:
        expected = f"a positive number of seconds at most {_number(at_most)}"
    else:
        expected = f"a number of seconds from {_number(low)} to {_number(at_most)}"

    def check(value: float) -> bool:
        return (value > 0 if low is None else low <= value) and value <= at_most

    return Rule(expected + (" or unset" if optional else ""), float, check, optional=optional)


def number(low: float, high: float) -> Rule:
    """A ``float`` from ``low`` to ``high``."""
    return Rule(
        f"a number from {_number(low)} to {_number(high)}", float, lambda v: low <= v <= high
    )


def amount(high: Decimal, *, zero: bool = False) -> Rule:
    """A finite ``Decimal`` above 0 (or from 0 with ``zero``) up to ``high``."""
    if zero:
        return Rule(
            f"a number from 0 to {_number(high)}",
            Decimal,
            lambda v: v.is_finite() and 0 <= v <= high,
        )
    return Rule(
        f"a positive number at most {_number(high)}",
        Decimal,
        lambda v: v.is_finite() and 0 < v <= high,
    )


#: A timer interval.
INTERVAL = seconds(at_least=MIN_INTERVAL_S)
#: A timeout or a time window.
TIMEOUT = seconds()
RATE = Rule("a rate per second from 0.01 to 10000", float, lambda v: 0.01 <= v <= 10_000)
PORT = Rule("a port number from 0 (any free port) to 65535", int, lambda v: 0 <= v <= 65535)
BOOLEAN = Rule("true or false", bool)


def _path(value: Path) -> bool:
    return str(value) != "." and "\0" not in str(value)


PATH = Rule("a file path", Path, _path)
OPTIONAL_PATH = Rule("a file path or unset", Path, _path, optional=True)
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
        try:
            parts = urllib.parse.urlsplit(value)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
            return False
        return parts.scheme in schemes and bool(parts.netloc) and port_ok

    return Rule(expected, str, check, optional=True)
