"""Fixtures of the channel contract tests (the network guard is in tests/conftest.py)."""
