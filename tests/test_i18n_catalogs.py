"""Every message the code marks for translation has a Vietnamese and an English text."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from kernel.i18n import LOCALES_DIR, SUPPORTED_LOCALES, gettext, load_catalog, use_locale

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for package in ("bot", "handlers", "storage", "kernel"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message)
    return found


def test_the_code_marks_messages_for_translation() -> None:
    assert extracted_messages(), "no translatable message found: is extraction broken?"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_translates_every_message(locale: str) -> None:
    catalog = load_catalog(locale, LOCALES_DIR)
    missing = []
    for message in extracted_messages():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        if (
            entry is None
            or not entry.string
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(msgid)
    assert not missing, f"{locale}: untranslated: {sorted(missing)}"


def test_vietnamese_is_the_default() -> None:
    with use_locale(None):
        assert gettext("Done") == "Hoàn thành"
    with use_locale("en"):
        assert gettext("Done") == "Done"


def test_a_missing_catalog_stops_the_bot_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel built without its catalogs must not run speaking English message ids."""
    from typer.testing import CliRunner

    from bot.cli import app
    from kernel import i18n

    (tmp_path / "vi" / "LC_MESSAGES").mkdir(parents=True)  # present but empty
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(i18n.CatalogMissing, match="'vi'"):
            i18n.check_catalogs()
        monkeypatch.setenv("PAPI_BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
        result = CliRunner().invoke(app, ["run"])
        assert result.exit_code == 2
        assert "no gettext catalog" in result.stderr
        assert not (tmp_path / "x.db").exists()  # it stopped before touching anything
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()
