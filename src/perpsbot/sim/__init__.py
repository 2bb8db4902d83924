"""The loopback simulated Coinbase Advanced Trade exchange.

Same REST and websocket wire format as Coinbase, a seeded random-walk market, matching of
market and limit orders, spot balances, CFM perp-style positions with funding accrued hourly
and settled twice a day, margin by the venue's intraday and overnight windows, scriptable
faults, and optionally a state kept in a directory across runs. See :class:`SimExchange`.
"""

from perpsbot.config import DuplicateClientOrderId, SimConfig
from perpsbot.sim._exchange import SimExchange
from perpsbot.sim._faults import FaultRecord, SimFaults
from perpsbot.sim._products import CATALOGUE, SimProduct
from perpsbot.sim._replay import FrameReplayServer
from perpsbot.sim._state_file import StateDirectory

__all__ = [
    "CATALOGUE",
    "DuplicateClientOrderId",
    "FaultRecord",
    "FrameReplayServer",
    "SimConfig",
    "SimExchange",
    "SimFaults",
    "SimProduct",
    "StateDirectory",
]
