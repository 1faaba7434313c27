"""One redaction for every spelling ``normalize_phone`` accepts; no full phone in CLI errors."""

from __future__ import annotations

import logging
import random
import re

import pytest

from bot.logsetup import redact_text
from kernel.phones import normalize_phone, redact_phones

FORMS = [
    "0912345678",
    "+84912345678",
    "84912999888",
    "0912 999 777",
    "0912.345.678",
    "0912-345-678",
    "+84 912 345 678",
    "+84 0912 345 678",
    "840912345678",
    "0084912345678",
    "00840912345678",
    "(+84) 912-345-678",
    "(091) 234 5678",
    "+ 84 912 345 678",
    "0 9 1 2 3 4 5 6 7 8",
    "0912/345/678",
    "0387654321",
]
SEPARATORS = [" ", ".", "-", "(", ")", "/", "  ", " - ", "\t"]


@pytest.mark.parametrize("form", FORMS)
def test_every_accepted_form_is_redacted(form: str) -> None:
    assert normalize_phone(form).startswith("+84")  # the form really is accepted
    text = f"update from {form}, please check"
    redacted = redact_phones(text)
    assert redacted == "update from <phone>, please check" or (
        # "(+84) …" and "(091) …": the opening bracket stays, the number goes.
        redacted.startswith("update from (") and "<phone>" in redacted
    )
    assert not re.search(r"\d{3}", redacted)


def test_random_spellings_of_accepted_numbers_are_redacted() -> None:
    rng = random.Random(12)
    prefixes = ["0", "+84", "84", "0084", "+840", "840"]
    for _ in range(2000):
        national = rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(8))
        digits = rng.choice(prefixes) + national
        spelled = "".join(
            ch + (rng.choice(SEPARATORS) if rng.random() < 0.3 else "") for ch in digits
        ).strip()
        try:
            normalize_phone(spelled)
        except ValueError:
            continue
        redacted = redact_phones(f"x {spelled} y")
        assert national[-4:] not in redacted.replace(" ", ""), spelled


@pytest.mark.parametrize(
    "text",
    [
        "2026-06-22 09:00:00,123 INFO papi_bot: started",
        "telegram update 184912345678901 applied",
        "task #12 done 50%",
        "0212345678",  # a landline (02x): not a mobile number normalize_phone accepts
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert redact_phones(text) == text


def test_the_log_filter_uses_it(caplog: pytest.LogCaptureFixture) -> None:
    assert redact_text("from 84912999888 and 0912 999 777", []) == "from <phone> and <phone>"


def test_logging_formatter_redacts_spaced_numbers() -> None:
    from bot.logsetup import RedactingFormatter

    formatter = RedactingFormatter("%(message)s", ["s3cret"])
    record = logging.LogRecord("x", logging.INFO, "f", 1, "%s s3cret", ("0912 999 777",), None)
    assert formatter.format(record) == "<phone> <secret>"
