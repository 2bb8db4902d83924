"""Subscription notifications as typed records: what the streams and trading sockets hand on."""

from __future__ import annotations

from typing import Any

from perpsbot.errors import FrameDecodeError
from perpsbot.venue.global_derivatives._codec import Notice, typed_or
from perpsbot.venue.global_derivatives.records import (
    AccountSummary,
    BookNotice,
    FundingNotice,
    Order,
    Ticker,
    UserTrade,
)

Record = BookNotice | Ticker | FundingNotice | list[Order] | list[UserTrade] | AccountSummary

_KINDS: dict[str, Any] = {
    "book": BookNotice,
    "ticker": Ticker,
    "perpetual": FundingNotice,
    "user.orders": list[Order],
    "user.trades": list[UserTrade],
    "user.portfolio": AccountSummary,
}


def decode_notice(notice: Notice) -> Record:
    """The record of ``notice``; :class:`FrameDecodeError` naming the channel and the field."""
    channel = notice.channel
    key = "user." + channel.split(".")[1] if channel.startswith("user.") else channel.split(".")[0]
    kind = _KINDS.get(key)
    if kind is None:
        raise FrameDecodeError(
            f"a notification's channel must be one we subscribe to, was {channel!r}"
        )
    data = notice.data
    if key in ("user.orders", "user.trades") and isinstance(data, dict):
        data = [data]  # the raw interval may send one record, the others a list
    result: Record = typed_or(data, kind, FrameDecodeError, f"channel {channel}")
    return result


__all__ = ["Record", "decode_notice"]
