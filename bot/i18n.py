"""gettext for every user-facing string; Vietnamese by default, English second.

Catalogs are the ``.po`` files under ``locales/<lang>/LC_MESSAGES/`` (every ``*.po`` there is
merged, so each concern may keep its own file). They are compiled in memory when first used,
so there is no build step and no binary ``.mo`` in the repository. Message ids are English.

The current locale lives in a context variable (as aiogram's ``I18n`` does): a handler wraps
its work in ``use_locale(official.locale)`` and plain ``_()`` calls pick it up.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"

_current: ContextVar[str] = ContextVar("papi_bot_locale", default=DEFAULT_LOCALE)


def load_catalog(locale: str, locales_dir: Path = LOCALES_DIR) -> Catalog:
    """All ``.po`` files of a locale merged into one catalog."""
    merged = Catalog(locale=locale)
    folder = locales_dir / locale / "LC_MESSAGES"
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as handle:
            part = read_po(handle, locale=locale)
        for message in part:
            if message.id and message.string:
                merged[message.id] = message
    return merged


@cache
def translations(locale: str) -> Translations:
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    buffer = io.BytesIO()
    write_mo(buffer, load_catalog(locale))
    buffer.seek(0)
    return Translations(fp=buffer)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[None]:
    token = _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
