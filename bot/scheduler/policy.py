"""The effective reminder policy of a plan: config ``[reminders]`` overridden by the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.config import RemindersConfig, ReportCalendarConfig, Settings
from storage.models import Plan


class PolicyError(ValueError):
    """A plan's ``reminder_policy`` override cannot be used; the message says which key."""


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    days_before_due: tuple[int, ...]  # descending, each >= 1
    on_due_day: bool
    overdue_every_days: int
    report_days_before: int
    silence_days: int
    escalate_to_chair_after_days: int
    escalate_to_coordinator_after_days: int
    report_deadlines: tuple[str, ...]  # "MM-DD"


def _validated(base: Mapping[str, Any], override: Mapping[str, Any], plan_label: str) -> Any:
    try:
        return RemindersConfig.model_validate({**base, **override})
    except ValidationError as exc:
        keys = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise PolicyError(f"{plan_label}: reminder_policy: invalid {keys}: {exc}") from exc


def effective_policy(settings: Settings, plan: Plan | None = None) -> ReminderPolicy:
    """The config defaults, with the plan's own overrides and report calendar on top.

    A plan may override any ``[reminders]`` key in ``Plan.reminder_policy`` and may also set
    ``report_deadlines`` there; ``Plan.report_deadlines`` wins over the config calendar.
    """
    override = dict(plan.reminder_policy or {}) if plan is not None else {}
    label = f"plan {plan.id}" if plan is not None else "config"
    deadlines: list[str] = list(settings.report_calendar.deadlines)
    if plan is not None and plan.report_deadlines:
        deadlines = list(plan.report_deadlines)
    if "report_deadlines" in override:
        deadlines = override.pop("report_deadlines")
    try:
        calendar = ReportCalendarConfig.model_validate({"deadlines": deadlines})
    except ValidationError as exc:
        raise PolicyError(f"{label}: report_deadlines: {exc}") from exc
    config: RemindersConfig = _validated(settings.reminders.model_dump(), override, label)
    return ReminderPolicy(
        days_before_due=tuple(config.days_before_due),
        on_due_day=config.on_due_day,
        overdue_every_days=config.overdue_every_days,
        report_days_before=config.report_days_before,
        silence_days=config.silence_days,
        escalate_to_chair_after_days=config.escalate_to_chair_after_days,
        escalate_to_coordinator_after_days=config.escalate_to_coordinator_after_days,
        report_deadlines=tuple(calendar.deadlines),
    )
