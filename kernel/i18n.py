"""gettext for every user-facing string; Vietnamese by default, English second.

Catalogs are the ``.po`` files under ``locales/<lang>/LC_MESSAGES/`` (every ``*.po`` there is
merged, so each concern may keep its own file). ``locales`` is a data package, so the catalogs
ship inside the wheel and are found with ``importlib.resources`` wherever papi-bot is
installed. They are compiled in memory when first used, so there is no build step and no binary
``.mo`` in the repository. Message ids are English. A missing or empty catalog is an error
(:class:`CatalogMissing`), never a silent fall-back to the English message ids.

The current locale lives in a context variable (as aiogram's ``I18n`` does): a handler wraps
its work in ``use_locale(official.locale)`` and plain ``_()`` calls pick it up.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR: Traversable = files("locales")
SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"

_current: ContextVar[str] = ContextVar("papi_bot_locale", default=DEFAULT_LOCALE)


class CatalogMissing(RuntimeError):
    """A supported locale has no catalog: the installation is broken (checked at start-up)."""


def load_catalog(locale: str, locales_dir: Traversable | None = None) -> Catalog:
    """All ``.po`` files of a locale merged into one catalog (from the installed package)."""
    merged = Catalog(locale=locale)
    folder = (locales_dir or LOCALES_DIR) / locale / "LC_MESSAGES"
    po_files = (
        sorted((item for item in folder.iterdir() if item.name.endswith(".po")), key=_name)
        if folder.is_dir()
        else []
    )
    for po_path in po_files:
        with po_path.open("rb") as handle:
            part = read_po(handle, locale=locale)
        for message in part:
            if message.id and message.string:
                merged[message.id] = message
    return merged


def _name(item: Traversable) -> str:
    return item.name


def check_catalogs() -> None:
    """Fail loudly at start-up if a locale has no messages (e.g. a wheel built without them).

    English message ids are the English text, but the English catalog still carries the
    plural forms, so both locales must be present.
    """
    for locale in SUPPORTED_LOCALES:
        translations(locale)


@cache
def translations(locale: str) -> Translations:
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    catalog = load_catalog(locale)
    if len(catalog) == 0:
        raise CatalogMissing(
            f"no gettext catalog for {locale!r} under {LOCALES_DIR}: the installation is "
            "incomplete (locales/<lang>/LC_MESSAGES/*.po must ship with papi-bot)"
        )
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
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
