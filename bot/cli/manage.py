"""CLI commands that take things out of service: ``officials deactivate``, ``units remove``,
``plans list`` and ``plans retire``. Nothing with history is deleted (see storage.retire
and storage.plan_admin); each command says what it did, or exits 2 having changed nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.admin import officials_app, units_app
from bot.cli.common import echo, fail, require_database, settings
from kernel.clock import SystemClock
from kernel.dates import local, long_date
from kernel.i18n import _, ngettext, use_locale
from kernel.phones import mask_phone, normalize_phone

if TYPE_CHECKING:  # storage is imported by each command (see bot.cli.admin)
    from storage.retire import UnitDependents

plans_app = typer.Typer(help="The imported plans: list them, retire one.")


@officials_app.command("deactivate")
def officials_deactivate(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="the official's mobile number")],
) -> None:
    """Deactivate an official: no more messages; their tasks go back to the unit's chair."""
    from storage.db import session_scope
    from storage.officials import get_official_by_phone
    from storage.retire import deactivate_official

    with use_locale(settings(ctx).app.default_locale):
        try:
            e164 = normalize_phone(phone)
        except ValueError as exc:
            fail(_("bad phone number: %(reason)s") % {"reason": exc})
        with session_scope(require_database(ctx)) as session:
            official = get_official_by_phone(session, e164)
            if official is None:
                fail(_("no official has the phone number %(phone)s") % {"phone": mask_phone(e164)})
            if not official.active:
                fail(_("%(name)s is already inactive.") % {"name": official.name})
            released = deactivate_official(session, official)
        echo(
            ngettext(
                "%(name)s is deactivated; %(n)d task went back to the unit's chair.",
                "%(name)s is deactivated; %(n)d tasks went back to the unit's chair.",
                released,
            )
            % {"name": official.name, "n": released}
        )


def _why_not(found: UnitDependents) -> str:
    reasons = []
    if found.children:
        reasons.append(
            ngettext("%(n)d unit under it", "%(n)d units under it", found.children)
            % {"n": found.children}
        )
    if found.officials:
        reasons.append(
            ngettext("%(n)d official", "%(n)d officials", found.officials) % {"n": found.officials}
        )
    if found.worked_assignments:
        reasons.append(
            ngettext(
                "%(n)d task with reported progress",
                "%(n)d tasks with reported progress",
                found.worked_assignments,
            )
            % {"n": found.worked_assignments}
        )
    if found.plans_and_scores:
        reasons.append(
            ngettext(
                "%(n)d plan or published score",
                "%(n)d plans or published scores",
                found.plans_and_scores,
            )
            % {"n": found.plans_and_scores}
        )
    return "; ".join(reasons)


@units_app.command("remove")
def units_remove(
    ctx: typer.Context, code: Annotated[str, typer.Argument(help="the unit's code")]
) -> None:
    """Remove a unit that nothing depends on (no units under it, no officials, no reports)."""
    from storage.db import session_scope
    from storage.retire import remove_unit
    from storage.units import get_unit_by_code

    with use_locale(settings(ctx).app.default_locale):
        with session_scope(require_database(ctx)) as session:
            unit = get_unit_by_code(session, code.strip())
            if unit is None:
                fail(_("unknown unit %(code)s") % {"code": repr(code)})
            found = remove_unit(session, unit)
            if found.blocking:
                fail(
                    _("%(unit)s was not removed: it still has %(what)s.")
                    % {"unit": unit.name, "what": _why_not(found)}
                )
        echo(_("Removed %(unit)s [%(code)s].") % {"unit": unit.name, "code": unit.code})


@plans_app.command("list")
def plans_list(ctx: typer.Context) -> None:
    """List the plans: id, year, number, province, tasks, assignments, retired or not."""
    from storage.db import session_scope
    from storage.plan_admin import list_plans

    locale = settings(ctx).app.default_locale
    with use_locale(locale), session_scope(require_database(ctx)) as session:
        rows = list_plans(session)
        if not rows:
            echo(_("no plans yet: import one with `papi-bot import-plan FILE`"))
            return
        for row in rows:
            plan = row.plan
            state = (
                _("retired %(date)s") % {"date": long_date(local(plan.retired_at).date())}
                if plan.retired_at is not None
                else _("running")
            )
            counts = (
                ngettext("%(n)d task", "%(n)d tasks", row.tasks) % {"n": row.tasks}
                + ", "
                + ngettext("%(n)d assignment", "%(n)d assignments", row.assignments)
                % {"n": row.assignments}
            )
            echo(
                f"#{plan.id}\t{plan.year}\t{plan.number or '-'}\t{row.province or '-'}\t"
                f"{counts}\t{state}\t{plan.title}"
            )


@plans_app.command("retire")
def plans_retire(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help="the plan's id (plans list)")],
) -> None:
    """Retire a plan: its tasks leave the lists and get no more reminders; history stays."""
    from storage.db import session_scope
    from storage.plan_admin import PlanNotFound, retire_plan

    with use_locale(settings(ctx).app.default_locale):
        with session_scope(require_database(ctx)) as session:
            try:
                plan, changed = retire_plan(session, plan_id, SystemClock().now())
            except PlanNotFound:
                fail(_("No plan has the id %(id)d (see `papi-bot plans list`).") % {"id": plan_id})
        if not changed:
            echo(_("Plan #%(id)d was already retired.") % {"id": plan_id})
            return
        echo(
            _("Plan #%(id)d (%(title)s) is retired: no more reminders for its tasks.")
            % {"id": plan_id, "title": plan.title}
        )


def register(app: typer.Typer) -> None:
    """Add ``plans``; the officials and units commands join admin's groups on import."""
    app.add_typer(plans_app, name="plans")
