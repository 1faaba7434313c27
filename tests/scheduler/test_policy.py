from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.scheduler.policy import PolicyError, effective_policy
from storage.models import Plan


def plan(**kwargs: Any) -> Plan:
    return Plan(id=7, year=2026, title="KH", **kwargs)


def test_config_defaults() -> None:
    policy = effective_policy(Settings())
    assert policy.days_before_due == (7, 3, 1)
    assert policy.overdue_every_days == 3
    assert policy.silence_days == 21
    assert policy.report_deadlines == ("03-20", "06-20", "11-30")


def test_plan_overrides_config() -> None:
    policy = effective_policy(
        Settings(),
        plan(report_deadlines=["12-12"], reminder_policy={"days_before_due": [2, 5, 5]}),
    )
    assert policy.days_before_due == (5, 2)
    assert policy.report_deadlines == ("12-12",)
    assert policy.overdue_every_days == 3  # not overridden: from the config


def test_policy_may_carry_its_own_calendar() -> None:
    policy = effective_policy(Settings(), plan(reminder_policy={"report_deadlines": ["06-30"]}))
    assert policy.report_deadlines == ("06-30",)


@pytest.mark.parametrize(
    ("override", "word"),
    [
        ({"overdue_every_days": 0}, "overdue_every_days"),
        ({"days_before_due": [0]}, "days_before_due"),
        ({"nag_hourly": True}, "nag_hourly"),
        ({"report_deadlines": ["31-12"]}, "report_deadlines"),
    ],
)
def test_bad_override_is_refused_with_the_key(override: dict[str, object], word: str) -> None:
    with pytest.raises(PolicyError, match=word):
        effective_policy(Settings(), plan(reminder_policy=override))
