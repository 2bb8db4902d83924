"""The Global Derivatives (Deribit-powered) gateway's client: JSON-RPC 2.0 over HTTP and two
WebSockets, the CDP token exchange, the shared budget, typed records and errors
(docs/venues/global-derivatives.md), and the venue gateway over them
(:class:`GlobalDerivativesGateway`): only the bot's records cross it.
"""

from perpsbot.venue.global_derivatives._budget import GlobalLimits, global_budget
from perpsbot.venue.global_derivatives._codec import Notice
from perpsbot.venue.global_derivatives._http import RpcHttp
from perpsbot.venue.global_derivatives._socket import RpcSocket
from perpsbot.venue.global_derivatives.client import GlobalDerivativesClient
from perpsbot.venue.global_derivatives.gateway import GlobalDerivativesGateway
from perpsbot.venue.global_derivatives.lookup import Finding, LabelLookup, look_up_label
from perpsbot.venue.global_derivatives.notices import decode_notice

__all__ = [
    "Finding",
    "GlobalDerivativesClient",
    "GlobalDerivativesGateway",
    "GlobalLimits",
    "LabelLookup",
    "Notice",
    "RpcHttp",
    "RpcSocket",
    "decode_notice",
    "global_budget",
    "look_up_label",
]
