"""What an invite sheet prints for each official, in either format (DOCX in
``bot.web.invites``, PDF in ``bot.web.invite_pdf``): name, unit, role, the single-use code,
its expiry and one QR code per channel the official can join by.

Telegram has a deep link that carries the code (``t.me/<bot>?start=<code>``): scanning it is
all it takes. The Zalo Bot platform has no start parameter: its QR code is the bot's own link
(``[zalo] bot_link``, shown in Zalo Bot Manager), the same for everyone, and the official then
sends the printed code in that chat (a plain code is understood as an invite, see
``handlers/router.py``); the Official Account likewise (``[zalo.oa] link``, its public page:
follow it, then send the code). A channel without its setting gets no QR code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from kernel.dates import local, long_date
from kernel.i18n import _


@dataclass(frozen=True)
class SheetRow:
    name: str
    unit: str
    role: str
    code: str
    expires: datetime
    zalo: str | None = None  # "Zalo: send the code to the bot …" (the bot of their unit)


def telegram_link(username: str, code: str) -> str | None:
    name = username.strip().lstrip("@")
    return f"https://t.me/{name}?start={code}" if name else None


def zalo_link(bot_link: str) -> str | None:
    link = bot_link.strip()
    return link if link.startswith("https://") else None


@dataclass(frozen=True)
class SheetChannels:
    """Where the QR codes point: the Telegram bot's username, the Zalo Bot's link."""

    telegram_username: str = ""
    zalo_bot_link: str = ""
    zalo_oa_link: str = ""

    @classmethod
    def of(cls, settings: Settings) -> SheetChannels:
        return cls(settings.telegram.bot_username, settings.zalo.bot_link, settings.zalo.oa.link)

    @property
    def has_zalo(self) -> bool:
        return zalo_link(self.zalo_bot_link) is not None

    @property
    def has_zalo_oa(self) -> bool:
        return zalo_link(self.zalo_oa_link) is not None

    def links(self, code: str) -> list[tuple[str, str | None]]:
        """(channel, link) for each channel on the sheet; None: its setting is missing."""
        found: list[tuple[str, str | None]] = [
            ("Telegram", telegram_link(self.telegram_username, code))
        ]
        if self.has_zalo:
            found.append(("Zalo", zalo_link(self.zalo_bot_link)))
        if self.has_zalo_oa:
            found.append(("Zalo OA", zalo_link(self.zalo_oa_link)))
        return found


def qr_png(text: str) -> io.BytesIO:
    import segno  # loaded with the first QR code, not at `run`'s start

    stream = io.BytesIO()
    segno.make(text, error="m").save(stream, kind="png", scale=6, border=2)
    stream.seek(0)
    return stream


def sheet_instructions(channels: SheetChannels) -> str:
    text = _(
        "Open Telegram, scan the QR code (or send /start and the code to the bot). "
        "Each code works once."
    )
    if channels.has_zalo:
        text += " " + _(
            "On Zalo, scan the Zalo QR code to open the bot's chat, then send it your code."
        )
    if channels.has_zalo_oa:
        text += " " + _(
            "Or scan the Zalo OA QR code, follow the Official Account and send it your code."
        )
    return text


def needs_code_sent(label: str) -> bool:
    """Only Telegram's link carries the code; on the others the official sends it."""
    return label != "Telegram"


def expiry_text(row: SheetRow) -> str:
    expiry = long_date(local(row.expires).date())
    return _("valid until %(date)s") % {"date": expiry}
