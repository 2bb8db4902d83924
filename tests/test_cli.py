"""The ``perpsbot`` command's own behaviour: help, version, global options, one-shot commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot import __version__
from perpsbot.cli import EXIT_BROKEN_PIPE, main
from tests.support.paper import paper_account


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_no_command_prints_the_commands_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: perpsbot [--log-level LEVEL] [--log-format FORMAT] COMMAND" in err
    assert "  shell    attach a Python console to a running bot" in err
    assert "arguments" not in err


def test_help_goes_to_stdout_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "'perpsbot COMMAND --help' describes one command." in capsys.readouterr().out


def test_help_lists_the_commands_and_help_command_describes_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["help"]) == 0
    assert "  shell    attach a Python console to a running bot" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["help", "status"])
    assert exited.value.code == 0
    assert "usage: perpsbot status" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["help", "frobnicate"])
    assert exited.value.code == 2
    assert "help: no command 'frobnicate'; 'perpsbot help' lists them" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"perpsbot {__version__}\n"


def test_an_unknown_command_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err
    assert "arguments" not in err


def test_global_options_may_follow_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--log-format", "text", "--log-level", "WARNING"]) == 0
    assert capsys.readouterr().out == "ok\n"


@pytest.mark.parametrize("duration", ["nan", "-1", "0", "inf", "soon"])
def test_run_refuses_a_duration_that_is_not_a_positive_number_of_seconds(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--duration", duration])
    assert exited.value.code == 2
    assert (
        f"argument --duration: must be a positive number of seconds, was '{duration}'"
        in capsys.readouterr().err
    )


def test_a_command_help_lists_the_global_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    out = capsys.readouterr().out
    assert "usage: perpsbot status" in out
    assert "--log-format" in out
    assert "--json" in out


@pytest.mark.slow
def test_account_prints_balances_futures_and_positions_of_the_venue(tmp_path: Path) -> None:
    paper_account(tmp_path / "var" / "dev" / "sim")  # what a dev run leaves there
    done = _run("account", "--profile", "dev", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    account = json.loads(done.stdout)
    assert account["venue"].startswith("paper account var/dev/sim as its last run left it")
    assert {"USD", "BTC", "ETH"} <= {a["currency"] for a in account["accounts"]}
    assert account["futures"]["total_usd_balance"]
    assert account["positions"] == []
    assert account["fees"]["fee_tier"]["taker_fee_rate"] == "0.006"
    text = _run("account", "--profile", "dev", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "futures balance summary" in text.stdout
    assert "maker 0.4%, taker 0.6%" in text.stdout


@pytest.mark.slow
def test_order_preview_prints_what_the_venue_would_charge_and_places_nothing(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / "var" / "dev" / "sim")
    done = _run("order", "preview", "BTC-USD", "buy", "--size", "0.01", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)["preview"]
    assert preview["errs"] == []
    assert float(preview["commission_total"]) > 0
    limit = _run(
        "order", "preview", "ETH-USD", "sell", "--size", "1", "--limit", "100000", cwd=tmp_path
    )
    assert limit.returncode == 0, limit.stderr
    assert "sell 1 ETH-USD" in limit.stdout


@pytest.mark.slow
def test_order_preview_rejects_a_size_that_is_not_a_positive_number() -> None:
    done = _run("order", "preview", "BTC-USD", "buy", "--size", "-1")
    assert done.returncode == 2
    assert "--size: must be a positive number, was '-1'" in done.stderr


@pytest.mark.parametrize("product", ["", " BTC-USD"])
def test_order_preview_rejects_a_product_that_is_no_product_id(
    product: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["order", "preview", product, "buy", "--size", "1"])
    assert exited.value.code == 2
    assert f"must be a product id like BTC-USD, was {product!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["order", "preview", "--help"], "usage: perpsbot order preview [-h] --size SIZE"),
        (["order", "preview", "-h"], "usage: perpsbot order preview [-h] --size SIZE"),
        (["help", "order", "preview"], "usage: perpsbot order preview [-h] --size SIZE"),
        (
            ["order", "preview", "BTC-USD", "buy", "--size", "nan", "--help"],
            "usage: perpsbot order preview [-h] --size SIZE",
        ),
        (["config", "check", "--help"], "usage: perpsbot config check [-h] [--config CONFIG]"),
        (["config", "show", "-h"], "usage: perpsbot config show [-h] [--config CONFIG]"),
        (["config", "diff", "--help"], "usage: perpsbot config diff [-h]"),
        (["help", "config"], "usage: perpsbot config [-h]"),
    ],
)
def test_help_of_a_nested_action_is_its_own_not_its_parents(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(usage)


@pytest.mark.parametrize(
    "argv",
    [["--log-level", "bogus", "config", "check"], ["config", "check", "--log-level", "bogus"]],
)
def test_an_unknown_log_level_is_refused_naming_the_levels(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(
        "argument --log-level: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case),"
        " was 'bogus'\n"
    )


def test_a_level_in_any_case_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--log-level", "warning", "config", "check"]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_output_to_a_reader_that_went_away_ends_quietly_as_sigpipe_would(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` does once it has its lines
    with os.fdopen(write_end, "w") as gone:
        monkeypatch.setattr(sys, "stdout", gone)

        assert main(["config", "show"]) == EXIT_BROKEN_PIPE

        gone.write("the last flush at exit goes nowhere, quietly")
    assert capsys.readouterr().err == ""


_INTERRUPT_ON_IMPORT = """\
import os, signal, sys

# Ctrl-C interrupts, as at a terminal, wherever the suite runs (a process started with SIGINT
# ignored, as an xdist worker's children are, keeps ignoring it).
signal.signal(signal.SIGINT, signal.default_int_handler)

class InterruptOnImport:
    # Sends the signal to this process as the daemon's modules start to load.
    def find_spec(self, name, path=None, target=None):
        if name == "perpsbot.daemon":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL_ON_IMPORT"]))
        return None

sys.meta_path.insert(0, InterruptOnImport())
"""


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_run_interrupted_while_its_modules_load_stops_with_0_and_one_line(
    signal_name: str, tmp_path: Path
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_INTERRUPT_ON_IMPORT)
    path = os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "perpsbot", "run", "--profile", "dev", "--duration", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path, "SIGNAL_ON_IMPORT": signal_name},
    )

    assert (done.returncode, done.stderr) == (
        0,
        "perpsbot run: stopped while starting (interrupted)\n",
    )
    assert not (tmp_path / "var").exists()  # nothing was started
