import pytest

from handlers.payloads import Payload, list_page, parse, task_action, task_buttons


def test_round_trip() -> None:
    assert parse(task_action(12, "done")) == Payload("a", ("12", "done"))
    assert parse(list_page(3)) == Payload("l", ("3",))


@pytest.mark.parametrize("forged", ["", ":", "a:x:done", "a:1:explode", "a:1", "l:-1", "a" * 65])
def test_forged_payloads_are_refused(forged: str) -> None:
    assert parse(forged) is None


def test_unknown_action_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        task_action(1, "delete")


def test_task_buttons_fit_every_channel() -> None:
    payloads = [b.payload for row in task_buttons(10**12) for b in row]
    assert len(payloads) == 5 and all(len(p.encode()) <= 64 for p in payloads)
