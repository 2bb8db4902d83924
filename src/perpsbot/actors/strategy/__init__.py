"""The strategy actor and its pure decisions: crossover, trailing stop, trading window."""
