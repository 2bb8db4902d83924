"""The generic actor runtime on pykka: supervision, stable addresses, mailboxes, timers.

It knows nothing about trading. See ``BaseActor`` for an actor's lifecycle and
``Supervisor`` for restart rules.
"""

from perpsbot.runtime._actor import ActorContext, BaseActor
from perpsbot.runtime._calling_thread import Execution
from perpsbot.runtime._cell import ActorAddress
from perpsbot.runtime._coalesce import CoalescedReady, Coalescer
from perpsbot.runtime._conflating import ConflatingMailbox
from perpsbot.runtime._control import (
    ChildExited,
    ConfigChanged,
    ControlMessage,
    GetState,
    Ping,
    Reconfigure,
)
from perpsbot.runtime._deadletters import DeadLetter, DeadLetters
from perpsbot.runtime._embed import HostAddress, SystemAnchor
from perpsbot.runtime._inspect import ActorSnapshot, SystemSnapshot
from perpsbot.runtime._mailbox import (
    BoundedMailbox,
    CommandMailbox,
    FifoMailbox,
    Mailbox,
    MailboxFullError,
    Overflow,
)
from perpsbot.runtime._pubsub import Recipient, Subscribe, Unsubscribe
from perpsbot.runtime._reload import ReloadAction, ReloadKind, ReloadPlan, changed_sections
from perpsbot.runtime._spec import (
    Backoff,
    ChildSpec,
    Intensity,
    Restart,
    RestartStrategy,
    SupervisorSpec,
)
from perpsbot.runtime._supervisor import Supervisor
from perpsbot.runtime._system import ActorSystem, default_sections
from perpsbot.runtime._timers import MAX_TIMER_S, ActorTimers, Scheduler, TimerHandle
from perpsbot.runtime._watch import ActorDown, ActorUp
from perpsbot.runtime._wiring import Route, Wiring

__all__ = [
    "MAX_TIMER_S",
    "ActorAddress",
    "ActorContext",
    "ActorDown",
    "ActorSnapshot",
    "ActorSystem",
    "ActorTimers",
    "ActorUp",
    "Backoff",
    "BaseActor",
    "BoundedMailbox",
    "ChildExited",
    "ChildSpec",
    "CoalescedReady",
    "Coalescer",
    "CommandMailbox",
    "ConfigChanged",
    "ConflatingMailbox",
    "ControlMessage",
    "DeadLetter",
    "DeadLetters",
    "Execution",
    "FifoMailbox",
    "GetState",
    "HostAddress",
    "Intensity",
    "Mailbox",
    "MailboxFullError",
    "Overflow",
    "Ping",
    "Recipient",
    "Reconfigure",
    "ReloadAction",
    "ReloadKind",
    "ReloadPlan",
    "Restart",
    "RestartStrategy",
    "Route",
    "Scheduler",
    "Subscribe",
    "Supervisor",
    "SupervisorSpec",
    "SystemAnchor",
    "SystemSnapshot",
    "TimerHandle",
    "Unsubscribe",
    "Wiring",
    "changed_sections",
    "default_sections",
]
