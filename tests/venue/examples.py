"""Wire examples copied from docs/venues/coinbase-advanced-trade.md (docs and recorded frames)."""

HEARTBEAT = (
    b'{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z",'
    b'"sequence_num":0,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC '
    b'm=+91717.525857105","heartbeat_counter":"3049"}]}'
)
HEARTBEAT_NUMERIC = (
    b'{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26Z",'
    b'"sequence_num":7,"events":[{"current_time":"x","heartbeat_counter":21697}]}'
)
SUBSCRIPTIONS = (
    b'{"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:00.000000Z",'
    b'"sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"],'
    b'"market_trades":["BTC-USD","ETH-USD"],"heartbeats":["heartbeats"]}}]}'
)
ERROR = b'{"type":"error","message":"authentication failure"}'
TICKER = (
    b'{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z",'
    b'"sequence_num":0,"events":[{"type":"snapshot","tickers":[{"type":"ticker",'
    b'"product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938",'
    b'"low_24_h":"21835.29","high_24_h":"23011.18","low_52_w":"15460","high_52_w":"48240",'
    b'"price_percent_chg_24_h":"-4.15775596190603","best_bid":"21931.98",'
    b'"best_bid_quantity":"8000.21","best_ask":"21933.98",'
    b'"best_ask_quantity":"8038.07770938"}]}]}'
)
TICKER_BATCH = (
    b'{"channel":"ticker_batch","client_id":"","timestamp":"2023-02-09T20:30:37.1Z",'
    b'"sequence_num":3,"events":[{"type":"update","tickers":[{"type":"ticker",'
    b'"product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938"}]}]}'
)
L2_SNAPSHOT = (
    b'{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z",'
    b'"sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":['
    b'{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73",'
    b'"new_quantity":"0.06317902"},'
    b'{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.3",'
    b'"new_quantity":"0.02"},'
    b'{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21922.5",'
    b'"new_quantity":"1.5"}]}]}'
)
L2_UPDATE = (
    b'{"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:01.456789Z",'
    b'"sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":['
    b'{"side":"offer","event_time":"2026-04-07T14:30:01.456789Z","price_level":"21922.5",'
    b'"new_quantity":"0.00000000"}]}]}'
)
MARKET_TRADES = (
    b'{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z",'
    b'"sequence_num":0,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000",'
    b'"product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY",'
    b'"time":"2019-08-14T20:42:27.265Z"}]}]}'
)
USER = (
    b'{"channel":"user","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z",'
    b'"sequence_num":0,"events":[{"type":"snapshot","orders":[{"avg_price":"50000",'
    b'"cancel_reason":"","client_order_id":"XXX","completion_percentage":"100.00",'
    b'"contract_expiry_type":"UNKNOWN_CONTRACT_EXPIRY_TYPE","cumulative_quantity":"0.01",'
    b'"filled_value":"500","leaves_quantity":"0","limit_price":"50000","number_of_fills":"1",'
    b'"order_id":"YYY","order_side":"BUY","order_type":"Limit","outstanding_hold_amount":"0",'
    b'"post_only":"false","product_id":"BTC-USD","product_type":"SPOT","reject_reason":"",'
    b'"retail_portfolio_id":"ZZZ","risk_managed_by":"UNKNOWN_RISK_MANAGEMENT_TYPE",'
    b'"status":"FILLED","stop_price":"","time_in_force":"GOOD_UNTIL_CANCELLED",'
    b'"total_fees":"2","total_value_after_fees":"502","trigger_status":"INVALID_ORDER_TYPE",'
    b'"creation_time":"2024-06-21T18:29:13.909347Z","end_time":"0001-01-01T00:00:00Z",'
    b'"start_time":"0001-01-01T00:00:00Z"}],"positions":{"perpetual_futures_positions":[],'
    b'"expiring_futures_positions":[]}}]}'
)
STATUS = (
    b'{"channel":"status","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z",'
    b'"sequence_num":0,"events":[{"type":"snapshot","products":[{"product_type":"SPOT",'
    b'"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD"}]}]}'
)

ALL = (
    HEARTBEAT,
    HEARTBEAT_NUMERIC,
    SUBSCRIPTIONS,
    ERROR,
    TICKER,
    TICKER_BATCH,
    L2_SNAPSHOT,
    L2_UPDATE,
    MARKET_TRADES,
    USER,
    STATUS,
)
