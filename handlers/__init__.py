"""The conversation, channel-neutral: ``Inbound`` in, state changes and ``Outbound``s out.

Never imports aiogram, httpx or a channel module (``bot.channels``).
"""
