"""The bare aiogram 3 echo bot (long polling) that bench_telegram.py runs beside papi-bot.

A file of its own, importing nothing but aiogram: its "ready" (process start → first
getUpdates) is the floor of any aiogram bot on this machine. Reads BENCH_API_BASE and
BENCH_TOKEN from the environment.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main() -> None:
    api = TelegramAPIServer.from_base(os.environ["BENCH_API_BASE"])
    bot = Bot(os.environ["BENCH_TOKEN"], session=AiohttpSession(api=api))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    await dispatcher.start_polling(bot, polling_timeout=30, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
