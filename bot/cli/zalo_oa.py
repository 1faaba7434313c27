"""``papi-bot zalo-oa authorize``: the first (or a renewed) authorisation of the Zalo OA.

Zalo's OAuth v4 with PKCE: the command makes a verifier, prints the permission URL, and the
OA's admin opens it, approves, and is sent to the app's callback (``zalo.oa.redirect_uri``)
with ``?code=…`` (valid 10 minutes). The admin pastes the code, or the whole address; the
command exchanges it (``oauth_base``) and stores the pair in the database, where
``papi-bot run`` reads it on its next send. The tokens are never printed or logged.

The verifier waits in a 0600 file under data_dir between the two steps, so the code can
also be given later with ``--code`` (``--print-url`` prints the URL and stops).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, urlsplit

import typer

from bot.cli.common import echo, fail, require_database, settings
from kernel.i18n import _, use_locale

if TYPE_CHECKING:  # the settings' models load on the first settings(ctx), not at --help
    from bot.config import Settings

PENDING_FILE = "zalo-oa-authorize.json"
CODE_LIFETIME = timedelta(minutes=10)  # Zalo's authorisation code

zalo_oa_app = typer.Typer(help="The Zalo Official Account: authorise papi-bot to send.")


def _secret(config: Settings, name: str, variable: str) -> str:
    value = getattr(config.secrets, name)
    text = value.get_secret_value().strip() if value is not None else ""
    if not text:
        fail(_("%(variable)s is not set: the Zalo OA needs it") % {"variable": variable})
    return str(text)


def _pending_path(config: Settings) -> Path:
    return Path(config.app.data_dir) / PENDING_FILE


def _save_pending(path: Path, verifier: str, state: str, app_id: str, now: datetime) -> None:
    from kernel.private import private_file

    private_file(path)  # 0600 before the verifier is written into it
    record = {"verifier": verifier, "state": state, "app_id": app_id, "at": now.isoformat()}
    path.write_text(json.dumps(record), encoding="utf-8")


def _load_pending(path: Path, app_id: str, now: datetime) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fail(_("no authorisation is waiting: run `papi-bot zalo-oa authorize` without --code"))
    if not isinstance(record, dict) or record.get("app_id") != app_id:
        fail(_("no authorisation is waiting: run `papi-bot zalo-oa authorize` without --code"))
    started = datetime.fromisoformat(str(record.get("at")))
    if now - started > CODE_LIFETIME:
        path.unlink(missing_ok=True)
        fail(
            _(
                "the permission URL was printed more than 10 minutes ago and its code has "
                "expired: run `papi-bot zalo-oa authorize` again"
            )
        )
    return record


def _code_from(answer: str, state: str) -> str:
    """The code from what the admin pasted: the code itself, or the callback's address."""
    answer = answer.strip()
    if "code=" not in answer:
        if not answer:
            fail(_("no code was given"))
        return answer
    query = parse_qs(urlsplit(answer).query or answer.split("?", 1)[-1])
    returned = query.get("state")
    if returned and returned[0] != state:
        fail(
            _(
                "this address belongs to another authorisation (its state does not match): "
                "use the address from the URL printed last"
            )
        )
    code = (query.get("code") or [""])[0].strip()
    if not code:
        fail(_("no code was given"))
    return code


async def _exchange(config: Settings, app_id: str, secret: str, code: str, verifier: str) -> Any:
    import httpx

    from bot.channels.zalo_oa.oauth import exchange_code
    from kernel.clock import SystemClock

    async with httpx.AsyncClient(timeout=config.zalo.oa.http_timeout_seconds) as http:
        return await exchange_code(
            http,
            app_id=app_id,
            app_secret=secret,
            code=code,
            verifier=verifier,
            now=SystemClock().now(),
            oauth_base=config.zalo.oa.oauth_base,
        )


@zalo_oa_app.command("authorize")
def authorize(
    ctx: typer.Context,
    code: Annotated[
        str | None,
        typer.Option(
            "--code", help="the code (or the whole callback address) from a URL printed earlier"
        ),
    ] = None,
    redirect_uri: Annotated[
        str | None,
        typer.Option("--redirect-uri", help="the app's callback (default: zalo.oa.redirect_uri)"),
    ] = None,
    print_url: Annotated[
        bool, typer.Option("--print-url", help="print the permission URL and stop")
    ] = False,
) -> None:
    """Authorise papi-bot on the Zalo OA (OAuth v4, PKCE) and store the token pair."""
    import asyncio

    from bot.channels.zalo_oa.errors import OAError, OAReauthorizationNeeded
    from bot.channels.zalo_oa.oauth import consent_url, new_pkce
    from kernel.clock import SystemClock
    from kernel.dates import short_datetime
    from storage.db import session_scope
    from storage.oa_tokens import store_authorized

    config = settings(ctx)
    locale = config.app.default_locale
    with use_locale(locale):
        app_id = _secret(config, "zalo_oa_app_id", "ZALO_OA_APP_ID")
        app_secret = _secret(config, "zalo_oa_app_secret", "ZALO_OA_APP_SECRET")
        engine = require_database(ctx)
        pending = _pending_path(config)
        now = SystemClock().now()
        if code is None:
            callback = (redirect_uri or config.zalo.oa.redirect_uri).strip()
            if not callback:
                fail(
                    _(
                        "the OA app's callback address is not set: give --redirect-uri or set "
                        "[zalo.oa] redirect_uri (the address registered for the app on Zalo)"
                    )
                )
            pkce = new_pkce()
            _save_pending(pending, pkce.verifier, pkce.state, app_id, now)
            url = consent_url(
                app_id=app_id,
                redirect_uri=callback,
                pkce=pkce,
                oauth_base=config.zalo.oa.oauth_base,
            )
            echo(_("1. Open this address as the OA's admin and allow papi-bot:"))
            echo(url)
            echo(
                _(
                    "2. Zalo then opens %(callback)s?code=…: copy the code (or the whole "
                    "address). It is valid for 10 minutes."
                )
                % {"callback": callback}
            )
            if print_url:
                echo(_("3. Run: papi-bot zalo-oa authorize --code <the code>"))
                return
            answer = typer.prompt(_("The code (or the whole address)"), hide_input=False)
            state, verifier = pkce.state, pkce.verifier
        else:
            record = _load_pending(pending, app_id, now)
            answer, state, verifier = code, str(record["state"]), str(record["verifier"])
        got = _code_from(answer, state)
        try:
            issued = asyncio.run(_exchange(config, app_id, app_secret, got, verifier))
        except OAReauthorizationNeeded as exc:
            pending.unlink(missing_ok=True)  # a refused code is spent: start again
            fail(
                _(
                    "Zalo refused the code (%(reason)s): it lasts 10 minutes and works once. "
                    "Run `papi-bot zalo-oa authorize` again"
                )
                % {"reason": exc}
            )
        except OAError as exc:  # the verifier is kept: the same code may be tried again
            fail(_("could not reach Zalo's OAuth server: %(reason)s") % {"reason": exc})
        with session_scope(engine) as session:
            store_authorized(
                session,
                app_id,
                access_token=issued.access_token,
                refresh_token=issued.refresh_token,
                access_expires_at=issued.access_expires_at,
                now=SystemClock().now(),
            )
        pending.unlink(missing_ok=True)
        echo(
            _(
                "The Zalo OA is authorised: its token pair is stored in the database (the "
                "access token is valid until %(until)s and is renewed by papi-bot run)."
            )
            % {"until": short_datetime(issued.access_expires_at, locale)}
        )


def register(app: typer.Typer) -> None:
    """Add ``zalo-oa`` and its commands to ``app``."""
    app.add_typer(zalo_oa_app, name="zalo-oa")
