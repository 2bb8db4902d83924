"""One shell session: Python source run in the daemon against a namespace of helpers.

Like the interactive interpreter, the value of a final expression is shown (as a table or
text for the helpers' results, pretty-printed otherwise) and kept in ``_``. ``print`` writes
to the session, not to the daemon's stdout; nothing else is redirected, so the daemon's own
output never leaks into a session. Every output passes through ``redact`` on its way out.
"""

from __future__ import annotations

import ast
import builtins
import io
import pprint
import rlcompleter
import traceback
from collections.abc import Callable
from typing import Any

from perpsbot.control._table import Table, Text

__all__ = ["Session"]

_FILENAME = "<shell>"


def display(value: Any) -> str:
    """How the shell shows a result: tables and text as they are, the rest pretty-printed."""
    if isinstance(value, Table | Text):
        return repr(value)
    return pprint.pformat(value, width=100, sort_dicts=False)


class Session:
    """Runs source in ``namespace`` and returns what it printed and showed.

    Args:
        namespace: the helpers and names the session starts with (copied).
        redact: applied to every output before it leaves the session (secrets).
    """

    def __init__(self, namespace: dict[str, Any], *, redact: Callable[[str], str]) -> None:
        self._namespace = dict(namespace)
        self._redact = redact
        self._completer = rlcompleter.Completer(self._namespace)

    def run(self, source: str) -> tuple[str, bool]:
        """Run ``source``; returns its output and whether it raised."""
        out = io.StringIO()

        def session_print(*args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("file", out)
            builtins.print(*args, **kwargs)

        self._namespace["print"] = session_print
        failed = False
        try:
            self._run(source, out)
        except SyntaxError as error:
            failed = True
            out.write("".join(traceback.format_exception_only(error)))
        except BaseException as error:
            # Whatever the operator's code raises (SystemExit too) is shown, never raised
            # into the daemon: the first frame is this method's own, so it is left out.
            failed = True
            out.write("".join(traceback.format_exception(error.with_traceback(_user_tb(error)))))
        return self._redact(out.getvalue()), failed

    def _run(self, source: str, out: io.StringIO) -> None:
        module = ast.parse(source, _FILENAME, "exec")
        last = module.body[-1] if module.body else None
        if isinstance(last, ast.Expr):
            module.body.pop()
            exec(compile(module, _FILENAME, "exec"), self._namespace)
            value = eval(compile(ast.Expression(last.value), _FILENAME, "eval"), self._namespace)
            if value is not None:
                self._namespace["_"] = value
                out.write(display(value) + "\n")
        else:
            exec(compile(module, _FILENAME, "exec"), self._namespace)

    def complete(self, text: str) -> list[str]:
        """Every completion of ``text`` in the session's namespace (rlcompleter's rules)."""
        if not text.strip():
            return []  # rlcompleter would insert a tab through this process's readline
        matches = []
        for state in range(1000):
            match = self._completer.complete(text, state)
            if match is None:
                break
            matches.append(match)
        return matches


def _user_tb(error: BaseException) -> Any:
    """The traceback without the session's own frames (the ``exec``/``eval`` callers)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != _FILENAME:
        tb = tb.tb_next
    return tb if tb is not None else error.__traceback__
