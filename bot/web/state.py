"""What every console view needs: the engine, settings, clock, signer; kept on the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.engine import Engine

from bot.config import Settings
from kernel.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class ConsoleState:
    engine: Engine
    settings: Settings
    clock: Clock
    secret: str
    upload_dir: Path

    def signer(self, purpose: str) -> URLSafeTimedSerializer:
        """A serializer per purpose (session, download link): one cannot stand for another."""
        return URLSafeTimedSerializer(self.secret, salt=f"papi-bot-console-{purpose}")

    async def db(self, func: Callable[..., T], *args: Any) -> T:
        """Run synchronous storage code in a thread (the locale context goes along)."""
        return await asyncio.to_thread(func, *args)


STATE: web.AppKey[ConsoleState] = web.AppKey("papi_console_state", ConsoleState)


def state_of(request: web.Request) -> ConsoleState:
    return request.app[STATE]
