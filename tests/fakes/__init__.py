"""Fakes of the platforms the bot talks to (127.0.0.1 only)."""
