"""The ``perpsbot`` command's own behaviour: help, version, global options, one-shot commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot import __version__
from perpsbot.cli import main
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
