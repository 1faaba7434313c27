"""CLI commands for the admin: init, status, units, officials and invite.

Imports are all or nothing: every bad row is printed with its line number on stderr and the
command exits with code 2 without writing anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from bot.cli.common import EXIT_BAD_INPUT, echo, engine, fail, require_database, settings
from kernel.clock import SystemClock
from kernel.dates import local, long_date
from kernel.i18n import _, ngettext, use_locale
from kernel.phones import mask_phone, normalize_phone

# The storage layer (SQLAlchemy, the models: ≈ 0.5 s) is imported inside each command, so
# that `papi-bot --help` and the commands that do not open a database never load it.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from storage.csvrows import ImportRefused
    from storage.models import Official
    from storage.units import ImportCounts

units_app = typer.Typer(help="The administrative units (province, district, commune, department).")
officials_app = typer.Typer(help="The officials who get tasks on their phones.")


@contextmanager
def _cli_locale(ctx: typer.Context) -> Iterator[None]:
    with use_locale(settings(ctx).app.default_locale):
        yield


# ---------------------------------------------------------------- database


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database and load the taxonomy; safe to run again."""
    from storage.db import current_revision, session_scope, upgrade
    from storage.taxonomy import sync_taxonomy

    with _cli_locale(ctx):
        db = engine(ctx)
        before = current_revision(db)
        upgrade(db)
        with session_scope(db) as session:
            added = sync_taxonomy(session)
        after = current_revision(db)
        if before == after:
            echo(_("database up to date (revision %(revision)s)") % {"revision": after})
        else:
            echo(
                _("database upgraded from %(before)s to %(after)s")
                % {"before": before or _("empty"), "after": after}
            )
        if added:
            echo(_("taxonomy: %(count)s items added") % {"count": added})
        _print_status(db)


def status(ctx: typer.Context) -> None:
    """Print where the database is and what it holds."""
    with _cli_locale(ctx):
        _print_status(engine(ctx))


def _print_status(db: Engine) -> None:
    from sqlmodel import func, select

    from storage.db import revisions, session_scope
    from storage.models import Assignment, Official, Plan, Task, Unit

    echo(_("database: %(url)s") % {"url": db.url.render_as_string(hide_password=True)})
    revision, head = revisions(db)
    echo(
        _("schema: %(revision)s (latest %(head)s)")
        % {"revision": revision or _("not initialised"), "head": head}
    )
    if revision != head:
        return
    with session_scope(db) as session:
        for label, model in (
            (_("units"), Unit),
            (_("officials"), Official),
            (_("plans"), Plan),
            (_("tasks"), Task),
            (_("assignments"), Assignment),
        ):
            count = session.exec(select(func.count()).select_from(model)).one()
            echo(f"{label}: {count}")


# ---------------------------------------------------------------- imports


def _refuse(error: ImportRefused) -> NoReturn:
    for row_error in error.errors:
        typer.echo(str(row_error), err=True)
    typer.echo(
        ngettext(
            "the file was refused: %(count)s problem, nothing was imported",
            "the file was refused: %(count)s problems, nothing was imported",
            len(error.errors),
        )
        % {"count": len(error.errors)},
        err=True,
    )
    raise typer.Exit(EXIT_BAD_INPUT)


def _report(counts: ImportCounts) -> None:
    echo(
        _("%(added)s added, %(updated)s updated, %(unchanged)s unchanged")
        % {"added": counts.added, "updated": counts.updated, "unchanged": counts.unchanged}
    )


FileArgument = Annotated[Path, typer.Argument(help="a CSV file (UTF-8), header row first")]


@units_app.command("import")
def units_import(ctx: typer.Context, file: FileArgument) -> None:
    """Import units from CSV: code,name,level,parent_code (parents may come later)."""
    from storage.csvrows import CsvFileError, ImportRefused
    from storage.db import session_scope
    from storage.units import import_units_file

    with _cli_locale(ctx):
        db = require_database(ctx)
        try:
            with session_scope(db) as session:
                counts = import_units_file(session, file)
        except CsvFileError as exc:
            fail(str(exc))
        except ImportRefused as exc:
            _refuse(exc)
        _report(counts)


@units_app.command("list")
def units_list(
    ctx: typer.Context,
    tree: Annotated[bool, typer.Option("--tree", help="indent each unit under its parent")] = False,
) -> None:
    """List the units (code, level, name, parent code), or the tree with --tree."""
    from storage.db import session_scope
    from storage.units import list_units, tree_order

    with _cli_locale(ctx), session_scope(require_database(ctx)) as session:
        units = list_units(session)
        if not units:
            echo(_("no units yet: import them with `papi-bot units import FILE.csv`"))
            return
        if tree:
            for depth, unit in tree_order(units):
                echo(f"{'  ' * depth}{unit.name} [{unit.code}, {unit.level}]")
            return
        code_of = {unit.id: unit.code for unit in units}
        for unit in units:
            parent = code_of.get(unit.parent_id, "") if unit.parent_id else ""
            echo(f"{unit.code}\t{unit.level}\t{unit.name}\t{parent}")


@officials_app.command("import")
def officials_import(ctx: typer.Context, file: FileArgument) -> None:
    """Import officials from CSV: name,phone,unit_code,role,locale (matched by phone)."""
    from storage.csvrows import CsvFileError, ImportRefused
    from storage.db import session_scope
    from storage.officials import import_officials_file

    with _cli_locale(ctx):
        db = require_database(ctx)
        try:
            with session_scope(db) as session:
                counts = import_officials_file(session, file, SystemClock().now())
        except CsvFileError as exc:
            fail(str(exc))
        except ImportRefused as exc:
            _refuse(exc)
        _report(counts)


@officials_app.command("add")
def officials_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="full name")],
    phone: Annotated[str, typer.Option(help="mobile number, e.g. 0912345678")],
    unit: Annotated[str, typer.Option(help="unit code")],
    role: Annotated[str, typer.Option(help="official, chair, coordinator or admin")] = "official",
    locale: Annotated[str, typer.Option(help="vi or en (default: app.default_locale)")] = "",
) -> None:
    """Add one official."""
    from storage.db import session_scope
    from storage.officials import add_official, parse_locale, parse_role
    from storage.units import get_unit_by_code

    with _cli_locale(ctx):
        db = require_database(ctx)
        with session_scope(db) as session:
            found = get_unit_by_code(session, unit)
            if found is None:
                fail(_("unknown unit %(code)s") % {"code": repr(unit)})
            chosen_role = parse_role(role) or role
            chosen_locale = parse_locale(locale, settings(ctx).app.default_locale) or locale
            try:
                official = add_official(session, name, phone, found, chosen_role, chosen_locale)
            except ValueError as exc:
                fail(str(exc))
            echo(
                _("added %(name)s (%(phone)s) to %(unit)s as %(role)s")
                % {
                    "name": official.name,
                    "phone": mask_phone(official.phone),
                    "unit": found.name,
                    "role": official.role,
                }
            )


@officials_app.command("list")
def officials_list(
    ctx: typer.Context,
    unit: Annotated[
        str | None, typer.Option(help="only this unit and the units under it (a code)")
    ] = None,
) -> None:
    """List officials with masked phones, their unit, role, locale and linked channels."""
    from storage.db import session_scope
    from storage.officials import officials_in
    from storage.units import get_unit_by_code

    with _cli_locale(ctx), session_scope(require_database(ctx)) as session:
        root = None
        if unit is not None:
            root = get_unit_by_code(session, unit)
            if root is None:
                fail(_("unknown unit %(code)s") % {"code": repr(unit)})
        rows = officials_in(session, root)
        if not rows:
            echo(_("no officials yet: import them with `papi-bot officials import FILE.csv`"))
            return
        channels = _linked_channels(session)
        for official, official_unit in rows:
            linked = ",".join(channels.get(official.id or 0, [])) or "-"
            state = "" if official.active else "\t" + _("inactive")
            echo(
                f"{official.name}\t{mask_phone(official.phone)}\t{official_unit.code} "
                f"{official_unit.name}\t{official.role}\t{official.locale}\t{linked}{state}"
            )


def _linked_channels(session: Session) -> dict[int, list[str]]:
    from sqlmodel import col, select

    from storage.models import ChannelIdentity

    linked: dict[int, list[str]] = {}
    query = select(ChannelIdentity.official_id, ChannelIdentity.channel).order_by(
        col(ChannelIdentity.channel)
    )
    for official_id, channel in session.exec(query).all():
        linked.setdefault(official_id, []).append(channel)
    return linked


# ---------------------------------------------------------------- invites


def invite(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="the official's mobile number")],
) -> None:
    """Print a single-use invite code (and the Telegram link) for an official."""
    from storage.db import session_scope
    from storage.invites import create_invite
    from storage.officials import get_official_by_phone

    config = settings(ctx)
    with _cli_locale(ctx):
        try:
            e164 = normalize_phone(phone)
        except ValueError as exc:
            fail(_("bad phone number: %(reason)s") % {"reason": exc})
        now = SystemClock().now()
        with session_scope(require_database(ctx)) as session:
            official = get_official_by_phone(session, e164)
            if official is None or official.id is None:
                fail(_("no official has the phone number %(phone)s") % {"phone": mask_phone(e164)})
            if not official.active:
                fail(_("%(name)s is inactive: no invite issued") % {"name": official.name})
            created = create_invite(session, official.id, now, config.invites.ttl_days)
            zalo = _zalo_line(session, config, official)
        expiry = long_date(local(created.expires_at).date(), config.app.default_locale)
        echo(
            _("Invite code for %(name)s (%(phone)s): %(code)s")
            % {"name": official.name, "phone": mask_phone(e164), "code": created.code}
        )
        echo(_("Single use, valid until %(date)s.") % {"date": expiry})
        username = config.telegram.bot_username.strip().lstrip("@")
        if username:
            echo(
                _("Telegram: %(link)s") % {"link": f"https://t.me/{username}?start={created.code}"}
            )
        if zalo:
            echo(zalo)


def _zalo_line(session: Session, config: Settings, official: Official) -> str | None:
    """Which Zalo bot the official writes to: the one bound to their unit's subtree, else the
    default one (none when no Zalo bot is configured in this environment)."""
    from bot.channels.seats import zalo_invite_line  # the channel registry is heavy to load

    return zalo_invite_line(session, config, official)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
    app.add_typer(units_app, name="units")
    app.add_typer(officials_app, name="officials")
    app.command()(invite)
