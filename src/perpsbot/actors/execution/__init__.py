"""The executor and the user channel: the order ledger and its state machine, reconciliation."""
