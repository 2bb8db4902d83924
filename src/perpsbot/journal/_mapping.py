"""Messages to rows and back, from one declaration per table.

A :class:`Table` is declared with the message class it journals; every field of that class
is a column of the same name (the fields of one nested record may be flattened into
columns), unless it is named in ``skip``. Each column's conversion comes from the field's
type: a Decimal is stored as text, an enum as its value, a bool as 0/1, a tuple of strings
or of records as a JSON array. The store encodes with the table and the reader decodes with
the same table, so a field is never written without being read back, and a message read
back equals the one written (but for the fields skipped, which must have defaults).
Declaring a table fails at import if a field is neither a column nor skipped.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["Row", "Table"]

Row = tuple[Any, ...]
M = TypeVar("M")

_Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _codec(hint: Any, where: str) -> tuple[_Convert, _Convert]:
    """``(to_db, from_db)`` for a field of type ``hint``: plain SQLite values, JSON text for
    tuples."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        to_db, from_db = _codec(inner, where)
        return (
            lambda v: None if v is None else to_db(v),
            lambda v: None if v is None else from_db(v),
        )
    if hint in (str, int):
        return _identity, _identity
    if hint is bool:
        return int, bool
    if hint is Decimal:
        return str, Decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (lambda v: v.value), hint
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        to_json, from_json = _json_codec(args[0], where)
        return (
            lambda v: json.dumps([to_json(item) for item in v]),
            lambda v: tuple(from_json(item) for item in json.loads(v)),
        )
    raise TypeError(f"{where}: a journal column must be of a known type, found {hint!r}")


def _json_codec(hint: Any, where: str) -> tuple[_Convert, _Convert]:
    """How one item of a JSON array is written and read: a string as is, a record as an
    object of its fields (a field missing from an older row takes its default)."""
    if hint is str:
        return _identity, _identity
    if attrs.has(hint):
        hints = typing.get_type_hints(hint)
        fields = [(f.name, *_codec(hints[f.name], f"{where}.{f.name}")) for f in attrs.fields(hint)]

        def to_json(value: Any) -> dict[str, Any]:
            return {name: to_db(getattr(value, name)) for name, to_db, _ in fields}

        def from_json(data: dict[str, Any]) -> Any:
            given = {name: from_db(data[name]) for name, _, from_db in fields if name in data}
            return hint(**given)

        return to_json, from_json
    raise TypeError(f"{where}: a JSON array item must be a str or a record, found {hint!r}")


@attrs.frozen
class _Column:
    name: str
    to_db: _Convert
    from_db: _Convert
    nested: str | None = None
    """The field holding the record this column is a field of (a flattened record)."""


@attrs.frozen(init=False)
class Table(Generic[M]):
    """Where messages of ``kind`` are journaled, and how (see the module docstring).

    Args:
        name: the table.
        kind: the message class.
        skip: fields not journaled (each must have a default).
        flatten: a field holding a record whose fields are columns of their own.
        extra: columns that are not the message's, given to :meth:`encode` by name.
        constants: columns written with a fixed value (which of several kinds a row is).
        on_conflict_ignore: a row whose unique key is already stored is skipped (a replayed
            fill or intent), never stored twice.
    """

    name: str
    kind: type[M]
    columns: tuple[str, ...]
    on_conflict_ignore: bool
    _mapped: tuple[_Column, ...]
    _extra: tuple[str, ...]
    _constants: tuple[tuple[str, Any], ...]
    _flatten: tuple[str, type] | None

    def __init__(
        self,
        name: str,
        kind: type[M],
        *,
        skip: Sequence[str] = (),
        flatten: str | None = None,
        extra: Sequence[str] = (),
        constants: Mapping[str, Any] | None = None,
        on_conflict_ignore: bool = False,
    ) -> None:
        hints = typing.get_type_hints(kind)
        mapped: list[_Column] = []
        nested: tuple[str, type] | None = None
        for field in attrs.fields(kind):  # type: ignore[arg-type]  # M is an attrs class
            where = f"{kind.__name__}.{field.name}"
            if field.name in skip:
                if field.default is attrs.NOTHING:
                    raise TypeError(f"{where} is not journaled, so it must have a default")
                continue
            if field.name == flatten:
                record = hints[field.name]
                nested = (field.name, record)
                inner = typing.get_type_hints(record)
                mapped += [
                    _Column(f.name, *_codec(inner[f.name], f"{where}.{f.name}"), nested=field.name)
                    for f in attrs.fields(record)
                ]
                continue
            mapped.append(_Column(field.name, *_codec(hints[field.name], where)))
        constants = dict(constants or {})
        self.__attrs_init__(
            name=name,
            kind=kind,
            columns=(*(c.name for c in mapped), *extra, *constants),
            on_conflict_ignore=on_conflict_ignore,
            mapped=tuple(mapped),
            extra=tuple(extra),
            constants=tuple(constants.items()),
            flatten=nested,
        )

    @property
    def insert(self) -> str:
        """The statement that stores one row (``seq`` first, which the store assigns)."""
        verb = "INSERT OR IGNORE" if self.on_conflict_ignore else "INSERT"
        marks = ", ".join("?" * (len(self.columns) + 1))
        return f"{verb} INTO {self.name} (seq, {', '.join(self.columns)}) VALUES ({marks})"

    def encode(self, message: M, **extra: Any) -> Row:
        """The row of ``message`` in :attr:`columns` order (``extra`` by column name)."""
        values = []
        for column in self._mapped:
            owner = message if column.nested is None else getattr(message, column.nested)
            values.append(column.to_db(getattr(owner, column.name)))
        values += [extra[name] for name in self._extra]
        values += [value for _, value in self._constants]
        return tuple(values)

    def decode(self, row: sqlite3.Row | Mapping[str, Any]) -> M:
        """The message ``row`` was written from."""
        fields: dict[str, Any] = {}
        inner: dict[str, Any] = {}
        for column in self._mapped:
            value = column.from_db(row[column.name])
            (fields if column.nested is None else inner)[column.name] = value
        if self._flatten is not None:
            name, record = self._flatten
            fields[name] = record(**inner)
        return self.kind(**fields)
