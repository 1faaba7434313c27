"""Zalo Bot and Zalo OA as running channels of ``papi-bot run``: start, the durable webhook
inbox and its worker, stop. The transports themselves are in ``zalo_bot`` and ``zalo_oa``."""
