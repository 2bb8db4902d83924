"""Results that read well at a REPL: aligned tables and plain text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["Table", "Text"]


class Text(str):
    """A string shown as it is at the REPL (no quotes, real line breaks)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class Table:
    """Rows under named columns; ``repr`` is an aligned text table, and the rows stay data.

    ``table.rows`` is a list of tuples, ``table.column("name")`` one column, and iterating
    yields each row as a dict, so scripts can use what the REPL shows.
    """

    def __init__(
        self, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = ""
    ) -> None:
        self.columns = tuple(columns)
        self.rows = [tuple(row) for row in rows]
        self.title = title
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row must have {len(self.columns)} cells, had {len(row)}")

    def column(self, name: str) -> list[Any]:
        """Every row's value in column ``name``."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (dict(zip(self.columns, row, strict=True)) for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        cells = [list(self.columns)] + [[_cell(value) for value in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        numeric = [
            all(_is_number(row[i]) for row in self.rows) and bool(self.rows)
            for i in range(len(self.columns))
        ]

        def line(row: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if right else cell.ljust(width)
                for cell, width, right in zip(row, widths, numeric, strict=True)
            ).rstrip()

        lines = [self.title] if self.title else []
        lines.append(line(cells[0]))
        lines.append("  ".join("-" * width for width in widths))
        lines.extend(line(row) for row in cells[1:])
        return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
