"""The ``papi-bot`` command line (Typer). Each concern registers its commands explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import admin, common, digest, manage, ops, plans, reports, run, web, zalo_oa
from bot.cli.dberrors import DatabaseSafeGroup

app = typer.Typer(
    name="papi-bot",
    cls=DatabaseSafeGroup,
    help="papi-bot: the province's PAPI plan on officials' phones.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="config file (default: $PAPI_BOT_CONFIG or ./config.toml)"),
    ] = None,
) -> None:
    common.install(ctx, config)


for module in (admin, plans, run, digest, reports, manage, web, ops, zalo_oa):
    module.register(app)


def main() -> None:
    app()
