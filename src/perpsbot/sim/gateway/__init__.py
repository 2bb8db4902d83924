"""The simulated Global Derivatives gateway: the embedded exchange speaking the Deribit-powered
gateway's JSON-RPC 2.0 over HTTP and two WebSockets (docs/venues/global-derivatives.md).
See :class:`SimGlobalGateway`."""

from perpsbot.sim.gateway._config import GatewayConfig
from perpsbot.sim.gateway._faults import GatewayFaults
from perpsbot.sim.gateway._server import SimGlobalGateway

__all__ = ["GatewayConfig", "GatewayFaults", "SimGlobalGateway"]
