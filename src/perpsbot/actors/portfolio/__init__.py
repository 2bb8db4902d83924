"""The portfolio actor, the one owner of positions, PnL and funding booked."""
