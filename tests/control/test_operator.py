"""The generic helpers work on any actor system, in-process, and audit operator actions."""

from __future__ import annotations

import pytest

from perpsbot.control import AuditRecord, Operator, Table, Text, helper
from perpsbot.errors import ActorNotFoundError
from perpsbot.runtime import ActorSystem, SupervisorSpec
from perpsbot.runtime.testing import Probe, eventually
from tests.runtime.conftest import Add, recorder


@pytest.fixture
def bank(system: ActorSystem) -> ActorSystem:
    probe = Probe()
    system.start(SupervisorSpec(name="bank", children=[recorder("a", probe), recorder("b", probe)]))
    probe.wait_for(lambda events: len(events) == 2, what="two starts")
    return system


def test_actors_is_a_table_of_every_actor_with_its_statistics(bank: ActorSystem) -> None:
    bank.address("bank/a").tell(Add(1))
    assert bank.address("bank/a").ask("total", timeout_s=5) == 1
    actors = Operator(bank).actors()
    assert isinstance(actors, Table)
    assert actors.column("path") == ["bank", "bank/a", "bank/b"]
    row = next(r for r in actors if r["path"] == "bank/a")
    assert (row["state"], row["inc"], row["restarts"], row["handled"]) == ("running", 1, 0, 2)
    assert repr(actors).splitlines()[0].split() == [
        "path", "class", "state", "inc", "restarts", "depth", "dead", "handled", "idle_s"
    ]  # fmt: skip


def test_tree_and_state_show_the_tree_and_one_actors_state(bank: ActorSystem) -> None:
    ops = Operator(bank)
    assert isinstance(ops.tree(), Text)
    assert "  a " in ops.tree()
    assert ops.state("bank/b") == {"total": 0}


def test_restart_is_audited_with_who_did_it_and_the_outcome(bank: ActorSystem) -> None:
    records: list[AuditRecord] = []
    ops = Operator(bank, operator="shell uid=0 pid=7", audit=records.append)
    assert ops.restart("bank/a") == "bank/a restarted: incarnation 2"
    with pytest.raises(ActorNotFoundError):
        ops.restart("bank/zz")
    assert records[0] == AuditRecord(
        operator="shell uid=0 pid=7",
        action="restart('bank/a')",
        outcome="bank/a restarted: incarnation 2",
    )
    assert records[1].action == "restart('bank/zz')"
    assert records[1].outcome.startswith("failed: ")
    assert "no running child 'zz'" in records[1].outcome


def test_crash_fails_the_actor_for_its_supervisor_and_is_audited(bank: ActorSystem) -> None:
    records: list[AuditRecord] = []
    ops = Operator(bank, operator="shell uid=0 pid=7", audit=records.append)

    assert ops.crash("bank/a", "drill") == "bank/a incarnation 1 failed: drill"

    eventually(lambda: bank.inspect().find("bank/a").incarnation == 2, what="a restart")
    assert bank.inspect().find("bank/a").failures == 1
    with pytest.raises(ActorNotFoundError):
        ops.crash("bank/zz", "drill")
    assert records[0] == AuditRecord(
        operator="shell uid=0 pid=7",
        action="crash('bank/a', 'drill')",
        outcome="bank/a incarnation 1 failed: drill",
    )
    assert records[1].action == "crash('bank/zz', 'drill')"
    assert "no running actor at 'bank/zz'" in records[1].outcome


def test_the_default_audit_is_a_log_line(
    bank: ActorSystem, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="perpsbot.audit"):
        Operator(bank).restart("bank/b")
    assert "operator in-process: restart('bank/b') -> bank/b restarted" in caplog.text


class Desk(Operator):
    """A host application's operator with one more helper."""

    @helper
    def balance(self) -> int:
        """The account's balance."""
        return int(self.system.address("bank/a").ask("total", timeout_s=5))


def test_a_subclass_adds_helpers_that_the_namespace_and_help_list(bank: ActorSystem) -> None:
    desk = Desk(bank)
    namespace = desk.namespace()
    assert list(desk.helpers()) == [
        "help", "actors", "tree", "state", "restart", "crash", "balance"
    ]  # fmt: skip
    assert namespace["system"] is bank
    assert namespace["balance"]() == 0
    assert "balance()" in namespace["help"]()
    assert "The account's balance." in desk.help()
