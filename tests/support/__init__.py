"""Helpers shared by the test suite: waiting without sleeping, log capture, factories."""
