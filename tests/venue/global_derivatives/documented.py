"""The vendors' own request, response and notification examples for the Global Derivatives
gateway, quoted verbatim (whitespace aside) from the stored copies the search tools reached,
each under its source address. Used by ``test_wire_examples.py``; nothing here is invented: a
method or channel whose example was not reached whole has no entry (see that module's
docstring and docs/venues/global-derivatives.md, "Checked against").
"""

from __future__ import annotations

# --- public/auth ------------------------------------------------------------------------------

# https://docs.cdp.coinbase.com/api-reference/coinbase-deribit-app-api/rest-api/authentication/post-publicauth
# (the Coinbase page's body is the params object alone, without the JSON-RPC envelope)
AUTH_REQUEST = """{
  "grant_type": "coinbase_cdp",
  "token": "<string>"
}"""
AUTH_RESPONSE = """{
  "id": 9929,
  "jsonrpc": "2.0",
  "result": {
    "access_token": "a3f8c2e1d4b7f09e5c6a2d8b1e4f7c0a9d3b6e2f5a8c1d4e7b0f3a6c9d2e5f8",
    "expires_in": 3600,
    "scope": "wallet:user:read wallet:accounts:read wallet:transactions:read wallet:buys:create",
    "token_type": "bearer"
  }
}"""

# --- public/ticker ----------------------------------------------------------------------------

# https://deribit.mintlify.app/api-reference/market-data/public-ticker
TICKER_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 8106,
  "method": "public/ticker",
  "params": {
    "instrument_name": "BTC-PERPETUAL"
  }
}"""
TICKER_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 8106,
  "result": {
    "best_ask_amount": 53040,
    "best_ask_price": 36290,
    "best_bid_amount": 4600,
    "best_bid_price": 36289.5,
    "current_funding": 0,
    "estimated_delivery_price": 36297.02,
    "funding_8h": 0.00002203,
    "index_price": 36297.02,
    "instrument_name": "BTC-PERPETUAL",
    "interest_value": 1.7362511643080387,
    "last_price": 36289.5,
    "mark_price": 36288.31,
    "max_price": 36833.4,
    "min_price": 35744.73,
    "open_interest": 502231260,
    "settlement_price": 36169.49,
    "state": "open",
    "stats": {
      "high": 36824.5,
      "low": 35213.5,
      "price_change": 0.2362,
      "volume": 7831.26548117,
      "volume_usd": 282615600
    },
    "timestamp": 1623059681955
  }
}"""

# --- public/get_instruments (request only: the answer's list was not reached whole) ------------

# https://docs.deribit.com/api-reference/market-data/public-get_instruments
INSTRUMENTS_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 1,
  "method": "public/get_instruments",
  "params": {
    "currency": "BTC",
    "kind": "future"
  }
}"""

# --- private/buy (request only: the answer's order object was not reached whole) --------------

# https://docs.deribit.com/api-reference/trading/private-buy
BUY_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 5275,
  "method": "private/buy",
  "params": {
    "instrument_name": "ETH-PERPETUAL",
    "amount": 40,
    "type": "market",
    "label": "market0000234"
  }
}"""

# --- private/cancel ---------------------------------------------------------------------------

# https://docs.deribit.com/api-reference/trading/private-cancel
CANCEL_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 4214,
  "method": "private/cancel",
  "params": {
    "order_id": "ETH-SLIS-12"
  }
}"""
CANCEL_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 4214,
  "result": {
    "triggered": false,
    "trigger": "index_price",
    "time_in_force": "good_til_cancelled",
    "trigger_price": 144.73,
    "reduce_only": false,
    "price": "market_price",
    "post_only": false,
    "order_type": "stop_market",
    "order_state": "untriggered",
    "order_id": "ETH-SLIS-12",
    "max_show": 5,
    "last_update_timestamp": 1550575961291,
    "label": "",
    "is_rebalance": false,
    "is_liquidation": false,
    "instrument_name": "ETH-PERPETUAL",
    "direction": "sell",
    "creation_timestamp": 1550575961291,
    "api": false,
    "amount": 5
  }
}"""

# --- private/get_order_state ------------------------------------------------------------------

# https://deribit.mintlify.app/api-reference/trading/private-get_order_state
ORDER_STATE_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 4316,
  "method": "private/get_order_state",
  "params": {
    "order_id": "ETH-331562"
  }
}"""
ORDER_STATE_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 4316,
  "result": {
    "time_in_force": "good_til_cancelled",
    "reduce_only": false,
    "price": 118.94,
    "post_only": false,
    "order_type": "limit",
    "order_state": "filled",
    "order_id": "ETH-331562",
    "max_show": 37,
    "last_update_timestamp": 1550219810944,
    "label": "",
    "is_rebalance": false,
    "is_liquidation": false,
    "instrument_name": "ETH-PERPETUAL",
    "filled_amount": 37,
    "direction": "sell",
    "creation_timestamp": 1550219749176,
    "average_price": 118.94,
    "api": false,
    "amount": 37
  }
}"""

# --- private/get_open_orders_by_label ---------------------------------------------------------

# https://deribit.mintlify.app/api-reference/trading/private-get_open_orders_by_label
OPEN_BY_LABEL_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 1953,
  "method": "private/get_open_orders_by_label",
  "params": {
    "currency": "BTC",
    "label": "fooBar"
  }
}"""
OPEN_BY_LABEL_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 1953,
  "result": [
    {
      "time_in_force": "good_til_cancelled",
      "reduce_only": false,
      "price": 0.0028,
      "post_only": false,
      "order_type": "limit",
      "order_state": "open",
      "order_id": "146062",
      "max_show": 10,
      "last_update_timestamp": 1550050597036,
      "label": "fooBar",
      "is_rebalance": false,
      "is_liquidation": false,
      "instrument_name": "BTC-15FEB19-3250-P",
      "filled_amount": 0,
      "direction": "buy",
      "creation_timestamp": 1550050597036,
      "average_price": 0,
      "api": true,
      "amount": 10
    }
  ]
}"""

# --- private/get_order_history_by_instrument --------------------------------------------------

# https://docs.deribit.com/api-reference/trading/private-get_order_history_by_instrument
HISTORY_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 1032,
  "method": "private/get_order_history_by_instrument",
  "params": {
    "instrument_name": "BTC-PERPETUAL",
    "count": 1
  }
}"""
HISTORY_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 9305,
  "result": [
    {
      "time_in_force": "good_til_cancelled",
      "reduce_only": false,
      "price": 3886.5,
      "post_only": false,
      "order_type": "limit",
      "order_state": "filled",
      "order_id": "146475",
      "max_show": 40,
      "last_update_timestamp": 1550661808761,
      "label": "",
      "is_rebalance": false,
      "is_liquidation": false,
      "instrument_name": "BTC-PERPETUAL",
      "filled_amount": 40,
      "direction": "buy",
      "creation_timestamp": 1550661808761,
      "average_price": 3659.8,
      "api": true,
      "amount": 40
    }
  ]
}"""

# --- private/get_user_trades_by_instrument ----------------------------------------------------

# https://docs.deribit.com/api-reference/trading/private-get_user_trades_by_instrument
TRADES_BY_INSTRUMENT_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 5728,
  "method": "private/get_user_trades_by_instrument",
  "params": {
    "instrument_name": "ETH-PERPETUAL",
    "start_seq": 1966042,
    "count": 2
  }
}"""
TRADES_BY_INSTRUMENT_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 9292,
  "result": {
    "trades": [
      {
        "underlying_price": 8994.95,
        "trade_seq": 1,
        "trade_id": "48078936",
        "timestamp": 1590480620145,
        "tick_direction": 1,
        "state": "filled",
        "reduce_only": false,
        "price": 0.028,
        "post_only": false,
        "order_type": "limit",
        "order_id": "4008699030",
        "matching_id": null,
        "mark_price": 0.03135383,
        "liquidity": "M",
        "iv": 38.51,
        "instrument_name": "BTC-27MAY20-8750-C",
        "index_price": 8993.47,
        "fee_currency": "BTC",
        "fee": 0.0004,
        "direction": "sell",
        "amount": 1
      },
      {
        "trade_seq": 299513,
        "trade_id": "47958936",
        "timestamp": 1589923311862,
        "tick_direction": 2,
        "state": "filled",
        "reduce_only": false,
        "price": 9681.5,
        "post_only": false,
        "order_type": "limit",
        "order_id": "3993343822",
        "matching_id": null,
        "mark_price": 9684,
        "liquidity": "M",
        "instrument_name": "BTC-26JUN20",
        "index_price": 9679.48,
        "fee_currency": "BTC",
        "fee": -2.1e-7,
        "direction": "buy",
        "amount": 10
      }
    ],
    "has_more": false
  }
}"""

# --- private/get_user_trades_by_order ---------------------------------------------------------

# https://docs.deribit.com/api-reference/trading/private-get_user_trades_by_order
TRADES_BY_ORDER_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 3466,
  "method": "private/get_user_trades_by_order",
  "params": {
    "order_id": "ETH-584830574"
  }
}"""
TRADES_BY_ORDER_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 3466,
  "result": [
    {
      "trade_seq": 1966042,
      "trade_id": "ETH-2696068",
      "timestamp": 1590480712800,
      "tick_direction": 3,
      "state": "filled",
      "reduce_only": false,
      "price": 203.8,
      "post_only": false,
      "order_type": "market",
      "order_id": "ETH-584830574",
      "matching_id": null,
      "mark_price": 203.78,
      "liquidity": "T",
      "instrument_name": "ETH-PERPETUAL",
      "index_price": 203.89,
      "fee_currency": "ETH",
      "fee": 0.00036801,
      "direction": "buy",
      "amount": 100
    }
  ]
}"""

# --- private/get_positions --------------------------------------------------------------------

# https://deribit.mintlify.app/api-reference/account-management/private-get_positions
POSITIONS_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 2236,
  "method": "private/get_positions",
  "params": {
    "currency": "BTC",
    "kind": "future"
  }
}"""
POSITIONS_RESPONSE = """{
  "jsonrpc": "2.0",
  "id": 2236,
  "result": [
    {
      "average_price": 7440.18,
      "delta": 0.006687487,
      "direction": "buy",
      "estimated_liquidation_price": 1.74,
      "floating_profit_loss": 0,
      "index_price": 7466.79,
      "initial_margin": 0.000197283,
      "instrument_name": "BTC-PERPETUAL",
      "interest_value": 1.7362511643080387,
      "kind": "future",
      "leverage": 34,
      "maintenance_margin": 0.000143783,
      "mark_price": 7476.65,
      "open_orders_margin": 0.000197288,
      "realized_funding": -1e-8,
      "realized_profit_loss": -9e-9,
      "settlement_price": 7476.65,
      "size": 50,
      "size_currency": 0.006687487,
      "total_profit_loss": 0.000032781
    }
  ]
}"""

# --- private/get_account_summary (request only: the answer was not reached whole) -------------

# https://docs.deribit.com/api-reference/account-management/private-get_account_summary
ACCOUNT_SUMMARY_REQUEST = """{
  "jsonrpc": "2.0",
  "id": 2515,
  "method": "private/get_account_summary",
  "params": {
    "currency": "BTC",
    "extended": true
  }
}"""

# --- errors -----------------------------------------------------------------------------------

# https://docs.deribit.com/articles/errors (and deribit.mintlify.app/articles/errors)
INVALID_TOKEN_ERROR = """{
  "jsonrpc": "2.0",
  "error": {
    "code": 13009,
    "message": "invalid_token",
    "data": {
      "reason": "token has expired",
      "param": "access_token"
    }
  },
  "usIn": 1704153600000000,
  "usOut": 1704153600001234,
  "usDiff": 1234,
  "id": 42
}"""

# --- subscription notifications (the pages show the notification's ``data`` member) ----------

# https://docs.deribit.com/articles/notifications: a notification is
# {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": ..., "data": ...}}

# https://docs.deribit.com/subscriptions/market-data/perpetualinstrument_nameinterval
PERPETUAL_CHANNEL = "perpetual.BTC-PERPETUAL.100ms"
PERPETUAL_NOTICE = """{ "data": { "interest": 0.004999511380756577, "timestamp": 1571386349530,
"index_price": 7872.88 }}"""

# https://docs.cdp.coinbase.com/api-reference/coinbase-deribit-app-api/websocket/user/userordersinstrument_nameinterval
USER_ORDERS_CHANNEL = "user.orders.BTC-PERPETUAL.100ms"
USER_ORDERS_NOTICE = """{
  "data": [
    {
      "amount": 200,
      "api": false,
      "average_price": 0,
      "creation_timestamp": 1581507159533,
      "direction": "buy",
      "filled_amount": 0,
      "instrument_name": "BTC-PERPETUAL",
      "is_liquidation": false,
      "is_rebalance": false,
      "label": "",
      "last_update_timestamp": 1581507159533,
      "max_show": 200,
      "order_id": "4",
      "order_state": "open",
      "order_type": "limit",
      "original_order_type": "market",
      "post_only": false,
      "price": 10460.43,
      "reduce_only": false,
      "replaced": false,
      "time_in_force": "good_til_cancelled"
    }
  ]
}"""

# https://deribit-upcoming.mintlify.app/subscriptions/user/userordersinstrument_nameraw
USER_ORDERS_RAW_CHANNEL = "user.orders.BTC-PERPETUAL.raw"
USER_ORDERS_RAW_NOTICE = """{
  "data": {
    "time_in_force": "good_til_cancelled",
    "replaced": false,
    "reduce_only": false,
    "price": 10502.52,
    "post_only": false,
    "original_order_type": "market",
    "order_type": "limit",
    "order_state": "open",
    "order_id": "5",
    "max_show": 200,
    "last_update_timestamp": 1581507423789,
    "label": "",
    "is_rebalance": false,
    "is_liquidation": false,
    "instrument_name": "BTC-PERPETUAL",
    "filled_amount": 0,
    "direction": "buy",
    "creation_timestamp": 1581507423789,
    "average_price": 0,
    "api": false,
    "amount": 200
  }
}"""

# https://docs.cdp.coinbase.com/api-reference/coinbase-deribit-app-api/websocket/user/usertradesinstrument_nameinterval
USER_TRADES_CHANNEL = "user.trades.BTC-PERPETUAL.100ms"
USER_TRADES_NOTICE = """{
  "data": [
    {
      "amount": 20,
      "direction": "sell",
      "fee": 0.00000168,
      "fee_currency": "BTC",
      "index_price": 8956.73,
      "instrument_name": "BTC-PERPETUAL",
      "liquidity": "T",
      "mark_price": 8952.86,
      "matching_id": null,
      "order_id": "4008965646",
      "order_type": "market",
      "post_only": false,
      "price": 8954,
      "reduce_only": false,
      "state": "filled",
      "tick_direction": 0,
      "timestamp": 1590484156350,
      "trade_id": "48079254",
      "trade_seq": 30289432
    },
    {
      "amount": 20,
      "direction": "sell",
      "fee": 0.00000168,
      "fee_currency": "BTC",
      "index_price": 8956.73,
      "instrument_name": "BTC-PERPETUAL",
      "liquidity": "T",
      "mark_price": 8952.86,
      "matching_id": null,
      "order_id": "4008965646",
      "order_type": "market",
      "post_only": false,
      "price": 8954,
      "reduce_only": false,
      "state": "filled",
      "tick_direction": 1,
      "timestamp": 1590484156350,
      "trade_id": "48079255",
      "trade_seq": 30289433
    }
  ]
}"""
