"""Bounds on fault parameters, checked on every call whether it came from Python or HTTP.

A fault method's parameters are annotated with the types below; :func:`checked` converts
each argument through its annotation with msgspec (strict: ``"5"`` is not an int, ``True``
is not a count) before the method runs, so a bad value is refused with
:class:`~perpsbot.errors.InvalidConfigError` before anything is armed or logged.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import msgspec

from perpsbot.errors import InvalidConfigError

P = ParamSpec("P")
R = TypeVar("R")

MAX_COUNT = 1_000_000
MAX_SECONDS = 86_400.0
MAX_STEPS = 10_000  # one step is ~0.2 ms of engine work: a request stays within seconds
MAX_FRAME_BYTES = 64 * 2**20

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
SignedSeconds = Annotated[float, msgspec.Meta(ge=-MAX_SECONDS, le=MAX_SECONDS)]
HttpStatus = Annotated[int, msgspec.Meta(ge=400, le=599)]
Fraction = Annotated[float, msgspec.Meta(gt=-1, le=10)]  # a price move that keeps it positive
FrameBytes = Annotated[int, msgspec.Meta(ge=0, le=MAX_FRAME_BYTES)]
Steps = Annotated[int, msgspec.Meta(ge=1, le=MAX_STEPS)]


def convert(value: object, kind: Any, what: str) -> Any:
    """``value`` as ``kind``; raises InvalidConfigError naming ``what``, the rule and the value."""
    try:
        return msgspec.convert(value, type=kind)
    except msgspec.ValidationError as exc:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise InvalidConfigError(f"{what}: {exc}, was {shown}") from None


def checked(method: Callable[P, R]) -> Callable[P, R]:
    """Check every annotated argument of ``method`` against its annotation before it runs."""
    signature = inspect.signature(method)
    hints = typing.get_type_hints(method, include_extras=True)
    hints.pop("return", None)

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidConfigError(f"fault {method.__name__}: {exc}") from None
        for name, value in bound.arguments.items():
            if name in hints:
                bound.arguments[name] = convert(value, hints[name], f"{method.__name__}.{name}")
        return method(*bound.args, **bound.kwargs)

    return wrapper
