"""What every message carries, and the stamper that provides it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from perpsbot.clock import Clock
from perpsbot.errors import InvalidMessageError
from perpsbot.ids import IdSource

__all__ = [
    "ReplyTo",
    "Stamper",
    "non_negative_decimal",
    "optional_non_negative_decimal",
    "optional_positive_decimal",
    "positive_decimal",
]


class Stamper:
    """Hands out ``(message_id, ts_created_ns)`` pairs from the injected ids and clock."""

    __slots__ = ("_clock", "_ids")

    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self._clock = clock
        self._ids = ids

    def stamp(self) -> tuple[str, int]:
        """A fresh ``(message_id, ts_created_ns)``."""
        return self._ids.next_id(), self._clock.time_ns()


def positive_decimal(instance: object, attribute: object, value: Decimal) -> None:
    """attrs validator: a finite Decimal greater than zero."""
    if type(value) is not Decimal or not value.is_finite() or value <= 0:
        name = getattr(attribute, "name", "value")
        raise InvalidMessageError(
            f"{type(instance).__name__}.{name} must be a positive finite Decimal, was {value!r}"
        )


def optional_positive_decimal(instance: object, attribute: object, value: Decimal | None) -> None:
    """attrs validator: None, or a finite Decimal greater than zero."""
    if value is not None:
        positive_decimal(instance, attribute, value)


def non_negative_decimal(instance: object, attribute: object, value: Decimal) -> None:
    """attrs validator: a finite Decimal, zero or greater."""
    if type(value) is not Decimal or not value.is_finite() or value < 0:
        name = getattr(attribute, "name", "value")
        raise InvalidMessageError(
            f"{type(instance).__name__}.{name} must be a finite Decimal >= 0, was {value!r}"
        )


def optional_non_negative_decimal(
    instance: object, attribute: object, value: Decimal | None
) -> None:
    """attrs validator: None, or a finite Decimal, zero or greater."""
    if value is not None:
        non_negative_decimal(instance, attribute, value)


@runtime_checkable
class ReplyTo(Protocol):
    """Where a reply goes: an actor's stable address (messages do not import the runtime)."""

    @property
    def path(self) -> str: ...

    def tell(self, message: Any) -> None: ...
