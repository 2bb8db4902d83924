"""Values of the exchange's state as JSON and back, checked on the way in.

A :class:`Codec` turns one kind of value into JSON-able data and back; decoding checks what
it finds and raises :class:`StateFormatError` naming where in the state it looked, what it
expected and what it found. :func:`record` derives the codec of an attrs class from its
fields' types, so a field added to ``SimOrder``, ``SimFill`` or ``SimPosition`` is saved and
restored without a line here (a type this module does not know fails :func:`record` at import).
"""

from __future__ import annotations

import random
import types
import typing
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, Generic, TypeVar

import attrs

from perpsbot.ids import seeded_rng

__all__ = [
    "BOOL",
    "DECIMAL",
    "FLOAT",
    "INT",
    "JSON_OBJECT",
    "LEVELS",
    "RNG",
    "STR",
    "Codec",
    "StateFormatError",
    "listing",
    "mapping",
    "optional",
    "record",
]

T = TypeVar("T")
U = TypeVar("U")


class StateFormatError(ValueError):
    """A saved value is not what the format says is there (the state file names the file)."""

    def __init__(self, where: str, expected: str, found: object) -> None:
        shown = repr(found)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        super().__init__(f"{where or 'the state'} must be {expected}, was {shown}")
        self.where = where


@attrs.frozen
class Codec(Generic[T]):
    """How one kind of value is saved (``encode``) and restored (``decode(data, where)``)."""

    encode: Callable[[T], Any]
    decode: Callable[[Any, str], T]
    expected: str


def _checked(kind: type[Any], expected: str) -> Callable[[Any, str], Any]:
    def decode(data: Any, where: str) -> Any:
        # bool is an int to Python, never to this format.
        if not isinstance(data, kind) or (kind is not bool and isinstance(data, bool)):
            raise StateFormatError(where, expected, data)
        return data

    return decode


def _decimal(data: Any, where: str) -> Decimal:
    if isinstance(data, str):
        try:
            value = Decimal(data)
        except InvalidOperation:
            pass
        else:
            if value.is_finite():
                return value
    raise StateFormatError(where, "a decimal number as a string", data)


def _float(data: Any, where: str) -> float:
    if isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    raise StateFormatError(where, "a number", data)


DECIMAL: Codec[Decimal] = Codec(str, _decimal, "a decimal number as a string")
INT: Codec[int] = Codec(int, _checked(int, "an integer"), "an integer")
FLOAT: Codec[float] = Codec(float, _float, "a number")
STR: Codec[str] = Codec(str, _checked(str, "a string"), "a string")
BOOL: Codec[bool] = Codec(bool, _checked(bool, "true or false"), "true or false")
JSON_OBJECT: Codec[dict[str, Any]] = Codec(dict, _checked(dict, "an object"), "an object")


def optional(inner: Codec[T]) -> Codec[T | None]:
    """``inner``, or null."""

    def decode(data: Any, where: str) -> T | None:
        return None if data is None else inner.decode(data, where)

    return Codec(
        lambda value: None if value is None else inner.encode(value),
        decode,
        f"{inner.expected} or null",
    )


def mapping(values: Codec[T], keys: Codec[U] | None = None) -> Codec[dict[Any, T]]:
    """A dict as a list of ``[key, value]`` pairs (keys: strings unless ``keys`` says)."""
    key_codec: Codec[Any] = keys if keys is not None else STR

    def decode(data: Any, where: str) -> dict[Any, T]:
        if not isinstance(data, list):
            raise StateFormatError(where, "a list of [key, value] pairs", data)
        result: dict[Any, T] = {}
        for i, pair in enumerate(data):
            if not isinstance(pair, list) or len(pair) != 2:
                raise StateFormatError(f"{where}[{i}]", "a [key, value] pair", pair)
            key = key_codec.decode(pair[0], f"{where}[{i}] key")
            result[key] = values.decode(pair[1], f"{where}[{key}]")
        return result

    return Codec(
        lambda value: [[key_codec.encode(k), values.encode(v)] for k, v in value.items()],
        decode,
        "a list of [key, value] pairs",
    )


def listing(items: Codec[T]) -> Codec[Iterable[T]]:
    """Any iterable saved as a list; restored as a list."""

    def decode(data: Any, where: str) -> list[T]:
        if not isinstance(data, list):
            raise StateFormatError(where, f"a list of {items.expected}", data)
        return [items.decode(item, f"{where}[{i}]") for i, item in enumerate(data)]

    return Codec(lambda value: [items.encode(v) for v in value], decode, "a list")


#: Price levels of a book side: price -> size.
LEVELS: Codec[dict[Any, Decimal]] = mapping(DECIMAL, DECIMAL)


def _rng_state(rng: random.Random) -> Any:
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


def _rng(data: Any, where: str) -> random.Random:
    expected = "a random generator's state [version, [625 integers], gauss or null]"
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[1], list)):
        raise StateFormatError(where, expected, data)
    version, internal, gauss_next = data
    rng = seeded_rng()
    try:
        rng.setstate((version, tuple(internal), gauss_next))
    except (TypeError, ValueError):
        raise StateFormatError(where, expected, data) from None
    return rng


#: A ``random.Random`` with its whole state, so its draws go on where they stopped.
RNG: Codec[random.Random] = Codec(_rng_state, _rng, "a random generator's state")

_SCALARS: dict[Any, Codec[Any]] = {
    Decimal: DECIMAL,
    int: INT,
    float: FLOAT,
    str: STR,
    bool: BOOL,
    dict[str, Any]: JSON_OBJECT,
}


def _codec_for(hint: Any, owner: str) -> Codec[Any]:
    if hint in _SCALARS:
        return _SCALARS[hint]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and len(args) == 2 and type(None) in args:
        return optional(_codec_for(next(a for a in args if a is not type(None)), owner))
    raise TypeError(f"{owner}: the exchange's state cannot save a field of type {hint!r}")


def record(cls: type[T], *, skip: frozenset[str] = frozenset()) -> Codec[T]:
    """The codec of the attrs class ``cls``: an object of its fields but ``skip``.

    Restoring leaves a field missing from the saved object at its default, so state saved
    before a field was added still loads; a missing field without a default is an error.
    """
    hints = typing.get_type_hints(cls)
    fields = tuple(
        (field.name, _codec_for(hints[field.name], f"{cls.__name__}.{field.name}"))
        for field in attrs.fields(cls)  # type: ignore[arg-type]
        if field.name not in skip
    )

    names = tuple(name for name, _ in fields)
    encoders = tuple(codec.encode for _, codec in fields)
    values_of = attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)

    def encode(value: T) -> dict[str, Any]:
        return {
            name: to_json(item)
            for name, to_json, item in zip(names, encoders, values_of(value), strict=True)
        }

    def decode(data: Any, where: str) -> T:
        if not isinstance(data, dict):
            raise StateFormatError(where, f"an object of {cls.__name__}'s fields", data)
        known = {
            name: codec.decode(data[name], f"{where}.{name}")
            for name, codec in fields
            if name in data
        }
        try:
            return cls(**known)
        except (TypeError, ValueError) as error:  # a missing field, a validator refusing
            raise StateFormatError(where, f"an object of {cls.__name__}'s fields", data) from error

    return Codec(encode, decode, f"an object of {cls.__name__}'s fields")
