"""The risk actor: its rules, the trading state machine, the volatility breaker, margin."""
