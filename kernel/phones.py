"""Vietnamese mobile numbers: one canonical form (E.164) however they were typed.

``0912345678``, ``+84912345678``, ``84 912 345 678`` and ``0912.345.678`` are one number,
stored as ``+84912345678``. Phones are personal data: anything shown goes through
:func:`mask_phone`, and every log line through :func:`redact_phones`.
"""

from __future__ import annotations

import re

from kernel.i18n import _

COUNTRY_CODE = "84"
# After the leading 0, Vietnamese mobile numbers start 3, 5, 7, 8 or 9 (since the 2018
# renumbering); 02x is a landline, which cannot run a chat app.
_MOBILE_FIRST_DIGITS = "35789"
_SEPARATORS = re.compile(r"[\s.\-()/]+")
# Every spelling normalize_phone accepts, inside any text: an optional country prefix
# (+84, 0084, 84; "+84 0912..." keeps the trunk 0 too), then 0 or nothing, a mobile first
# digit and eight more digits, with the same separators allowed anywhere in between.
_SEP = r"[\s.\-()/]*"
_PHONE_IN_TEXT = re.compile(
    rf"(?<![0-9])(?:(?:\+{_SEP}|0{_SEP}0{_SEP})?8{_SEP}4{_SEP}(?:0{_SEP})?|0{_SEP})"
    rf"[{_MOBILE_FIRST_DIGITS}](?:{_SEP}[0-9]){{8}}(?![0-9])"
)


def normalize_phone(raw: str) -> str:
    """The number as E.164 (``+84912345678``); ValueError saying what is wrong otherwise."""
    text = _SEPARATORS.sub("", raw.strip())
    if not text:
        raise ValueError(_("the phone number is empty"))
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(_("a phone number may contain only digits, spaces, dots and dashes"))
    national = _national_digits(digits, plus)
    if len(national) != 9:
        raise ValueError(
            _("a Vietnamese mobile number has 10 digits starting with 0 (or +84 and 9 digits)")
        )
    if national[0] not in _MOBILE_FIRST_DIGITS:
        raise ValueError(_("not a Vietnamese mobile number (it should start 03, 05, 07, 08 or 09)"))
    return f"+{COUNTRY_CODE}{national}"


def _national_digits(digits: str, plus: bool) -> str:
    """The 9 digits after 0 / +84, or whatever is left for the length check to refuse."""
    if digits.startswith("00" + COUNTRY_CODE) and not plus:  # international dialling prefix
        digits, plus = digits[2:], True
    if plus or (digits.startswith(COUNTRY_CODE) and len(digits) >= 11):
        if not digits.startswith(COUNTRY_CODE):
            raise ValueError(_("only Vietnamese numbers (+84) are accepted"))
        rest = digits[len(COUNTRY_CODE) :]
        # "+84 0912 345 678": people often keep the trunk 0 after the country code.
        return rest[1:] if rest.startswith("0") and len(rest) == 10 else rest
    if not digits.startswith("0"):
        raise ValueError(_("a Vietnamese mobile number starts with 0 or +84"))
    return digits[1:]


def national_format(e164: str) -> str:
    """``+84912345678`` → ``0912345678``: how officials write their number."""
    if e164.startswith("+" + COUNTRY_CODE):
        return "0" + e164[1 + len(COUNTRY_CODE) :]
    return e164


def mask_phone(e164: str) -> str:
    """``+84912345678`` → ``0912***678``: enough to tell numbers apart, not to call one."""
    number = national_format(e164)
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 7)}{number[-3:]}"


def redact_phones(text: str, replacement: str = "<phone>") -> str:
    """``text`` with every Vietnamese mobile number, however spelt, replaced (for logs)."""
    return _PHONE_IN_TEXT.sub(replacement, text)
