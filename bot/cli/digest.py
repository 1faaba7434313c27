"""CLI commands: ``papi-bot digest --unit CODE [--send]`` prints a unit's weekly digest now."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated

import typer

from bot.cli.common import echo, fail, require_database, settings
from kernel.clock import SystemClock
from kernel.i18n import _, ngettext, use_locale


def _moment(text: str | None, tz: tzinfo) -> datetime:
    if text is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(
            _("--as-of: expected a date and time such as 2026-11-23T07:30, got %(text)s")
            % {"text": text}
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def digest(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help="the unit's code, e.g. 24 or 07420")],
    send: Annotated[
        bool, typer.Option("--send", help="also queue it to the unit's chairs / coordinators")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="as at this local time (default: now)")
    ] = None,
) -> None:
    """Print the weekly digest of a unit's subtree now (and send it with --send)."""
    # Loaded here, not at the top: they pull in the channels (aiogram), the report renderers
    # and the storage layer.
    from sqlmodel import select

    from bot.pipeline import enqueue
    from bot.routing import Routing
    from bot.scheduler.digest import collect, render
    from bot.scheduler.weekly import DIGEST, digest_readers
    from bot.scheduler.working_time import WorkingTime
    from handlers.types import Outbound
    from storage.db import session_scope
    from storage.models import Unit

    config = settings(ctx)
    with use_locale(config.app.default_locale):
        now = _moment(as_of, config.tz)
        db = require_database(ctx)
        with session_scope(db) as session:
            found = session.exec(select(Unit).where(Unit.code == unit.strip())).first()
            if found is None:
                fail(_("No unit has the code %(code)s.") % {"code": unit})
            data = collect(session, found, now, config.reminders.silence_days)
            for index, part in enumerate(render(data)):
                echo(("\n" if index else "") + part)
            if not send:
                return
            readers = digest_readers(session, found)
            if not readers:
                fail(
                    _("%(unit)s has no chair or coordinator to send to; nothing was queued.")
                    % {"unit": found.name}
                )
            outbounds = []
            for official in readers:
                with use_locale(official.locale):
                    outbounds += [
                        Outbound(part, official_id=official.id, kind=DIGEST)
                        for part in render(data)
                    ]
            # Queued now, sent at the next working moment (not at night or on a holiday).
            working = WorkingTime(config.quiet_hours, config.tz)
            moment = working.next_send_moment(SystemClock().now())
            rows = enqueue(session, outbounds, moment, routing=Routing.from_settings(config))
            reached = {row.official_id for row in rows}
            missing = [o.name for o in readers if o.id not in reached]
            if not rows:
                fail(
                    _("Nothing was queued: %(names)s cannot be reached (no linked chat).")
                    % {"names": ", ".join(missing)}
                )
        echo(
            ngettext(
                "Queued %(rows)d messages to %(people)d recipient; the running bot sends them.",
                "Queued %(rows)d messages to %(people)d recipients; the running bot sends them.",
                len(readers) - len(missing),
            )
            % {"rows": len(rows), "people": len(readers) - len(missing)}
        )
        if missing:
            echo(_("Not reached (no linked chat): %(names)s.") % {"names": ", ".join(missing)})


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("digest")(digest)
