"""The conversation, channel-neutral: ``Inbound`` in, state changes and ``Outbound``s out.

Never imports anything from ``bot/`` (no channel, no renderer, no ``Settings``), nor aiogram,
aiohttp or httpx: checked by import-linter (``pyproject.toml``). Every write goes through a
named function of ``storage/``.
"""
