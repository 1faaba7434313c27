"""The ``papi-bot`` command line (Typer). Each concern registers its commands explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import admin, common, digest, manage, plans, reports, run

app = typer.Typer(
    name="papi-bot",
    help="papi-bot: the province's PAPI plan on officials' phones.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="config file (default: $PAPI_BOT_CONFIG or ./config.toml)"),
    ] = None,
) -> None:
    common.set_config_path(config)


for module in (admin, plans, run, digest, reports, manage):
    module.register(app)


def main() -> None:
    app()
