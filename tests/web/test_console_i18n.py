"""Every message of the console's templates has a Vietnamese and an English text (the Python
side is checked by tests/test_i18n_catalogs.py), and the templates render in both."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from kernel.i18n import SUPPORTED_LOCALES, load_catalog

TEMPLATES = Path(__file__).resolve().parents[2] / "bot" / "web" / "templates"


def template_messages() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        TEMPLATES,
        method_map=[("**.html", "jinja2.ext.babel_extract")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_templates_mark_their_messages() -> None:
    assert "Sign in" in template_messages()


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_template_message_is_translated(locale: str) -> None:
    catalog = load_catalog(locale)
    missing = sorted(m for m in template_messages() if not (e := catalog.get(m)) or not e.string)
    assert not missing, f"{locale}: untranslated: {missing}"
