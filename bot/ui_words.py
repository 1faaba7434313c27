"""Words used across concerns."""

from __future__ import annotations

from bot.i18n import N_

YES = N_("Yes")
NO = N_("No")
