"""A shell session runs source like the interactive interpreter, inside the daemon."""

from __future__ import annotations

import pytest

from perpsbot.control import Session, Table, Text


def _session(**names: object) -> Session:
    return Session(dict(names), redact=lambda text: text.replace("s3cret", "<redacted>"))


def test_a_final_expression_is_shown_and_kept_in_underscore() -> None:
    session = _session(answer=lambda: {"a": 1})
    assert session.run("x = 2\nanswer()") == ("{'a': 1}\n", False)
    assert session.run("_['a'] + x") == ("3\n", False)


def test_statements_show_nothing_and_names_persist_across_runs() -> None:
    session = _session()
    assert session.run("total = 40") == ("", False)
    assert session.run("total + 2") == ("42\n", False)


def test_print_writes_to_the_session_not_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    output, failed = _session().run("print('hello', 1)")
    assert (output, failed) == ("hello 1\n", False)
    assert capsys.readouterr().out == ""


def test_tables_and_text_are_shown_as_they_read() -> None:
    table = Table(("name", "n"), [("a", 1), ("bb", 22)])
    session = _session(table=table, text=Text("line 1\nline 2"))
    assert session.run("table")[0] == "name   n\n----  --\na      1\nbb    22\n"
    assert session.run("text")[0] == "line 1\nline 2\n"


def test_an_exception_is_reported_with_its_traceback_and_never_raised() -> None:
    def broken() -> None:
        raise ValueError("nope")

    output, failed = _session(broken=broken).run("broken()")
    assert failed
    assert output.startswith('Traceback (most recent call last):\n  File "<shell>", line 1')
    assert output.endswith("ValueError: nope\n")
    assert "control/_session.py" not in output  # the session's own frames are left out


def test_system_exit_and_syntax_errors_are_reported_too() -> None:
    session = _session()
    assert session.run("raise SystemExit(3)") == (
        "Traceback (most recent call last):\n"
        '  File "<shell>", line 1, in <module>\n'
        "SystemExit: 3\n",
        True,
    )
    output, failed = session.run("1 +")
    assert failed
    assert "SyntaxError" in output


def test_every_output_is_redacted() -> None:
    output, _ = _session().run("print('key: s3cret'); 's3cret'")
    assert "s3cret" not in output
    assert output == "key: <redacted>\n'<redacted>'\n"


def test_completion_uses_the_session_namespace() -> None:
    session = _session(marks=lambda symbol: None, market=1)
    assert sorted(session.complete("mar")) == ["market", "marks("]
    assert session.complete("") == []
