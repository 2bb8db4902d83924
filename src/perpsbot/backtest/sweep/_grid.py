"""A sweep's grid from the command line: ``strategy.short_ma=3..10 strategy.long_ma=15,20,40``.

Each argument is ``NAME=VALUES``: ``NAME`` a dotted setting (``section.key``), ``VALUES`` one of

- ``FROM..TO``: every integer from FROM to TO, both included (``3..10``);
- ``FROM..TO:STEP``: FROM, FROM + STEP, ... up to TO included, decimals allowed
  (``0.01..0.05:0.01``);
- ``A,B,C``: those values, as written (``0.5,1,2`` or ``true,false``);
- ``A``: one value.

Values stay text, as a configuration file or an environment variable would give them: the run
converts and validates them. The grid is every combination, the first parameter varying
slowest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation

import attrs

from perpsbot.errors import BacktestInputError

__all__ = ["MAX_POINTS", "Grid", "parse_grid"]

MAX_POINTS = 100_000
"""More runs than a sweep takes: a typo (``1..100000``) is refused before anything runs."""

_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+")
_FORMS = "FROM..TO (integers), FROM..TO:STEP, A,B,C or a single value"


@attrs.frozen(kw_only=True)
class Grid:
    """The parameters swept and each one's values, in the order given."""

    parameters: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def size(self) -> int:
        size = 1
        for _, values in self.parameters:
            size *= len(values)
        return size

    def points(self) -> Iterator[dict[str, str]]:
        """Every combination, as ``{name: value}``, the first parameter varying slowest."""
        names = [name for name, _ in self.parameters]
        for values in itertools.product(*(values for _, values in self.parameters)):
            yield dict(zip(names, values, strict=True))


def parse_grid(arguments: Sequence[str]) -> Grid:
    """The grid ``arguments`` describe (see the module's documentation).

    Raises:
        BacktestInputError: an argument that is not ``NAME=VALUES``, a range that is empty or
            not numeric, a name given twice, no argument, or more than :data:`MAX_POINTS` runs.
    """
    if not arguments:
        raise BacktestInputError(f"a sweep needs at least one NAME=VALUES, with VALUES {_FORMS}")
    parameters: list[tuple[str, tuple[str, ...]]] = []
    for argument in arguments:
        name, sep, spec = argument.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            raise BacktestInputError(
                f"sweep parameter {argument!r} must be NAME=VALUES with NAME a dotted setting"
                f" such as strategy.short_ma; found {name!r}" + ("" if sep else " and no '='")
            )
        if name in (n for n, _ in parameters):
            raise BacktestInputError(f"sweep parameter {name} is given twice: {argument!r}")
        parameters.append((name, _values(name, spec.strip())))
    grid = Grid(parameters=tuple(parameters))
    if grid.size > MAX_POINTS:
        raise BacktestInputError(
            f"a sweep runs at most {MAX_POINTS:,} combinations, this grid has {grid.size:,}"
            f" ({' x '.join(str(len(v)) for _, v in parameters)})"
        )
    return grid


def _values(name: str, spec: str) -> tuple[str, ...]:
    if ".." in spec:
        return _range(name, spec)
    values = tuple(value.strip() for value in spec.split(","))
    if not all(values):
        raise BacktestInputError(f"sweep parameter {name} must be {_FORMS}; found {spec!r}")
    if len(set(values)) != len(values):
        raise BacktestInputError(f"sweep parameter {name} lists a value twice: {spec!r}")
    return values


def _range(name: str, spec: str) -> tuple[str, ...]:
    bounds, _, step_text = spec.partition(":")
    start_text, _, end_text = bounds.partition("..")
    try:
        start, end = Decimal(start_text), Decimal(end_text)
        step = Decimal(step_text) if step_text else Decimal(1)
    except InvalidOperation:
        raise BacktestInputError(
            f"sweep parameter {name} must be {_FORMS}; found {spec!r} (not numbers)"
        ) from None
    if not step_text and (start != start.to_integral_value() or end != end.to_integral_value()):
        raise BacktestInputError(
            f"sweep parameter {name}: a range of decimals needs a step (FROM..TO:STEP);"
            f" found {spec!r}"
        )
    if not (start.is_finite() and end.is_finite() and step.is_finite()) or step <= 0:
        raise BacktestInputError(
            f"sweep parameter {name}: the step must be a positive number; found {spec!r}"
        )
    if end < start:
        raise BacktestInputError(
            f"sweep parameter {name}: FROM..TO must have FROM at most TO; found {spec!r}"
        )
    count = int((end - start) / step) + 1
    if count > MAX_POINTS:
        raise BacktestInputError(
            f"sweep parameter {name}: {spec!r} has {count:,} values, more than a sweep runs"
            f" ({MAX_POINTS:,})"
        )
    return tuple(str(start + i * step) for i in range(count))
