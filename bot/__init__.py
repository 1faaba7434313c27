"""The running service and its edges: CLI, config, channels, outbox, scheduler, import, reports."""

__version__ = "0.1.0"
