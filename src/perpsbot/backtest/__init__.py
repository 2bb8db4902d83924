"""Backtests: the bot's own actor tree run against stored market data, and what is made of a
run (its report, chart, the one-thread floor and parameter sweeps)."""
